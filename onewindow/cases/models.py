"""Cases (办件) and everything that happens to them (DESIGN §5)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onewindow.catalog.models import Bundle, MaterialRequirement, ServiceItem
from onewindow.core.models import TimeStamped
from onewindow.org.models import Department, Hall, IdType, Region, Window


class CaseStatus(models.TextChoices):
    SUBMITTED = "SUBMITTED", _("已提交")
    AWAITING_CORRECTION = "AWAITING_CORRECTION", _("待补正")
    NOT_ACCEPTED = "NOT_ACCEPTED", _("不予受理")
    ACCEPTED = "ACCEPTED", _("已受理")
    IN_REVIEW = "IN_REVIEW", _("审查中")
    SUSPENDED = "SUSPENDED", _("已挂起")
    APPROVED = "APPROVED", _("准予许可")
    REFUSED = "REFUSED", _("不予许可")
    READY = "READY", _("待出件")
    DELIVERED = "DELIVERED", _("已送达")
    TERMINATED = "TERMINATED", _("已终止")
    WITHDRAWN = "WITHDRAWN", _("已撤回")
    CLOSED = "CLOSED", _("已办结归档")


OPEN_STATUSES = frozenset(
    {
        CaseStatus.SUBMITTED,
        CaseStatus.AWAITING_CORRECTION,
        CaseStatus.ACCEPTED,
        CaseStatus.IN_REVIEW,
        CaseStatus.SUSPENDED,
        CaseStatus.APPROVED,
        CaseStatus.REFUSED,
        CaseStatus.READY,
    }
)
# Statuses in which the handling clock runs or is paused (acceptance to decision).
CLOCK_STATUSES = frozenset({CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW, CaseStatus.SUSPENDED})


class Channel(models.TextChoices):
    WINDOW = "window", _("窗口")
    ONLINE = "online", _("网上")
    MOBILE = "mobile", _("掌上")
    KIOSK = "kiosk", _("自助终端")
    GRID = "grid", _("网格代办")
    POST = "post", _("邮寄")
    API = "api", _("系统接口")


# Channels where the applicant stands in a hall: submitting through them is a visit.
IN_PERSON_CHANNELS = frozenset({Channel.WINDOW, Channel.KIOSK})


class SuspensionKind(models.TextChoices):
    NONE = "", _("无")
    CORRECTION = "correction", _("补正材料")
    SPECIAL = "special", _("特别程序")


class SlaLevel(models.TextChoices):
    NONE = "", _("未计时")
    GREEN = "green", _("正常")
    YELLOW = "yellow", _("黄灯预警")
    RED = "red", _("红灯超期")


class DeliveryMethod(models.TextChoices):
    WINDOW = "window", _("窗口领取")
    COURIER = "courier", _("邮寄送达")
    ELECTRONIC = "electronic", _("电子送达")
    GRID_AGENT = "grid_agent", _("网格员代送")


class Application(TimeStamped):
    """One submission through one channel; a bundle application makes a parent case and a
    child case per member item."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("申请")
        verbose_name_plural = _("申请")

    def __str__(self) -> str:
        return str(self.public_id)


