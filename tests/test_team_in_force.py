"""team.yaml is read the way monitors.yaml and guardrails.yaml are (`promptyard.in_force`):
the working tree's when it parses, else the newest good committed version, never one from
before the file was deleted."""

from __future__ import annotations

from promptyard.team import Role, load_team
from promptyard.versioning import Store
from promptyard.workspace import Workspace

TEAM = "members:\n  ada@example.com: admin\n  ed@example.com: editor\n"
BROKEN = "members:\n  ed@example.com: boss\n"


def test_a_broken_team_yaml_keeps_the_last_good_version_and_names_it(workspace: Workspace) -> None:
    store = Store(workspace)
    store.save("team.yaml", TEAM, "Add the team")
    good = store.history("team.yaml")[-1]
    (workspace.root / "team.yaml").write_text(BROKEN)
    team = load_team(workspace)
    assert team.role_of("ed@example.com") is Role.EDITOR
    assert team.source == good.tag  # the version people see in History, as monitors.yaml's
    assert team.warning is not None
    assert team.warning.startswith("team.yaml:2: unknown role 'boss'")
    assert f"the roles of team.yaml {good.tag} stay in force" in team.warning


def test_roles_from_before_team_yaml_was_deleted_do_not_come_back(workspace: Workspace) -> None:
    store = Store(workspace)
    store.save("team.yaml", TEAM, "Add the team")
    store.delete("team.yaml", "No roles any more")
    (workspace.root / "team.yaml").write_text(BROKEN)
    team = load_team(workspace)
    assert team.members == {} and team.source == "none"
    assert team.warning is not None and "no committed version parses" in team.warning


def test_a_team_yaml_that_is_not_utf8_is_named_with_its_line(workspace: Workspace) -> None:
    Store(workspace).save("team.yaml", TEAM, "Add the team")
    (workspace.root / "team.yaml").write_bytes(b"members:\n  ed@example.com: \xff\n")
    team = load_team(workspace)
    assert team.role_of("ada@example.com") is Role.ADMIN
    assert team.warning is not None and team.warning.startswith("team.yaml:1: not UTF-8 text")
