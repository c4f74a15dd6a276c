"""Pagination of the API's list endpoints."""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Page-number pagination; apps may ask for smaller or larger pages up to ``max_page_size``."""

    page_size_query_param = "page_size"
    max_page_size = 100
