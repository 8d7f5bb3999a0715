"""The built wheel carries the product's Streamlit config, and `promptyard ui` applies it.

Slow (about 10 s: a wheel build, a venv, a Streamlit start) but part of the default run:
it is the only test of what a non-editable install serves. The wheel is built offline
(hatchling from this venv, `--no-build-isolation`), installed with `--no-deps` into a fresh
venv whose dependencies come from this venv's site-packages through a `.pth` path line.
The server is started from a folder whose own `.streamlit/config.toml` is hostile, and
the served settings are read back over HTTP and the app's own WebSocket protocol.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

from promptyard.cli.workspace_cmds import streamlit_flags
from tests.e2e.conftest import _wait_healthy, free_port

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_CONFIG = ROOT / ".streamlit" / "config.toml"
HOSTILE = """\
[client]
showErrorDetails = "full"
toolbarMode = "developer"

[server]
enableXsrfProtection = false
enableAgentApi = true

[theme]
primaryColor = "#ff0000"
"""

pytestmark = pytest.mark.slow


def _clean_env(**extra: str) -> dict[str, str]:
    # No PYTHONPATH: the installed copy must be the one imported, not a source tree.
    return {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, **extra}


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=120,
        env=_clean_env(),
    )  # fmt: skip
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _build_and_install(tmp_path: Path) -> Path:
    """A fresh venv with the wheel built from this tree; returns its bin/ folder."""
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", dist, ROOT)  # fmt: skip
    (wheel,) = dist.glob("promptyard-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        shipped = zf.read("promptyard/_app/.streamlit/config.toml")
    assert shipped == PRODUCT_CONFIG.read_bytes()
    # every file `promptyard init` copies into a new workspace ships too
    names = set(zipfile.ZipFile(wheel).namelist())
    for example in ("ratings.yaml", "gate.yaml", "evaluators/keeps_numbers.py"):
        assert f"promptyard/_examples/{example}" in names, example

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
         "--no-index", wheel)  # fmt: skip
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                   .strip())  # fmt: skip
    # A plain path line: this venv's packages become importable, its .pth files (the
    # editable install of the source tree among them) are not run.
    (purelib / "_deps_from_test_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = _run(python, "-c", "import promptyard; print(promptyard.__file__)")
    assert where.startswith(str(purelib)), where  # the wheel's copy, not the source tree
    return venv / "bin"


def _new_session(port: int) -> object:
    """The NewSession message the server sends a browser tab that connects."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"]) as ws:  # type: ignore[list-item]
        back = BackMsg()
        back.rerun_script.query_string = ""
        ws.send(back.SerializeToString())
        for _ in range(200):
            msg = ForwardMsg()
            msg.ParseFromString(ws.recv(timeout=30))
            if msg.WhichOneof("type") == "new_session":
                return msg.new_session
    raise AssertionError("the server sent no new_session message")


def test_flags_carry_every_option_of_the_product_config() -> None:
    flags = streamlit_flags(PRODUCT_CONFIG)
    pairs = dict(zip(flags[::2], flags[1::2], strict=True))
    config = tomllib.loads(PRODUCT_CONFIG.read_text())
    expected = {
        f"--{section}.{key}": str(v).lower() if isinstance(v, bool) else str(v)
        for section, table in config.items()
        for key, v in table.items()
    }
    assert pairs == expected
    assert pairs["--client.showErrorDetails"] == "type"


def test_installed_wheel_serves_the_product_config_whatever_the_folder(tmp_path: Path) -> None:
    bin_dir = _build_and_install(tmp_path)
    hostile = tmp_path / "hostile"
    (hostile / ".streamlit").mkdir(parents=True)
    (hostile / ".streamlit" / "config.toml").write_text(HOSTILE)
    _run(bin_dir / "promptyard", "init", tmp_path / "ws", "--no-examples", cwd=hostile)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "ui.log"
    env = _clean_env(STREAMLIT_CLIENT_TOOLBAR_MODE="developer")  # flags beat env too
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [bin_dir / "promptyard", "ui", "--port", str(port), "--workspace", tmp_path / "ws"],
            cwd=hostile, stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:
        _wait_healthy(url, proc, log)
        # XSRF protection on: the health check hands out the XSRF cookie.
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
            assert "_streamlit_xsrf=" in (response.headers.get("Set-Cookie") or "")
        # An option only the hostile file sets is not read either: the agent API stays off.
        with urllib.request.urlopen(f"{url}/_stcore/agent/openapi.json", timeout=5) as response:
            assert "the API is switched off" in response.read().decode()
        from streamlit.proto.NewSession_pb2 import Config

        session = _new_session(port)
        assert Config.ToolbarMode.Name(session.config.toolbar_mode) == "MINIMAL"  # type: ignore[attr-defined]
        assert session.custom_theme.primary_color == "#3f5bd8"  # type: ignore[attr-defined]
        # showErrorDetails is not on the wire; it travels in the same flags as the two above.
        # `promptyard ui` runs Streamlit as its child, behind the frame guard (docs/team.md).
        import psutil

        streamlit_pid = psutil.Process(proc.pid).children()[0].pid
        cmdline = Path(f"/proc/{streamlit_pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[cmdline.index(b"--client.showErrorDetails") + 1] == b"type"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
