"""Run the `promptyard` command as a user does: in this process, or in a real child process.

`run_cli` calls the console script's entry point (`promptyard.cli.main`) in-process with
click's CliRunner isolation: its own argv, stdin, stdout, stderr, environment and working
directory, and the exit code the process would have. It saves a Python start-up and the
imports (seconds) per call. `run_cli_process` starts `python -m promptyard`; a few smoke
tests keep using it, so the real console command stays covered.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

# Set by the entry point; restored after each in-process call, so none leaks into the next.
_ENTRY_ENV = ("LITELLM_LOCAL_MODEL_COST_MAP", "TIKTOKEN_CACHE_DIR")


def _check(args: tuple[str, ...], result: subprocess.CompletedProcess[str], check: bool) -> None:
    if check and result.returncode != 0:
        raise AssertionError(
            f"promptyard {' '.join(args)}: exit {result.returncode}: {result.stderr}"
        )


def run_cli(
    *args: str,
    home: Path | None = None,
    check: bool = False,
    stdin: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`promptyard ARGS...` with PROMPTYARD_HOME=home (else the test's own workspace).

    Runs in this process, from `home` as the working directory (as run_cli_process does).
    An exception the command does not handle fails the test with its traceback (a real
    process would print it and exit 1). `timeout` is left to pytest-timeout here.
    With `check`, a non-zero exit fails the test with the command's stderr.
    """
    from promptyard.cli import main

    env: dict[str, str | None] = {name: os.environ.get(name) for name in _ENTRY_ENV}
    if home is not None:
        env["PROMPTYARD_HOME"] = str(home)
    old_cwd, old_argv = os.getcwd(), sys.argv
    code: int = 0
    runner = CliRunner()
    try:
        if home is not None:
            os.chdir(home)
        sys.argv = ["promptyard", *args]
        with runner.isolation(input=stdin, env=env) as (out, err, _):
            try:
                main()
            except SystemExit as exc:
                code = _exit_code(exc.code)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            stdout, stderr = out.getvalue(), err.getvalue()
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
    result = subprocess.CompletedProcess(
        ["promptyard", *args],
        code,
        stdout.decode(runner.charset, "replace"),
        stderr.decode(runner.charset, "replace"),
    )
    _check(args, result, check)
    return result


def _exit_code(code: object) -> int:
    """The status a process ends with for `sys.exit(code)`."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")  # sys.exit("message") prints it and exits 1
    return 1


def run_cli_process(
    *args: str,
    home: Path | None = None,
    check: bool = False,
    stdin: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`promptyard ARGS...` in a child process (`python -m promptyard`), as a user runs it."""
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
    _check(args, result, check)
    return result
