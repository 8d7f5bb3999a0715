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
from promptyard.prompts.bundle import (
    BUNDLE_ENV,
    BUNDLE_FORMAT,
    BUNDLE_FORMAT_VERSION,
    Bundle,
    BundledPrompt,
    BundleError,
    bundle_from_env,
    load_bundle,
)
from promptyard.prompts.cache import DEFAULT_TTL_S, TTL_ENV, forget_prompts
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
from promptyard.prompts.pinned import PinnedVersion
from promptyard.prompts.render import MAX_RENDERED_CHARS
from promptyard.prompts.serialized import template_from_data, template_to_data
from promptyard.prompts.shallow import ShallowHistoryError
from promptyard.prompts.template import ROLES, MessageTemplate, PromptTemplate
from promptyard.prompts.tokens import (
    count_message_tokens,
    count_text_tokens,
    count_tokens,
    truncate_to_tokens,
)

__all__ = [
    "BUNDLE_ENV",
    "BUNDLE_FORMAT",
    "BUNDLE_FORMAT_VERSION",
    "DEFAULT_TTL_S",
    "EXTENSION",
    "TTL_ENV",
    "Bundle",
    "BundleError",
    "BundledPrompt",
    "PinnedVersion",
    "ShallowHistoryError",
    "bundle_from_env",
    "forget_prompts",
    "load_bundle",
    "template_from_data",
    "template_to_data",
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
