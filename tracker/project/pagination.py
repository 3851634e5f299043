"""Page-number pagination whose `page` is checked like every other query parameter."""

from __future__ import annotations

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's, except that a page that is not a whole number from 1 (nor `last`) answers 400 naming `page`.

    DRF answers 404 "Invalid page." for `?page=abc` as for a page past the end; only the latter is a 404 here.
    """

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        number = super().get_page_number(request, paginator)
        if isinstance(number, int):  # the first page by default, or the last one
            return number
        try:
            page = int(number)
        except ValueError:
            page = 0
        if page < 1:
            raise ValidationError({self.page_query_param: ["Enter a page number: a whole number from 1, or last."]})
        return page

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """DRF's `page` parameter, with the bound it is checked against (a fuzzer sent 0 as a valid page)."""
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters
