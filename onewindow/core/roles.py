"""Staff roles (DESIGN §1)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    GRID_AGENT = "grid_agent", _("网格代办员")
    INTAKE_CLERK = "intake_clerk", _("综合受理窗口")
    APPROVER = "approver", _("审批人员")
    DELIVERY_CLERK = "delivery_clerk", _("出件窗口")
    HALL_MANAGER = "hall_manager", _("大厅管理员")
    SUPERVISOR = "supervisor", _("效能督查")
    COMPLAINT_HANDLER = "complaint_handler", _("投诉联络员")
    CATALOG_ADMIN = "catalog_admin", _("事项管理员")
    DATA_ADMIN = "data_admin", _("数据共享管理员")
    ANALYST = "analyst", _("数据分析员")
    SYSADMIN = "sysadmin", _("系统管理员")


STAFF_ROLES = [r for r in Role if r is not Role.APPLICANT]
