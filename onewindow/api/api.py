"""The JSON API: each app's Ninja router under /api/v1/, OpenAPI at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from onewindow.core.errors import (
    DomainError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    from_validation_error,
)
from onewindow.core.i18n import Bi, bi
from onewindow.core.permissions import PermissionDeniedError

api = NinjaAPI(
    title="OneWindow API",
    version="1",
    description="一窗 OneWindow: catalogue, cases, shared data and licences. "
    'Errors: {"error": {"code", "message", "message_en", "fields"}}.',
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    resp = api.create_response(request, exc.as_dict(), status=exc.status)
    if getattr(exc, "retry_after", None):
        resp["Retry-After"] = str(exc.retry_after)
    return resp


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc)


@api.exception_handler(PermissionDeniedError)
def permission_denied(request: HttpRequest, exc: PermissionDeniedError) -> HttpResponse:
    return _error(request, ForbiddenError())


@api.exception_handler(ValidationError)
def django_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, from_validation_error(exc))


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, NotFoundError())


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, UnauthorizedError())


@api.exception_handler(NinjaValidationError)
def request_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[Any]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload")]
        name = ".".join(loc) or "__all__"
        fields.setdefault(name, []).append(Bi(_zh_pydantic(err), str(err.get("msg", "invalid"))))
    first = next(iter(fields), "__all__")
    err = DomainError(
        bi(f"请求参数有误：{first}", f"Invalid request parameter: {first}"), code="invalid", fields=fields
    )
    err.status = 422
    return _error(request, err)


def _zh_pydantic(err: dict[str, Any]) -> str:
    kind = str(err.get("type", ""))
    table = {
        "missing": "必填项缺失",
        "int_parsing": "应为整数",
        "int_type": "应为整数",
        "string_type": "应为文本",
        "greater_than_equal": "数值过小",
        "less_than_equal": "数值过大",
        "string_too_long": "内容过长",
        "json_invalid": "不是有效的 JSON",
        "literal_error": "取值不在允许范围内",
        "enum": "取值不在允许范围内",
    }
    return table.get(kind, "格式不正确")


KNOWN_HTTP_ERRORS = {
    "Cannot parse request body": ("请求体不是有效的 JSON", "invalid_json"),
}


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    zh, code = KNOWN_HTTP_ERRORS.get(str(exc), (str(exc), "http_error"))
    err = DomainError(bi(zh, str(exc)), code=code)
    err.status = exc.status_code
    return _error(request, err)


def _mount() -> None:
    from onewindow.cases.api import router as cases_router
    from onewindow.catalog.api import router as catalog_router
    from onewindow.core.api import router as core_router
    from onewindow.exchange.api import router as exchange_router
    from onewindow.licences.api import router as licences_router
    from onewindow.org.api import router as org_router

    api.add_router("/", core_router)
    api.add_router("/", org_router)
    api.add_router("/", exchange_router)
    api.add_router("/", catalog_router)
    api.add_router("/", cases_router)
    api.add_router("/", licences_router)


_mount()
