"""Algorithms: pure numpy maths of the recommender (no Django, no models, no files)."""
