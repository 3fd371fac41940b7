"""config.py read afresh from a given environment, as a new process would read it.

Settings are read from the environment when config.py runs (on import), so a test that changes
the environment runs the module's code again in this process (runpy) instead of starting a new
interpreter: about 1 s a start-up saved, and 2-3 s more when the app is imported and created too.
"""

from __future__ import annotations

import os
import runpy
from collections.abc import Iterable, Mapping
from typing import Any
from unittest import mock

from config import BASE_DIR

CONFIG_FILE = BASE_DIR / "config.py"


def config_read_with(environment: Mapping[str, str], *, without: Iterable[str] = ()) -> dict[str, Any]:
    """config.py's names after running it with ``environment`` added to this process's (and the
    names in ``without`` removed); the environment is put back afterwards."""
    values = {name: value for name, value in os.environ.items() if name not in set(without)}
    with mock.patch.dict(os.environ, {**values, **environment}, clear=True):
        return runpy.run_path(str(CONFIG_FILE), run_name="config_read_afresh")
