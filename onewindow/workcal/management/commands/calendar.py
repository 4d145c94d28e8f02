from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onewindow.org.models import Region
from onewindow.workcal import services
from onewindow.workcal.calendar import add_workdays


class Command(BaseCommand):
    help = "Working-day calendar: status, add-workdays DATE N [--region CODE], seed."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="known years and warnings")
        aw = sub.add_parser("add-workdays", help="the N-th working day strictly after DATE")
        aw.add_argument("date", help="YYYY-MM-DD")
        aw.add_argument("n", type=int)
        aw.add_argument("--region", default=None, help="region code (6 or 12 digits)")
        sub.add_parser("seed", help="load national holidays from chinese-calendar (idempotent)")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action == "status":
            st = services.status()
            years = st.known_years
            span = f"{years[0]}–{years[-1]}" if years else "none"
            self.stdout.write(f"known years: {span} ({len(years)})")
            self.stdout.write(
                f"next year ({st.today.year + 1}): {'missing' if st.next_year_missing else 'known'}"
            )
            if st.warn:
                self.stdout.write(f"WARNING: {st.message}")
            return
        if action == "seed":
            n = services.seed_from_chinese_calendar(actor="cli")
            self.stdout.write(f"seeded {n} calendar rows")
            return
        try:
            d = date.fromisoformat(opts["date"])
        except ValueError as exc:
            raise CommandError(f"DATE must be YYYY-MM-DD, got {opts['date']!r}") from exc
        if opts["n"] < 0:
            raise CommandError("N must be 0 or more")
        region = opts["region"]
        if region:
            code = region.ljust(12, "0") if region.isdigit() and len(region) <= 12 else region
            if not Region.objects.filter(code=code).exists():
                raise CommandError(f"unknown region {region}")
            region = code
        due = add_workdays(d, opts["n"], region=region)
        self.stdout.write(due.date.isoformat() + (" provisional" if due.provisional else ""))
