"""`make run` end to end (the embedded default), in child processes."""
