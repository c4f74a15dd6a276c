"""Offline evaluation of the recommenders: simulated and held-out visitors, metrics, report.

May import: ``recsys.serving`` (the recommend service's database-free core, active artefacts),
``recsys.artefacts``, ``recsys.algorithms``, the catalogue and ratings; never the build, the API
or experiments."""
