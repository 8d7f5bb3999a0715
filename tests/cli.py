"""Run the real `promptyard` command in a child process, as a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    *args: str,
    home: Path | None = None,
    check: bool = False,
    stdin: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`promptyard ARGS...` with PROMPTYARD_HOME=home (else the test's own workspace).

    With `check`, a non-zero exit fails the test with the command's stderr.
    """
    env = os.environ.copy()
    if home is not None:
        env["PROMPTYARD_HOME"] = str(home)
    result = subprocess.run(
        [sys.executable, "-m", "promptyard", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        input=stdin,
        cwd=home,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"promptyard {' '.join(args)}: exit {result.returncode}: {result.stderr}"
        )
    return result
