"""Regions and departments for pickers: always one level or one page at a time, never the
whole tree (the demo city can hold 100,000+ villages)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from onewindow.core.api_utils import page_params, paginate
from onewindow.core.errors import NotFoundError
from onewindow.core.i18n import bi
from onewindow.org.models import Department, Region

router = Router(tags=["org"])


class RegionOut(Schema):
    code: str
    name: str
    name_en: str
    level: int
    parent: str | None


class RegionList(Schema):
    count: int
    results: list[RegionOut]


class DepartmentDetailOut(Schema):
    code: str
    name: str
    name_en: str
    short_name: str
    uscc: str
    region: str


class DepartmentList(Schema):
    count: int
    results: list[DepartmentDetailOut]


def _region(r: Region) -> dict[str, Any]:
    parent = None
    if r.level > 1:
        from onewindow.org.services import parent_code

        parent = parent_code(r.code)
    return {"code": r.code, "name": r.name, "name_en": r.name_en, "level": r.level, "parent": parent}


@router.get("/regions", response=RegionList, summary="Child regions of a region, or regions by name")
def list_regions(
    request: HttpRequest, parent: str | None = None, q: str = "", page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    page, size = page_params(page, page_size)
    qs = Region.objects.all()
    if parent:
        p = Region.objects.filter(code=parent).first()
        if p is None:
            raise NotFoundError(
                bi(f"区划不存在：{parent}", f"No such region: {parent}"), code="region_not_found"
            )
        qs = qs.filter(parent=p) if not q else Region.objects.subtree(p)
    elif not q:
        qs = qs.filter(parent__isnull=True)
    if q:
        qs = qs.filter(name__contains=q.strip()[:50])
    return paginate(qs.order_by("code"), page, size, _region)


@router.get("/regions/{code}", response=RegionOut, summary="One region")
def get_region(request: HttpRequest, code: str) -> dict[str, Any]:
    r = Region.objects.filter(code=code).first()
    if r is None:
        raise NotFoundError(bi(f"区划不存在：{code}", f"No such region: {code}"), code="region_not_found")
    return _region(r)


@router.get("/departments", response=DepartmentList, summary="Departments")
def list_departments(request: HttpRequest, q: str = "", page: int = 1, page_size: int = 50) -> dict[str, Any]:
    page, size = page_params(page, page_size)
    qs = Department.objects.select_related("region").filter(active=True)
    if q:
        qs = qs.filter(name__contains=q.strip()[:50]) | qs.filter(code=q.strip())
    return paginate(
        qs.order_by("code"),
        page,
        size,
        lambda d: {
            "code": d.code,
            "name": d.name,
            "name_en": d.name_en,
            "short_name": d.short_name,
            "uscc": d.uscc,
            "region": d.region.code,
        },
    )
