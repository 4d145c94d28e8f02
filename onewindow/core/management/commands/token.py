from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onewindow.core.errors import DomainError
from onewindow.core.services import create_token


class Command(BaseCommand):
    help = "Print a new API token for USERNAME (only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--label", default="cli")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            raw = create_token(opts["username"], actor="cli", label=opts["label"])
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(raw)
