"""Online recommending: what a request reads and how it is answered (recommenders, tuned spaces)."""
