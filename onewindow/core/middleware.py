"""Request guards that apply to every page and endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class RejectNulMiddleware:
    """A NUL character in the path or the query string is refused with 400 before any view
    runs: PostgreSQL cannot store or compare it, and no legitimate request carries one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            body = {
                "error": {
                    "code": "bad_request",
                    "message": "请求包含不允许的空字符",
                    "message_en": "The request contains a NUL character",
                }
            }
            if request.path.startswith("/api/"):
                return HttpResponse(
                    json.dumps(body, ensure_ascii=False),
                    status=400,
                    content_type="application/json; charset=utf-8",
                )
            return HttpResponse(
                "请求包含不允许的空字符 / The request contains a NUL character",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


class ApiErrorShapeMiddleware:
    """Under /api/ every error has the documented JSON shape, also the ones Django answers
    before the API runs: an unknown path (404) or a method the path does not allow (405)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.status_code not in (404, 405):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        if response.status_code == 404:
            error = {"code": "not_found", "message": "接口不存在", "message_en": "No such API endpoint"}
        else:
            error = {
                "code": "method_not_allowed",
                "message": "该接口不支持此请求方法",
                "message_en": "Method not allowed on this endpoint",
            }
        shaped = HttpResponse(
            json.dumps({"error": error}, ensure_ascii=False),
            status=response.status_code,
            content_type="application/json; charset=utf-8",
        )
        if response.has_header("Allow"):
            shaped["Allow"] = response["Allow"]
        return shaped
