"""Where things live: the workspace root, its folders, and settings.

A workspace is a folder (inside a git repository) holding `prompts/`, `datasets/`,
`evals/`, `evaluators/`, optional `models.yaml` and `ratings.yaml`, and the git-ignored
`.promptyard/` folder (database, cache, run logs).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptyard.errors import PromptyardError

HOME_ENV = "PROMPTYARD_HOME"
DATABASE_URL_ENV = "PROMPTYARD_DATABASE_URL"
MAX_UPLOAD_MB_ENV = "PROMPTYARD_MAX_UPLOAD_MB"
AUTHOR_NAME_ENV = "PROMPTYARD_AUTHOR_NAME"
AUTHOR_EMAIL_ENV = "PROMPTYARD_AUTHOR_EMAIL"

DATA_DIR = ".promptyard"
NAME_MAX_LENGTH = 100
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class InvalidNameError(PromptyardError):
    """A prompt, dataset or suite name that is not a safe file name."""


class OutsideWorkspaceError(PromptyardError):
    """A workspace file (or a folder on its way) leads outside the workspace, by a symlink."""


def validate_name(name: str, kind: str = "prompt") -> str:
    """Return `name` unchanged when it is a safe file name, else raise InvalidNameError.

    Safe: 1 to 100 characters of letters, digits, `_`, `-`, `.`, not starting with a dot,
    no `/`, no `..`. Nothing outside the workspace folder can be named this way.
    """
    if not name or not name.strip():
        raise InvalidNameError(f"{kind} name is empty")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidNameError(
            f"{kind} name is {len(name)} characters long; the limit is {NAME_MAX_LENGTH}"
        )
    if "/" in name or "\\" in name:
        raise InvalidNameError(f"{kind} name {name!r} contains a path separator")
    if ".." in name:
        raise InvalidNameError(f"{kind} name {name!r} contains '..'")
    if name.startswith("."):
        raise InvalidNameError(f"{kind} name {name!r} starts with a dot")
    if not _SAFE_NAME.fullmatch(name):
        raise InvalidNameError(
            f"{kind} name {name!r} may only contain letters, digits, '_', '-' and '.'"
        )
    return name


@dataclass(frozen=True)
class Settings:
    """Settings read from the environment, then `.streamlit/secrets.toml`."""

    author_name: str | None = None
    author_email: str | None = None
    max_upload_mb: int = 200
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    def secret(self, name: str) -> str | None:
        """The value of secret `name` from the environment, else from secrets.toml."""
        return os.environ.get(name) or self.secrets.get(name)


@dataclass(frozen=True)
class Workspace:
    """A workspace folder and the paths inside it."""

    root: Path

    @property
    def prompts_dir(self) -> Path:
        return self.root / "prompts"

    @property
    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    @property
    def evals_dir(self) -> Path:
        return self.root / "evals"

    @property
    def evaluators_dir(self) -> Path:
        return self.root / "evaluators"

    @property
    def data_dir(self) -> Path:
        return self.root / DATA_DIR

    @property
    def models_file(self) -> Path:
        return self.root / "models.yaml"

    @property
    def ratings_file(self) -> Path:
        return self.root / "ratings.yaml"

    @property
    def labels_file(self) -> Path:
        return self.root / "labels.jsonl"

    @property
    def database_url(self) -> str:
        url = os.environ.get(DATABASE_URL_ENV)
        if url:
            return url
        return f"sqlite:///{self.data_dir / 'promptyard.db'}"

    @property
    def settings(self) -> Settings:
        return load_settings(self.root)

    def rel(self, path: Path) -> str:
        """`path` relative to the workspace root, with forward slashes."""
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    def file(self, rel: str) -> Path:
        """The real path of workspace file `rel`; OutsideWorkspaceError when it, or a folder
        on the way, is a symlink (or `..`) leading outside the workspace.

        Promptyard never reads or writes through such a link: a prompt or dataset file of a
        cloned repository could otherwise show or overwrite any file the user can reach.
        """
        root = self.root.resolve()
        target = (self.root / rel).resolve()
        if target.is_relative_to(root):
            return target
        link = self.root / rel
        if link.is_symlink():
            raise OutsideWorkspaceError(
                f"{rel} is a symlink to {target}, outside the workspace {root}; Promptyard"
                " reads only files inside it: replace the link with a copy of the file"
            )
        raise OutsideWorkspaceError(
            f"{rel} leads outside the workspace {root} (to {target}); Promptyard reads only"
            " files inside it: replace the linked folder with a real one"
        )

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


def _read_secrets(root: Path) -> dict[str, str]:
    for candidate in (
        root / ".streamlit" / "secrets.toml",
        Path.home() / ".streamlit" / "secrets.toml",
    ):
        if candidate.is_file():
            try:
                data: dict[str, Any] = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
                continue
            return {k: str(v) for k, v in data.items() if isinstance(v, str | int | float)}
    return {}


def load_settings(root: Path) -> Settings:
    """Settings for the workspace at `root`: env first, then `.streamlit/secrets.toml`."""
    secrets = _read_secrets(root)
    try:
        max_mb = int(os.environ.get(MAX_UPLOAD_MB_ENV) or secrets.get(MAX_UPLOAD_MB_ENV) or 200)
    except ValueError:
        max_mb = 200
    return Settings(
        author_name=os.environ.get(AUTHOR_NAME_ENV) or secrets.get(AUTHOR_NAME_ENV),
        author_email=os.environ.get(AUTHOR_EMAIL_ENV) or secrets.get(AUTHOR_EMAIL_ENV),
        max_upload_mb=max_mb,
        secrets=secrets,
    )


def current_workspace(root: str | Path | None = None) -> Workspace:
    """The workspace at `root`, else `$PROMPTYARD_HOME`, else the current directory."""
    chosen = root or os.environ.get(HOME_ENV) or os.getcwd()
    return Workspace(Path(chosen).expanduser().resolve())
