"""Building what recommenders read: artefacts, tuned spaces, and the services and reads behind them."""
