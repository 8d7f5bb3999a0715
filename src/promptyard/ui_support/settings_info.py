"""What the Settings page shows about a workspace: paths, database, which keys are set.

Never a key's value: only provider names and the names of the variables that hold them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from promptyard.workspace import Workspace


@dataclass(frozen=True)
class EndpointKey:
    name: str  # the models.yaml endpoint
    env: str  # the NAME of the variable holding its key
    present: bool


@dataclass(frozen=True)
class SettingsOverview:
    root: str
    database_url: str  # with any password masked
    providers_with_keys: list[str]
    endpoint_keys: list[EndpointKey] = field(default_factory=list)
    ratings_version: str | None = None
    problems: list[str] = field(default_factory=list)


def masked_url(url: str) -> str:
    """A database URL with its password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a valid database URL)"


def settings_overview(ws: Workspace) -> SettingsOverview:
    """The workspace's path, database URL (password masked), providers with keys (names
    only), models.yaml endpoints and whether their key variable is set, ratings version."""
    from promptyard import models, ratings
    from promptyard.errors import PromptyardError

    problems: list[str] = []
    endpoint_keys: list[EndpointKey] = []
    try:
        for endpoint in models.load_endpoints(ws).values():
            if endpoint.api_key_env:
                present = models.api_key(endpoint, ws) is not None
                endpoint_keys.append(EndpointKey(endpoint.name, endpoint.api_key_env, present))
    except PromptyardError as exc:
        problems.append(str(exc))
    return SettingsOverview(
        root=str(ws.root),
        database_url=masked_url(ws.database_url),
        providers_with_keys=models.providers_with_keys(ws),
        endpoint_keys=endpoint_keys,
        ratings_version=ratings.scheme_version(ws),
        problems=problems,
    )
