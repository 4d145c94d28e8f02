"""Pages: the holder's wallet (卡包) with QR codes and PDFs, the public verify page, and the
published issuer keys."""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from onewindow.core import ratelimit
from onewindow.core.errors import RateLimitedError
from onewindow.core.i18n import both
from onewindow.licences.keys import issuer_keys_document
from onewindow.licences.pdf import licence_pdf
from onewindow.licences.queries import my_licences, my_usages
from onewindow.licences.verify import verify


def _verify_url(request: HttpRequest, payload: str = "") -> str:
    url = request.build_absolute_uri(reverse("licences:verify"))
    return f"{url}?{urlencode({'payload': payload})}" if payload else url


@login_required
def wallet(request: HttpRequest) -> HttpResponse:
    rows = []
    for lic in my_licences(request.user).order_by("-issue_date", "-id"):
        qr = segno.make(lic.qr_payload, error="m", micro=False)
        labels = {f["name"]: f.get("label_zh", f["name"]) for f in lic.type.fields if "name" in f}
        rows.append(
            {
                "lic": lic,
                "status": lic.effective_status(),
                "surface": [(labels.get(k, k), v) for k, v in lic.surface.items()],
                "qr_svg": qr.svg_inline(scale=2, title=lic.type.name),
                "verify_url": _verify_url(request, lic.qr_payload),
            }
        )
    usages = list(my_usages(request.user)[:50])
    return render(request, "licences/wallet.html", {"rows": rows, "usages": usages})


@login_required
def wallet_pdf(request: HttpRequest, licence_id: str) -> HttpResponse:
    lic = my_licences(request.user).filter(licence_id=licence_id).first()
    if lic is None:
        raise Http404
    body = licence_pdf(lic, _verify_url(request))
    resp = HttpResponse(body, content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="{lic.type.code}-{lic.serial}-{lic.version:03d}.pdf"'
    return resp


@require_GET
def verify_page(request: HttpRequest) -> HttpResponse:
    payload = request.GET.get("payload", "")[:4000]
    verdict = None
    if payload.strip():
        try:
            ratelimit.check(request, "licences.verify")
        except RateLimitedError as exc:
            zh, en = both(exc.message)
            error = en if (get_language() or "").startswith("en") else zh
            context = {"payload": payload, "verdict": None, "error": error}
            resp = render(request, "licences/verify.html", context, status=exc.status)
            resp["Retry-After"] = str(getattr(exc, "retry_after", 60))
            return resp
        verdict = verify(payload).as_dict()
    return render(request, "licences/verify.html", {"payload": payload, "verdict": verdict})


@require_GET
@cache_control(public=True, max_age=300)
def issuer_keys(request: HttpRequest) -> JsonResponse:
    resp = JsonResponse(issuer_keys_document(), json_dumps_params={"ensure_ascii": False, "indent": 1})
    resp["Access-Control-Allow-Origin"] = "*"
    return resp
