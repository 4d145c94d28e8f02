"""Bilingual messages for errors: every error the platform shows exists in zh-Hans and en.

`bi("身份证号码校验码错误", "ID number checksum is wrong")` renders in the active language
wherever Django calls `str()` (forms, templates), and the API error shape reads both texts.
Page text uses ordinary Django i18n (`{% translate %}` with zh-Hans msgids, English in
`locale/en`).
"""

from __future__ import annotations

from typing import Any

from django.utils import translation


class Bi:
    __slots__ = ("zh", "en")

    def __init__(self, zh: str, en: str) -> None:
        self.zh = zh
        self.en = en

    def __str__(self) -> str:
        lang = translation.get_language() or "zh-hans"
        return self.en if lang.startswith("en") else self.zh

    def __repr__(self) -> str:
        return f"bi({self.zh!r}, {self.en!r})"

    def __mod__(self, params: Any) -> Bi:
        return Bi(self.zh % params, self.en % params)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Bi):
            return (self.zh, self.en) == (other.zh, other.en)
        return str(self) == other

    def __hash__(self) -> int:
        return hash((self.zh, self.en))

    def format(self, **kwargs: Any) -> Bi:
        return Bi(self.zh.format(**kwargs), self.en.format(**kwargs))


def bi(zh: str, en: str) -> Bi:
    return Bi(zh, en)


def both(message: Any) -> tuple[str, str]:
    """(zh, en) texts of a message: a Bi, a lazy translation or a plain string."""
    if isinstance(message, Bi):
        return message.zh, message.en
    with translation.override("zh-hans"):
        zh = str(message)
    with translation.override("en"):
        en = str(message)
    return zh, en
