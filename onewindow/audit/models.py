"""The append-only, hash-chained audit log."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One recorded change. `hash` = SHA-256 over the previous entry's hash in its lane and this
    entry's canonical content, so editing or deleting any row breaks every link after it.

    The log is a few independent chains, its lanes (`AuditHead`): an entry is `seq` of its
    `lane`, and each lane is verified on its own. A connection appends to one lane (see
    `services._lane`), so appends from different connections do not wait for one another."""

    lane = models.PositiveSmallIntegerField(_("链"), default=1)
    seq = models.PositiveBigIntegerField(_("序号"))
    at = models.DateTimeField(_("时间"))
    actor = models.CharField(_("操作人"), max_length=150, help_text=_("用户名，或 system / cli"))
    action = models.CharField(_("操作"), max_length=80)
    object_type = models.CharField(_("对象类型"), max_length=80)
    object_id = models.CharField(_("对象"), max_length=100)
    data = models.JSONField(_("内容"), default=dict)
    prev_hash = models.CharField(max_length=64)
    # Not indexed: nothing looks an entry up by its hash, and `verify` walks the chain by seq
    # (a random-keyed index would cost a page write on every append).
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["id"]  # as appended (the lanes interleave)
        indexes = [models.Index(fields=["object_type", "object_id"])]
        constraints = [models.UniqueConstraint(fields=["lane", "seq"], name="audit_entry_lane_seq")]

    def __str__(self) -> str:
        return f"#{self.lane}.{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        if self.pk is not None:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        raise PermissionError("audit entries are append-only")


class AuditHead(models.Model):
    """The head of one lane (its `id`): the lane's last seq and hash. Locking it serialises the
    lane's appends (PostgreSQL: the append's UPDATE of this row; SQLite's IMMEDIATE transactions
    serialise all writes anyway). The lock is held until the append's transaction has committed,
    its flush to disk included: with one chain, every transition of every worker would wait
    for the one before it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    # The hash before the last append: PostgreSQL appends in one statement (UPDATE ... RETURNING
    # feeding the INSERT), which can only return the row's new values, so the link is kept here.
    prev_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"{self.id}: #{self.seq} {self.hash[:12]}"
