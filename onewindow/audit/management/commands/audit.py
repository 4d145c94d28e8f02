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
        sub.add_parser("checkpoint", help="record every lane's head, if any moved")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "checkpoint":
            entry = checkpoint()
            self.stdout.write(
                "no lane moved since the last checkpoint"
                if entry is None
                else f"checkpoint recorded: {entry}"
            )
            return
        result = verify()
        if not result.ok:
            raise CommandError(
                f"audit chain broken in lane {result.lane} at entry #{result.broken_seq}: {result.reason} "
                f"({result.checked} entries verified before it)"
            )
        self.stdout.write(f"audit chain ok: {result.checked} entries")
