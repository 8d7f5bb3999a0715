"""The Prompty format (parse, validate, render in the sandbox), token counts, and the prompt API."""

from promptyard.prompts.api import (
    EXTENSION,
    PromptPreview,
    PromptSummary,
    delete_prompt,
    diff_prompt,
    get_prompt,
    label_prompt,
    list_prompts,
    preview_prompt,
    prompt_history,
    prompt_label_moves,
    prompt_path,
    render_prompt,
    restore_prompt,
    save_prompt,
)
from promptyard.prompts.template import (
    MissingVariablesError,
    PromptTemplate,
    TemplateError,
    parse_prompt,
)

__all__ = [
    "EXTENSION",
    "MissingVariablesError",
    "PromptPreview",
    "PromptSummary",
    "PromptTemplate",
    "TemplateError",
    "delete_prompt",
    "diff_prompt",
    "get_prompt",
    "label_prompt",
    "list_prompts",
    "parse_prompt",
    "preview_prompt",
    "prompt_history",
    "prompt_label_moves",
    "prompt_path",
    "render_prompt",
    "restore_prompt",
    "save_prompt",
]
