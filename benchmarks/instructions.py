"""Instructions per lifecycle, counted by valgrind's callgrind: a measure that does not move with
the machine's load (the same tree counted twice agrees within about 0.5 %), for comparing two
trees when the wall-clock benchmarks swing more than the change being measured.

    python benchmarks/instructions.py [--workload bundle|intake] [--cases 20] [--against DIR]

bundle: 企业开办 lifecycles as benchmarks/bundles.py runs them, on the demo city; intake: case
lifecycles as benchmarks/intake.py runs them, on its small catalogue. SQLite only: on PostgreSQL
the server's work would not be counted. The database is prepared first without valgrind (the
demo city takes ~40 s), then a process under callgrind warms up (3 lifecycles: compiled
queries, caches) and counts only the `--cases` lifecycles that follow. `--against DIR`: the same
in another checkout (e.g. a `git worktree` of the commit before a change), side by side in this
run, with the ratio. Kernel time (file and SQLite I/O) is not counted: see the wall-clock
benchmarks for it. Needs valgrind (`apt-get install valgrind`). The last line printed is JSON."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
WARM_UP = 3


def _child_env(tree: Path, home: str) -> dict[str, str]:
    env = dict(os.environ, ONEWINDOW_HOME=home, ONEWINDOW_DEMO="True")
    env["DJANGO_SETTINGS_MODULE"] = "onewindow.settings"
    env.pop("DATABASE_URL", None)
    env["PYTHONPATH"] = os.pathsep.join([str(tree), str(tree / "benchmarks"), env.get("PYTHONPATH", "")])
    return env


def count(tree: Path, workload: str, cases: int) -> int:
    """The instructions of `cases` lifecycles of `workload` run on the code of `tree`."""
    home = tempfile.mkdtemp(prefix="ow-instr-")
    try:
        env = _child_env(tree, home)
        child = [sys.executable, str(HERE), "--child", "--workload", workload, "--cases", str(cases)]
        subprocess.run([*child, "--prepare"], env=env, check=True)
        out = Path(home) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", *child],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
        if totals is None:
            raise SystemExit(f"no totals in {out}")
        return int(totals.group(1))
    finally:
        shutil.rmtree(home, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# In the child process (the tree's code on its path)


def _workload(name: str) -> Any:
    """A function running one lifecycle of the workload, its data loaded (prepared) already."""
    if name == "bundle":
        import bundles
        from django.contrib.auth import get_user_model

        from onewindow.cases import bundles as cb
        from onewindow.cases import services as cs
        from onewindow.scenarios import _upload, scenario_data

        users = {u.username: u for u in get_user_model().objects.all()}
        form = scenario_data("business-startup")["form"]
        b = cb.active_bundle("business-startup")
        every = cb.members_of(b, [m.item_code for m in b.members.all()])
        seqs = [m.seq for m in cb.merged_requirements(every) if m.source_kind == "applicant" and m.required]

        def materials() -> list[Any]:
            return [cs.MaterialIn(seq=seq, satisfied_by="upload", file=_upload()) for seq in seqs]

        return lambda i: bundles.lifecycle(users, form, materials)
    import intake
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.all()}
    return lambda i: intake.lifecycle(users, i)


def _prepare(workload: str) -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if workload == "bundle":
        from onewindow.demo.load import load_demo_city

        load_demo_city()
    else:
        import intake

        intake.load()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _run(workload: str, cases: int) -> None:
    run = _workload(workload)
    for i in range(WARM_UP):
        run(i)
    # Counting starts now: callgrind_control asks the valgrind running this process; the
    # request is taken between basic blocks, so keep running Python until it is answered.
    control = subprocess.Popen(["callgrind_control", "-i", "on", str(os.getpid())], stdout=subprocess.DEVNULL)
    while control.poll() is None:
        sum(range(1000))
    for i in range(cases):
        run(WARM_UP + i)
    os._exit(0)  # the counts stop here: no teardown counted


def child(args: argparse.Namespace) -> None:
    import django

    django.setup()
    if args.prepare:
        _prepare(args.workload)
    else:
        _run(args.workload, args.cases)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", choices=["bundle", "intake"], default="bundle")
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--against", type=Path, help="another checkout, counted side by side")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    trees = {"this": ROOT} | ({"against": args.against.resolve()} if args.against else {})
    result: dict[str, Any] = {"workload": args.workload, "cases": args.cases}
    for label, tree in trees.items():
        t = time.perf_counter()
        per = count(tree, args.workload, args.cases) / args.cases
        print(f"{label} ({tree}): {per:,.0f} instructions per lifecycle ({time.perf_counter() - t:.0f} s)")
        result[f"{label}_per_lifecycle"] = round(per)
    if args.against:
        result["ratio"] = round(result["this_per_lifecycle"] / result["against_per_lifecycle"], 4)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
