"""Printed documents of the intake window: the acceptance receipt (受理回执) and the one-time
correction notice (一次性告知书), as PDFs drawn with reportlab.

Chinese text uses reportlab's built-in CID font STSong-Light (no font files needed; PDF readers
supply the glyphs). Every value from a case is escaped before it reaches a reportlab Paragraph,
whose text is markup. The QR code (segno) is drawn as vector squares and encodes the case's
tracking URL; `receipt_payload()` is the plain data of a receipt, so it can be tested without
parsing PDFs.
"""

from __future__ import annotations

import io
from html import escape
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from onewindow.cases.models import Case, CaseEvent, CaseStatus, MaterialStatus, SatisfiedBy
from onewindow.core.validators import mask_id

FONT = "STSong-Light"


def tracking_path(number: str) -> str:
    """The case page (by the back-office URL name when it exists, else /cases/<number>/)."""
    try:
        return reverse("cases_backoffice:detail", args=[number])
    except NoReverseMatch:
        return f"/cases/{number}/"


def tracking_url(request: HttpRequest, number: str) -> str:
    return request.build_absolute_uri(tracking_path(number))


def _date(d: Any) -> str:
    if not d:
        return "—"
    if hasattr(d, "tzinfo") and hasattr(d, "hour"):
        d = timezone.localtime(d)
        return date_format(d, "Y-m-d H:i")
    return date_format(d, "Y-m-d")


def _loc(obj: Any) -> str:
    """The English name on English documents when there is one."""
    if obj is None:
        return ""
    zh = getattr(obj, "name", "") or ""
    if (get_language() or "zh-hans").startswith("en"):
        return getattr(obj, "name_en", "") or zh
    return zh


def _hall_name(case: Case) -> str:
    return _loc(case.accept_hall) if case.accept_hall_id else _loc(case.accept_region)


def _clerk_name(event: CaseEvent | None) -> str:
    if event is None:
        return "—"
    user = event.actor
    if user is not None:
        return user.get_full_name() or user.get_username()
    return event.actor_name


def received_materials(case: Case) -> list[dict[str, str]]:
    """Materials in order: name and how they were received (for the receipt)."""
    out = []
    for m in case.materials.all().order_by("seq"):
        how = SatisfiedBy(m.satisfied_by).label if m.satisfied_by in SatisfiedBy.values else ""
        out.append(
            {
                "seq": str(m.seq),
                "name": m.name,
                "how": str(how) if m.satisfied_by else str(MaterialStatus(m.status).label),
                "ok": m.status == MaterialStatus.OK,
            }
        )
    return out


def receipt_payload(case: Case, url: str) -> dict[str, Any]:
    """Everything a 受理回执 shows, with `qr` the text the QR code encodes (the tracking URL)."""
    accept_event = case.events.filter(kind__in=("accept", "deem_accept")).order_by("-at").first()
    return {
        "title": _("受理回执"),
        "number": case.number,
        "item": _loc(case.item) if case.item_id else _loc(case.bundle),
        "item_code": case.item.code if case.item_id else "",
        "department": _loc(case.handling_department),
        "applicant": case.applicant_name,
        "applicant_id": mask_id(case.applicant_id_number),
        "hall": _hall_name(case),
        "accepted_at": _date(case.accepted_at),
        "clerk": _clerk_name(accept_event),
        "promised_due": _date(case.promised_due_at or case.promised_due),
        "legal_due": _date(case.legal_due),
        "provisional": case.due_is_provisional,
        "visits": case.visits,
        "delivery": str(case.get_delivery_method_display()),
        "materials": received_materials(case),
        "qr": url,
    }


def notice_problems(case: Case) -> tuple[list[dict[str, str]], CaseEvent | None]:
    """The materials listed in the latest one-time notice (as notified), and that event."""
    event = case.events.filter(kind="correction_notice").order_by("-at", "-id").first()
    if event is not None and event.payload.get("materials"):
        rows = event.payload["materials"]
    else:
        rows = [
            {"seq": m.seq, "name": m.name, "status": m.status, "reason": m.reason}
            for m in case.materials.all().order_by("seq")
            if m.required and m.status in (MaterialStatus.MISSING, MaterialStatus.DEFECTIVE)
        ]
    problems = []
    for r in rows:
        status = r.get("status", "")
        label = MaterialStatus(status).label if status in MaterialStatus.values else status
        problems.append(
            {
                "seq": str(r.get("seq", "")),
                "name": str(r.get("name", "")),
                "status": status,
                "status_label": str(label),
                "reason": str(r.get("reason") or ""),
            }
        )
    return problems, event


def notice_payload(case: Case, url: str) -> dict[str, Any]:
    problems, event = notice_problems(case)
    return {
        "title": _("一次性告知书"),
        "number": case.number,
        "item": _loc(case.item),
        "department": _loc(case.handling_department),
        "applicant": case.applicant_name,
        "applicant_id": mask_id(case.applicant_id_number),
        "hall": _hall_name(case),
        "clerk": _clerk_name(event),
        "date": _date(event.at if event else case.received_at),
        "note": event.reason if event else "",
        "problems": problems,
        "awaiting": case.status == CaseStatus.AWAITING_CORRECTION,
        "qr": url,
    }


