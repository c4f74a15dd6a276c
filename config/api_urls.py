"""/api/v1/ routes (one thin view per operation; see catalog/apis.py, users/apis.py, recsys/apis.py)."""

urlpatterns: list = []
