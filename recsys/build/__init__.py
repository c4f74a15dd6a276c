"""Building artefacts: the pipeline (plan -> encode batches -> assemble -> score pairs ->
finalize), build runs and their bookkeeping, the build services (queueing, refresh requests) and
the receivers that refresh after a catalogue change.

May import: ``recsys.serving`` (only to invalidate the status cache), ``recsys.engines``,
``recsys.artefacts``, ``recsys.algorithms``, ``recsys.models`` and the catalogue; never the API,
the evaluation or experiments. Tasks are queued by their registered name
(``services.task_named``), never imported: ``recsys.tasks`` imports this package."""
