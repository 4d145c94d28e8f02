"""Shared data (数据共享, DESIGN §6), modelled on X-Road: datasets and their connectors, grants
(denied by default), consents, and an access record for every read."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onewindow.core.models import TimeStamped
from onewindow.org.models import Department


class ConnectorKind(models.TextChoices):
    LOCAL = "local", _("本地库表")
    HTTP = "http", _("HTTP 接口")


class SubjectKind(models.TextChoices):
    ID_NUMBER = "id_number", _("公民身份号码")
    USCC = "uscc", _("统一社会信用代码")
    UNIT_NUMBER = "unit_number", _("不动产单元号")
    HOUSEHOLD_NUMBER = "household_number", _("户号")


class Dataset(TimeStamped):
    """A data resource (数据资源) of an owner department, read through a connector.
    `fields`: [{"name", "label_zh", "label_en", "sensitivity": 1–4}]."""

    code = models.SlugField(_("数据集代码"), max_length=50, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    owner = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="datasets", verbose_name=_("数源部门")
    )
    subject_kind = models.CharField(_("主体标识"), max_length=20, choices=SubjectKind.choices)
    connector = models.CharField(
        _("连接方式"), max_length=10, choices=ConnectorKind.choices, default=ConnectorKind.LOCAL
    )
    endpoint = models.URLField(
        _("接口地址"), blank=True, help_text=_("HTTP 连接：GET {endpoint}/{subject}?fields=a,b")
    )
    timeout_ms = models.PositiveIntegerField(_("超时（毫秒）"), default=2000)
    needs_consent = models.BooleanField(_("需本人授权"), default=False)
    fields = models.JSONField(_("字段"), default=list)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("共享数据集")
        verbose_name_plural = _("共享数据集")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def field_names(self) -> list[str]:
        return [f["name"] for f in self.fields]

    def needs_consent_for(self, fields: list[str]) -> bool:
        """Consent is needed when the dataset needs it and a requested field is marked
        `consent` (or, when no field is marked, for every field)."""
        if not self.needs_consent:
            return False
        marked = {f["name"] for f in self.fields if f.get("consent")}
        return not marked or bool(marked & set(fields))


class Grant(TimeStamped):
    """Which consumer department may read which fields of a dataset, for which items, on what
    legal basis, until when. Anything not granted is denied."""

    consumer = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="data_grants", verbose_name=_("使用部门")
    )
    dataset = models.ForeignKey(
        Dataset, on_delete=models.PROTECT, related_name="grants", verbose_name=_("数据集")
    )
    fields = models.JSONField(_("授权字段"), default=list)
    item_codes = models.JSONField(_("适用事项"), default=list, help_text=_("事项编码列表"))
    legal_basis = models.TextField(_("法律依据"))
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("失效日期"), null=True, blank=True)
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("共享授权")
        verbose_name_plural = _("共享授权")
        indexes = [models.Index(fields=["consumer", "dataset"])]

    def __str__(self) -> str:
        return f"{self.consumer} → {self.dataset.code}"


class ConsentMode(models.TextChoices):
    APPLICANT = "applicant", _("本人授权")
    AGENT = "agent", _("代办人凭委托授权")


class Consent(TimeStamped):
    """The data subject's authorisation to read a dataset that needs it, for one case."""

    subject = models.CharField(_("数据主体"), max_length=30, db_index=True)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="consents")
    case_number = models.CharField(_("办件编号"), max_length=32, db_index=True)
    mode = models.CharField(_("授权方式"), max_length=10, choices=ConsentMode.choices)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delegation = models.CharField(_("委托记录"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("到期"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("数据使用授权")
        verbose_name_plural = _("数据使用授权")
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "dataset", "case_number"], name="exchange_consent_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_number} {self.dataset_id}"


class AccessResult(models.TextChoices):
    GRANTED = "granted", _("已获取")
    NOT_FOUND = "not_found", _("无记录")
    DENIED = "denied", _("拒绝")
    FAILED = "failed", _("失败")


class AccessRecord(models.Model):
    """One read (or refused read) of shared data. Append-only; the subject sees every row about
    them under "who used my data"."""

    at = models.DateTimeField(_("时间"), db_index=True)
    # Looked up by the (official, at) and (subject, at) indexes below: no index of their own.
    official = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    official_name = models.CharField(_("经办人"), max_length=150)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("使用部门"),
    )
    case_number = models.CharField(_("办件编号"), max_length=32, blank=True, db_index=True)
    item_code = models.CharField(_("事项编码"), max_length=64, blank=True)
    dataset = models.CharField(_("数据集"), max_length=50)
    fields = models.JSONField(_("字段"), default=list)
    subject = models.CharField(_("数据主体"), max_length=30)
    purpose = models.CharField(_("用途"), max_length=200)
    result = models.CharField(_("结果"), max_length=10, choices=AccessResult.choices)
    reason = models.CharField(_("说明"), max_length=300, blank=True)
    response_hash = models.CharField(_("响应摘要"), max_length=64, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("数据访问记录")
        verbose_name_plural = _("数据访问记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["official", "at"]), models.Index(fields=["subject", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.dataset} {self.result}"

    def save(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        if self.pk is not None:
            raise PermissionError("access records are append-only")
        super().save(*args, **kwargs)
