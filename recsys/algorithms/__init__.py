"""Pure maths of recommending, on numpy arrays: eq. 1 scoring, rank fusion, ITM, the learned
model, MMR diversity, similarity and the approximate index.

May import: numpy, scipy, faiss and each other; never Django, the database, files or the rest of
the project (``lint-imports`` enforces it). Formulas are in each module's docstring and the tests
check them against hand-worked numbers."""
