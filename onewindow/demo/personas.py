"""The demo personas (DESIGN §14). Passwords are username + "-demo"; demo mode only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from onewindow.core.roles import Role
from onewindow.core.validators import make_resident_id, make_uscc

CITY = "330800000000"
QUJIANG = "330803000000"

# The synthetic applicants; the shared-data registries (exchange) know them under these numbers.
CITIZEN_ID = make_resident_id("330803", date(1990, 5, 12), 27, "M")
CITIZEN_NAME = "陈晓明"
CITIZEN_PHONE = "13905701234"
COMPANY_USCC = make_uscc("9", "1", "330803", "MA2D3F4G5")
COMPANY_NAME = "衢州市衢江区晓明农产品有限公司"
COMPANY_REP_ID = make_resident_id("330802", date(1985, 11, 3), 61, "F")
COMPANY_REP_NAME = "周丽华"
COMPANY_PHONE = "13857001234"


@dataclass(frozen=True)
class Persona:
    username: str
    label: str
    label_en: str
    grants: list[tuple[str, str, str | None]] = field(default_factory=list)  # (role, region code, department)
    hall: str | None = None
    window: str | None = None
    superuser: bool = False

    @property
    def password(self) -> str:
        return self.username + "-demo"


def township_code(name: str) -> str:
    """Looked up at load time from the regions data (廿里镇 is under 衢江区)."""
    from onewindow.org.models import Region

    return Region.objects.get(name=name, code__startswith="330803").code


PERSONAS: list[Persona] = [
    Persona("admin", "系统管理员", "System administrator", [(Role.SYSADMIN, CITY, None)], superuser=True),
    Persona(
        "clerk",
        "综合受理窗口（市民中心）",
        "Comprehensive window clerk, city hall",
        [(Role.INTAKE_CLERK, CITY, None)],
        hall="city-hall",
        window="A01",
    ),
    Persona(
        "clerk2",
        "综合受理窗口（廿里镇便民服务中心）",
        "Comprehensive window clerk, Nianli township hall",
        [(Role.INTAKE_CLERK, "廿里镇", None)],
        hall="nianli-hall",
        window="A01",
    ),
    Persona(
        "approver",
        "审批人员（市市场监管局）",
        "Approver, City Market Regulation",
        [(Role.APPROVER, CITY, "scjg")],
    ),
    Persona(
        "approver_other",
        "审批人员（市自然资源和规划局）",
        "Approver, City Natural Resources and Planning",
        [(Role.APPROVER, CITY, "zrgh")],
    ),
    Persona(
        "delivery",
        "统一出件窗口（市民中心）",
        "Delivery window clerk, city hall",
        [(Role.DELIVERY_CLERK, CITY, None)],
        hall="city-hall",
        window="D01",
    ),
    Persona(
        "supervisor", "效能督查（全市）", "Efficiency supervisor, city-wide", [(Role.SUPERVISOR, CITY, None)]
    ),
    Persona(
        "agent", "网格代办员（廿里镇）", "Grid agent, Nianli township", [(Role.GRID_AGENT, "廿里镇", None)]
    ),
    Persona(
        "cataloger",
        "事项管理员（全市）",
        "Catalogue administrator, city-wide",
        [(Role.CATALOG_ADMIN, CITY, None)],
    ),
    Persona(
        "dataadmin",
        "数据共享管理员（全市）",
        "Data-sharing administrator, city-wide",
        [(Role.DATA_ADMIN, CITY, None)],
    ),
    Persona("citizen", "申请人（自然人）", "Applicant (citizen)"),
    Persona("company", "申请人（企业）", "Applicant (enterprise)"),
]
