"""Adding and editing a `models.yaml` entry from a form, and testing it with one tiny call.

The form holds text, as a person typed it; `check_model_form` gives one message per
wrong field; `save_model` writes the entry into models.yaml (the rest of the file, its
comments included, is kept as it was) and commits it through the versioning store. A
key is never accepted: only the NAME of the variable that holds it.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import asdict, dataclass
from typing import Any

from promptyard.errors import PromptyardError
from promptyard.models.catalog import (
    _ENDPOINT_NAME,
    ModelConfigError,
    _endpoint_from_entry,
    load_endpoints,
)
from promptyard.models.endpoints import ModelEndpoint
from promptyard.models.simulator import SIMULATED_MODELS
from promptyard.workspace import Workspace

MODELS_FILE = "models.yaml"
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_URL = re.compile(r"^https?://[^\s/]+\S*$")
_PER_MILLION = 1_000_000


@dataclass(frozen=True)
class ModelForm:
    """A models.yaml entry as typed in a form; every field is text, "" for unset.

    Prices are USD per 1M tokens (models.yaml stores them per token).
    """

    name: str
    model: str
    api_base: str = ""
    api_key_env: str = ""
    provider: str = ""
    max_concurrency: str = ""
    rpm: str = ""
    input_cost_per_million: str = ""
    output_cost_per_million: str = ""
    description: str = ""


class ModelFormError(PromptyardError):
    """A form with wrong fields; `problems` maps each field to its one-line message."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        first = next(iter(self.problems.items()), ("form", "is empty"))
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{first[0]}: {first[1]}{more}")


@dataclass(frozen=True)
class ConnectionCheck:
    """What one tiny request to an endpoint gave: the answer, or the error's kind."""

    ok: bool
    answer: str | None
    error_kind: str | None
    error_message: str | None
    latency_ms: float | None


def form_of(endpoint: ModelEndpoint) -> ModelForm:
    """The form of an existing models.yaml endpoint, for editing it."""

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    def per_million(value: float | None) -> str:
        return "" if value is None else f"{value * _PER_MILLION:g}"

    return ModelForm(
        name=endpoint.name,
        model=endpoint.litellm_model,
        api_base=text(endpoint.api_base),
        api_key_env=text(endpoint.api_key_env),
        provider=text(endpoint.provider_kind),
        max_concurrency=text(endpoint.max_concurrency),
        rpm=text(endpoint.rpm),
        input_cost_per_million=per_million(endpoint.input_cost_per_token),
        output_cost_per_million=per_million(endpoint.output_cost_per_token),
        description=text(endpoint.description),
    )


def _entry(form: ModelForm) -> tuple[dict[str, Any], dict[str, str]]:
    """The models.yaml mapping of `form` and the problems of its fields."""
    problems: dict[str, str] = {}
    entry: dict[str, Any] = {}
    f = {k: v.strip() for k, v in asdict(form).items()}
    if not f["name"]:
        problems["name"] = "a name is required (it is what pickers and --model use)"
    elif not _ENDPOINT_NAME.fullmatch(f["name"]) or len(f["name"]) > 100:
        problems["name"] = "may only hold letters, digits and _ . : @ / - (at most 100)"
    elif f["name"] in SIMULATED_MODELS:
        problems["name"] = f"'{f['name']}' is a simulator model name; choose another"
    if not f["model"]:
        problems["model"] = "a litellm model string is required, such as openai/my-model"
    elif any(c.isspace() for c in f["model"]) or "/" not in f["model"]:
        problems["model"] = "must be provider/model with no spaces, such as openai/my-model"
    entry["model"] = f["model"]
    if f["api_base"]:
        if not _URL.fullmatch(f["api_base"]):
            problems["api_base"] = "must be an http:// or https:// URL"
        entry["api_base"] = f["api_base"].rstrip("/")
    if f["api_key_env"]:
        if not _ENV_NAME.fullmatch(f["api_key_env"]):
            problems["api_key_env"] = (
                "must be the NAME of an environment variable (capitals, digits, _; such as "
                "MY_API_KEY), never the key itself"
            )
        else:
            entry["api_key_env"] = f["api_key_env"]
    if f["provider"]:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.\-]*", f["provider"]):
            problems["provider"] = "must name a provider: litellm, openai_compatible or a plugin"
        entry["provider"] = f["provider"]
    for field in ("max_concurrency", "rpm"):
        if f[field]:
            if not f[field].isdigit() or int(f[field]) < 1:
                problems[field] = "must be a whole number of at least 1"
            else:
                entry[field] = int(f[field])
    for field, key in (
        ("input_cost_per_million", "input_cost_per_token"),
        ("output_cost_per_million", "output_cost_per_token"),
    ):
        if f[field]:
            try:
                value = float(f[field])
            except ValueError:
                value = -1.0
            if not value >= 0 or value == float("inf"):
                problems[field] = "must be a number of USD per 1M tokens, 0 or more"
            else:
                entry[key] = value / _PER_MILLION
    if f["description"]:
        entry["description"] = f["description"]
    return entry, problems


def check_model_form(form: ModelForm) -> dict[str, str]:
    """One message per wrong field of `form` (empty when it can be saved)."""
    return _entry(form)[1]


