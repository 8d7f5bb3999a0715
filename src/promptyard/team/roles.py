"""team.yaml: who is an admin, an editor, a rater or a viewer, read with file and line.

A team.yaml that does not parse never changes who may do what: the roles of the newest
committed version that parses stay in force (with a warning naming the mistake).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import yaml

from promptyard.errors import PromptyardError
from promptyard.in_force import in_force
from promptyard.workspace import Workspace

TEAM_FILE = "team.yaml"

DEFAULT_TEAM_YAML = """\
# Who may do what when sign-in is on (docs/team.md). Each member is an email (or the
# provider's subject) and one role: admin, editor, rater or viewer. With sign-in off this
# file changes nothing: the local user may do everything.
members: {}
"""


class Role(StrEnum):
    """What a member may do; see policy.ROLE_PERMISSIONS."""

    ADMIN = "admin"  # models, rating schemes, settings, the team; and all an editor may
    EDITOR = "editor"  # prompts, datasets, suites, runs, label moves, labeling sessions
    RATER = "rater"  # only the labeling sessions assigned to them
    VIEWER = "viewer"  # reads everything, changes nothing


class TeamError(PromptyardError):
    """A team.yaml mistake: the message starts with `team.yaml:line:`."""


@dataclass(frozen=True)
class Team:
    """The roles in force and where they came from."""

    members: dict[str, Role] = field(default_factory=dict)  # email or subject -> role
    source: str = "none"  # "working tree", the committed version read (vN), or "none"
    warning: str | None = None  # why the working tree's file is not the one in force

    def role_of(self, key: str | None) -> Role | None:
        """The role of the member `key` (email or subject, case-blind), None for strangers."""
        if not key:
            return None
        return self.members.get(key.strip().lower())


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def parse_team(text: str, path: str = TEAM_FILE) -> dict[str, Role]:
    """The members in `text`; TeamError `path:line: what` on the first mistake."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise TeamError(f"{path}:{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise TeamError(f"{path}:{_line(root)}: expected a mapping with a 'members:' mapping")
    members: dict[str, Role] = {}
    for key_node, value_node in root.value:
        if key_node.value != "members":
            raise TeamError(
                f"{path}:{_line(key_node)}: unknown key {key_node.value!r} (known: members)"
            )
        if isinstance(value_node, yaml.ScalarNode) and value_node.value in ("", "~", "null"):
            continue
        if not isinstance(value_node, yaml.MappingNode):
            raise TeamError(f"{path}:{_line(value_node)}: 'members' must map each email to a role")
        for member_node, role_node in value_node.value:
            if not isinstance(member_node, yaml.ScalarNode) or not member_node.value.strip():
                raise TeamError(
                    f"{path}:{_line(member_node)}: a member must be an email or subject"
                )
            if not isinstance(role_node, yaml.ScalarNode):
                raise TeamError(
                    f"{path}:{_line(role_node)}: the role of {member_node.value} must be one word"
                )
            try:
                role = Role(role_node.value.strip().lower())
            except ValueError:
                known = ", ".join(r.value for r in Role)
                raise TeamError(
                    f"{path}:{_line(role_node)}: unknown role {role_node.value!r} for "
                    f"{member_node.value} (known: {known})"
                ) from None
            key = member_node.value.strip().lower()
            if key in members:
                raise TeamError(f"{path}:{_line(member_node)}: {member_node.value} is listed twice")
            members[key] = role
    return members


_CACHE: dict[Path, tuple[tuple[int, int], Team]] = {}


def load_team(ws: Workspace) -> Team:
    """The roles in force: the working tree's team.yaml when it parses, else the newest
    committed version that parses (its warning names the mistake), else nobody."""
    target = ws.root / TEAM_FILE
    try:
        stat = target.stat()
    except OSError:
        return Team()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(target)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    found = in_force(ws, TEAM_FILE, parse_team, (TeamError,))
    if found.value is None:
        why = f"{found.error}; no committed version parses, nobody has a role"
        team = Team({}, "none", why if found.error else None)
    elif found.error is None:
        team = Team(found.value, found.source)
    else:
        why = f"{found.error}; the roles of {TEAM_FILE} {found.source} stay in force"
        team = Team(found.value, found.source, why)
    _CACHE[target] = (stamp, team)
    return team
