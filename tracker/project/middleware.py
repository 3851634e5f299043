"""Refuse request bodies over MAX_REQUEST_BYTES before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        limit = settings.MAX_REQUEST_BYTES
        if length > limit:
            return self._too_large(request, length, limit)
        return self.get_response(request)

    def _too_large(self, request: HttpRequest, length: int, limit: int) -> HttpResponse:
        message = f"The upload is {length / 1048576:.1f} MB; the limit is {limit // 1048576} MB. Nothing was saved."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=413)
        html = render_to_string("413.html", {"message": message}, request=request)
        return HttpResponse(html, status=413)