class CaseSequence(models.Model):
    """Per-region, per-day counter for readable case numbers; its row lock serialises numbering."""

    prefix = models.CharField(max_length=20, unique=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("办件编号序列")
        verbose_name_plural = _("办件编号序列")

    def __str__(self) -> str:
        return f"{self.prefix}:{self.last}"


class Case(TimeStamped):
    """A case (办件): one application for one item (or a bundle parent) and its whole life."""

    number = models.CharField(_("办件编号"), max_length=32, unique=True)
    # Foreign keys without an index of their own (db_index=False) are never searched by, or are
    # covered by a composite index below: every index is written on every case insert.
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    item = models.ForeignKey(
        ServiceItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("事项"),
    )
    bundle = models.ForeignKey(
        Bundle,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("一件事"),
        db_index=False,
    )
    # The applicant as submitted (an account is linked when one exists for the number).
    applicant_type = models.CharField(_("证件类型"), max_length=20, choices=IdType.choices)
    applicant_id_number = models.CharField(_("证件号码"), max_length=18, db_index=True)
    applicant_name = models.CharField(_("申请人"), max_length=100)
    applicant_phone = models.CharField(_("联系电话"), max_length=11, blank=True)
    legal_rep_name = models.CharField(_("法定代表人"), max_length=50, blank=True)
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agent_cases",
        verbose_name=_("代办人"),
    )
    delegation = models.CharField(_("委托/授权记录"), max_length=200, blank=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    # 收件地 / 办理地 / 出件地: they may all differ (全市通办).
    accept_hall = models.ForeignKey(
        Hall, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    accept_window = models.ForeignKey(
        Window, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    accept_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    handling_department = models.ForeignKey(  # indexed by (handling_department, status)
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    handling_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    deliver_hall = models.ForeignKey(Hall, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    delivery_method = models.CharField(
        _("送达方式"), max_length=12, choices=DeliveryMethod.choices, default=DeliveryMethod.WINDOW
    )
    delivery_address = models.CharField(_("送达地址"), max_length=300, blank=True)
    form_data = models.JSONField(_("表单"), default=dict, blank=True)

    status = models.CharField(
        _("状态"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.SUBMITTED
    )
    suspension = models.CharField(_("挂起原因"), max_length=12, choices=SuspensionKind.choices, blank=True)
    sla = models.CharField(_("预警"), max_length=6, choices=SlaLevel.choices, blank=True)
    legal_breach = models.BooleanField(_("超法定时限"), default=False)
    step_overdue = models.BooleanField(_("环节超时"), default=False)

    received_at = models.DateTimeField(_("收件时间"))
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    clock_start = models.DateField(_("计时起算日"), null=True, blank=True)
    promised_due = models.DateField(_("承诺办结日"), null=True, blank=True)
    legal_due = models.DateField(_("法定办结日"), null=True, blank=True)
    promised_due_at = models.DateTimeField(
        _("承诺办结时刻"), null=True, blank=True, help_text=_("即办件按分钟计时")
    )
    due_is_provisional = models.BooleanField(_("到期日为临时计算"), default=False)
    paused_on = models.DateField(_("暂停日"), null=True, blank=True)
    paused_workdays = models.PositiveIntegerField(_("累计暂停工作日"), default=0)
    extended_workdays = models.PositiveIntegerField(_("延长工作日"), default=0)
    correction_deadline = models.DateField(_("补正期限"), null=True, blank=True)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("归档时间"), null=True, blank=True)

    visits = models.PositiveSmallIntegerField(_("跑动次数"), default=0)
    # 一件事 (DESIGN §4, `cases.bundles`). A child case is `held` from submission until the
    # system starts it: its stage has opened (every earlier stage's child is finished) and the
    # member items it `depends_on` (item codes) have issued their outputs. A held child is
    # SUBMITTED with no clock, no work items, and is never deemed accepted. `partial` is set on
    # a parent when some member item was refused, cancelled or withdrawn and others went on.
    held = models.BooleanField(_("待启动"), default=False)
    stage_seq = models.PositiveSmallIntegerField(_("一件事阶段"), null=True, blank=True)
    depends_on = models.JSONField(_("依赖事项"), default=list, blank=True)
    partial = models.BooleanField(_("部分办结"), default=False)
    # 全市通办: received in one region and handled in another, the file is forwarded to the
    # handling department within one working day of acceptance; its first claim receives it.
    forward_due = models.DateField(_("流转期限"), null=True, blank=True)
    forwarded_at = models.DateTimeField(_("流转接收时间"), null=True, blank=True)
    forward_late = models.BooleanField(_("流转超时"), default=False)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    decision_basis = models.TextField(_("决定依据"), blank=True)
    row_version = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "promised_due"]),
            models.Index(fields=["handling_department", "status"]),
            models.Index(fields=["sla", "status"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class MaterialStatus(models.TextChoices):
    OK = "ok", _("合格")
    MISSING = "missing", _("缺少")
    DEFECTIVE = "defective", _("有误")
    TO_SUPPLY = "to_supply", _("待补充")


class SatisfiedBy(models.TextChoices):
    NONE = "", _("未提交")
    UPLOAD = "upload", _("上传")
    PAPER = "paper", _("纸质核验")
    LICENCE = "licence", _("电子证照")
    DATA = "data", _("数据共享")
    PLEDGE = "pledge", _("告知承诺")
    EXEMPT = "exempt", _("免于提交")


class CaseMaterial(TimeStamped):
    """A material of a case: a copy of the requirement as it was at acceptance, and how it
    was satisfied."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    requirement = models.ForeignKey(
        MaterialRequirement, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    seq = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("材料名称"), max_length=200)
    required = models.BooleanField(_("必要"), default=True)
    source = models.CharField(_("来源"), max_length=200, default="applicant")
    satisfied_by = models.CharField(_("提交方式"), max_length=10, choices=SatisfiedBy.choices, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=MaterialStatus.choices, default=MaterialStatus.MISSING
    )
    reason = models.CharField(_("说明"), max_length=300, blank=True)
    file = models.FileField(_("文件"), upload_to="cases/%Y/%m/", blank=True)
    file_name = models.CharField(_("文件名"), max_length=200, blank=True)
    file_hash = models.CharField(max_length=64, blank=True)
    file_size = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    trust_level = models.CharField(
        _("可信等级"), max_length=1, blank=True, help_text=_("A–D（国办函〔2016〕108号）")
    )
    reference = models.CharField(_("引用"), max_length=200, blank=True, help_text=_("证照标识或数据访问记录"))
    # On a bundle parent: the member materials this one merged material stands for, as
    # [[member item code, seq of that child case's material], ...].
    maps_to = models.JSONField(_("对应成员事项材料"), default=list, blank=True)

    class Meta:
        verbose_name = _("办件材料")
        verbose_name_plural = _("办件材料")
        ordering = ["case_id", "seq"]  # by key: "case" would join cases for their own order
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="cases_material_unique_seq")]

    def __str__(self) -> str:
        return self.name


class WorkItemStatus(models.TextChoices):
    OPEN = "open", _("待认领")
    CLAIMED = "claimed", _("办理中")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class Outcome(models.TextChoices):
    APPROVE = "approve", _("通过")
    RETURN = "return", _("退回")
    REFUSE = "refuse", _("不予许可")
    REQUEST_CORRECTION = "request_correction", _("要求补正")


class WorkItem(TimeStamped):
    """A back-office task of one department for one step of a case."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # case and department are indexed by the composite indexes in Meta.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="work_items", db_index=False)
    step_seq = models.PositiveSmallIntegerField(_("环节"))
    step_name = models.CharField(_("环节名称"), max_length=100)
    step_limit = models.DecimalField(_("环节时限（工作日）"), max_digits=5, decimal_places=2, default=0)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="work_items", db_index=False
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    actions = models.JSONField(_("允许的操作"), default=list)
    status = models.CharField(
        _("状态"), max_length=10, choices=WorkItemStatus.choices, default=WorkItemStatus.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="work_items"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    due = models.DateField(_("环节到期日"), null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=20, choices=Outcome.choices, blank=True)
    opinion = models.TextField(_("意见"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("审批任务")
        verbose_name_plural = _("审批任务")
        ordering = ["due", "id"]
        indexes = [models.Index(fields=["department", "status"]), models.Index(fields=["case", "step_seq"])]

    def __str__(self) -> str:
        return f"{self.case.number} {self.step_name}"


class CaseEvent(models.Model):
    """The append-only timeline of a case: one row per transition; the source for analytics."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"))
    # Events are read by case (their timeline) only: no other index, as every transition
    # writes one.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    actor_name = models.CharField(_("操作人"), max_length=150)
    kind = models.CharField(_("事件"), max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    payload = models.JSONField(default=dict, blank=True)
    visit = models.BooleanField(_("到现场"), default=False)

    class Meta:
        verbose_name = _("办件事件")
        verbose_name_plural = _("办件事件")
        ordering = ["case_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class Delivery(TimeStamped):
    """How the result reached the applicant."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="delivery")
    method = models.CharField(_("方式"), max_length=12, choices=DeliveryMethod.choices)
    hall = models.ForeignKey(Hall, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    courier = models.CharField(_("快递公司"), max_length=50, blank=True)
    waybill = models.CharField(_("运单号"), max_length=40, blank=True)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    received_by = models.CharField(_("签收人"), max_length=100, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"))
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("送达")
        verbose_name_plural = _("送达")

    def __str__(self) -> str:
        return f"{self.case.number} {self.get_method_display()}"


class IdempotentResponse(models.Model):
    """The stored answer to an API POST with an Idempotency-Key, replayed on a retry."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("幂等响应")
        verbose_name_plural = _("幂等响应")
        constraints = [
            models.UniqueConstraint(fields=["user", "endpoint", "key"], name="cases_idempotent_unique_key")
        ]

    def __str__(self) -> str:
        return self.key