# ---------------------------------------------------------------------------------------------
# Drawing


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _qr_flowable(text: str, size_mm: float = 32) -> Any:
    import segno
    from reportlab.lib.units import mm
    from reportlab.platypus import Flowable

    matrix = segno.make(text, error="m", micro=False).matrix

    class QR(Flowable):
        def __init__(self) -> None:
            super().__init__()
            self.size = size_mm * mm
            self.width = self.height = self.size

        def draw(self) -> None:
            n = len(matrix) + 8  # four modules of quiet zone on each side
            cell = self.size / n
            c = self.canv
            c.setFillColorRGB(1, 1, 1)
            c.rect(0, 0, self.size, self.size, stroke=0, fill=1)
            c.setFillColorRGB(0, 0, 0)
            for y, row in enumerate(matrix):
                for x, dark in enumerate(row):
                    if dark:
                        c.rect((x + 4) * cell, self.size - (y + 5) * cell, cell, cell, stroke=0, fill=1)

    return QR()


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("ow", fontName=FONT, fontSize=10.5, leading=15, wordWrap="CJK")
    return {
        "title": ParagraphStyle("owt", parent=base, fontSize=18, leading=24, alignment=1, spaceAfter=4),
        "sub": ParagraphStyle("ows", parent=base, fontSize=9, leading=12, alignment=1, textColor="#555555"),
        "h": ParagraphStyle("owh", parent=base, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4),
        "p": base,
        "small": ParagraphStyle("owsm", parent=base, fontSize=8.5, leading=11, textColor="#444444"),
    }


def _p(text: Any, style: Any) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _kv_table(rows: list[tuple[str, Any]], st: dict[str, Any], width: float) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    data = [[_p(k, st["p"]), _p(v, st["p"])] for k, v in rows]
    t = Table(data, colWidths=[width * 0.28, width * 0.72])
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f1f3f6")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return t


def _list_table(head: list[str], rows: list[list[Any]], widths: list[float], st: dict[str, Any]) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    data = [[_p(h, st["p"]) for h in head]] + [[_p(c, st["p"]) for c in r] for r in rows]
    t = Table(data, colWidths=widths, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return t


def _build(story_of: Any, title: str, subject: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    _register_font()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        subject=subject,
        author="OneWindow",
    )
    doc.build(story_of(doc.width, _styles()))
    return buf.getvalue()


def _qr_block(url: str, caption: str, st: dict[str, Any], width: float) -> Any:
    from reportlab.platypus import Table, TableStyle

    t = Table(
        [[_qr_flowable(url), [_p(caption, st["p"]), _p(url, st["small"])]]], colWidths=[38 * 2.835, None]
    )
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return t


def receipt_pdf(payload: dict[str, Any]) -> bytes:
    """The 受理回执 of an accepted case as PDF bytes."""

    def story(width: float, st: dict[str, Any]) -> list[Any]:
        from reportlab.platypus import Spacer

        due = payload["promised_due"] + (f"（{_('临时计算')}）" if payload["provisional"] else "")
        rows = [
            (_("办件编号"), payload["number"]),
            (_("办理事项"), f"{payload['item']}  {payload['item_code']}".strip()),
            (_("办理部门"), payload["department"]),
            (_("申请人"), payload["applicant"]),
            (_("证件号码"), payload["applicant_id"]),
            (_("受理大厅"), payload["hall"]),
            (_("受理时间"), payload["accepted_at"]),
            (_("受理人员"), payload["clerk"]),
            (_("承诺办结日"), due),
            (_("法定办结日"), payload["legal_due"]),
            (_("跑动次数"), str(payload["visits"])),
            (_("送达方式"), payload["delivery"]),
        ]
        mats = [[m["seq"], m["name"], m["how"]] for m in payload["materials"]]
        out = [
            _p(payload["title"], st["title"]),
            _p(_("一窗受理 · 集成服务"), st["sub"]),
            Spacer(1, 10),
            _kv_table(rows, st, width),
            _p(_("申请材料"), st["h"]),
        ]
        if mats:
            out.append(
                _list_table([_("序号"), _("材料名称"), _("收取方式")], mats, [36, width - 136, 100], st)
            )
        else:
            out.append(_p(_("无"), st["p"]))
        out += [
            Spacer(1, 12),
            _qr_block(payload["qr"], _("扫码查询办理进度"), st, width),
            Spacer(1, 8),
            _p(
                _("您的申请已受理。承诺办结日按工作日计算，受理当日不计入；办理进度可凭办件编号查询。"),
                st["small"],
            ),
        ]
        return out

    return _build(story, f"{payload['title']} {payload['number']}", payload["item"])


def notice_pdf(payload: dict[str, Any]) -> bytes:
    """The 一次性告知书 as PDF bytes."""

    def story(width: float, st: dict[str, Any]) -> list[Any]:
        from reportlab.platypus import Spacer

        rows = [
            (_("办件编号"), payload["number"]),
            (_("办理事项"), payload["item"]),
            (_("办理部门"), payload["department"]),
            (_("申请人"), payload["applicant"]),
            (_("证件号码"), payload["applicant_id"]),
            (_("告知大厅"), payload["hall"]),
            (_("告知人员"), payload["clerk"]),
            (_("告知日期"), payload["date"]),
        ]
        probs = [[p["seq"], p["name"], p["status_label"], p["reason"]] for p in payload["problems"]]
        out = [
            _p(payload["title"], st["title"]),
            Spacer(1, 10),
            _kv_table(rows, st, width),
            _p(_("需要补正的全部材料"), st["h"]),
            _list_table(
                [_("序号"), _("材料名称"), _("问题"), _("说明")],
                probs,
                [36, width * 0.42, 60, width - 96 - width * 0.42],
                st,
            ),
        ]
        if payload["note"]:
            out += [_p(_("其他说明"), st["h"]), _p(payload["note"], st["p"])]
        out += [
            Spacer(1, 10),
            _p(
                _("以上为需要补正的全部材料，一次性告知。请补齐后到综合受理窗口提交。"),
                st["p"],
            ),
            Spacer(1, 12),
            _qr_block(payload["qr"], _("扫码查询办理进度"), st, width),
        ]
        return out

    return _build(story, f"{payload['title']} {payload['number']}", payload["item"])
