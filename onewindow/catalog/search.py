"""Chinese-aware search text: jieba segmentation, full pinyin and initials (for kiosks, where
typing "qysl" finds 企业设立登记)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache

from pypinyin import Style, lazy_pinyin

_CJK = re.compile(r"[\u4e00-\u9fff]")


@cache
def _jieba():  # noqa: ANN202 - the jieba module
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def pinyin_forms(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of the Chinese characters in `text`, without spaces."""
    han = "".join(_CJK.findall(text))
    if not han:
        return "", ""
    full = lazy_pinyin(han)
    initials = lazy_pinyin(han, style=Style.FIRST_LETTER)
    return "".join(full), "".join(initials)


def build_search_text(parts: Iterable[str], pinyin_of: Iterable[str] = ()) -> str:
    """Lower-cased text of `parts` plus pinyin forms of `pinyin_of`, one space apart."""
    out = [p.strip().lower() for p in parts if p and p.strip()]
    for p in pinyin_of:
        full, initials = pinyin_forms(p)
        if full:
            out.extend([full, initials])
    return " ".join(out)


def query_terms(q: str) -> list[str]:
    """Terms of a user query: jieba's search segmentation for Chinese, words for the rest.
    Single characters are kept only when the query is a single character."""
    q = q.strip().lower()
    if not q:
        return []
    terms: list[str] = []
    for chunk in q.split():
        if _CJK.search(chunk):
            words = [w.strip() for w in _jieba().cut_for_search(chunk) if w.strip()]
            # Keep the longest pieces; cut_for_search also yields their sub-words.
            longest = [w for w in words if not any(w != o and w in o for o in words)]
            terms.extend(longest or [chunk])
        else:
            terms.append(chunk)
    seen: set[str] = set()
    return [t for t in terms if not (t in seen or seen.add(t))]
