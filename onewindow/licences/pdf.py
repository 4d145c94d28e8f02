"""The licence as a PDF (电子证照版式文件): surface data, issuer, validity, and the QR code that
carries the signed payload. Drawn like the intake receipts (reportlab, STSong-Light, segno)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from onewindow.cases.receipts import _build, _kv_table, _p, _qr_flowable
from onewindow.licences.models import Licence, LicenceStatus


def licence_pdf(lic: Licence, verify_url: str) -> bytes:
    status = lic.effective_status()

    def story(width: float, st: dict[str, Any]) -> list[Any]:
        from reportlab.lib.units import mm
        from reportlab.platypus import Spacer, Table, TableStyle

        rows: list[tuple[str, Any]] = [
            (_("证照名称"), lic.type.name),
            (_("持证主体"), lic.holder_name),
            (_("证件号码"), lic.holder_id_number),
        ]
        labels = {f["name"]: f.get("label_zh", f["name"]) for f in lic.type.fields if "name" in f}
        rows += [(labels.get(k, k), v) for k, v in lic.surface.items()]
        rows += [
            (_("颁发部门"), lic.issuer_name),
            (_("颁发日期"), f"{lic.issue_date:%Y-%m-%d}"),
            (
                _("有效期"),
                f"{lic.valid_from:%Y-%m-%d} — {lic.valid_to:%Y-%m-%d}"
                if lic.valid_to
                else f"{lic.valid_from:%Y-%m-%d} — {_('长期')}",
            ),
            (_("证照标识"), lic.licence_id),
            (_("状态"), str(LicenceStatus(status).label) if status in LicenceStatus.values else status),
        ]
        qr = Table(
            [
                [
                    _qr_flowable(lic.qr_payload, size_mm=55),
                    [
                        _p(
                            _("扫描二维码可离线核验签名（Ed25519 / JWS），或在核验页查询证照当前状态："),
                            st["p"],
                        ),
                        _p(verify_url, st["small"]),
                        _p(_("签名密钥：") + lic.ed25519_kid, st["small"]),
                    ],
                ]
            ],
            colWidths=[60 * mm, None],
        )
        qr.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        return [
            _p(lic.type.name, st["title"]),
            _p(_("可信电子证照") + f" · {lic.type.name_en}", st["sub"]),
            Spacer(1, 6 * mm),
            _kv_table(rows, st, width),
            Spacer(1, 6 * mm),
            qr,
        ]

    return _build(story, lic.type.name, lic.licence_id)
