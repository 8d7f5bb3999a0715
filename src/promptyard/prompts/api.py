"""Prompts: the `.prompty` format (templates) on top of git versioning (store).

This is the API applications use without Streamlit:

    import promptyard
    prompt = promptyard.get_prompt("summarize", label="production")
    messages = prompt.render(text="...")
    prompt.model, prompt.parameters, prompt.tools, prompt.response_schema

A prompt is a `PromptTemplate`: `parameters` are the call parameters from `model.options`,
`tools` OpenAI tool dicts from Prompty's `tools`, `response_schema` the JSON schema from
`outputs`, `connection` the `model.connection` with `${env:...}` left unresolved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from promptyard.errors import NotFoundError
from promptyard.prompts.cache import forget_prompts
from promptyard.prompts.checks import check_template
from promptyard.prompts.errors import TemplateError
from promptyard.prompts.format import parse_prompt
from promptyard.prompts.loading import get_prompt
from promptyard.prompts.paths import EXTENSION, parse_in, prompt_path
from promptyard.prompts.template import PromptTemplate
from promptyard.workspace import Workspace, current_workspace

if TYPE_CHECKING:
    from promptyard.versioning import LabelMove, Store, Version

__all__ = [  # get_prompt, EXTENSION and prompt_path live beside; they are read from here too
    "EXTENSION",
    "PromptPreview",
    "PromptSummary",
    "delete_prompt",
    "diff_prompt",
    "get_prompt",
    "label_prompt",
    "list_prompts",
    "preview_prompt",
    "prompt_exists",
    "prompt_history",
    "prompt_label_moves",
    "prompt_labels",
    "prompt_path",
    "prompt_text",
    "prompt_versions",
    "render_prompt",
    "restore_prompt",
    "save_prompt",
]

logger = logging.getLogger(__name__)


def _store(ws: Workspace) -> Store:
    # git is imported here, on first use: reading a bundle never needs it
    from promptyard.versioning import Store

    return Store(ws)


@dataclass(frozen=True)
class PromptSummary:
    name: str
    description: str
    model: str | None
    variables: list[str]
    versions: int
    latest: Version | None
    labels: dict[str, str]  # label -> vN
    error: str | None = None  # set when the file does not parse

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "model": self.model,
            "variables": self.variables,
            "versions": self.versions,
            "latest": self.latest.to_dict() if self.latest else None,
            "labels": self.labels,
            "error": self.error,
        }


def _ws(workspace: Workspace | None) -> Workspace:
    return workspace or current_workspace()


def list_prompts(workspace: Workspace | None = None, search: str = "") -> list[PromptSummary]:
    """Every prompt file in the workspace, by name; `search` filters name and description."""
    ws = _ws(workspace)
    store = _store(ws)
    found = []
    for file in sorted(ws.prompts_dir.glob(f"*{EXTENSION}")):
        name = file.stem
        path = f"prompts/{file.name}"
        versions = store.history(path)
        labels = {label: v.tag for v in versions for label in v.labels}  # history has them
        try:
            template = parse_in(store.read(path), name, ws)
            summary = PromptSummary(
                name,
                template.description,
                template.model,
                template.variables,
                len(versions),
                versions[-1] if versions else None,
                labels,
            )
        except Exception as exc:  # one broken file must not hide the others
            logger.debug("prompt %s does not parse: %s", name, exc)
            summary = PromptSummary(
                name,
                "",
                None,
                [],
                len(versions),
                versions[-1] if versions else None,
                labels,
                error=str(exc),
            )
        needle = search.strip().lower()
        if needle and needle not in name.lower() and needle not in summary.description.lower():
            continue
        found.append(summary)
    return found


def save_prompt(
    name: str,
    text: str,
    message: str,
    *,
    base: str | None = None,
    author: str | None = None,
    workspace: Workspace | None = None,
) -> Version:
    """Validate `text` as a prompt and commit it as the next version of `name`.

    Raises TemplateError (with line and column) for a broken template, an unknown filter
    or test, or git conflict markers, and ConflictError when `base` is not the latest
    version; nothing is written in any case.
    """
    ws = _ws(workspace)
    path = prompt_path(name)
    check_template(parse_in(text, name, ws, path), path)
    if not text.endswith("\n"):
        text += "\n"
    version = _store(ws).save(path, text, message or f"Update {name}", base=base, author=author)
    forget_prompts()
    return version


def delete_prompt(
    name: str,
    message: str | None = None,
    *,
    base: str | None = None,
    workspace: Workspace | None = None,
) -> Version:
    """Delete prompt `name` in a commit of its own (its history stays); the deleting version."""
    version = _store(_ws(workspace)).delete(
        prompt_path(name), message or f"Delete prompt {name}", base
    )
    forget_prompts()
    return version


def restore_prompt(
    name: str, ref: str, message: str | None = None, *, workspace: Workspace | None = None
) -> Version:
    """A new version of prompt `name` whose content is that of version `ref`."""
    version = _store(_ws(workspace)).restore(prompt_path(name), ref, message)
    forget_prompts()
    return version


def prompt_history(name: str, workspace: Workspace | None = None) -> list[Version]:
    """Every version of prompt `name`, oldest first; NotFoundError when it has none."""
    versions = _store(_ws(workspace)).history(prompt_path(name))
    if not versions:
        raise NotFoundError(f"no prompt named {name!r}")
    return versions


def prompt_exists(name: str, workspace: Workspace | None = None) -> bool:
    """Whether the file of prompt `name` is in the workspace now (saved or not)."""
    return _store(_ws(workspace)).abs_path(prompt_path(name)).exists()


def prompt_versions(name: str, workspace: Workspace | None = None) -> list[Version]:
    """Every saved version of prompt `name`, oldest first; empty when it was never saved.

    Unlike `prompt_history`, an unknown or unsaved prompt is not an error.
    """
    return _store(_ws(workspace)).history(prompt_path(name))


def prompt_text(
    name: str, version: Version | str | None = None, *, workspace: Workspace | None = None
) -> str:
    """The text of prompt `name`: at `version` (a Version, or a ref such as vN, a sha
    prefix or a label), or the file as it is now when `version` is None."""
    from promptyard.versioning import Version

    store = _store(_ws(workspace))
    if isinstance(version, Version):
        return store.read_version(version)
    return store.read(prompt_path(name), version)


def prompt_labels(name: str, workspace: Workspace | None = None) -> dict[str, Version]:
    """Each label of prompt `name` and the version it points at now."""
    return _store(_ws(workspace)).labels(prompt_path(name))


def diff_prompt(name: str, ref_a: str, ref_b: str, workspace: Workspace | None = None) -> str:
    """A unified diff of prompt `name` from version `ref_a` to version `ref_b`."""
    return _store(_ws(workspace)).diff(prompt_path(name), ref_a, ref_b)


def label_prompt(
    name: str, ref: str, label: str, who: str | None = None, workspace: Workspace | None = None
) -> LabelMove:
    """Point `label` at version `ref` of prompt `name`; the recorded move."""
    move = _store(_ws(workspace)).set_label(prompt_path(name), ref, label, who)
    forget_prompts()
    return move


def prompt_label_moves(name: str, workspace: Workspace | None = None) -> list[LabelMove]:
    """Every move of the labels of prompt `name`, oldest first."""
    return _store(_ws(workspace)).label_moves(prompt_path(name))


def render_prompt(
    name: str, values: dict[str, Any], ref: str | None = None, workspace: Workspace | None = None
) -> list[dict[str, str]]:
    """The chat messages of prompt `name` (at `ref`) rendered with `values`."""
    return get_prompt(name, ref, workspace=workspace).render(values)


@dataclass
class PromptPreview:
    """What the editor shows: the parsed template, its rendered messages and token counts."""

    template: PromptTemplate | None
    messages: list[dict[str, str]]
    tokens: list[int]
    error: TemplateError | None = None

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)


def preview_prompt(
    text: str, name: str, values: dict[str, Any], workspace: Workspace | None = None
) -> PromptPreview:
    """Parse `text` and render it with `values`; errors are returned, not raised.

    `${file:...}` references are read from `workspace` (the current one when it is None).
    """
    from promptyard.prompts.tokens import count_message_tokens

    try:
        ws: Workspace | None = _ws(workspace)
    except Exception:  # no workspace here: a file reference is then refused by the parser
        ws = None
    try:
        if ws is None:
            template = parse_prompt(text, name, source=f"{name}.prompty")
        else:
            template = parse_in(text, name, ws, f"{name}.prompty")
    except TemplateError as exc:
        return PromptPreview(None, [], [], exc)
    try:
        check_template(template, f"{name}.prompty")
    except TemplateError as exc:
        return PromptPreview(template, [], [], exc)
    try:
        messages = template.render(values)
    except TemplateError as exc:
        return PromptPreview(template, [], [], exc)
    return PromptPreview(template, messages, count_message_tokens(messages, template.model))
