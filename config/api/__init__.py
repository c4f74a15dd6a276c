"""REST plumbing shared by every /api/v1/ view (parsers, pagination, throttles, OpenAPI helpers,
the JSON 404) and the /api/v1/ URLconf. API views themselves live in the apps' ``apis.py``.

DRF settings name classes in these modules, so none of them may import ``rest_framework.views``
at module level except ``fallback`` (which DRF settings never name)."""