def endpoint_of(form: ModelForm) -> ModelEndpoint:
    """The endpoint `form` describes, unsaved. Raises ModelFormError for wrong fields."""
    entry, problems = _entry(form)
    if problems:
        raise ModelFormError(problems)
    return _endpoint_from_entry(form.name.strip(), entry, f"model '{form.name.strip()}'")


def _dump_entry(name: str, entry: dict[str, Any]) -> list[str]:
    import yaml

    block = yaml.safe_dump({name: entry}, sort_keys=False, allow_unicode=True)
    return ["  " + line for line in block.splitlines()]


def _with_entry(text: str, name: str, entry: dict[str, Any] | None, old: str | None) -> str:
    """models.yaml `text` with entry `old` (or `name`) replaced by `entry` (None: removed),
    every other line kept; a new entry goes at the end of `models:`."""
    import yaml

    lines = text.splitlines()
    root = yaml.compose(text) if text.strip() else None
    new_block = _dump_entry(name, entry) if entry is not None else []
    if root is None:
        return "\n".join(["models:", *new_block]) + "\n"
    models = None
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "models":
                models = (key, value)
    if models is None:
        return "\n".join([*lines, "models:", *new_block]) + "\n"
    key_node, value = models
    if isinstance(value, yaml.ScalarNode) and value.value in ("", "~", "null"):
        head = lines[: key_node.start_mark.line] + ["models:"]
        return "\n".join([*head, *new_block, *lines[key_node.start_mark.line + 1 :]]) + "\n"
    if not isinstance(value, yaml.MappingNode) or value.flow_style:
        raise ModelConfigError(f"{MODELS_FILE}: 'models' must be a block mapping to edit it here")
    target = old or name
    entries = value.value
    for i, (k, _v) in enumerate(entries):
        if k.value == target:
            start = k.start_mark.line
            end = entries[i + 1][0].start_mark.line if i + 1 < len(entries) else value.end_mark.line
            if i + 1 == len(entries) and value.end_mark.column > 0:
                end += 1  # the mapping ends on the entry's last line (no newline after it)
            while end > start + 1 and not lines[end - 1].strip():
                end -= 1  # keep the blank lines between entries
            return "\n".join([*lines[:start], *new_block, *lines[end:]]) + "\n"
    end = value.end_mark.line + (1 if value.end_mark.column > 0 else 0)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    return "\n".join([*lines[:end], *new_block, *lines[end:]]) + "\n"


def save_model(
    ws: Workspace,
    form: ModelForm,
    *,
    editing: str | None = None,
    base: str | None = None,
    message: str | None = None,
    author: str | None = None,
) -> Any:
    """Write `form` into models.yaml and commit it; returns the store's Version.

    `editing` is the name of the entry being edited (None: a new one, whose name must be
    free). `base` is the sha the edit started from (a newer models.yaml raises the
    store's ConflictError). Raises ModelFormError (per field) or ModelConfigError; nothing
    is written then.
    """
    from promptyard.versioning.store import Store

    entry, problems = _entry(form)
    name = form.name.strip()
    existing = load_endpoints(ws)
    if not problems and name != editing and name in existing:
        problems["name"] = f"'{name}' is already in models.yaml; pick it to edit it"
    if editing is not None and editing not in existing:
        problems["name"] = f"'{editing}' is no longer in models.yaml"
    if problems:
        raise ModelFormError(problems)
    path = ws.models_file
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    new_text = _with_entry(text, name, entry, editing)
    _validate(new_text)
    what = message or (f"Edit model {name}" if editing else f"Add model {name}")
    return Store(ws).save(MODELS_FILE, new_text, what, base=base, author=author)


def _validate(text: str) -> None:
    import yaml

    data = yaml.safe_load(text) or {}
    for name, entry in (data.get("models") or {}).items():
        if not isinstance(entry, dict):
            raise ModelConfigError(f"{MODELS_FILE}: model '{name}' must be a mapping")
        _endpoint_from_entry(str(name), entry, f"{MODELS_FILE}: model '{name}'")


def models_version(ws: Workspace) -> str | None:
    """The commit sha of the current models.yaml (None when it was never committed)."""
    from promptyard.versioning.store import Store

    try:
        versions = Store(ws).history(MODELS_FILE)
    except PromptyardError:
        return None
    return versions[-1].sha if versions and not versions[-1].deleted else None


def test_connection(form: ModelForm, timeout_s: float = 20.0) -> ConnectionCheck:
    """Send one tiny request ("Reply with OK", at most 5 tokens) to the endpoint `form`
    describes, saved or not; the answer or the error's kind. Raises ModelFormError."""
    from promptyard.models.providers import ModelCall, complete

    endpoint = endpoint_of(form)
    call = ModelCall(
        endpoint,
        [{"role": "user", "content": "Reply with OK."}],
        {"max_tokens": 5},
        timeout_s=timeout_s,
    )
    result = asyncio.run(complete(call))
    return ConnectionCheck(
        ok=result.ok,
        answer=result.text,
        error_kind=result.error_kind,
        error_message=result.error_message,
        latency_ms=result.latency_ms,
    )


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
