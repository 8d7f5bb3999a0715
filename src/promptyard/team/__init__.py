"""A team on one workbench: who is acting (identity), team.yaml (roles), what each role may
do (policy). Low in the layers so every library call that must refuse can ask it.

The names are imported from their modules on first use (PEP 562): a permission check does
not load sign-in (its HTTP client among them).
"""

import pkgutil
from typing import TYPE_CHECKING

from promptyard.lazy_names import lazy_face

_HOMES = {
    **dict.fromkeys(
        ["Identity", "acting_as", "current_identity", "member_key", "set_identity_source"],
        "promptyard.team.identity",
    ),
    **dict.fromkeys(
        [
            "ROLE_PERMISSIONS",
            "Permission",
            "PermissionDeniedError",
            "acting_freely",
            "allowed",
            "permission_for_path",
            "recorded_name",
            "require",
            "role_of",
        ],
        "promptyard.team.policy",
    ),
    **dict.fromkeys(
        ["DEFAULT_TEAM_YAML", "TEAM_FILE", "Role", "Team", "TeamError", "load_team", "parse_team"],
        "promptyard.team.roles",
    ),
    **dict.fromkeys(
        [
            "SECRETS_FILE",
            "SigninConfig",
            "SigninConfigError",
            "check_provider",
            "secrets_file",
            "signin_config",
        ],
        "promptyard.team.signin",
    ),
}

if TYPE_CHECKING:
    from promptyard.team.identity import (
        Identity,
        acting_as,
        current_identity,
        member_key,
        set_identity_source,
    )
    from promptyard.team.policy import (
        ROLE_PERMISSIONS,
        Permission,
        PermissionDeniedError,
        acting_freely,
        allowed,
        permission_for_path,
        recorded_name,
        require,
        role_of,
    )
    from promptyard.team.roles import (
        DEFAULT_TEAM_YAML,
        TEAM_FILE,
        Role,
        Team,
        TeamError,
        load_team,
        parse_team,
    )
    from promptyard.team.signin import (
        SECRETS_FILE,
        SigninConfig,
        SigninConfigError,
        check_provider,
        secrets_file,
        signin_config,
    )

__all__ = [
    "SECRETS_FILE",
    "SigninConfig",
    "SigninConfigError",
    "check_provider",
    "secrets_file",
    "signin_config",
    "DEFAULT_TEAM_YAML",
    "Identity",
    "Permission",
    "PermissionDeniedError",
    "ROLE_PERMISSIONS",
    "Role",
    "TEAM_FILE",
    "Team",
    "TeamError",
    "acting_as",
    "acting_freely",
    "allowed",
    "current_identity",
    "load_team",
    "member_key",
    "parse_team",
    "permission_for_path",
    "recorded_name",
    "require",
    "role_of",
    "set_identity_source",
]

# Submodules by attribute too, as when this face imported them all.
_SUBMODULES = [m.name for m in pkgutil.iter_modules(__path__)]

__getattr__, __dir__ = lazy_face(__name__, _HOMES, __all__, _SUBMODULES)
