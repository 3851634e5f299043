"""Request body parsers for the API.

DRF's JSON parser turns a ValueError into a 400, but a body nested deeper than Python's recursion limit
(`[[[[...` a few KB long) makes json.loads raise RecursionError, which every API endpoint answered with a
500. This parser answers it like any other malformed body.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - the body is nested too deeply.") from error
