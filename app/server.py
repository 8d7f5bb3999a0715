"""The server `promptyard ui` starts: Streamlit's own ASGI app (`st.App`) around main.py.

Two things a bare `streamlit run main.py` cannot do:

- Opening a page by its URL (`/playground`) made Streamlit's frontend probe
  `/playground/_stcore/health` and `/playground/_stcore/host-config` first (404s) before
  trying the server's root: it cannot tell a page path from a base URL path. The HTML of
  every page now says where the server's base is (`window.__streamlit.BACKEND_BASE_URL`,
  the frontend's own setting for this), so it connects there at once.
- The model layer is warmed when the server starts (lifespan), not on the first page view.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.middleware import Middleware

_MAIN = Path(__file__).resolve().with_name("main.py")


def _base_script(base_path: str) -> bytes:
    # The base URL is computed in the browser from its own origin, so it holds behind any
    # host name or port; only the configured server.baseUrlPath is added.
    path = "/" + base_path.strip("/") + "/" if base_path.strip("/") else "/"
    return (
        "<script>window.__streamlit=Object.assign(window.__streamlit||{},"
        f'{{BACKEND_BASE_URL:window.location.origin+"{path}"}});</script>'
    ).encode()


class BackendBaseUrl:
    """ASGI middleware: writes the server's base URL into every HTML page it serves."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        # An HTML answer must come back unzipped to be edited: ask for it plainly.
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
        scope = {**scope, "headers": headers}
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def wrapped(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                kind = dict(message.get("headers", [])).get(b"content-type", b"")
                if not kind.startswith(b"text/html"):
                    await send(message)
                    return
                start.update(message)
                return
            if not start:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            from streamlit import config

            script = _base_script(str(config.get_option("server.baseUrlPath") or ""))
            if b"<head>" in body:
                body = body.replace(b"<head>", b"<head>" + script, 1)
            head = [
                (k, str(len(body)).encode() if k.lower() == b"content-length" else v)
                for k, v in start.get("headers", [])
            ]
            await send({**start, "headers": head})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, wrapped)


@asynccontextmanager
async def _lifespan(_app: Any) -> AsyncIterator[None]:
    from promptyard._env import configure_offline_defaults
    from promptyard.models import start_warm_up
    from promptyard.workspace import current_workspace

    configure_offline_defaults()
    try:
        ws = current_workspace()
    except Exception:  # noqa: BLE001 - no workspace yet: warm what needs none
        ws = None
    start_warm_up(ws)
    yield


app = st.App(str(_MAIN), middleware=[Middleware(BackendBaseUrl)], lifespan=_lifespan)
