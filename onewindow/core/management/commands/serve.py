from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

# How long a stopping child may take before it is killed (gunicorn's graceful timeout is 10 s).
STOP_TIMEOUT = 15.0
# A worker that dies is restarted, but not more often than this.
RESTART_DELAY = 5.0


class Command(BaseCommand):
    help = "Serve OneWindow: gunicorn (production-grade WSGI server) and one background worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.getenv("PORT", "8000")))
        parser.add_argument("--host", default=os.getenv("HOST", "127.0.0.1"))
        parser.add_argument("--workers", type=int, default=int(os.getenv("WEB_CONCURRENCY", "2")))
        parser.add_argument("--no-worker", action="store_true", help="serve the web only, no task worker")

    def handle(self, *args: Any, **opts: Any) -> None:
        call_command("collectstatic", interactive=False, verbosity=0)
        bind = f"{opts['host']}:{opts['port']}"
        self.stdout.write(f"OneWindow: http://{bind}/  (Ctrl+C to stop)")
        self.stdout.flush()
        web_argv = [
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
        worker_argv = [sys.executable, "-m", "onewindow.cli", "worker", "--parent-pid", str(os.getpid())]
        code = Supervisor(web_argv, None if opts["no_worker"] else worker_argv).run()
        if code:
            sys.exit(code)


class Supervisor:
    """Runs gunicorn and one worker as children and stops both together (DESIGN §12: "the web
    server and one worker"). The children get their own session, so a Ctrl+C in the terminal
    reaches only this process, which asks each child once to stop (SIGTERM: gunicorn stops
    gracefully, the worker finishes its current task). The serve ends when gunicorn ends; a
    worker that dies on its own is restarted. The worker also exits when this process is gone."""

    def __init__(self, web_argv: list[str], worker_argv: list[str] | None) -> None:
        self.web_argv = web_argv
        self.worker_argv = worker_argv
        self.web: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.stopping = False
        self._asked: set[int] = set()  # children already sent SIGTERM (a second one would force)

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv, start_new_session=True)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:  # a second Ctrl+C: do not wait any longer
            for p in (self.web, self.worker):
                if p is not None and p.poll() is None:
                    p.kill()
            return
        self.stopping = True
        for p in (self.web, self.worker):
            self._ask(p)

    def _ask(self, p: subprocess.Popen[bytes] | None) -> None:
        if p is not None and p.poll() is None and p.pid not in self._asked:
            self._asked.add(p.pid)
            p.send_signal(signal.SIGTERM)

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.web = self._spawn(self.web_argv)
            if self.worker_argv:
                self.worker = self._spawn(self.worker_argv)
            last_start = time.monotonic()
            while self.web.poll() is None:
                if (
                    not self.stopping
                    and self.worker is not None
                    and self.worker.poll() is not None
                    and time.monotonic() - last_start > RESTART_DELAY
                ):
                    print(f"onewindow: worker exited ({self.worker.returncode}); restarting", file=sys.stderr)
                    self.worker = self._spawn(self.worker_argv or [])
                    last_start = time.monotonic()
                time.sleep(0.5)
            return self.web.returncode or 0
        finally:
            self._stop(self.worker)
            self._stop(self.web)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, p: subprocess.Popen[bytes] | None) -> None:
        if p is None or p.poll() is not None:
            return
        self._ask(p)
        try:
            p.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
