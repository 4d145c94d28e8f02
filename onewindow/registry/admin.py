"""Read-only admin of the demo registries. The data is synthetic but personal in form, so ID
numbers and phone numbers are masked in lists and detail pages alike (search takes a full number)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from onewindow.core.validators import mask_id, mask_phone
from onewindow.registry import models as m

# Fields holding a resident ID number (or a USCC, which is masked the same way in owner fields).
ID_FIELDS = {
    "id_number",
    "head_id",
    "child_id",
    "mother_id",
    "father_id",
    "husband_id",
    "wife_id",
    "deceased_id",
    "legal_rep_id",
    "owner_id",
    "person_id",
    "holder_id",
    "certificate_no",
}
PHONE_FIELDS = {"phone"}


def _masked(name: str, mask: Callable[[str], str], label: Any) -> Callable[[Any, Any], str]:
    """An admin method showing field `name` through `mask` (set on the class as masked_<name>)."""

    @admin.display(description=label)
    def show(self: Any, obj: Any) -> str:
        return mask(getattr(obj, name) or "")

    return show


class RegistryAdmin(admin.ModelAdmin):
    """Read-only; sensitive fields are shown through their masked_<field> callables."""

    list_per_page = 50
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _register(model: type[models.Model], columns: list[str], search: list[str], filters: list[str]) -> None:
    attrs: dict[str, Any] = {"list_filter": filters}
    masked: set[str] = set()
    for f in model._meta.concrete_fields:
        mask = mask_id if f.attname in ID_FIELDS else mask_phone if f.attname in PHONE_FIELDS else None
        if mask is not None:
            masked.add(f.attname)
            attrs[f"masked_{f.attname}"] = _masked(f.attname, mask, f.verbose_name)

    def shown(name: str) -> str:
        return f"masked_{name}" if name in masked else name

    attrs["list_display"] = [shown(n) for n in columns]
    # Sensitive fields are searched by their exact value only (no partial matching of ID numbers).
    attrs["search_fields"] = [("=" + n if n in masked else n) for n in search]
    attrs["fields"] = [shown(f.attname) for f in model._meta.concrete_fields if f.attname != "id"]
    attrs["readonly_fields"] = attrs["fields"]
    if model is m.RealEstateUnit:
        attrs["inlines"] = [RealEstateOwnerInline]
    admin.site.register(model, type(f"{model.__name__}Admin", (RegistryAdmin,), attrs))


class RealEstateOwnerInline(admin.TabularInline):
    model = m.RealEstateOwner
    extra = 0
    can_delete = False
    fields = ["masked_owner_id", "owner_name", "share"]
    readonly_fields = fields
    masked_owner_id = _masked("owner_id", mask_id, "权利人证件号码")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


_register(
    m.Person,
    ["name", "id_number", "sex", "birth_date", "phone", "status"],
    ["name", "id_number"],
    ["sex", "status"],
)
_register(
    m.Household, ["household_number", "head_name", "head_id", "address"], ["household_number", "head_id"], []
)
_register(
    m.Birth, ["certificate_number", "child_name", "child_id", "birth_date", "hospital"], ["child_id"], []
)
_register(
    m.Marriage,
    ["certificate_number", "husband_name", "wife_name", "registered_on", "state"],
    ["certificate_number", "husband_id", "wife_id"],
    ["state"],
)
_register(m.Death, ["deceased_name", "deceased_id", "death_date", "place"], ["deceased_id"], [])
_register(
    m.Enterprise,
    ["name", "uscc", "status", "legal_rep_name", "enterprise_type", "established_on"],
    ["name", "uscc"],
    ["status", "enterprise_type"],
)
_register(
    m.RealEstateUnit,
    ["unit_number", "address", "area", "use", "registered_on"],
    ["unit_number", "certificate_number"],
    ["use"],
)
_register(
    m.SocialSecurity,
    ["person_name", "person_id", "insured_status", "unit_name", "payment_history"],
    ["person_id", "employer_uscc"],
    ["insured_status", "insurance_type"],
)
_register(
    m.SocialSecurityUnit, ["unit_name", "employer_uscc", "active_insured", "arrears"], ["employer_uscc"], []
)
_register(
    m.ProvidentFundAccount,
    ["account_number", "person_name", "person_id", "unit_name", "status"],
    ["account_number", "person_id"],
    ["status"],
)
_register(
    m.ProvidentFundUnit, ["unit_name", "employer_uscc", "active_accounts", "arrears"], ["employer_uscc"], []
)
_register(
    m.Qualification,
    ["certificate_number", "holder_name", "holder_id", "qualification_type", "valid_to"],
    ["certificate_number", "holder_id"],
    ["category"],
)
_register(
    m.Disability, ["holder_name", "holder_id", "category", "grade", "valid_to"], ["holder_id"], ["category"]
)
_register(
    m.Vehicle,
    ["plate_number", "vehicle_type", "owner_name", "owner_id", "registered_on"],
    ["plate_number", "owner_id"],
    ["vehicle_type"],
)
_register(m.TaxClearance, ["taxpayer_name", "uscc", "status", "receipt_no"], ["uscc"], ["status"])
