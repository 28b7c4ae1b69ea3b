"""``legation`` run as an operator runs it: a fresh process, a data folder of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

Run = Callable[..., str]


def legation_in(data_dir: Path, *, drop: tuple[str, ...] = ()) -> Run:
    """A ``run(*args, ok=True, stdin="", **env)`` that returns stdout and stderr together.

    ``ok`` says whether the command must succeed (exit 0) or fail; the database is SQLite in
    ``data_dir``; variables named in ``drop`` are removed from the environment.
    """
    env = {**os.environ, "LEGATION_DATA_DIR": str(data_dir), "NO_COLOR": "1", "COLUMNS": "200"}
    for name in ("LEGATION_DATABASE_URL", *drop):
        env.pop(name, None)

    def run(*args: str, ok: bool = True, stdin: str = "", **extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "legation", *args],
            env={**env, **extra},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert (done.returncode == 0) == ok, done.stderr + done.stdout
        return done.stdout + done.stderr

    return run
