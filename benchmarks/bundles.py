"""企业开办 (business-startup) bundle lifecycles per second, through the service functions.

    python benchmarks/bundles.py [--db sqlite|postgres] [--cases 50] [--rounds 5] [--no-producers]

A lifecycle: submit online (the parent, seven held children, the merged materials) → the lead
department accepts (设立登记 starts) → its two steps claimed and approved (the business licence
is issued, SM2-signed, to the new enterprise) → the six dependent children start, each claimed and
approved step by step (each takes the licence as its material) → the bundle is delivered
electronically (every child at once). A fresh database with the demo city (loaded first, not
timed). The lifecycles are timed in `--rounds` rounds. The last line is JSON: bundles_per_s (all
the rounds together), ms_per_bundle, db, cases, licences, each round's rate and their median."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def setup(db: str) -> None:
    from intake import setup as intake_setup  # the same fresh database (SQLite file or PostgreSQL)

    intake_setup(db)


def lifecycle(users: dict[str, Any], form: dict[str, Any], materials: Any) -> Any:
    from onewindow.cases import bundles
    from onewindow.cases import services as cs
    from onewindow.cases.models import WorkItem, WorkItemStatus
    from onewindow.core import fastsql
    from onewindow.demo import personas as P

    parent = bundles.submit_bundle(
        actor=users["citizen"],
        bundle="business-startup",
        applicant=cs.ApplicantIn("resident_id", P.CITIZEN_ID, P.CITIZEN_NAME, P.CITIZEN_PHONE),
        channel="online",
        form_data=form,
        materials=materials(),
        members=["330800-YINHANG-20-0001"],
        delivery_method="electronic",
    )
    cs.accept_case(parent, actor=users["approver-scjg"])
    # The approvers' view of what is open (the benchmark's own query, compiled once so that
    # building it is not what is measured).
    open_items_of = fastsql.prepared(
        ("bench_bundle_open_items",),
        lambda v: (
            WorkItem.objects.filter(case__parent_id=v, status=WorkItemStatus.OPEN)
            .select_related("department")
            .order_by("pk")
        ),
    )
    while True:
        open_items = open_items_of.all(parent.pk)
        if not open_items:
            break
        for wi in open_items:
            approver = users[f"approver-{wi.department.code}"]
            cs.claim_work_item(wi, actor=approver)
            cs.decide_work_item(wi, actor=approver, outcome="approve", opinion="同意")
    cs.deliver_case(parent.number, actor="system", method="electronic")
    return parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument(
        "--no-producers", action="store_true", help="without licence issuing (SM2 signing) on approval"
    )
    parser.add_argument("--rounds", type=int, default=5, help="time the lifecycles in this many rounds")
    parser.add_argument("--profile", action="store_true", help="also profile 10 lifecycles (pyinstrument)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    setup(args.db)
    from django.contrib.auth import get_user_model

    from onewindow.cases import bundles
    from onewindow.cases import services as cs
    from onewindow.cases.models import Case, CaseStatus
    from onewindow.demo.load import load_demo_city
    from onewindow.licences.models import Licence
    from onewindow.scenarios import scenario_data

    load_demo_city()
    print(f"demo city loaded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    users = {u.username: u for u in get_user_model().objects.all()}
    form = scenario_data("business-startup")["form"]
    b = bundles.active_bundle("business-startup")
    every = bundles.members_of(b, [m.item_code for m in b.members.all()])
    seqs = [
        mm.seq for mm in bundles.merged_requirements(every) if mm.source_kind == "applicant" and mm.required
    ]

    def materials() -> list[Any]:
        # Applying online, the applicant uploads each material (a fresh file object each time).
        from onewindow.scenarios import _upload

        return [cs.MaterialIn(seq=seq, satisfied_by="upload", file=_upload()) for seq in seqs]

    if args.no_producers:
        cs.output_producers[:] = [p for p in cs.output_producers if p is bundles.assign_new_enterprise]
    for _ in range(2):  # warm up (compiled queries, catalogue cache, signing keys)
        lifecycle(users, form, materials)
    licences_before = Licence.objects.count()
    # In rounds, each timed on its own: the machine's speed swings for seconds at a time (other
    # tenants of the host), which the median of the rounds' rates is robust to.
    rounds = max(1, min(args.rounds, args.cases))
    numbers: list[str] = []
    round_rates = []
    elapsed = 0.0
    for r in range(rounds):
        n = args.cases // rounds + (1 if r < args.cases % rounds else 0)
        start = time.perf_counter()
        numbers += [lifecycle(users, form, materials).number for _ in range(n)]
        took = time.perf_counter() - start
        elapsed += took
        round_rates.append(round(n / took, 2))
    done = Case.objects.filter(number__in=numbers, status=CaseStatus.DELIVERED).count()
    assert done == args.cases, f"{done} of {args.cases} bundles delivered"
    licences = Licence.objects.count() - licences_before
    per_s = args.cases / elapsed
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(10):
            lifecycle(users, form, materials)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False), file=sys.stderr)
    print(
        f"{args.cases} 企业开办 lifecycles (7 member items each) in {elapsed:.2f} s on {args.db}: "
        f"{per_s:.1f}/s, {1000 * elapsed / args.cases:.1f} ms each, {licences} licences issued; "
        f"rounds {round_rates} /s, median {statistics.median(round_rates):.1f}/s",
        file=sys.stderr,
    )
    print(
        json.dumps(
            {
                "bundles_per_s": round(per_s, 2),
                "ms_per_bundle": round(1000 * elapsed / args.cases, 1),
                "db": args.db,
                "cases": args.cases,
                "licences": licences,
                "producers": not args.no_producers,
                "rounds": round_rates,
                "median_round_per_s": statistics.median(round_rates),
            }
        )
    )
    os.environ.pop("ONEWINDOW_HOME", None)


if __name__ == "__main__":
    main()
