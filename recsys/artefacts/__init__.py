"""Artefact files and their lifecycle: the layout and local writes (``files``), the storage every
machine shares (``store``) and the memory-mapped reader with its per-process cache (``reader``).

May import: ``recsys.algorithms`` (the approximate index) and Django's settings and storage;
never the database models, engines, build, serving or the API."""
