"""The production gunicorn settings' hooks (gunicorn.conf.py)."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_master_hides_its_objects_from_the_collector_before_forking_a_worker():
    """What the master loaded lives as long as each worker: its full collections must not walk it."""
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["preload_app"] is True  # the app is loaded in the master, then forked
    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        settings["pre_fork"](server=None, worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process goes on collecting as before


def test_workers_are_recycled_at_spread_out_times():
    """Workers started together must not all restart (and go cold) together: the jitter is wide."""
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["max_requests"] > 0  # recycled, so slow growth cannot pile up
    assert settings["max_requests_jitter"] >= settings["max_requests"] // 5
