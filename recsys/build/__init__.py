"""Building artefacts: the pipeline's steps, their runs and their progress."""
