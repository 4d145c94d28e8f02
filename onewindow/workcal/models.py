"""The working-day calendar in layers (DESIGN §5).

Only deviations from Monday–Friday are stored: a holiday on a weekday, or a make-up working
day on a weekend (调休上班). National rows (region empty) are seeded from chinese-calendar;
regional rows are entered by admins and apply to the region and everything below it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from onewindow.core.models import TimeStamped
from onewindow.org.models import Region


class DaySource(models.TextChoices):
    SEED = "seed", _("chinese-calendar 数据")
    ADMIN = "admin", _("管理员录入")


class CalendarDay(TimeStamped):
    """One date that differs from the Monday–Friday rule (or confirms it, for an override)."""

    date = models.DateField(_("日期"))
    region = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("区划"),
        help_text=_("为空表示全国"),
    )
    is_workday = models.BooleanField(_("工作日"))
    name = models.CharField(_("名称"), max_length=50, blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=DaySource.choices, default=DaySource.ADMIN)

    class Meta:
        verbose_name = _("日历调整")
        verbose_name_plural = _("日历调整")
        ordering = ["date"]
        # Two partial constraints instead of nulls_distinct=False, which SQLite does not support.
        constraints = [
            models.UniqueConstraint(
                fields=["date", "region"],
                condition=models.Q(region__isnull=False),
                name="workcal_day_unique_regional",
            ),
            models.UniqueConstraint(
                fields=["date"], condition=models.Q(region__isnull=True), name="workcal_day_unique_national"
            ),
        ]

    def __str__(self) -> str:
        kind = "上班" if self.is_workday else "休息"
        return f"{self.date} {self.name} {kind}"


class CalendarYear(models.Model):
    """A year whose national holiday arrangement is known (seeded or entered complete).
    Dates in other years fall back to Monday–Friday and are marked provisional."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=10, choices=DaySource.choices)
    confirmed_at = models.DateTimeField(_("确认时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("已发布年度安排")
        verbose_name_plural = _("已发布年度安排")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)
