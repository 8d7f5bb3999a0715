"""promptfoo provider ids to Promptyard model names: a models.yaml entry, the built-in
`echo` model, or a litellm `provider/model` string."""

from __future__ import annotations

from typing import Any

from promptyard.errors import PromptyardError
from promptyard.workspace import Workspace

ECHO_MODEL = "echo"  # Promptyard's built-in model that answers with the rendered prompt

# promptfoo's `provider:` prefix -> litellm's provider prefix
_PREFIXES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "azureopenai": "azure",
    "azure": "azure",
    "vertex": "vertex_ai",
    "bedrock": "bedrock",
    "ollama": "ollama",
    "groq": "groq",
    "mistral": "mistral",
    "google": "gemini",
    "gemini": "gemini",
    "openrouter": "openrouter",
    "deepseek": "deepseek",
    "togetherai": "together_ai",
    "perplexity": "perplexity",
    "fireworks": "fireworks_ai",
    "xai": "xai",
    "cohere": "cohere",
}
# promptfoo's kinds between the provider and the model (`openai:chat:gpt-4o`)
_KINDS = {"chat", "completion", "messages", "embedding", "embeddings", "responses"}


def provider_id(item: Any) -> tuple[str | None, str, dict[str, Any]]:
    """(id, label, config) of one entry of promptfoo's `providers:`."""
    if isinstance(item, str):
        return item, "", {}
    if isinstance(item, dict):
        if "id" in item:
            return str(item["id"]), str(item.get("label") or ""), dict(item.get("config") or {})
        if len(item) == 1:  # the {id: {config}} form
            ((key, cfg),) = item.items()
            cfg = cfg if isinstance(cfg, dict) else {}
            return str(key), str(cfg.get("label") or ""), dict(cfg.get("config") or {})
    return None, "", {}


def model_for(ws: Workspace, pid: str, label: str = "") -> tuple[str | None, str]:
    """The Promptyard model name for promptfoo provider `pid` and why, or (None, why)."""
    from promptyard.models import load_endpoints, resolve_model

    try:
        configured = load_endpoints(ws)
    except PromptyardError:
        configured = {}
    for candidate in (label, pid):
        if candidate and candidate in configured:
            return candidate, f"models.yaml entry {candidate!r}"
    if pid == "echo":
        return ECHO_MODEL, "Promptyard's echo model (answers with the rendered prompt)"
    if pid.startswith(("file://", "exec:", "python:", "http:", "https:", "webhook:", "ws:")):
        return None, f"{pid!r} runs code or calls a custom endpoint; not carried over"
    if pid.startswith("litellm:"):
        name = pid[len("litellm:") :]
    else:
        head, _, rest = pid.partition(":")
        parts = rest.split(":")
        if parts and parts[0] in _KINDS:
            parts = parts[1:]
        model = ":".join(parts)
        if head not in _PREFIXES or not model:
            return None, f"{pid!r} is a promptfoo provider Promptyard does not know"
        name = f"{_PREFIXES[head]}/{model}"
    try:
        resolve_model(ws, name)
    except PromptyardError as exc:
        return None, f"{pid!r} maps to {name!r}, which Promptyard cannot use: {exc}"
    return name, f"litellm model {name!r}"
