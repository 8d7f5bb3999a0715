"""Sign-in settings: the `[auth]` section Streamlit's `st.login` reads (OpenID Connect),
from the workspace's `.streamlit/secrets.toml`. No `[auth]` section: sign-in is off.

Checked before the server starts, so a wrong setting is one line at start, not a stack
trace on the first click of "Sign in".
"""

from __future__ import annotations

import json
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from promptyard.errors import PromptyardError
from promptyard.workspace import Workspace

SECRETS_FILE = ".streamlit/secrets.toml"
REQUIRED = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
MIN_COOKIE_SECRET = 16  # Streamlit signs the session cookie with it; short ones are guessable
METADATA_FIELDS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class SigninConfigError(PromptyardError):
    """The `[auth]` section cannot work; the message names the file and the key."""


@dataclass(frozen=True)
class SigninConfig:
    """What a sign-in needs, without the secrets (they stay in the file, for Streamlit)."""

    secrets_file: Path
    redirect_uri: str
    server_metadata_url: str
    client_id: str


def secrets_file(ws: Workspace) -> Path | None:
    """The secrets file the workbench reads: the workspace's, else the user's (the same
    order as the workspace's other settings), None when neither exists."""
    for candidate in (ws.root / SECRETS_FILE, Path.home() / SECRETS_FILE):
        if candidate.is_file():
            return candidate
    return None


def signin_config(ws: Workspace) -> SigninConfig | None:
    """The sign-in settings, None when sign-in is off; SigninConfigError (one line naming
    the file and key) when the `[auth]` section is there but cannot work."""
    path = secrets_file(ws)
    if path is None:
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SigninConfigError(f"{path}: not valid TOML ({exc})") from None
    auth = data.get("auth")
    if auth is None:
        return None
    if not isinstance(auth, dict):
        raise SigninConfigError(f"{path}: [auth] must be a table of settings")
    missing = [key for key in REQUIRED if not str(auth.get(key) or "").strip()]
    if missing:
        raise SigninConfigError(
            f"{path}: [auth] lacks {', '.join(missing)} (needed: {', '.join(REQUIRED)})"
        )
    if len(str(auth["cookie_secret"])) < MIN_COOKIE_SECRET:
        raise SigninConfigError(
            f"{path}: [auth] cookie_secret is shorter than {MIN_COOKIE_SECRET} characters;"
            " use a long random string (python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    redirect = urlparse(str(auth["redirect_uri"]))
    if redirect.scheme not in ("http", "https") or not redirect.netloc:
        raise SigninConfigError(f"{path}: [auth] redirect_uri must be an http(s) URL")
    if redirect.path != "/oauth2callback":
        raise SigninConfigError(
            f"{path}: [auth] redirect_uri must end in /oauth2callback (Streamlit's route),"
            f" not {redirect.path or '/'}"
        )
    metadata = urlparse(str(auth["server_metadata_url"]))
    if metadata.scheme not in ("http", "https") or not metadata.netloc:
        raise SigninConfigError(f"{path}: [auth] server_metadata_url must be an http(s) URL")
    return SigninConfig(
        path, str(auth["redirect_uri"]), str(auth["server_metadata_url"]), str(auth["client_id"])
    )


def check_provider(config: SigninConfig, timeout_s: float = 10.0) -> None:
    """Fetch the provider's OpenID configuration; SigninConfigError when it does not answer
    or is not one (a typo in the URL, a provider that is down)."""
    url = config.server_metadata_url
    where = f"{config.secrets_file}: [auth] server_metadata_url {url}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (http(s) checked)
            body = response.read(1_000_000)
    except urllib.error.HTTPError as exc:
        raise SigninConfigError(f"{where} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SigninConfigError(f"{where} did not answer ({reason})") from None
    try:
        document = json.loads(body)
    except ValueError:
        raise SigninConfigError(f"{where} is not an OpenID configuration (not JSON)") from None
    lacking = [f for f in METADATA_FIELDS if not isinstance(document, dict) or f not in document]
    if lacking:
        raise SigninConfigError(
            f"{where} is not an OpenID configuration (lacks {', '.join(lacking)})"
        )
