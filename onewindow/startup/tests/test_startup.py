import gc

import pytest
from django.apps import apps
from django.conf import settings
from django.test import override_settings

frozen_at_startup = pytest.mark.skipif(
    not settings.GC_FREEZE_AT_STARTUP, reason="GC_FREEZE_AT_STARTUP is off in this environment"
)


def test_the_startup_app_is_the_last_one_made_ready() -> None:
    assert settings.INSTALLED_APPS[-1] == "onewindow.startup"
    assert list(apps.get_app_configs())[-1].label == "startup"


def test_the_startup_app_adds_no_templates_or_static_files_of_another_app() -> None:
    path = apps.get_app_config("startup").path
    assert path.endswith("onewindow/startup")
    assert not any(c.path == path for c in apps.get_app_configs() if c.label != "startup")


@frozen_at_startup
def test_what_the_process_holds_after_startup_is_frozen_out_of_the_collector() -> None:
    # Set up by pytest-django: the models, services and every app's ready() state are frozen.
    from onewindow.cases import services

    assert gc.get_freeze_count() > 10_000
    assert not any(o is services.decide_work_item for o in gc.get_objects())


def test_freezing_can_be_turned_off_and_a_frozen_process_still_collects_new_cycles() -> None:
    config = apps.get_app_config("startup")
    was_frozen = gc.get_freeze_count() > 0
    try:
        gc.unfreeze()
        gc.collect()  # what the tests so far left unreachable is not frozen with the rest below
        with override_settings(GC_FREEZE_AT_STARTUP=False):
            config.ready()
            assert gc.get_freeze_count() == 0
        with override_settings(GC_FREEZE_AT_STARTUP=True):
            config.ready()
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
        if was_frozen:
            gc.freeze()

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle made after startup
    del a, b
    assert gc.collect() >= 2
