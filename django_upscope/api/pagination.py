"""Pagination of the mirror's lists (visitors, sessions, usage snapshots)."""

from rest_framework.pagination import PageNumberPagination


class UpscopePagination(PageNumberPagination):
    """``?page=N&page_size=M``: 50 per page unless asked, at most 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
