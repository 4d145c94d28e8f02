# The case fixtures (a small catalogue, halls and personas) are shared with the cases tests.
from __future__ import annotations

from typing import Any

import pytest

from onewindow.cases.tests.conftest import CITIZEN_ID, shop  # noqa: F401
from onewindow.licences import services


@pytest.fixture
def issue(city: dict[str, Any]) -> Any:
    """Issue a licence to the test citizen (by 市场监管 unless told otherwise)."""

    def _issue(type_code: str = "SPJYXKZ", **kw: Any) -> Any:
        args = {
            "type_code": type_code,
            "holder_id_type": "resident_id",
            "holder_id_number": CITIZEN_ID,
            "holder_name": "陈晓明",
            "issuer": city["scjg"],
            "actor": "test",
            "surface": {"operator": "衢州小吃店", "area": "35.5"},
        } | kw
        return services.issue(**args)

    return _issue
