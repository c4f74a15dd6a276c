"""Pure numpy maths of the recommenders (no Django, no database)."""
