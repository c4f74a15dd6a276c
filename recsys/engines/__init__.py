"""Representation engines: one module per engine behind ``recsys.engines.base.Engine``.

Engines are configured in ``settings.RECSYS_ENGINES`` (dotted BACKEND path, MODEL, OPTIONS) and
instantiated through ``recsys.engines.registry.get_engine``; models are loaded lazily, once
per process, never at import time. ``textprep`` is the text preprocessing of the LDA engine.

May import: ``recsys.artefacts`` (engine extras, fitted state), ``recsys.algorithms``, the
catalogue's snapshot and Django's settings; never the database models, build, serving or the API.
"""
