"""Regions, departments, halls, windows, staff grants and applicant identities."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onewindow.core.models import TimeStamped
from onewindow.core.roles import Role


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, _("省")
    CITY = 2, _("市")
    COUNTY = 3, _("县（区、市）")
    TOWNSHIP = 4, _("乡镇（街道）")
    VILLAGE = 5, _("村（社区）")


# Significant digits of a 12-digit statistical division code per level: 33 / 3308 / 330803 /
# 330803101 / 330803101201. A region's subtree is exactly the codes that share its prefix, so a
# subtree query is one range scan on the unique index of `code`, whatever the size of the tree.
LEVEL_DIGITS = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}


class RegionQuerySet(models.QuerySet["Region"]):
    def subtree(self, region: Region) -> RegionQuerySet:
        lo, hi = region.code_range()
        return self.filter(code__gte=lo, code__lte=hi)


class Region(TimeStamped):
    """An administrative division. `code` is the 12-digit code (GB/T 2260 for the first six
    digits, the statistical division code below county level)."""

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    level = models.PositiveSmallIntegerField(_("层级"), choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级"),
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "code"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.short_code}）"

    @property
    def short_code(self) -> str:
        """The code without its trailing zero groups: 330803 for a county, 330803101 for a township."""
        return self.code[: LEVEL_DIGITS[self.level]]

    def code_range(self) -> tuple[str, str]:
        prefix = self.short_code
        return prefix.ljust(12, "0"), prefix.ljust(12, "9")

    def contains(self, other: Region) -> bool:
        lo, hi = self.code_range()
        return lo <= other.code <= hi

    def ancestors(self) -> list[Region]:
        """Ancestors from the top down, found by code prefix (one query)."""
        codes = [self.code[:n].ljust(12, "0") for lvl, n in LEVEL_DIGITS.items() if lvl < self.level]
        return list(Region.objects.filter(code__in=codes).order_by("level"))


class DepartmentKind(models.TextChoices):
    AGENCY = "agency", _("政府部门")
    UTILITY = "utility", _("公用事业单位")
    PARTNER = "partner", _("合作机构")


class Department(TimeStamped):
    """A department (or a utility or partner) that handles items in a region."""

    code = models.SlugField(_("部门代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    kind = models.CharField(
        _("类型"), max_length=10, choices=DepartmentKind.choices, default=DepartmentKind.AGENCY
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="departments", verbose_name=_("区划")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级部门"),
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["region__code", "code"]

    def __str__(self) -> str:
        return self.name


class Hall(TimeStamped):
    """A service hall (政务服务中心 / 便民服务中心)."""

    code = models.SlugField(_("大厅代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="halls", verbose_name=_("区划"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    opening_hours = models.CharField(_("办公时间"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("服务大厅")
        verbose_name_plural = _("服务大厅")
        ordering = ["region__code", "code"]

    def __str__(self) -> str:
        return self.name


class WindowKind(models.TextChoices):
    COMPREHENSIVE = "comprehensive", _("综合受理窗口")
    DELIVERY = "delivery", _("统一出件窗口")
    SPECIALISED = "specialised", _("专业窗口")


class Window(TimeStamped):
    """A window in a hall. Specialised windows serve one department."""

    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="windows", verbose_name=_("大厅"))
    number = models.CharField(_("窗口号"), max_length=10)
    kind = models.CharField(_("类型"), max_length=20, choices=WindowKind.choices)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="windows",
        verbose_name=_("部门"),
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")
        ordering = ["hall_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "number"], name="org_window_unique_hall_number"),
            models.CheckConstraint(
                condition=~models.Q(kind="specialised") | models.Q(department__isnull=False),
                name="org_window_specialised_has_department",
                violation_error_message=_("专业窗口必须指定部门 / A specialised window needs a department"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hall.name} {self.number}号窗口"


class StaffGrant(TimeStamped):
    """One (role, region subtree, department?) grant of a staff user (DESIGN §1).

    A grant covers its region and every region below it. A department, when set, narrows the
    grant to that department's work; a window, when set, is where the clerk sits."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("区划范围"))
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("部门")
    )
    hall = models.ForeignKey(
        Hall, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("大厅")
    )
    window = models.ForeignKey(
        Window, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("窗口")
    )
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)

    class Meta:
        verbose_name = _("人员授权")
        verbose_name_plural = _("人员授权")
        # Two partial constraints instead of nulls_distinct=False, which SQLite does not support.
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "region", "department"],
                condition=models.Q(department__isnull=False),
                name="org_staffgrant_unique_department",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=models.Q(department__isnull=True),
                name="org_staffgrant_unique_any_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.region.name}"


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    USCC = "uscc", _("统一社会信用代码")


class ApplicantProfile(TimeStamped):
    """The verified identity of an applicant account (citizen or enterprise)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="applicant")
    id_type = models.CharField(_("证件类型"), max_length=20, choices=IdType.choices)
    id_number = models.CharField(_("证件号码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    phone = models.CharField(_("手机号"), max_length=11, blank=True)
    # For an enterprise account: the person who acts for it.
    legal_rep_name = models.CharField(_("法定代表人"), max_length=50, blank=True)
    legal_rep_id = models.CharField(_("法定代表人身份证号"), max_length=18, blank=True)

    class Meta:
        verbose_name = _("申请人")
        verbose_name_plural = _("申请人")

    def __str__(self) -> str:
        return self.name
