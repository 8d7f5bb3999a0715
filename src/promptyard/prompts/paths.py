"""Where a prompt lives in a workspace, and parsing it there (`${file:...}` inside it)."""

from __future__ import annotations

from promptyard.prompts.format import parse_prompt
from promptyard.prompts.template import PromptTemplate
from promptyard.workspace import Workspace, validate_name

EXTENSION = ".prompty"


def prompt_path(name: str) -> str:
    """The workspace-relative path of prompt `name` (validated as a safe file name)."""
    return f"prompts/{validate_name(name, 'prompt')}{EXTENSION}"


def parse_in(text: str, name: str, ws: Workspace, source: str | None = None) -> PromptTemplate:
    """Parse a prompt of workspace `ws`: `${file:...}` reads from its prompts folder, inside it."""
    return parse_prompt(text, name, source=source, base_dir=ws.prompts_dir, root=ws.root)
