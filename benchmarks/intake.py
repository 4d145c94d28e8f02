"""Case lifecycles through the service functions, against the same rows written with raw ORM
bulk inserts, measured side by side in one run.

    python benchmarks/intake.py [--db sqlite|postgres] [--cases 500] [--rounds 5] [--workers 1]
        [--profile] [--socket [DIR]] [--no-prepare] [--no-producers]

A lifecycle is the one of DESIGN §5 at a window: submit (window intake) → accept → step 1
claimed and approved → step 2 claimed and approved (→ APPROVED → READY) → delivered at the
window. The raw phase writes what those calls leave behind — applications, cases, case
materials, work items, case events, delivery rows and audit entries (hash-chained with the
audit service's `entry_hash`, bulk-inserted) — in batches, with no checks at all.

Prints per-phase timings, the queries of one lifecycle per transition, optionally a profile
(pyinstrument, when installed), and as its last line JSON: cases_per_s, raw_per_s,
ratio = raw_per_s / cases_per_s (how much the checks, locks and audit cost), db, cases. The two
phases alternate in --rounds rounds; the figures are the medians over the rounds (the ratio: of
each round's ratio), so that a burst of load from elsewhere during one round does not decide
them; the totals are printed as well.

With --workers N both phases run in N forked processes at once, each with its own connection,
as a server with N worker processes would: the figures are then the machine's throughput. The
machine's CPU per lifecycle (the database server's included, when it runs here) is printed
with the ceiling it sets."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEPS = ("submit", "accept", "claim1", "decide1", "claim2", "decide2", "deliver")


def setup(db: str, keep: bool = False, socket: str = "", pg_options: dict[str, Any] | None = None) -> None:
    home = tempfile.mkdtemp(prefix="ow-bench-")
    os.environ["ONEWINDOW_HOME"] = home
    os.environ["ONEWINDOW_DEMO"] = "True"
    if db == "postgres":
        name = f"ow_bench_{os.getpid()}"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
        if socket:
            # A Unix socket instead of TCP over loopback: what a database on the same host uses.
            os.environ["DATABASE_URL"] = f"postgres://postgres@/{name}?host={socket}"
        else:
            os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
        if not keep:
            atexit.register(_dropdb, name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onewindow.settings")
    import django

    django.setup()
    if db == "postgres" and pg_options:
        from django.conf import settings

        settings.DATABASES["default"].setdefault("OPTIONS", {}).update(pg_options)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _dropdb(name: str) -> None:
    from django.db import connections

    connections.close_all()
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=False)


def load() -> dict[str, Any]:
    """The small catalogue of the case tests, a city with a hall, and the staff personas, all
    built through the services."""
    from django.contrib.auth import get_user_model

    from onewindow.catalog.importexport import import_catalog
    from onewindow.core.roles import Role
    from onewindow.core.validators import make_uscc
    from onewindow.org import services as org
    from onewindow.org.models import Region, Window

    org.upsert_regions(
        [
            {"code": "330000000000", "name": "浙江省"},
            {"code": "330800000000", "name": "衢州市"},
            {"code": "330802000000", "name": "柯城区"},
            {"code": "330803000000", "name": "衢江区"},
        ],
        actor="bench",
    )
    city = Region.objects.get(code="330800000000")
    depts = {
        code: org.save_department(
            actor="bench", code=code, name=name, uscc=make_uscc("1", "1", "330800", num), region=city
        )
        for code, name, num in (
            ("scjg", "衢州市市场监督管理局", "002589001"),
            ("zrgh", "衢州市自然资源和规划局", "002589007"),
        )
    }
    hall = org.save_hall(
        actor="bench",
        code="city-hall",
        name="衢州市民中心",
        region=city,
        windows=[{"number": "A01", "kind": "comprehensive"}, {"number": "D01", "kind": "delivery"}],
    )
    import_catalog(bench_catalog(), actor="bench", source="bench")
    users = {}
    for username, role, dept, window in (
        ("clerk", Role.INTAKE_CLERK, None, "A01"),
        ("approver", Role.APPROVER, depts["scjg"], None),
        ("approver2", Role.APPROVER, depts["scjg"], None),
        ("delivery", Role.DELIVERY_CLERK, None, "D01"),
    ):
        user = get_user_model().objects.create_user(username=username, password=username + "-pw")
        org.grant_role(
            user,
            role,
            city,
            actor="bench",
            department=dept,
            hall=hall if window else None,
            window=Window.objects.get(hall=hall, number=window) if window else None,
        )
        users[username] = user
    return {"users": users, "hall": hall, "city": city, "depts": depts}


# ---------------------------------------------------------------------------------------------
# Through the services


def lifecycle(users: dict[str, Any], i: int, timings: dict[str, float] | None = None) -> Any:
    from onewindow.cases import services as cs
    from onewindow.cases.tests.conftest import FORM, applicant, paper

    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        if timings is not None:
            now = time.perf_counter()
            timings[name] += now - t
            t = now

    case = cs.submit_case(
        actor=users["clerk"],
        item="330800-SCJG-01-0001",
        applicant=applicant(),
        channel="window",
        form_data=FORM,
        materials=paper(1, 2),
    )
    lap("submit")
    cs.accept_case(case, actor=users["clerk"])
    lap("accept")
    for n, approver in ((1, "approver"), (2, "approver2")):
        (wi,) = cs.open_work_items(case)  # the step's one work item, as its worklist shows it
        cs.claim_work_item(wi, actor=users[approver])
        lap(f"claim{n}")
        cs.decide_work_item(wi, actor=users[approver], outcome="approve", opinion="同意")
        lap(f"decide{n}")
    cs.deliver_case(case, actor=users["delivery"], method="window", received_by="陈晓明")
    lap("deliver")
    return case


def services_phase(users: dict[str, Any], n: int) -> tuple[float, dict[str, float]]:
    timings: dict[str, float] = defaultdict(float)
    t = time.perf_counter()
    for i in range(n):
        lifecycle(users, i, timings)
    return time.perf_counter() - t, dict(timings)


# ---------------------------------------------------------------------------------------------
# In several processes at once (--workers): what a server with several worker processes does


class Workers:
    """N forked processes, each with its own database connection, that run a phase's share of
    lifecycles (or raw batches) together: they wait at a barrier, run, and report when they
    started and ended; the phase took from the first start to the last end."""

    def __init__(self, n: int, ctx: dict[str, Any]) -> None:
        import multiprocessing as mp

        from django.db import connections

        connections.close_all()  # each child opens its own
        fork = mp.get_context("fork")
        self.barrier = fork.Barrier(n)
        self.pipes = []
        self.procs = []
        for k in range(n):
            parent, child = fork.Pipe()
            proc = fork.Process(target=self._serve, args=(child, ctx, k), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def _serve(self, pipe: Any, ctx: dict[str, Any], k: int) -> None:
        from django.db import connections

        try:
            for i in range(2):  # warm up this process's connection (prepared statements)
                lifecycle(ctx["users"], i)
        except Exception as exc:
            pipe.send(f"warm-up failed: {exc!r}")
            return
        pipe.send("ready")
        while True:
            cmd = pipe.recv()
            if cmd is None:
                connections.close_all()
                return
            kind, size = cmd
            timings: dict[str, float] = defaultdict(float)
            try:
                self.barrier.wait()
                start = time.perf_counter()
                if kind == "services":
                    for i in range(size):
                        lifecycle(ctx["users"], i, timings)
                else:
                    raw_phase(ctx, size)
                pipe.send(("ok", start, time.perf_counter(), dict(timings)))
            except Exception as exc:  # reported to the parent, which stops
                pipe.send(("error", repr(exc), 0.0, {}))

    def ready(self) -> None:
        for pipe in self.pipes:
            answer = pipe.recv()
            if answer != "ready":
                raise RuntimeError(f"a worker failed: {answer}")

    def run(self, kind: str, size: int) -> tuple[float, dict[str, float]]:
        n = len(self.pipes)
        shares = [size // n + (1 if k < size % n else 0) for k in range(n)]
        for pipe, share in zip(self.pipes, shares, strict=True):
            pipe.send((kind, share))
        answers = [pipe.recv() for pipe in self.pipes]
        for status, *rest in answers:
            if status != "ok":
                raise RuntimeError(f"a worker failed: {rest[0]}")
        timings: dict[str, float] = defaultdict(float)
        for *_, steps in answers:
            for key, value in steps.items():
                timings[key] += value  # summed: divided by all lifecycles, the mean time per step
        return max(a[2] for a in answers) - min(a[1] for a in answers), dict(timings)

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(None)
        for proc in self.procs:
            proc.join(timeout=30)


def machine_cpu_seconds() -> float:
    """CPU time used by the whole machine so far (Linux /proc/stat; 0 elsewhere): with the
    database server on the same machine, what a phase costs in all."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    busy = sum(ticks) - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def count_queries(users: dict[str, Any]) -> dict[str, Any]:
    """Queries of one lifecycle, per transition, and the most repeated statements."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    per_step: dict[str, int] = {}
    shapes: Counter[str] = Counter()
    from onewindow.cases import services as cs
    from onewindow.cases.tests.conftest import FORM, applicant, paper

    def run(name: str, fn: Any) -> Any:
        with CaptureQueriesContext(connection) as ctx:
            out = fn()
        per_step[name] = len(ctx.captured_queries)
        for q in ctx.captured_queries:
            sql = q["sql"]
            shapes[_shape(sql)] += 1
        return out

    case = run(
        "submit",
        lambda: cs.submit_case(
            actor=users["clerk"],
            item="330800-SCJG-01-0001",
            applicant=applicant(),
            channel="window",
            form_data=FORM,
            materials=paper(1, 2),
        ),
    )
    run("accept", lambda: cs.accept_case(case, actor=users["clerk"]))
    for n, approver in ((1, "approver"), (2, "approver2")):
        wi = case.work_items.get(step_seq=n)
        run(f"claim{n}", lambda wi=wi, a=approver: cs.claim_work_item(wi, actor=users[a]))
        run(
            f"decide{n}",
            lambda wi=wi, a=approver: cs.decide_work_item(
                wi, actor=users[a], outcome="approve", opinion="同意"
            ),
        )
    run(
        "deliver",
        lambda: cs.deliver_case(case, actor=users["delivery"], method="window", received_by="陈晓明"),
    )
    return {"per_step": per_step, "total": sum(per_step.values()), "top": shapes.most_common(15)}


def _shape(sql: str) -> str:
    """A statement without its values: the verb and the tables it names."""
    import re

    sql = sql.strip()
    verb = sql.split(None, 1)[0].upper()
    tables = re.findall(r'(?:FROM|INTO|UPDATE|JOIN)\s+"?(\w+)"?', sql)
    extra = " FOR UPDATE" if "FOR UPDATE" in sql else ""
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
        return verb
    seen = list(dict.fromkeys(tables))
    return f"{verb} {', '.join(seen[:4])}{extra}"


# ---------------------------------------------------------------------------------------------
# Raw bulk inserts of the same rows


def raw_phase(ctx: dict[str, Any], n: int, batch: int = 500) -> float:
    t = time.perf_counter()
    for start in range(0, n, batch):
        raw_batch(ctx, min(batch, n - start))
    return time.perf_counter() - t


def raw_batch(ctx: dict[str, Any], n: int) -> None:
    from decimal import Decimal

    from django.db import connections, transaction
    from django.db.models import F
    from django.utils import timezone

    from onewindow.audit.models import AuditEntry, AuditHead
    from onewindow.audit.services import entry_hash, lane_of
    from onewindow.cases.models import (
        Application,
        Case,
        CaseEvent,
        CaseMaterial,
        CaseSequence,
        Delivery,
        WorkItem,
    )
    from onewindow.cases.tests.conftest import CITIZEN_ID, FORM
    from onewindow.catalog.models import ServiceItem
    from onewindow.workcal.calendar import get_calendar

    users, hall, city, scjg = ctx["users"], ctx["hall"], ctx["city"], ctx["depts"]["scjg"]
    clerk, ap1, ap2, dclerk = users["clerk"], users["approver"], users["approver2"], users["delivery"]
    item = ServiceItem.objects.get(code="330800-SCJG-01-0001", state="active")
    reqs = {r.seq: r for r in item.materials.all()}
    steps = list(item.process_template.steps.order_by("seq"))
    cal = get_calendar(city.code)
    now = timezone.now()
    today = timezone.localdate(now)
    promised = cal.add_workdays(today, item.promised_limit)
    legal = cal.add_workdays(today, item.legal_limit)
    step1_due = cal.add_workdays(today, int(steps[0].limit_workdays)).date
    step2_due = min(cal.add_workdays(today, int(steps[1].limit_workdays)).date, promised.date)
    form = {"shop_name": FORM["shop_name"], "area": FORM["area"], "has_cold_chain": False}
    with transaction.atomic():
        prefix = f"{city.code[:6]}-{today:%Y%m%d}"
        if not CaseSequence.objects.filter(prefix=prefix).update(last=F("last") + n):
            CaseSequence.objects.create(prefix=prefix, last=n)
        last = CaseSequence.objects.filter(prefix=prefix).values_list("last", flat=True).get()
        apps = Application.objects.bulk_create(
            [Application(channel="window", submitted_by=clerk) for _ in range(n)]
        )
        cases = Case.objects.bulk_create(
            [
                Case(
                    number=f"{prefix}-{last - n + 1 + i:05d}",
                    application=apps[i],
                    item=item,
                    applicant_type="resident_id",
                    applicant_id_number=CITIZEN_ID,
                    applicant_name="陈晓明",
                    applicant_phone="13905701234",
                    channel="window",
                    accept_hall=hall,
                    accept_window_id=None,
                    accept_region=city,
                    handling_department=scjg,
                    handling_region=city,
                    deliver_hall=hall,
                    delivery_method="window",
                    form_data=form,
                    status="DELIVERED",
                    sla="",
                    received_at=now,
                    accepted_at=now,
                    clock_start=today,
                    promised_due=promised.date,
                    legal_due=legal.date,
                    due_is_provisional=promised.provisional or legal.provisional,
                    decided_at=now,
                    delivered_at=now,
                    visits=2,
                    decision_reason="同意",
                    row_version=7,
                    created_by=clerk,
                )
                for i in range(n)
            ]
        )
        CaseMaterial.objects.bulk_create(
            [
                CaseMaterial(
                    case=c,
                    requirement=reqs[seq],
                    seq=seq,
                    name=reqs[seq].name,
                    required=reqs[seq].required,
                    source=reqs[seq].source,
                    satisfied_by="pledge" if seq == 4 else "paper",
                    status="ok",
                )
                for c in cases
                for seq in (1, 2, 4)
            ]
        )
        wis = WorkItem.objects.bulk_create(
            [
                WorkItem(
                    case=c,
                    step_seq=s.seq,
                    step_name=s.name,
                    step_limit=Decimal(s.limit_workdays),
                    department=scjg,
                    region=city,
                    actions=list(s.actions or []),
                    status="done",
                    assignee=who,
                    claimed_at=now,
                    due=due,
                    outcome="approve",
                    opinion="同意",
                    decided_at=now,
                    decided_by=who,
                )
                for c in cases
                for s, who, due in ((steps[0], ap1, step1_due), (steps[1], ap2, step2_due))
            ]
        )
        Delivery.objects.bulk_create(
            [
                Delivery(
                    case=c,
                    method="window",
                    hall=hall,
                    received_by="陈晓明",
                    delivered_at=now,
                    delivered_by=dclerk,
                )
                for c in cases
            ]
        )
        events: list[CaseEvent] = []
        audit: list[tuple[str, str, str, str, dict[str, Any]]] = []  # actor, action, type, id, data
        for k, c in enumerate(cases):
            w1, w2 = wis[2 * k], wis[2 * k + 1]
            submit_p = {"channel": "window", "item": item.code, "version": item.version}
            accept_p = {"promised_due": promised.date.isoformat(), "legal_due": legal.date.isoformat()}
            step1_p = {"work_item": str(w1.public_id), "step": 1, "department": "scjg"}
            step2_p = {"work_item": str(w2.public_id), "step": 2, "department": "scjg"}
            deliver_p = {"method": "window", "waybill": "", "hall": hall.code}
            timeline = (
                ("submit", clerk, "", "SUBMITTED", True, submit_p),
                ("accept", clerk, "SUBMITTED", "ACCEPTED", False, accept_p),
                ("review_start", ap1, "ACCEPTED", "IN_REVIEW", False, {"work_item": str(w1.public_id)}),
                ("step_approve", ap1, "IN_REVIEW", "IN_REVIEW", False, step1_p),
                ("approve", ap2, "IN_REVIEW", "APPROVED", False, step2_p),
                ("outputs_ready", ap2, "APPROVED", "READY", False, {"outputs": ["食品经营许可证"]}),
                ("deliver", dclerk, "READY", "DELIVERED", True, deliver_p),
            )
            for kind, who, frm, to, visit, payload in timeline:
                reason = "同意" if kind in ("step_approve", "approve") else ""
                events.append(
                    CaseEvent(
                        case=c,
                        at=now,
                        actor=who,
                        actor_name=who.username,
                        kind=kind,
                        from_status=frm,
                        to_status=to,
                        reason=reason,
                        payload=payload,
                        visit=visit,
                    )
                )
                data = {"from": frm, "to": to, "visit": visit, **({"reason": reason} if reason else {})}
                audit.append((who.username, f"cases.{kind}", "cases.case", c.number, data))
                if kind == "step_approve":  # step 2 claimed on a case already in review
                    audit.append(
                        (
                            ap2.username,
                            "cases.work_item.claim",
                            "cases.workitem",
                            str(w2.public_id),
                            {"case": c.number},
                        )
                    )
        CaseEvent.objects.bulk_create(events, batch_size=1000)
        lane = lane_of(connections["default"])  # where this connection's appends go, as record()'s
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=lane)
        seq, prev, prev_hash = head.seq, head.hash, head.prev_hash
        entries = []
        for actor, action, otype, oid, data in audit:
            seq += 1
            at = timezone.now()
            digest = entry_hash(prev, seq, at, actor, action, otype, oid, data)
            prev_hash = prev
            entries.append(
                AuditEntry(
                    lane=lane,
                    seq=seq,
                    at=at,
                    actor=actor,
                    action=action,
                    object_type=otype,
                    object_id=oid,
                    data=data,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            prev = digest
        AuditEntry.objects.bulk_create(entries, batch_size=1000)
        AuditHead.objects.filter(id=lane).update(seq=seq, hash=prev, prev_hash=prev_hash)


def profile(users: dict[str, Any], n: int) -> str:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return "(pyinstrument is not installed: pip install pyinstrument)"
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for i in range(n):
        lifecycle(users, i)
    profiler.stop()
    return profiler.output_text(unicode=True, color=False, show_all=False)


# The case spine is measured with an item whose result is an approval document. With
# --licence-outputs the item issues an e-licence on approval (Ed25519 and SM2 signing: SM2 is pure
# Python in gmssl, several ms per signature), measured on its own by benchmarks/licences.py.
LICENCE_OUTPUTS = False


def bench_catalog() -> dict[str, Any]:
    import copy

    from onewindow.cases.tests.conftest import CATALOG

    catalog = copy.deepcopy(CATALOG)
    if not LICENCE_OUTPUTS:
        for item in catalog["items"]:
            if item["code"] == "330800-SCJG-01-0001":
                item.update(
                    result_type="approval_document",
                    licence_type="",
                    outputs=[{"seq": 1, "name": "食品经营许可决定书", "kind": "approval_document"}],
                )
    return catalog


def main() -> None:
    global LICENCE_OUTPUTS
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5, help="alternate the two phases in this many rounds")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="run each phase in this many processes at once, each with its own connection (default 1)",
    )
    parser.add_argument("--profile", action="store_true", help="also profile 100 lifecycles (pyinstrument)")
    parser.add_argument("--keep-db", action="store_true", help="PostgreSQL: keep the benchmark database")
    parser.add_argument(
        "--socket",
        nargs="?",
        const="/var/run/postgresql",
        default="",
        help="PostgreSQL: connect over a Unix socket in DIR (default /var/run/postgresql), not TCP",
    )
    parser.add_argument(
        "--no-prepare",
        action="store_true",
        help="PostgreSQL: DB_SERVER_SIDE_BINDING=False (no prepared statements; the default uses them)",
    )
    parser.add_argument(
        "--no-producers",
        action="store_true",
        help="unregister the output producers (e.g. licence issuing) to measure the case pipeline alone",
    )
    parser.add_argument(
        "--licence-outputs",
        action="store_true",
        help="the benchmark item issues an e-licence on approval (adds licence signing to each lifecycle)",
    )
    args = parser.parse_args()
    LICENCE_OUTPUTS = args.licence_outputs
    t0 = time.perf_counter()
    if args.no_prepare:
        os.environ["DB_SERVER_SIDE_BINDING"] = "False"
    pg_options = None
    setup(args.db, keep=args.keep_db, socket=args.socket, pg_options=pg_options)
    from django.db import connection

    from onewindow.cases import services as cs

    if args.no_producers:
        cs.output_producers.clear()

    from onewindow.audit.models import AuditEntry
    from onewindow.audit.services import verify
    from onewindow.cases.models import Case, CaseEvent, CaseMaterial, Delivery, WorkItem

    t = time.perf_counter()
    ctx = load()
    load_s = time.perf_counter() - t
    setup_s = t - t0
    users = ctx["users"]
    # Warm up (first-query costs, calendar cache), then count the queries of one lifecycle.
    for i in range(3):
        lifecycle(users, i)
    queries = count_queries(users)

    counted = (Case, CaseMaterial, WorkItem, CaseEvent, Delivery, AuditEntry)
    # Side by side: the two phases alternate in rounds, so that a machine that gets busier or
    # quieter during the run weighs on both alike; the totals are compared.
    svc_s = raw_s = svc_cpu = 0.0
    per_step: dict[str, float] = defaultdict(float)
    svc_rows = dict.fromkeys((m.__name__ for m in counted), 0)
    raw_rows = dict(svc_rows)
    sizes = [
        args.cases // args.rounds + (1 if r < args.cases % args.rounds else 0) for r in range(args.rounds)
    ]
    rounds: list[tuple[float, float]] = []  # (lifecycles/s, raw lifecycles/s) of each round
    workers = Workers(args.workers, ctx) if args.workers > 1 else None
    if workers is not None:
        workers.ready()
    for size in sizes:
        at_start = {m: m.objects.count() for m in counted}
        cpu_before = machine_cpu_seconds()
        if workers is None:
            took, steps = services_phase(users, size)
        else:
            took, steps = workers.run("services", size)
        svc_cpu += machine_cpu_seconds() - cpu_before
        svc_s += took
        for k, v in steps.items():
            per_step[k] += v
        after_svc = {m: m.objects.count() for m in counted}
        raw_took = raw_phase(ctx, size) if workers is None else workers.run("raw", size)[0]
        raw_s += raw_took
        rounds.append((size / took, size / raw_took))
        after_raw = {m: m.objects.count() for m in counted}
        for m in counted:
            svc_rows[m.__name__] += after_svc[m] - at_start[m]
            raw_rows[m.__name__] += after_raw[m] - after_svc[m]
    if workers is not None:
        workers.close()
    t = time.perf_counter()
    chain = verify()
    verify_s = time.perf_counter() - t
    # Correctness: the chain verifies, every case ended DELIVERED, and both phases wrote the
    # same rows per lifecycle (audit entries of output producers, e.g. licences, aside).
    assert chain.ok, chain
    assert not Case.objects.exclude(status="DELIVERED").exists(), "a case did not reach DELIVERED"
    for name in ("Case", "CaseMaterial", "WorkItem", "CaseEvent", "Delivery"):
        assert svc_rows[name] == raw_rows[name], (name, svc_rows[name], raw_rows[name])
    producer_audit = svc_rows["AuditEntry"] - raw_rows["AuditEntry"]
    assert producer_audit >= 0 and (producer_audit == 0 or cs.output_producers), (svc_rows, raw_rows)

    # The medians over the rounds: a burst of load from elsewhere on the machine during one
    # round does not decide the figures (the totals are printed too).
    cases_per_s = statistics.median(r[0] for r in rounds)
    raw_per_s = statistics.median(r[1] for r in rounds)
    ratio = statistics.median(r[1] / r[0] for r in rounds)
    version = connection.Database.sqlite_version if connection.vendor == "sqlite" else connection.pg_version
    print(f"db: {connection.vendor} {version}")
    print(f"setup + migrate {setup_s:.2f}s, catalogue and personas {load_s:.2f}s")
    if args.workers > 1:
        print(f"{args.workers} worker processes, each phase's lifecycles shared among them")
    print(
        f"services: {args.cases} lifecycles in {svc_s:.2f}s = {args.cases / svc_s:.1f}/s "
        f"({svc_s / args.cases * 1000:.2f} ms each; median of the rounds {cases_per_s:.1f}/s)"
    )
    for step in STEPS:
        print(
            f"  {step:<8} {per_step[step] / args.cases * 1000:7.3f} ms  "
            f"{queries['per_step'][step]:3d} queries"
        )
    print(f"  queries per lifecycle: {queries['total']}")
    print("  most repeated statements in one lifecycle:")
    for shape, count in queries["top"]:
        print(f"    {count:3d}  {shape}")
    if svc_cpu > 0:
        cores = os.cpu_count() or 1
        per = svc_cpu / args.cases
        print(
            f"  machine CPU per lifecycle (this process, its workers and the database server): "
            f"{per * 1000:.2f} ms; {cores} cores could do at most {cores / per:.0f}/s"
        )
    print(f"raw bulk: {args.cases} lifecycles' rows in {raw_s:.3f}s = {args.cases / raw_s:.1f}/s")
    print(
        "rounds (lifecycles/s, raw/s, ratio): "
        + "; ".join(f"{a:.1f}, {b:.1f}, {b / a:.2f}" for a, b in rounds)
        + f"; totals: {args.cases / svc_s:.1f}, {args.cases / raw_s:.1f}, {svc_s / raw_s:.2f}"
    )
    print(f"audit chain verified: {chain.checked} entries in {verify_s:.2f}s")
    print(f"rows written, services: {svc_rows}")
    print(f"rows written, raw:      {raw_rows}")
    hooks = [f"{f.__module__}.{f.__name__}" for f in (*cs.material_resolvers, *cs.output_producers)]
    print(f"hooks: {', '.join(hooks) or 'none'} (the raw phase writes no rows of output producers)")
    if connection.vendor == "postgresql":
        opts = connection.settings_dict.get("OPTIONS", {})
        print(f"postgres via {connection.settings_dict.get('HOST') or 'default'}, OPTIONS {opts}")
    if args.profile:
        print(profile(users, 100))
    result = {
        "cases_per_s": round(cases_per_s, 1),
        "raw_per_s": round(raw_per_s, 1),
        "ratio": round(ratio, 2),
        "db": args.db,
        "cases": args.cases,
        "rounds": args.rounds,
        "workers": args.workers,
    }
    if args.db == "postgres":
        result["socket"] = bool(args.socket)
        result["prepare"] = not args.no_prepare
    result["producers"] = len(cs.output_producers)
    result["licence_outputs"] = args.licence_outputs
    print(json.dumps(result))


if __name__ == "__main__":
    main()
