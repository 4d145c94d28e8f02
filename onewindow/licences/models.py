"""Trusted electronic licences (可信电子证照, DESIGN §7): licence types, licences, the issuers'
signing keys, and a usage record (用证) for every use of a licence by a department."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onewindow.core.models import TimeStamped
from onewindow.org.models import Department, IdType


class HolderKind(models.TextChoices):
    PERSON = "person", _("自然人")
    ORGANISATION = "organisation", _("法人和其他组织")
    ANY = "any", _("不限")


class LicenceType(TimeStamped):
    """A kind of licence (证照类型). `fields` lists its surface fields (照面信息):
    [{"name", "label_zh", "label_en", "source"}], where `source` is `applicant.name`,
    `applicant.id_number`, `form.<field>`, `issuer.name` or `case.number`."""

    code = models.CharField(_("证照类型代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    department_code = models.CharField(
        _("默认颁发部门代码"), max_length=40, blank=True, help_text=_("颁发部门以办件的办理部门为准")
    )
    holder_kind = models.CharField(
        _("持证主体"), max_length=12, choices=HolderKind.choices, default=HolderKind.ANY
    )
    validity_months = models.PositiveIntegerField(_("有效期（月）"), default=0, help_text=_("0 表示长期有效"))
    fields = models.JSONField(_("照面字段"), default=list, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("证照类型")
        verbose_name_plural = _("证照类型")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class LicenceStatus(models.TextChoices):
    VALID = "valid", _("有效")
    SUSPENDED = "suspended", _("暂停")
    REVOKED = "revoked", _("注销/吊销")
    EXPIRED = "expired", _("已过期")
    SUPERSEDED = "superseded", _("已换发")


class Licence(TimeStamped):
    """One issued licence (one version). A renewal issues a new version (a new identifier) and
    marks this one superseded; the signatures never change after issue."""

    licence_id = models.CharField(_("证照标识"), max_length=100, unique=True)
    type = models.ForeignKey(LicenceType, on_delete=models.PROTECT, related_name="licences")
    serial = models.CharField(_("流水号"), max_length=10)
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    holder_id_type = models.CharField(_("持证主体证件类型"), max_length=20, choices=IdType.choices)
    holder_id_number = models.CharField(_("持证主体证件号码"), max_length=18, db_index=True)
    holder_name = models.CharField(_("持证主体"), max_length=100)
    issuer = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="licences", verbose_name=_("颁发部门")
    )
    issuer_uscc = models.CharField(_("颁发部门统一社会信用代码"), max_length=18)
    issuer_name = models.CharField(_("颁发部门名称"), max_length=100)
    issue_date = models.DateField(_("颁发日期"))
    valid_from = models.DateField(_("有效期起"))
    valid_to = models.DateField(_("有效期止"), null=True, blank=True, help_text=_("空表示长期有效"))
    surface = models.JSONField(_("照面信息"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=LicenceStatus.choices, default=LicenceStatus.VALID
    )
    status_reason = models.CharField(_("状态说明"), max_length=300, blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    source_case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="licences",
        verbose_name=_("来源办件"),
    )
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    qr_payload = models.TextField(_("二维码载荷（JWS）"))
    signed_content = models.TextField(_("签名原文（JCS）"))
    ed25519_kid = models.CharField(max_length=80)
    sm2_kid = models.CharField(max_length=80)
    sm2_signature = models.CharField(_("SM2 签名（DER，Base64）"), max_length=200)

    class Meta:
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        ordering = ["-issue_date", "-id"]
        indexes = [
            models.Index(fields=["holder_id_number", "type", "status"]),
            models.Index(fields=["issuer", "status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["type", "issuer", "serial", "version"], name="licences_licence_unique_version"
            ),
            # At most one licence per case and type (approval is re-entrant only through a lock,
            # and this makes a second issue fail rather than duplicate).
            models.UniqueConstraint(
                fields=["source_case", "type"],
                condition=Q(source_case__isnull=False, previous__isnull=True),
                name="licences_licence_unique_case_type",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type.name} {self.licence_id}"

    def effective_status(self, today: object = None) -> str:
        """The stored status, with a valid licence past its end date read as expired."""
        today = today or timezone.localdate()
        if self.status == LicenceStatus.VALID and self.valid_to is not None and self.valid_to < today:
            return LicenceStatus.EXPIRED
        if self.status == LicenceStatus.VALID and self.valid_from > today:
            return "not_yet_valid"
        return self.status


class LicenceSequence(models.Model):
    """Serial counter per licence type, issuer and year; its row lock serialises numbering."""

    prefix = models.CharField(max_length=80, unique=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("证照流水号序列")
        verbose_name_plural = _("证照流水号序列")

    def __str__(self) -> str:
        return f"{self.prefix}:{self.last}"


class KeyAlgorithm(models.TextChoices):
    ED25519 = "Ed25519", "Ed25519"
    SM2 = "SM2", "SM2"


class SigningKey(TimeStamped):
    """An issuing department's key pair. The private key is sealed (AES-256-GCM, see signing.py);
    a rotated key stays here, inactive, so its public key is still published and verifies the
    licences it signed."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="signing_keys")
    algorithm = models.CharField(_("算法"), max_length=10, choices=KeyAlgorithm.choices)
    generation = models.PositiveIntegerField(_("代次"), default=1)
    kid = models.CharField(_("密钥标识"), max_length=80, unique=True)
    public_key = models.BinaryField(_("公钥"))
    private_sealed = models.TextField(_("私钥（加密）"))
    active = models.BooleanField(_("当前使用"), default=True)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("签名密钥")
        verbose_name_plural = _("签名密钥")
        ordering = ["department_id", "algorithm", "generation"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "algorithm", "generation"], name="licences_key_unique_generation"
            ),
            models.UniqueConstraint(
                fields=["department", "algorithm"],
                condition=Q(active=True),
                name="licences_key_one_active",
            ),
        ]

    def __str__(self) -> str:
        return self.kid


class ConsentMode(models.TextChoices):
    APPLICATION = "application", _("申请即授权")
    EXPLICIT = "explicit", _("单独授权")
    LAW = "law", _("法定职责")


class UsageResult(models.TextChoices):
    USED = "used", _("已使用")
    REFUSED = "refused", _("拒绝使用")


class LicenceUsage(models.Model):
    """用证记录: a department used (or tried to use) a holder's licence. Append-only; the holder
    sees every row."""

    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="usages")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("用证部门"),
    )
    official = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    official_name = models.CharField(_("经办人"), max_length=150)
    purpose = models.CharField(_("用途"), max_length=300)
    case_number = models.CharField(_("办件编号"), max_length=32, blank=True, db_index=True)
    consent = models.CharField(_("授权方式"), max_length=12, choices=ConsentMode.choices)
    result = models.CharField(_("结果"), max_length=10, choices=UsageResult.choices)
    reason = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("用证记录")
        verbose_name_plural = _("用证记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.licence_id} {self.at:%Y-%m-%d}"
