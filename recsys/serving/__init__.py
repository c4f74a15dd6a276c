"""Answering requests from the active artefacts: the recommender registry, the recommend service
(eq. 1, late fusion, the learned kind, MMR re-ranking), similar paintings, search, the selectors
(statuses, active artefacts) and the status cache.

May import: ``recsys.engines`` (query encoders, availability), ``recsys.artefacts``,
``recsys.algorithms``, ``recsys.models`` and the catalogue; never the build, the API, the
evaluation or experiments (which register their recommenders through ``register_provider``)."""
