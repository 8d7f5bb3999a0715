"""`promptyard ui`: checks before the start, then Streamlit behind the frame guard.

Checked first, each a one-line refusal: the sign-in settings (`[auth]` in the workspace's
`.streamlit/secrets.toml`) and their provider, and an address beyond loopback without
sign-in (anyone who reaches the port could do anything) unless `--allow-anonymous`.
"""

from __future__ import annotations

import ctypes
import ipaddress
import signal
import socket
import subprocess
import sys
from pathlib import Path

from promptyard.cli.ui_proxy import FrameGuardProxy
from promptyard.errors import PromptyardError
from promptyard.team import SigninConfig, check_provider, signin_config
from promptyard.workspace import Workspace

_PR_SET_PDEATHSIG = 1  # linux/prctl.h: a signal for the child when its parent dies


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_start(ws: Workspace, host: str, allow_anonymous: bool) -> SigninConfig | None:
    """The sign-in settings in force (None: sign-in off), or PromptyardError saying why the
    workbench must not start."""
    config = signin_config(ws)
    if config is not None:
        check_provider(config)
        return config
    if not is_loopback(host) and not allow_anonymous:
        raise PromptyardError(
            f"refusing to listen on {host} without sign-in: anyone who reaches this port could"
            " read and change every prompt, dataset and rating. Configure sign-in ([auth] in"
            f" {ws.root / '.streamlit' / 'secrets.toml'}, see docs/team.md) or pass"
            " --allow-anonymous if the network is trusted"
        )
    return None


def _free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    # Streamlit stops when `promptyard ui` dies, even by SIGKILL, leaving no orphan.
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def serve(
    streamlit_command: list[str], env: dict[str, str], cwd: Path, host: str, port: int
) -> int:
    """Run Streamlit (`streamlit_command`, without port or address) on a loopback port and
    the frame guard on `host:port` until either ends or a signal comes; Streamlit's exit
    code."""
    upstream_port = _free_loopback_port()
    proxy = FrameGuardProxy(host, port, upstream_port).start()
    child = subprocess.Popen(
        [
            *streamlit_command,
            "--server.port",
            str(upstream_port),
            "--server.address",
            "127.0.0.1",
        ],
        env=env,
        cwd=cwd,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
    )

    def stop(signum: int, frame: object) -> None:
        del frame
        child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    try:
        return child.wait()
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        proxy.stop()
