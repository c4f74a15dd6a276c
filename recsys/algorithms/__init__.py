"""Pure numpy/scipy maths of the recommender (no Django, no models): one idea per module."""
