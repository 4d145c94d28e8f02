"""Licence signing and verification throughput: issue-and-sign (Ed25519 JWS + SM2 over JCS,
stored with its audit entry), and verification through the project's functions.

    python benchmarks/licences.py [--db sqlite|postgres] [--issue 200] [--verify 5000]

Measures, each per second:
- issue_per_s         services.issue(): number, canonical JSON, SM2 sign, Ed25519 JWS, save, audit
- ed25519_verify_per_s  verify.verify(): parse, key (cached), Ed25519 check, identifier, dates and
                        the online status read from the register (one query)
- ed25519_offline_per_s verify.verify_offline() with the published keys document only
- sm2_sign_per_s / sm2_verify_per_s  signing.sm2_sign / sm2_verify (pure-Python gmssl)
Prints a table and, as its last line, JSON. Goal: ≥ 2,000 Ed25519 verifications/s."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(db: str) -> None:
    home = tempfile.mkdtemp(prefix="ow-bench-")
    os.environ["ONEWINDOW_HOME"] = home
    os.environ.setdefault("ONEWINDOW_DEMO", "True")
    if db == "postgres":
        name = f"ow_bench_{os.getpid()}"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onewindow.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def rate(n: int, fn) -> float:  # noqa: ANN001
    t = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--issue", type=int, default=200)
    parser.add_argument("--verify", type=int, default=5000)
    args = parser.parse_args()
    setup(args.db)

    from onewindow.core.validators import make_resident_id, make_uscc
    from onewindow.licences import services, signing
    from onewindow.licences.keys import issuer_keys_document
    from onewindow.licences.verify import verify, verify_offline
    from onewindow.org import services as org
    from onewindow.org.models import Region

    org.upsert_regions(
        [{"code": "330000000000", "name": "浙江省"}, {"code": "330800000000", "name": "衢州市"}],
        actor="bench",
    )
    dept = org.save_department(
        actor="bench",
        code="scjg",
        name="衢州市市场监督管理局",
        uscc=make_uscc("1", "1", "330800", "002589001"),
        region=Region.objects.get(code="330800000000"),
    )
    from datetime import date

    holders = [make_resident_id("330803", date(1990, 1, 1 + i % 28), i % 400, "M") for i in range(args.issue)]

    def issue(i: int):  # noqa: ANN202
        return services.issue(
            type_code="SPJYXKZ",
            holder_id_type="resident_id",
            holder_id_number=holders[i],
            holder_name="陈晓明",
            issuer=dept,
            actor="bench",
            surface={"operator": "衢州小吃店", "premises": "衢州市衢江区廿里镇", "area": "35.5"},
        )

    issue(0)  # keys are created on the first issue; not part of the measurement
    issued = []
    issue_rate = rate(args.issue - 1, lambda i: issued.append(issue(i + 1)))
    payloads = [lic.qr_payload for lic in issued]
    assert all(verify(p).valid for p in payloads[:10])
    ed_rate = rate(args.verify, lambda i: verify(payloads[i % len(payloads)]))
    doc = issuer_keys_document()
    off_rate = rate(args.verify, lambda i: verify_offline(payloads[i % len(payloads)], doc))

    d, pub = signing.new_sm2()
    content = issued[0].signed_content.encode("utf-8")
    sigs: list[bytes] = []
    sm2_sign_rate = rate(200, lambda i: sigs.append(signing.sm2_sign(content, d, pub)))
    sm2_verify_rate = rate(200, lambda i: signing.sm2_verify(content, sigs[i], pub))
    priv, epub = signing.new_ed25519()
    ed_sign_rate = rate(5000, lambda i: signing.jws_sign({"jti": str(i)}, "k", priv))

    result = {
        "db": args.db,
        "issue_per_s": round(issue_rate, 1),
        "ed25519_verify_per_s": round(ed_rate, 1),
        "ed25519_offline_verify_per_s": round(off_rate, 1),
        "ed25519_jws_sign_per_s": round(ed_sign_rate, 1),
        "sm2_sign_per_s": round(sm2_sign_rate, 1),
        "sm2_verify_per_s": round(sm2_verify_rate, 1),
        "qr_payload_chars": max(len(p) for p in payloads),
        "goal_ed25519_verify_per_s": 2000,
        "goal_met": ed_rate >= 2000,
    }
    for k, v in result.items():
        print(f"  {k:<32} {v}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
