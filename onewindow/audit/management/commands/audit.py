from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onewindow.audit.services import checkpoint, verify


class Command(BaseCommand):
    help = (
        "Audit log tools. `audit verify` checks the hash chains (one per lane) and names the first "
        "broken link; `audit checkpoint` records every lane's head (the worker's sweep does too)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="verify the hash chains")
        sub.add_parser("checkpoint", help="record the heads of the lanes that moved, in each of them")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "checkpoint":
            entries = checkpoint()
            self.stdout.write(
                f"checkpoint recorded in lanes {', '.join(str(e.lane) for e in entries)}"
                if entries
                else "no lane moved since the last checkpoint (or there is only one lane)"
            )
            return
        result = verify()
        if not result.ok:
            raise CommandError(
                f"audit chain broken in lane {result.lane} at entry #{result.broken_seq}: {result.reason} "
                f"({result.checked} entries verified before it)"
            )
        self.stdout.write(f"audit chain ok: {result.checked} entries")
