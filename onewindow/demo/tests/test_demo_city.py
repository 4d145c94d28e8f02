"""The whole demo city, loaded once through the real services (about 15 s)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db.models import Count
from django.test import Client

from onewindow.audit.models import AuditEntry
from onewindow.audit.services import verify
from onewindow.catalog import importexport as ie
from onewindow.catalog.models import Bundle, ItemState, ProcessTemplate, ServiceItem
from onewindow.core.validators import validate_resident_id, validate_uscc
from onewindow.demo.load import load_demo_city
from onewindow.org.models import ApplicantProfile, Department, Region, StaffGrant

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(db: Any) -> Any:
    return load_demo_city()


def test_the_demo_city_is_realistic_in_size(demo: Any, client: Client):
    active = ServiceItem.objects.filter(state=ItemState.ACTIVE)
    assert active.count() >= 1000
    assert active.filter(hand_written=True).count() >= 60
    per_dept = active.values("department").annotate(n=Count("id"))
    assert len(per_dept) >= 30
    assert Bundle.objects.filter(state=ItemState.ACTIVE).count() == 7
    assert {b.code for b in Bundle.objects.all()} >= {
        "business-startup",
        "property-transfer",
        "business-deregistration",
        "foreign-trade-licences",
        "newborn",
        "construction-permit",
        "electricity-connection",
    }
    # No "Item 17": every name is unique within its department and reads as a real item.
    names = list(active.values_list("department_id", "name"))
    assert len(names) == len(set(names))
    assert client.get("/api/v1/items?page_size=1").json()["count"] >= 1000


def test_loading_again_changes_and_duplicates_nothing(demo: Any):
    counts = (
        ServiceItem.objects.count(),
        Region.objects.count(),
        Department.objects.count(),
        StaffGrant.objects.count(),
        AuditEntry.objects.count(),
    )
    load_demo_city()
    assert (
        ServiceItem.objects.count(),
        Region.objects.count(),
        Department.objects.count(),
        StaffGrant.objects.count(),
        AuditEntry.objects.count(),
    ) == counts
    assert verify().ok is True


def test_the_persona_applicants_have_valid_numbers(demo: Any):
    citizen = ApplicantProfile.objects.get(user__username="citizen")
    validate_resident_id(citizen.id_number)
    company = ApplicantProfile.objects.get(user__username="company")
    validate_uscc(company.id_number)
    validate_resident_id(company.legal_rep_id)
    for d in Department.objects.all():
        validate_uscc(d.uscc)
    assert StaffGrant.objects.filter(user__username="clerk2", region__name="廿里镇").exists()
    assert StaffGrant.objects.filter(user__username="approver-scjg", department__code="scjg").exists()


def test_export_import_into_an_empty_catalogue_and_export_again_gives_the_same(demo: Any):
    first = ie.export_catalog()
    xlsx = io.BytesIO()
    ie.export_xlsx(xlsx)
    for model in (Bundle, ServiceItem, ProcessTemplate):
        model.objects.all().delete()
    assert ServiceItem.objects.count() == 0
    ie.import_catalog(ie.read_yaml(io.StringIO(ie.dump_yaml(first))), actor="test", source="round-trip.yaml")
    assert ie.export_catalog() == first
    for model in (Bundle, ServiceItem, ProcessTemplate):
        model.objects.all().delete()
    xlsx.seek(0)
    ie.import_catalog(ie.read_xlsx(xlsx), actor="test", source="round-trip.xlsx")
    assert ie.export_catalog() == first
