from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve OneWindow with gunicorn (production-grade WSGI server)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.getenv("PORT", "8000")))
        parser.add_argument("--host", default=os.getenv("HOST", "127.0.0.1"))
        parser.add_argument("--workers", type=int, default=int(os.getenv("WEB_CONCURRENCY", "2")))

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("collectstatic", interactive=False, verbosity=0)
        bind = f"{opts['host']}:{opts['port']}"
        self.stdout.write(f"OneWindow: http://{bind}/  (Ctrl+C to stop)")
        self.stdout.flush()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "onewindow.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(opts["workers"]),
            "--access-logfile",
            "-",
            "--timeout",
            "60",
            "--graceful-timeout",
            "10",
        ]
        os.execv(sys.executable, argv)
