"""Serving: the recommenders registry, the recommend service and its parts, selectors, search."""
