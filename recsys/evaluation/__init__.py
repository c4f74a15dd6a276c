"""Offline evaluation of the recommenders: simulated and held-out visitors, metrics, report."""
