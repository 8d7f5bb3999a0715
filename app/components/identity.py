"""Who is using the page: the single source of identity for every page and component.

With sign-in on (an `[auth]` section in the workspace's secrets), the signed-in user of
this Streamlit session, as Streamlit's `st.user` gives it; with sign-in off, nobody (the
local single user). The library asks the same function, through `set_identity_source`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import streamlit as st

from components.context import workspace
from promptyard.errors import PromptyardError
from promptyard.team import Identity, secrets_file, set_identity_source, signin_config

# Not a member of anything: what a signed-out visitor of a signed-in workbench acts as, so
# a library call made for them is refused instead of running as the local user.
SIGNED_OUT = Identity("signed-out visitor")


@lru_cache(maxsize=8)
def _signin_on(path: Path, stamp: tuple[int, int]) -> bool:
    del stamp  # part of the cache key only: a changed file is read again
    try:
        return signin_config(workspace()) is not None
    except PromptyardError:
        return True  # a broken [auth] section never turns sign-in off


def signin_on() -> bool:
    """Whether this workspace signs its users in (it has an `[auth]` section)."""
    path = secrets_file(workspace())
    if path is None:
        return False
    stat = path.stat()
    return _signin_on(path, (stat.st_mtime_ns, stat.st_size))


def current_identity() -> Identity | None:
    """The signed-in user, SIGNED_OUT when sign-in is on but nobody is, None when off."""
    if not signin_on():
        return None
    try:
        user = st.user
        if not user.is_logged_in:
            return SIGNED_OUT
        subject = str(user.get("sub") or user.get("email") or "")
        email = user.get("email")
        name = user.get("name")
        exp = user.get("exp")
    except (AttributeError, KeyError, RuntimeError):
        return SIGNED_OUT
    if not subject:
        return SIGNED_OUT
    return Identity(
        subject,
        str(email) if email else None,
        str(name) if name else None,
        float(exp) if isinstance(exp, int | float) else None,
    )


def _library_source() -> Identity | None:
    try:
        return current_identity()
    except Exception:  # noqa: BLE001 (fail closed: an unknown user may do nothing)
        return SIGNED_OUT


def register() -> None:
    """Make the library ask `current_identity` (idempotent; main.py calls it each run)."""
    set_identity_source(_library_source)
