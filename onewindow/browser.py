"""Shared set-up for browser tests: Playwright driving Debian's /usr/bin/chromium, headless."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = os.getenv("ONEWINDOW_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def available() -> bool:
    return os.path.exists(CHROMIUM)


@contextmanager
def browser_page() -> Iterator[Any]:
    """A fresh headless Chromium page (its own empty profile)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # inside one unless told that this (test-only) use is safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    profile = tempfile.mkdtemp(prefix="ow-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=ARGS, locale="zh-CN"
            )
            try:
                page = context.new_page()
                page.set_default_timeout(15000)
                yield page
            finally:
                context.close()
                # Queries made while Playwright's loop runs may have opened connections of their
                # own context: close them here, or PostgreSQL cannot drop the test database.
                from django.db import connections

                connections.close_all()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
