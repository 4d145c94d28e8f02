"""Catalogue writes. Imports go through `catalog.importexport`; admin edits through these."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from onewindow.audit.services import record
from onewindow.catalog.models import Bundle, ItemState, ServiceItem
from onewindow.catalog.search import build_search_text
from onewindow.core.errors import ConflictError
from onewindow.core.i18n import bi


def item_search_text(item: ServiceItem) -> str:
    keywords = [str(k) for k in (item.keywords or [])]
    return build_search_text(
        [
            item.name,
            item.short_name,
            item.name_en,
            item.department.name,
            item.department.short_name,
            *keywords,
        ],
        pinyin_of=[item.name, item.short_name, *keywords],
    )


def bundle_search_text(bundle: Bundle) -> str:
    keywords = [str(k) for k in (bundle.keywords or [])]
    return build_search_text([bundle.name, bundle.name_en, *keywords], pinyin_of=[bundle.name, *keywords])


@transaction.atomic
def save_item(
    item: ServiceItem, *, actor: AbstractBaseUser | str | None, action: str = "catalog.item.save"
) -> None:
    """Save an edited item (from the admin), keeping its search text and the audit trail."""
    item.search_text = item_search_text(item)
    item.save()
    record(action, item, actor=actor, data={"version": item.version, "state": item.state, "name": item.name})


@transaction.atomic
def set_item_state(item: ServiceItem, state: str, *, actor: AbstractBaseUser | str | None) -> ServiceItem:
    """Activate, retire or return an item version to draft. Activating a version retires the
    version that was active before it, so each code has at most one active version."""
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    if state not in ItemState.values:
        raise ConflictError(bi(f"未知状态：{state}", f"Unknown state: {state}"))
    old = item.state
    if state == ItemState.ACTIVE:
        ServiceItem.objects.filter(code=item.code, state=ItemState.ACTIVE).exclude(pk=item.pk).update(
            state=ItemState.RETIRED
        )
    item.state = state
    item.save(update_fields=["state", "updated_at"])
    record("catalog.item.state", item, actor=actor, data={"version": item.version, "from": old, "to": state})
    return item


@transaction.atomic
def save_bundle(bundle: Bundle, *, actor: AbstractBaseUser | str | None) -> None:
    bundle.search_text = bundle_search_text(bundle)
    bundle.save()
    record("catalog.bundle.save", bundle, actor=actor, data={"state": bundle.state, "name": bundle.name})
