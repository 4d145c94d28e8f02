"""The service catalogue (DESIGN §4): items, materials, outputs, fees, process templates, bundles.

Field names follow GB/T 39046-2020 where it has them; the code lists are in
`onewindow/catalog/data/codelists.yaml` and are read through `catalog.codelists`.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from onewindow.core.models import TimeStamped
from onewindow.org.models import Department


class ItemState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("在用")
    RETIRED = "retired", _("停用")


class LimitUnit(models.TextChoices):
    WORKDAY = "workday", _("工作日")
    DAY = "day", _("自然日")
    MINUTE = "minute", _("分钟")


class CaseType(models.TextChoices):
    IMMEDIATE = "immediate", _("即办件")
    PROMISED = "promised", _("承诺件")


class HandleScope(models.TextChoices):
    HALL = "hall", _("本大厅办理")
    COUNTY = "county", _("全县通办")
    CITY = "city", _("全市通办")
    PROVINCE = "province", _("全省通办")


class ResultType(models.TextChoices):
    LICENCE = "licence", _("证照")
    APPROVAL_DOCUMENT = "approval_document", _("批文")
    OTHER = "other", _("其他")
    NONE = "none", _("无")


class ProcessTemplate(TimeStamped):
    """An approval process: ordered steps; several departments in one step work in parallel."""

    code = models.SlugField(_("流程代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)

    class Meta:
        verbose_name = _("审批流程")
        verbose_name_plural = _("审批流程")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ProcessAction(models.TextChoices):
    APPROVE = "approve", _("通过")
    RETURN = "return", _("退回")
    REFUSE = "refuse", _("不予许可")
    REQUEST_CORRECTION = "request_correction", _("要求补正")
    SPECIAL_PROCEDURE = "special_procedure", _("特别程序")
    REQUEST_EXTENSION = "request_extension", _("申请延期")


class ProcessStep(models.Model):
    """One step of a template. Departments may be empty: then the item's own department acts."""

    template = models.ForeignKey(ProcessTemplate, on_delete=models.CASCADE, related_name="steps")
    seq = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("环节名称"), max_length=100)
    departments = models.ManyToManyField(Department, blank=True, related_name="+", verbose_name=_("办理部门"))
    limit_workdays = models.DecimalField(_("环节时限（工作日）"), max_digits=5, decimal_places=2)
    actions = models.JSONField(_("允许的操作"), default=list)

    class Meta:
        verbose_name = _("流程环节")
        verbose_name_plural = _("流程环节")
        ordering = ["template_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["template", "seq"], name="catalog_step_unique_seq")]

    def __str__(self) -> str:
        return f"{self.seq}. {self.name}"


class ItemQuerySet(models.QuerySet["ServiceItem"]):
    def active(self) -> ItemQuerySet:
        return self.filter(state=ItemState.ACTIVE)


class ServiceItem(TimeStamped):
    """A service item (政务服务事项), versioned: (code, version) is unique and a case pins the
    version it was accepted under. At most one version of a code is active."""

    code = models.CharField(_("事项编码"), max_length=64, db_index=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    name = models.CharField(_("事项名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=300, blank=True)
    short_name = models.CharField(_("简称"), max_length=100, blank=True)
    keywords = models.JSONField(_("关键词"), default=list, blank=True)
    item_type = models.CharField(_("事项类型"), max_length=2)
    level = models.CharField(_("行使层级"), max_length=2)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="items", verbose_name=_("实施主体")
    )
    legal_basis = models.TextField(_("设定依据"), blank=True)
    served_party = models.JSONField(_("服务对象"), default=list)
    case_type = models.CharField(_("办件类型"), max_length=10, choices=CaseType.choices)
    legal_limit = models.PositiveIntegerField(_("法定办结时限"))
    legal_limit_unit = models.CharField(_("法定时限单位"), max_length=10, choices=LimitUnit.choices)
    promised_limit = models.PositiveIntegerField(_("承诺办结时限"))
    promised_limit_unit = models.CharField(_("承诺时限单位"), max_length=10, choices=LimitUnit.choices)
    special_procedures = models.TextField(_("特别程序"), blank=True)
    channels = models.JSONField(_("办理渠道"), default=list)
    max_visits = models.PositiveSmallIntegerField(_("到办事现场次数"), default=0)
    visits_reason = models.CharField(_("到现场原因"), max_length=300, blank=True)
    handle_scope = models.CharField(
        _("通办范围"), max_length=10, choices=HandleScope.choices, default=HandleScope.CITY
    )
    undifferentiated = models.BooleanField(_("无差别受理"), default=True)
    result_type = models.CharField(_("办理结果类型"), max_length=20, choices=ResultType.choices)
    licence_type = models.CharField(_("证照类型代码"), max_length=40, blank=True)
    form_schema = models.JSONField(_("表单"), default=list, blank=True)
    process_template = models.ForeignKey(
        ProcessTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="items",
        verbose_name=_("审批流程"),
    )
    faq = models.JSONField(_("常见问题"), default=list, blank=True)
    consult_phone = models.CharField(_("咨询电话"), max_length=30, blank=True)
    conditions = models.TextField(_("受理条件"), blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=ItemState.choices, default=ItemState.DRAFT)
    hand_written = models.BooleanField(
        _("人工编写"), default=False, help_text=_("依据国家事项人工编写的事项")
    )
    # Denormalised text for search: names, keywords, pinyin and initials (kept by services).
    search_text = models.TextField(editable=False, blank=True)

    objects = ItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("政务服务事项")
        verbose_name_plural = _("政务服务事项")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="catalog_item_unique_code_version"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(state="active"), name="catalog_item_one_active_version"
            ),
            models.CheckConstraint(
                condition=models.Q(max_visits__lte=1) | ~models.Q(visits_reason=""),
                name="catalog_item_visits_reason",
                violation_error_message=_("到现场超过一次须说明原因 / More than one visit needs a reason"),
            ),
        ]
        indexes = [models.Index(fields=["state", "department"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def total_fee(self):  # noqa: ANN201 - Decimal
        return sum((f.amount for f in self.fees.all()), start=0)


class MaterialForm(models.TextChoices):
    PAPER = "paper", _("纸质")
    ELECTRONIC = "electronic", _("电子")
    EITHER = "either", _("纸质或电子")
    BOTH = "both", _("纸质和电子")


class MaterialRequirement(models.Model):
    """A material an item asks for. `source` says where it can come from instead of the
    applicant: `applicant`, `licence:<type code>`, `data:<dataset>.<field>[,<field>]`, `pledge`,
    `exempt`."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="materials")
    seq = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("材料名称"), max_length=200)
    required = models.BooleanField(_("必要"), default=True)
    condition = models.CharField(_("适用条件"), max_length=300, blank=True)
    form = models.CharField(
        _("材料形式"), max_length=12, choices=MaterialForm.choices, default=MaterialForm.EITHER
    )
    originals = models.PositiveSmallIntegerField(_("原件份数"), default=0)
    copies = models.PositiveSmallIntegerField(_("复印件份数"), default=0)
    accept_standard = models.TextField(_("受理标准"), blank=True)
    source = models.CharField(_("来源"), max_length=200, default="applicant")
    note = models.CharField(_("备注"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["item_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["item", "seq"], name="catalog_material_unique_seq")]

    def __str__(self) -> str:
        return self.name

    @property
    def source_kind(self) -> str:
        return self.source.split(":", 1)[0]


class ItemOutput(models.Model):
    """A result an item produces (a licence, an approval document, ...)."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="outputs")
    seq = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("结果名称"), max_length=200)
    kind = models.CharField(_("结果类型"), max_length=20, choices=ResultType.choices)
    licence_type = models.CharField(_("证照类型代码"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("办理结果")
        verbose_name_plural = _("办理结果")
        ordering = ["item_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["item", "seq"], name="catalog_output_unique_seq")]

    def __str__(self) -> str:
        return self.name


class FeeLine(models.Model):
    """A fee line of an item; an item without fee lines is free of charge (不收费)."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="fees")
    seq = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("收费项目"), max_length=200)
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("计费单位"), max_length=50, blank=True)
    basis = models.CharField(_("收费依据"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("收费")
        verbose_name_plural = _("收费")
        ordering = ["item_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["item", "seq"], name="catalog_fee_unique_seq")]

    def __str__(self) -> str:
        return f"{self.name} {self.amount}"


class Bundle(TimeStamped):
    """一件事: member items in stages, one merged form, one material set, one delivery."""

    code = models.SlugField(_("一件事代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=300, blank=True)
    description = models.TextField(_("说明"), blank=True)
    keywords = models.JSONField(_("关键词"), default=list, blank=True)
    lead_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="bundles", verbose_name=_("牵头部门")
    )
    promised_limit = models.PositiveIntegerField(_("承诺总时限"))
    promised_limit_unit = models.CharField(_("时限单位"), max_length=10, choices=LimitUnit.choices)
    max_visits = models.PositiveSmallIntegerField(_("到现场次数"), default=0)
    # Merged form: fields like an item's form_schema, each with `maps_to`: ["<item code>.<field>"].
    form_schema = models.JSONField(_("合并表单"), default=list, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=ItemState.choices, default=ItemState.DRAFT)
    search_text = models.TextField(editable=False, blank=True)

    class Meta:
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class BundleStage(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="stages")
    seq = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("阶段名称"), max_length=100)
    limit_workdays = models.DecimalField(
        _("阶段时限（工作日）"), max_digits=5, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("一件事阶段")
        verbose_name_plural = _("一件事阶段")
        ordering = ["bundle_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["bundle", "seq"], name="catalog_stage_unique_seq")]

    def __str__(self) -> str:
        return f"{self.seq}. {self.name}"


class BundleMember(models.Model):
    """A member item of a bundle, by item code (the active version is used at acceptance).
    `depends_on` lists member item codes whose outputs this item needs before it starts."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="members")
    stage = models.ForeignKey(BundleStage, on_delete=models.CASCADE, related_name="members")
    item_code = models.CharField(_("事项编码"), max_length=64)
    optional = models.BooleanField(_("可选"), default=False)
    depends_on = models.JSONField(_("依赖事项"), default=list, blank=True)

    class Meta:
        verbose_name = _("一件事成员事项")
        verbose_name_plural = _("一件事成员事项")
        ordering = ["bundle_id", "stage__seq", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bundle", "item_code"], name="catalog_member_unique_item")
        ]

    def __str__(self) -> str:
        return self.item_code
