from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onewindow.core.errors import DomainError


class Command(BaseCommand):
    help = "Import or export the whole catalogue as Excel (.xlsx) or YAML (.yaml/.yml)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("import", help="import FILE (all or nothing)").add_argument("file")
        sub.add_parser("export", help="export to FILE").add_argument("file")

    def handle(self, *args: Any, **opts: Any) -> None:
        from onewindow.catalog import importexport as ie

        path = Path(opts["file"])
        kind = path.suffix.lower()
        if kind not in (".xlsx", ".yaml", ".yml"):
            raise CommandError(f"{path}: use a .xlsx, .yaml or .yml file")
        if opts["action"] == "export":
            (ie.export_xlsx if kind == ".xlsx" else ie.export_yaml)(path)
            self.stdout.write(f"exported the catalogue to {path}")
            return
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        try:
            data = ie.read_xlsx(path) if kind == ".xlsx" else ie.read_yaml(path)
            result = ie.import_catalog(data, actor="cli", source=path.name)
        except DomainError as exc:
            raise CommandError(f"import refused, nothing changed:\n{exc}") from exc
        self.stdout.write(
            f"imported {path}: {result.items} items, {result.templates} process templates, "
            f"{result.bundles} bundles ({result.created} created, {result.updated} updated)"
        )
