"""A real `celery beat` process for the tests that need the schedule to run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def start_beat(env: dict[str, str], log_path: Path, *,
               schedule: Path | None = None) -> subprocess.Popen:
    """celery beat in its own session (stop it with devtools.processes.stop_group),
    logging to `log_path` (appended); `schedule`: its schedule file."""
    command = [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"]
    if schedule is not None:
        command += ["--schedule", str(schedule)]
    with log_path.open("ab") as log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
