"""Pure maths of the recommender: numpy (and torch, imported lazily) only, no Django models."""
