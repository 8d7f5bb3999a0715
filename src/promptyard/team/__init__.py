"""A team on one workbench: who is acting (identity), team.yaml (roles), what each role may
do (policy). Low in the layers so every library call that must refuse can ask it."""

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
