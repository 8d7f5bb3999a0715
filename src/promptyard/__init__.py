"""Promptyard: git-versioned prompts, runs across models, ratings, judges and charts."""

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.prompts import MissingVariablesError, PromptTemplate, TemplateError
from promptyard.prompts.api import (
    delete_prompt,
    diff_prompt,
    get_prompt,
    label_prompt,
    list_prompts,
    prompt_history,
    render_prompt,
    restore_prompt,
    save_prompt,
)
from promptyard.versioning import ConflictError, Store, Version
from promptyard.workspace import Workspace, current_workspace

__version__ = "0.1.0"

__all__ = [
    "ConflictError",
    "MissingVariablesError",
    "NotFoundError",
    "PromptTemplate",
    "PromptyardError",
    "Store",
    "TemplateError",
    "Version",
    "Workspace",
    "__version__",
    "current_workspace",
    "delete_prompt",
    "diff_prompt",
    "get_prompt",
    "label_prompt",
    "list_prompts",
    "prompt_history",
    "render_prompt",
    "restore_prompt",
    "save_prompt",
]
