"""Domain errors with bilingual messages, mapped to HTTP statuses by pages and the API.

API error shape (DESIGN §14):
{"error": {"code": "...", "message": "<zh>", "message_en": "<en>", "fields": {"<field>": ["..."]}}}
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from onewindow.core.i18n import Bi, bi, both


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: Bi | str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, list[Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message()
        if code:
            self.code = code
        self.fields = fields or {}
        self.extra = extra or {}
        super().__init__(str(both(self.message)[1]))

    def default_message(self) -> Bi:
        return bi("请求有误", "Bad request")

    def as_dict(self) -> dict[str, Any]:
        zh, en = both(self.message)
        body: dict[str, Any] = {"code": self.code, "message": zh, "message_en": en}
        if self.fields:
            body["fields"] = {name: [_field_message(m) for m in msgs] for name, msgs in self.fields.items()}
        body.update(self.extra)
        return {"error": body}


def _field_message(m: Any) -> str:
    zh, en = both(m)
    return zh if zh == en else f"{zh} / {en}"


class NotFoundError(DomainError):
    status = 404
    code = "not_found"

    def default_message(self) -> Bi:
        return bi("未找到", "Not found")


class ForbiddenError(DomainError):
    status = 403
    code = "forbidden"

    def default_message(self) -> Bi:
        return bi("无权执行此操作", "You are not allowed to do this")


class UnauthorizedError(DomainError):
    status = 401
    code = "unauthorized"

    def default_message(self) -> Bi:
        return bi("请先登录或提供有效的令牌", "Log in or send a valid token")


class ConflictError(DomainError):
    status = 409
    code = "conflict"

    def default_message(self) -> Bi:
        return bi("当前状态不允许此操作", "Not allowed in the current state")


class InvalidError(DomainError):
    status = 422
    code = "invalid"

    def default_message(self) -> Bi:
        return bi("提交的数据有误", "The submitted data is invalid")


def from_validation_error(exc: ValidationError, *, field: str | None = None) -> InvalidError:
    """An InvalidError naming each field (or `field` for a bare error) and its reasons."""
    fields: dict[str, list[Any]] = {}
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            fields[name] = [_message_of(e) for e in errors]
    else:
        fields[field or "__all__"] = [_message_of(e) for e in exc.error_list]
    first = next(iter(fields.values()))[0]
    zh, en = both(first)
    name = next(iter(fields))
    return InvalidError(Bi(f"{name}：{zh}", f"{name}: {en}"), fields=fields)


def _message_of(e: ValidationError) -> Any:
    msg = e.message
    if e.params:
        msg = msg % e.params
    return msg


class RateLimitedError(DomainError):
    status = 429
    code = "rate_limited"

    def default_message(self) -> Bi:
        return bi("请求过于频繁，请稍后再试", "Too many requests; please try again later")
