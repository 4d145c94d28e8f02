from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from onewindow.catalog.models import Bundle, ItemState, ServiceItem


class Command(BaseCommand):
    help = "Migrate, load the demo city (idempotent), print the personas, then serve."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="load and print, but do not serve")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **opts: Any) -> None:
        from django.conf import settings

        from onewindow.demo.load import load_demo_city

        if not settings.DEMO:
            # The demo creates well-known accounts (admin/admin-demo …): never in a real deployment.
            raise CommandError(
                "onewindow demo needs demo mode (ONEWINDOW_DEMO=True); refusing to create "
                "the demo personas in this database"
            )

        call_command("migrate", interactive=False, verbosity=0)
        started = time.monotonic()
        report = load_demo_city()
        took = time.monotonic() - started
        items = ServiceItem.objects.filter(state=ItemState.ACTIVE).count()
        bundles = Bundle.objects.filter(state=ItemState.ACTIVE).count()
        loaded = "loaded" if report.catalog else "already loaded, unchanged"
        self.stdout.write(
            f"Demo city 衢州市: {items} active items, {bundles} bundles ({loaded}, {took:.1f}s)."
        )
        self.stdout.write("")
        self.stdout.write("Personas (demo only; password = username + '-demo'):")
        for p in report.personas:
            if p.username.startswith("approver-"):
                continue
            self.stdout.write(f"  {p.username:<16} {p.password:<22} {p.label} / {p.label_en}")
        approvers = [p for p in report.personas if p.username.startswith("approver-")]
        if approvers:
            self.stdout.write(
                f"  approver-<department code> (e.g. {approvers[0].username} / {approvers[0].password}): "
                f"{len(approvers)} department approvers"
            )
        self.stdout.write("")
        if not opts["no_serve"]:
            call_command("serve", port=opts["port"], host=opts["host"])
