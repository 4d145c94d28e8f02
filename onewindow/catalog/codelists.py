"""GB/T 39046 code lists, loaded from `data/codelists.yaml`."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from django.utils.translation import get_language

_PATH = Path(__file__).parent / "data" / "codelists.yaml"


@cache
def code_lists() -> dict[str, dict[str, tuple[str, str]]]:
    raw = yaml.safe_load(_PATH.read_text(encoding="utf-8"))
    return {name: {str(code): (v[0], v[1]) for code, v in entries.items()} for name, entries in raw.items()}


def codes(list_name: str) -> list[str]:
    return list(code_lists()[list_name])


def is_valid(list_name: str, code: str) -> bool:
    return str(code) in code_lists()[list_name]


def label(list_name: str, code: str, lang: str | None = None) -> str:
    """The label of `code` in the active language (zh first); the code itself if unknown."""
    entry = code_lists().get(list_name, {}).get(str(code))
    if entry is None:
        return str(code)
    lang = lang or get_language() or "zh-hans"
    return entry[1] if lang.startswith("en") else entry[0]


def choices(list_name: str) -> list[tuple[str, str]]:
    return [(code, f"{code} {zh}") for code, (zh, _en) in code_lists()[list_name].items()]
