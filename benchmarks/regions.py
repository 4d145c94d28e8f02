"""Region tree at scale: the same reads with the demo city's ~170 regions and with 100,000+
villages added, measured side by side in one run.

    python benchmarks/regions.py [--db sqlite|postgres] [--villages-per-township 981]

Prints per-operation timings and, as its last line, JSON with the ratios big/small (≈ 1 means
the reads do not grow with the tree: they are index range scans and one page at a time)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(db: str) -> None:
    home = tempfile.mkdtemp(prefix="ow-bench-")
    os.environ["ONEWINDOW_HOME"] = home
    os.environ["ONEWINDOW_DEMO"] = "True"
    if db == "postgres":
        name = f"ow_bench_{os.getpid()}"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onewindow.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timeit(fn, repeat: int = 200) -> float:  # noqa: ANN001
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return median(samples)


def measure() -> dict[str, float]:
    from django.test import Client

    from onewindow.core.permissions import has_role, region_q
    from onewindow.core.roles import Role
    from onewindow.org.models import Region

    client = Client(SERVER_NAME="localhost")
    town = Region.objects.get(name="廿里镇", code__startswith="330803")
    village = Region.objects.filter(parent=town).order_by("-code").first()
    user = _clerk(town)
    ops = {
        "children_page_api": lambda: client.get("/api/v1/regions", {"parent": town.code, "page_size": 50}),
        "search_in_county_api": lambda: client.get(
            "/api/v1/regions", {"parent": "330803000000", "q": "黄泥", "page_size": 20}
        ),
        "ancestors": lambda: village.ancestors(),
        "has_role_in_scope": lambda: has_role(user, Role.INTAKE_CLERK, region=village),
        "scope_filter_first_page": lambda: list(
            Region.objects.filter(region_q(user, Role.INTAKE_CLERK, "code")).order_by("code")[:50]
        ),
    }
    for name in ("children_page_api", "search_in_county_api"):
        r = ops[name]()
        assert r.status_code == 200 and r.json()["count"] > 0, (name, r.status_code, r.content[:200])
    return {name: timeit(fn) for name, fn in ops.items()}


def _clerk(town):  # noqa: ANN001, ANN202
    from django.contrib.auth import get_user_model

    from onewindow.core.roles import Role
    from onewindow.org.services import grant_role

    user, _ = get_user_model().objects.get_or_create(username="bench-clerk")
    grant_role(user, Role.INTAKE_CLERK, town, actor="bench")
    return user


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--villages-per-township", type=int, default=981)
    args = parser.parse_args()
    setup(args.db)
    import yaml

    from onewindow.demo.generate import synthetic_villages
    from onewindow.demo.load import DATA
    from onewindow.org.models import Region
    from onewindow.org.services import upsert_regions

    rows = yaml.safe_load((DATA / "regions.yaml").read_text(encoding="utf-8"))
    upsert_regions(rows, actor="bench")
    small = measure()
    n_small = Region.objects.count()
    townships = [r for r in rows if str(r["code"])[9:] == "000" and str(r["code"])[6:9] != "000"]
    t = time.perf_counter()
    extra = synthetic_villages(townships, args.villages_per_township, seed=1, existing=rows)
    upsert_regions(extra, actor="bench")
    load_s = time.perf_counter() - t
    n_big = Region.objects.count()
    big = measure()
    print(f"regions: small tree {n_small}, big tree {n_big} (loaded {len(extra)} villages in {load_s:.1f}s)")
    for op in small:
        print(
            f"  {op:<26} small {small[op] * 1000:7.3f} ms   big {big[op] * 1000:7.3f} ms   "
            f"ratio {big[op] / small[op]:.2f}"
        )
    result = {
        "db": args.db,
        "regions_small": n_small,
        "regions_big": n_big,
        "ratios": {op: round(big[op] / small[op], 2) for op in small},
        "max_ratio": round(max(big[op] / small[op] for op in small), 2),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
