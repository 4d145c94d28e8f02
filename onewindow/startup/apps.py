"""The last installed app: what a process does once every app is ready."""

import gc

from django.apps import AppConfig
from django.conf import settings


class StartupConfig(AppConfig):
    name = "onewindow.startup"
    label = "startup"
    verbose_name = "startup"

    def ready(self) -> None:
        # What every process holds for its lifetime (modules, classes, models, the apps' ready()
        # state: about 276,000 objects) is moved out of the cyclic garbage collector's view
        # (Python's gc.freeze()). Without it, each full collection walks all of them again:
        # 45-80 ms on the development machine, a pause in whatever request or transition
        # triggers it. Cycles made later are collected as before; no cycle is left unreachable
        # by startup today (an unfrozen process's gc.collect() right here finds none), so no
        # collection is paid first.
        if settings.GC_FREEZE_AT_STARTUP:
            gc.freeze()
