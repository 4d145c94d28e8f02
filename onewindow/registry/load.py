"""Filling the demo registries from `registry.generate`, idempotently.

`load_registries()` is called by the demo loader. A `core.SystemFlag` (`demo.registries`) keeps
the fingerprint of what was loaded (generator version, seed and sizes): when it matches, nothing
is done; otherwise the registry tables are emptied and refilled in one transaction, so a second
call changes and duplicates nothing, and a different seed replaces the data instead of adding to it.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from onewindow.core.models import SystemFlag
from onewindow.registry.generate import VERSION, generate
from onewindow.registry.models import REGISTRY_MODELS

__all__ = ["FLAG_KEY", "load_registries", "registry_counts"]

FLAG_KEY = "demo.registries"
BATCH = 1000


def _fingerprint(seed: int, people: int, enterprises: int) -> str:
    return f"{VERSION};seed={seed};people={people};enterprises={enterprises}"


def registry_counts() -> dict[str, int]:
    """Rows per registry table, by dataset code (plus real_estate_owner, *_unit)."""
    return {code: model.objects.count() for code, model in REGISTRY_MODELS.items()}


def _bulk(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH)


def load_registries(seed: int = 2026, *, people: int = 6000, enterprises: int = 1200) -> dict[str, int]:
    """Loads the demo registries (unless the same data is already loaded); returns the row counts."""
    fp = _fingerprint(seed, people, enterprises)
    if SystemFlag.objects.filter(key=FLAG_KEY, value=fp).exists():
        return registry_counts()
    data = generate(seed=seed, people=people, enterprises=enterprises)
    owners: list[dict[str, Any]] = []
    units: list[dict[str, Any]] = []
    for row in data["real_estate"]:
        unit = dict(row)
        for owner in unit.pop("owners"):
            owners.append({"unit_id": unit["unit_number"], **owner})
        units.append(unit)
    data = {**data, "real_estate": units, "real_estate_owner": owners}
    with transaction.atomic():
        # Children before parents (owners before units); the others have no relations.
        for model in reversed(REGISTRY_MODELS.values()):
            model.objects.all().delete()
        for code, model in REGISTRY_MODELS.items():
            _bulk(model, data[code])
        SystemFlag.objects.update_or_create(key=FLAG_KEY, defaults={"value": fp})
    return {code: len(data[code]) for code in REGISTRY_MODELS}
