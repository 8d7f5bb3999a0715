"""Who is acting: the signed-in person whose identity a save, a rating or a run records.

The library never asks a browser; the app registers where identities come from
(`set_identity_source`, the signed-in user of the Streamlit session running the call), and
code or tests name one outright (`acting_as`). Without either, no identity is in force: a
local single user, who may do everything, as before sign-in existed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


def member_key(text: str) -> str:
    """`text` as a member is recorded: stripped, and lowercased when it is an email
    (emails are case-blind; a provider's subject is not)."""
    key = text.strip()
    return key.lower() if "@" in key else key


@dataclass(frozen=True)
class Identity:
    """A signed-in person as the OpenID Connect provider named them."""

    subject: str  # the provider's `sub`: stable, never reused
    email: str | None = None
    name: str | None = None
    expires_at: float | None = None  # the ID token's `exp` (Unix time); None: no end

    @property
    def expired(self) -> bool:
        """True once the sign-in is past its end: actions are refused until a new sign-in."""
        return self.expires_at is not None and self.expires_at <= time.time()

    @property
    def key(self) -> str:
        """What is recorded and looked up in team.yaml: the email, else the subject."""
        return member_key(self.email or self.subject)

    @property
    def display(self) -> str:
        """How a page greets them: the name, else the key."""
        return self.name or self.key


_ACTING: ContextVar[Identity | None] = ContextVar("promptyard_identity", default=None)
_SOURCE: list[Callable[[], Identity | None]] = []


def set_identity_source(source: Callable[[], Identity | None] | None) -> None:
    """Make `source` say who is acting wherever no `acting_as` block does (None: nobody).

    The app registers the signed-in user of the current Streamlit session; one source per
    process, the last one registered wins.
    """
    _SOURCE.clear()
    if source is not None:
        _SOURCE.append(source)


@contextmanager
def acting_as(identity: Identity | None) -> Iterator[None]:
    """Run the block as `identity` (None: whoever the registered source names)."""
    token = _ACTING.set(identity)
    try:
        yield
    finally:
        _ACTING.reset(token)


def current_identity() -> Identity | None:
    """The identity in force: an `acting_as` block's, else the registered source's, else None."""
    acting = _ACTING.get()
    if acting is not None:
        return acting
    return _SOURCE[0]() if _SOURCE else None
