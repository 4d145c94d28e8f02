"""The demo city, loaded once for this package's tests (inside a transaction rolled back at the
end, so other tests never see it); each test runs in a savepoint of its own."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction


@pytest.fixture(scope="package")
def demo_city(django_db_setup: Any, django_db_blocker: Any) -> Any:
    from onewindow.cases import services as cs
    from onewindow.demo.load import load_demo_city

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield load_demo_city()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            cs.clear_catalog_cache()


@pytest.fixture
def demo(demo_city: Any, db: Any) -> Any:
    return demo_city
