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
    prompt_exists,
    prompt_history,
    prompt_label_moves,
    prompt_labels,
    prompt_path,
    prompt_text,
    prompt_versions,
    render_prompt,
    restore_prompt,
    save_prompt,
)
from promptyard.prompts.checks import check_template
from promptyard.prompts.compose import dump_prompt, with_changes
from promptyard.prompts.conflicts import conflict_lines, refuse_conflicts
from promptyard.prompts.errors import (
    MergeConflictError,
    MissingVariablesError,
    TemplateError,
    TemplateLimitError,
    TemplateTimeoutError,
)
from promptyard.prompts.format import parse_prompt, split_front_matter, split_messages
from promptyard.prompts.limits import RenderLimits, default_limits, render_limits
from promptyard.prompts.render import MAX_RENDERED_CHARS
from promptyard.prompts.template import ROLES, MessageTemplate, PromptTemplate
from promptyard.prompts.tokens import (
    count_message_tokens,
    count_text_tokens,
    count_tokens,
    truncate_to_tokens,
)

__all__ = [
    "EXTENSION",
    "MAX_RENDERED_CHARS",
    "MergeConflictError",
    "MessageTemplate",
    "MissingVariablesError",
    "PromptPreview",
    "PromptSummary",
    "PromptTemplate",
    "ROLES",
    "RenderLimits",
    "TemplateError",
    "TemplateLimitError",
    "TemplateTimeoutError",
    "check_template",
    "conflict_lines",
    "count_message_tokens",
    "count_text_tokens",
    "count_tokens",
    "default_limits",
    "delete_prompt",
    "diff_prompt",
    "dump_prompt",
    "get_prompt",
    "label_prompt",
    "list_prompts",
    "parse_prompt",
    "preview_prompt",
    "prompt_exists",
    "prompt_history",
    "prompt_label_moves",
    "prompt_labels",
    "prompt_path",
    "prompt_text",
    "prompt_versions",
    "refuse_conflicts",
    "render_limits",
    "render_prompt",
    "restore_prompt",
    "save_prompt",
    "split_front_matter",
    "split_messages",
    "truncate_to_tokens",
    "with_changes",
]
