"""Representation engines: one module per engine behind ``recsys.engines.base.Engine``.

Engines are configured in ``settings.RECSYS_ENGINES`` (dotted BACKEND path, MODEL, OPTIONS) and
instantiated through ``recsys.engines.registry.get_engine``; models are loaded lazily, once
per process, never at import time.
"""
