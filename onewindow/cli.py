"""The `onewindow` command (DESIGN §14).

onewindow demo [--no-serve] [--port 8000]   migrate, load the demo city, print personas, serve
onewindow serve [--port 8000]               serve with gunicorn
onewindow token USERNAME                    print a new API token
onewindow catalog import|export FILE        .xlsx or .yaml, all or nothing
onewindow audit verify                      check the audit hash chains (every lane)
onewindow audit checkpoint                  record every lane's head
onewindow manage ...                        any Django management command
"""

from __future__ import annotations

import os
import sys

COMMANDS = {"demo", "serve", "token", "catalog", "audit", "worker", "calendar"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return
    if argv[0] == "--version":
        from onewindow import __version__

        print(__version__)
        return
    if argv[0] == "demo":
        os.environ.setdefault("ONEWINDOW_DEMO", "True")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onewindow.settings")
    from django.core.management import execute_from_command_line

    if argv[0] == "manage":
        execute_from_command_line(["onewindow manage", *argv[1:]])
    elif argv[0] in COMMANDS:
        execute_from_command_line(["onewindow", *argv])
    else:
        print(f"onewindow: unknown command {argv[0]!r}\n\n{__doc__.strip()}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
