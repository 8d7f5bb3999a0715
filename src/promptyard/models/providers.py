"""One model call in, one normalized `Completion` out. The only module that imports litellm.

litellm is imported lazily (inside functions): its import takes seconds and must stay off
the app's start path. Provider failures never raise: they come back as a `Completion`
with an `error_kind` and a message scrubbed of secrets.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from promptyard.models.catalog import PROVIDER_KEY_ENV, ModelEndpoint, api_key
from promptyard.models.simulator import REPEAT_HEADER, SIMULATED_MODELS
from promptyard.prompts.tokens import count_tokens

ERROR_KINDS = (
    "rate_limit",
    "timeout",
    "auth",
    "bad_request",
    "context_window",
    "content_filter",
    "server",
    "connection",
    "invalid_response",
)
RETRYABLE_KINDS = frozenset({"rate_limit", "timeout", "server", "connection", "invalid_response"})


@dataclass(frozen=True)
class ModelCall:
    """One request to one model. `repeat` is sent in the `X-Promptyard-Repeat` header."""

    endpoint: ModelEndpoint
    messages: list[dict[str, str]]
    parameters: dict[str, Any] = field(default_factory=dict)
    repeat: int = 0
    timeout_s: float = 60.0
    stream: bool = False
    api_key: str | None = field(default=None, repr=False)


@dataclass
class Completion:
    """What came back from one call: output or error, tokens, cost, timing."""

    text: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None  # None: the price is unknown (never 0 for unknown)
    latency_ms: float
    ttft_ms: float | None = None
    error_kind: str | None = None
    error_message: str | None = None
    raw: dict[str, Any] | None = None
    retry_after_s: float | None = None
    cached: bool = False
    tokens_estimated: bool = False  # tokens counted with tiktoken: the provider gave none

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    @property
    def retryable(self) -> bool:
        return self.error_kind in RETRYABLE_KINDS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Completion:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


# ---------------------------------------------------------------------------------------
# tokens and prices (no litellm import)


@lru_cache(maxsize=1)
def price_map() -> dict[str, Any]:
    """litellm's bundled model price and context-window map, read as JSON (no litellm import)."""
    spec = find_spec("litellm")
    if not spec or not spec.origin:
        return {}
    path = Path(spec.origin).parent / "model_prices_and_context_window_backup.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    data.pop("sample_spec", None)
    return data


def model_info(model: str) -> dict[str, Any] | None:
    """The price-map entry for a litellm model string, with or without its provider prefix."""
    prices = price_map()
    info = prices.get(model)
    if info is None and "/" in model:
        provider, bare = model.split("/", 1)
        info = prices.get(bare)
        if isinstance(info, dict) and info.get("litellm_provider") not in (provider, None):
            info = prices.get(bare) if provider in ("openai", "text-completion-openai") else None
    return info if isinstance(info, dict) else None


def estimate_cost(
    endpoint: ModelEndpoint, prompt_tokens: int | None, completion_tokens: int | None
) -> float | None:
    """USD for that many tokens: the endpoint's prices, else litellm's map; None when unknown."""
    if prompt_tokens is None or completion_tokens is None:
        return None
    inp, out = endpoint.input_cost_per_token, endpoint.output_cost_per_token
    if inp is None or out is None:
        if endpoint.simulated:
            spec = SIMULATED_MODELS.get(endpoint.name)
            if spec:
                inp = spec.input_cost_per_token if inp is None else inp
                out = spec.output_cost_per_token if out is None else out
        elif endpoint.api_base is None or endpoint.source != "models.yaml":
            info = model_info(endpoint.litellm_model) or {}
            if inp is None and isinstance(info.get("input_cost_per_token"), int | float):
                inp = float(info["input_cost_per_token"])
            if out is None and isinstance(info.get("output_cost_per_token"), int | float):
                out = float(info["output_cost_per_token"])
    if inp is None or out is None:
        return None
    return prompt_tokens * inp + completion_tokens * out


# ---------------------------------------------------------------------------------------
# secrets


_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{4,}"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
    re.compile(
        r"(?i)((?:api[_-]?key|x-api-key|token|authorization)[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9._~+/=\-]{8,}"
    ),
]


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with key values, Bearer tokens and sk-... patterns replaced by `***`."""
    known = {s for s in secrets if s and len(s) >= 4}
    for env in PROVIDER_KEY_ENV.values():
        value = os.environ.get(env)
        if value and len(value) >= 4:
            known.add(value)
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


# ---------------------------------------------------------------------------------------
# litellm


_configured = False
_config_lock = threading.Lock()


def _litellm() -> Any:
    """litellm, imported once and set up for low per-call overhead."""
    global _configured
    from promptyard._env import configure_offline_defaults

    configure_offline_defaults()
    os.environ.setdefault("LITELLM_TELEMETRY", "False")
    import litellm

    if not _configured:
        with _config_lock:
            if not _configured:
                _tune(litellm)
                _configured = True
    return litellm


def _tune(litellm: Any) -> None:
    """Switch off what costs time per call and that we do ourselves (cost, retries, logs)."""
    litellm.suppress_debug_info = True
    litellm.telemetry = False
    # True would deep-copy every request's messages to redact them for loggers we do not have
    litellm.turn_off_message_logging = False
    litellm.disable_streaming_logging = True
    litellm.drop_params = True
    litellm.num_retries = 0
    litellm.set_verbose = False
    # tokens missing from a response are counted by `_success` with tiktoken, once
    litellm.disable_token_counter = True
    import logging

    logging.getLogger("LiteLLM").setLevel(logging.ERROR)  # no per-model warnings on stderr
    # We price calls ourselves (`estimate_cost`); litellm's own per-call pricing walks its
    # model map (and, for a model it does not know, every fallback rule) on every response:
    # about a quarter of its per-call CPU time.
    litellm.response_cost_calculator = _no_litellm_cost


def _no_litellm_cost(**_: Any) -> None:
    return None


def _skip_litellm_logging() -> Any:
    """Mark the call as litellm-internal: no success/failure logging payloads are built.

    Promptyard registers no litellm callbacks and records every call itself, so the
    logging objects litellm would build per call (a standard payload, a redacted copy of
    the messages, a zero-cost diagnostic) are pure overhead. Returns a reset function.
    """
    try:
        from litellm._internal_context import is_internal_call
    except ImportError:  # a litellm without the switch: log as usual
        return lambda: None
    token = is_internal_call.set(True)
    return lambda: is_internal_call.reset(token)


_registered: set[str] = set()


def _register_model(litellm: Any, endpoint: ModelEndpoint) -> None:
    """Tell litellm about a model its map lacks (simulator, local servers), once.

    litellm looks a model up in its map several times per call; for a model it does not
    know, each look-up walks every fallback rule (about 1.7 ms here). A registered model is
    a direct hit. The prices given are only for litellm's bookkeeping: Promptyard prices
    calls itself and reports an unknown price as None.
    """
    model = endpoint.litellm_model
    if model in _registered:
        return
    _registered.add(model)
    if model_info(model) is not None:
        return
    provider = endpoint.provider if endpoint.provider and "/" in model else "openai"
    spec = SIMULATED_MODELS.get(endpoint.name) if endpoint.simulated else None
    try:
        litellm.register_model(
            {
                model: {
                    "litellm_provider": provider,
                    "mode": "chat",
                    "input_cost_per_token": endpoint.input_cost_per_token or 0.0,
                    "output_cost_per_token": endpoint.output_cost_per_token or 0.0,
                    "max_input_tokens": spec.context_window if spec else None,
                }
            }
        )
    except Exception:  # registration is an optimization only
        pass


def _call_kwargs(call: ModelCall, key: str | None) -> dict[str, Any]:
    endpoint = call.endpoint
    api_base = endpoint.api_base
    if endpoint.simulated and not api_base:
        from promptyard.models.simulator import ensure_simulator

        api_base = ensure_simulator()
    kwargs: dict[str, Any] = dict(call.parameters)
    kwargs.update(
        model=endpoint.litellm_model,
        messages=call.messages,
        timeout=call.timeout_s,
        max_retries=0,
        num_retries=0,
    )
    # the repeat index travels in a header: providers ignore it, the simulator varies on it
    headers = dict(kwargs.get("extra_headers") or {})
    headers[REPEAT_HEADER] = str(call.repeat)
    kwargs["extra_headers"] = headers
    if api_base:
        kwargs["api_base"] = api_base
    if key:
        kwargs["api_key"] = key
    elif api_base:
        kwargs["api_key"] = "no-key"  # local servers take any key; the OpenAI client needs one
    if call.stream:
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
    return kwargs


# Parameters an OpenAI-compatible server takes as they are (litellm's OpenAI mapping passes
# them through unchanged for a model it has no special rules for).
_FAST_PARAMS = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "seed",
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "response_format",
        "n",
        "logit_bias",
        "user",
        "logprobs",
        "top_logprobs",
    }
)


def _fast_path(call: ModelCall) -> bool:
    """Whether `call` can skip `litellm.acompletion`'s request building (see `_fast_acompletion`).

    Only non-streaming calls to an OpenAI-compatible server litellm has no rules for (the
    simulator, a models.yaml `openai/...` endpoint with an `api_base`: vLLM, llama.cpp,
    LM Studio, Ollama's /v1, a LiteLLM proxy), with plain parameters. Everything else,
    and every call when `PROMPTYARD_LITELLM_FAST_PATH=0`, takes `litellm.acompletion`.
    """
    endpoint = call.endpoint
    return (
        not call.stream
        and endpoint.litellm_model.startswith("openai/")
        and bool(endpoint.api_base or endpoint.simulated)
        and model_info(endpoint.litellm_model) is None
        and call.parameters.keys() <= _FAST_PARAMS
        and isinstance(call.parameters.get("response_format", {}), dict)
        and os.environ.get("PROMPTYARD_LITELLM_FAST_PATH", "1") != "0"
        and _fast_handler() is not None
    )


@lru_cache(maxsize=1)
def _fast_handler() -> tuple[Any, Any, Any] | None:
    """litellm's internals the fast path calls, or None (fast path off) if they moved.

    Internal API: pyproject.toml pins litellm to 1.110.x and
    tests/test_providers.py::test_the_litellm_internals_of_the_fast_path_exist fails
    when a litellm upgrade removes or renames them.
    """
    import inspect
    import logging

    try:
        from litellm.litellm_core_utils.exception_mapping_utils import exception_type
        from litellm.litellm_core_utils.litellm_logging import Logging
        from litellm.main import openai_chat_completions

        params = inspect.signature(openai_chat_completions.completion).parameters
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        logging.getLogger(__name__).warning("litellm fast path off: %s", exc)
        return None
    needed = {"model", "messages", "headers", "model_response", "api_key", "api_base"}
    needed |= {"acompletion", "logging_obj", "optional_params", "litellm_params", "timeout"}
    needed |= {"client", "custom_llm_provider", "drop_params"}
    if not needed <= params.keys():
        logging.getLogger(__name__).warning("litellm fast path off: handler signature changed")
        return None
    return openai_chat_completions, Logging, exception_type


async def _fast_acompletion(litellm: Any, kwargs: dict[str, Any]) -> Any:
    """litellm's OpenAI chat handler, called the way `litellm.completion` calls it.

    `litellm.acompletion` spends about 1.5 ms of CPU per call before and after the HTTP
    request (a worker-thread hop into `completion()`, provider and parameter mapping,
    model-map look-ups, message rewriting, logging objects, response metadata): close
    to the `openai` SDK's whole call. For an OpenAI-compatible endpoint that mapping is
    the identity, so this goes straight to the handler `completion()` picks for it
    (`litellm.main.openai_chat_completions`: litellm's pooled clients and transport, its
    request transform and response conversion) and maps errors with litellm's
    `exception_type`, as `acompletion` does.
    """
    import datetime
    import uuid

    handler = _fast_handler()
    assert handler is not None  # checked by `_fast_path`
    openai_chat_completions, logging_cls, exception_type = handler
    model = kwargs["model"].split("/", 1)[1]
    messages = kwargs["messages"]
    optional_params = {k: v for k, v in kwargs.items() if k in _FAST_PARAMS}
    optional_params["max_retries"] = 0
    logging_obj = logging_cls(
        model=model,
        messages=messages,
        stream=False,
        call_type="acompletion",
        start_time=datetime.datetime.now(),
        litellm_call_id=str(uuid.uuid4()),
        function_id="",
    )
    try:
        return await openai_chat_completions.completion(
            model=model,
            messages=messages,
            headers=kwargs["extra_headers"],
            model_response=litellm.ModelResponse(),
            api_key=kwargs.get("api_key"),
            api_base=kwargs.get("api_base"),
            acompletion=True,
            logging_obj=logging_obj,
            optional_params=optional_params,
            litellm_params={},
            timeout=float(kwargs["timeout"]),
            client=None,
            custom_llm_provider="openai",
            drop_params=True,
        )
    except Exception as exc:
        raise exception_type(
            model=model,
            custom_llm_provider="openai",
            original_exception=exc,
            completion_kwargs={"model": model, "messages": messages, **optional_params},
            extra_kwargs={},
        ) from exc


async def complete(call: ModelCall, on_delta: Callable[[str], None] | None = None) -> Completion:
    """Send `call`; return its `Completion`. Provider failures come back as `error_kind`."""
    litellm = _litellm()
    _register_model(litellm, call.endpoint)
    key = call.api_key or api_key(call.endpoint)
    kwargs = _call_kwargs(call, key)
    started = time.perf_counter()
    ttft: float | None = None
    text_parts: list[str] = []
    restore_logging = _skip_litellm_logging()
    try:
        async with asyncio.timeout(call.timeout_s + 5):  # a guard on top of the client timeout
            if call.stream:
                finish, usage, raw = None, None, None
                response = await litellm.acompletion(**kwargs)
                async for chunk in response:
                    choices = getattr(chunk, "choices", None) or []
                    if choices:
                        delta = getattr(choices[0], "delta", None)
                        piece = getattr(delta, "content", None) if delta is not None else None
                        if piece:
                            if ttft is None:
                                ttft = (time.perf_counter() - started) * 1000
                            text_parts.append(piece)
                            if on_delta is not None:
                                on_delta(piece)
                        finish = getattr(choices[0], "finish_reason", None) or finish
                    chunk_usage = getattr(chunk, "usage", None)
                    if chunk_usage:
                        usage = chunk_usage
                    raw = chunk
                latency = (time.perf_counter() - started) * 1000
                text = "".join(text_parts)
                if finish is None:
                    return _failure(
                        call,
                        "invalid_response",
                        "the stream ended before the model finished (no finish_reason)",
                        latency,
                        key,
                        text=text or None,
                        ttft=ttft,
                    )
                return _success(
                    call, text, finish, usage, latency, ttft, _raw_dict(raw), streamed=True
                )
            if _fast_path(call):
                response = await _fast_acompletion(litellm, kwargs)
            else:
                response = await litellm.acompletion(**kwargs)
            latency = (time.perf_counter() - started) * 1000
            choices = getattr(response, "choices", None) or []
            if not choices:
                return _failure(
                    call, "invalid_response", "the response has no choices", latency, key
                )
            message = getattr(choices[0], "message", None)
            answer: str | None = getattr(message, "content", None)
            finish = getattr(choices[0], "finish_reason", None)
            return _success(
                call,
                answer,
                finish,
                getattr(response, "usage", None),
                latency,
                None,
                _raw_dict(response),
            )
    except Exception as exc:  # every provider failure becomes an error kind
        latency = (time.perf_counter() - started) * 1000
        kind = error_kind(exc)
        return _failure(
            call,
            kind,
            _describe(exc),
            latency,
            key,
            retry_after=retry_after(exc),
            text="".join(text_parts) or None,
            ttft=ttft,
        )
    finally:
        restore_logging()


def _raw_dict(obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        try:
            data = dump()
        except Exception:
            return None
        if isinstance(data, dict):
            data.pop("_hidden_params", None)
            return data
    return None


def _usage_int(usage: Any, name: str) -> int | None:
    value = getattr(usage, name, None) if usage is not None else None
    if value is None and isinstance(usage, dict):
        value = usage.get(name)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _success(
    call: ModelCall,
    text: str | None,
    finish: str | None,
    usage: Any,
    latency: float,
    ttft: float | None,
    raw: dict[str, Any] | None,
    streamed: bool = False,
) -> Completion:
    prompt_tokens = _usage_int(usage, "prompt_tokens")
    completion_tokens = _usage_int(usage, "completion_tokens")
    estimated = False
    model = call.endpoint.litellm_model
    # no usage, or zeros filled in for a missing usage: count with tiktoken
    if not prompt_tokens:
        prompt_tokens, estimated = count_tokens(call.messages, model), True
    if completion_tokens is None or (completion_tokens == 0 and text):
        completion_tokens, estimated = count_tokens(text or "", model), True
    filtered = finish == "content_filter"  # answered, but the provider withheld the output
    return Completion(
        text=text,
        finish_reason=finish,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=estimate_cost(call.endpoint, prompt_tokens, completion_tokens),
        latency_ms=latency,
        ttft_ms=ttft,
        raw=raw,
        tokens_estimated=estimated,
        error_kind="content_filter" if filtered else None,
        error_message="the provider's content filter withheld the output" if filtered else None,
    )


def _failure(
    call: ModelCall,
    kind: str,
    message: str,
    latency: float,
    key: str | None,
    retry_after: float | None = None,
    text: str | None = None,
    ttft: float | None = None,
) -> Completion:
    return Completion(
        text=text,
        finish_reason=None,
        prompt_tokens=None,
        completion_tokens=None,
        cost_usd=None,
        latency_ms=latency,
        ttft_ms=ttft,
        error_kind=kind,
        error_message=scrub(message, [key, call.api_key])[:2000],
        retry_after_s=retry_after,
    )


# ---------------------------------------------------------------------------------------
# errors


_BY_CLASS = [
    ("ContextWindowExceededError", "context_window"),
    ("ContentPolicyViolationError", "content_filter"),
    ("RateLimitError", "rate_limit"),
    ("Timeout", "timeout"),
    ("APITimeoutError", "timeout"),
    ("TimeoutError", "timeout"),
    ("AuthenticationError", "auth"),
    ("PermissionDeniedError", "auth"),
    ("JSONDecodeError", "invalid_response"),
    ("APIResponseValidationError", "invalid_response"),
    ("InternalServerError", "server"),
    ("ServiceUnavailableError", "server"),
    ("BadGatewayError", "server"),
    ("APIConnectionError", "connection"),
    ("BadRequestError", "bad_request"),
    ("NotFoundError", "bad_request"),
    ("UnprocessableEntityError", "bad_request"),
    ("UnsupportedParamsError", "bad_request"),
]
_INVALID_HINTS = re.compile(
    r"(?i)(json ?decode|expecting value|unterminated string|invalid json|expecting ',' delimiter|"
    r"expecting property name|extra data|not valid json|unexpected eof|incomplete chunked|"
    r"stream ended before|midstreamfallback)"
)
_CONNECTION_HINTS = re.compile(
    r"(?i)(connection error|cannot connect|connection refused|connect call failed|"
    r"name or service not known|server disconnected|connection reset)"
)


def error_kind(exc: BaseException) -> str:
    """The error kind of an exception raised by litellm (or the transport under it)."""
    names = [c.__name__ for c in type(exc).__mro__]
    message = f"{type(exc).__name__} {exc}"
    if {"Timeout", "APITimeoutError", "TimeoutError"}.intersection(names):
        return "timeout"
    wrapped = {"APIConnectionError", "APIError", "InternalServerError", "MidStreamFallbackError"}
    if wrapped.intersection(names) and "RateLimitError" not in names:
        if _INVALID_HINTS.search(message) or _caused_by(exc, ValueError):
            return "invalid_response"
        if _CONNECTION_HINTS.search(message) or _caused_by(exc, OSError):
            return "connection"
    for cls_name, kind in _BY_CLASS:
        if cls_name in names:
            if kind == "bad_request":
                low = message.lower()
                if "context length" in low or "context_length_exceeded" in low:
                    return "context_window"
                if "content_policy" in low or "safety system" in low:
                    return "content_filter"
            return kind
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        if status == 429:
            return "rate_limit"
        if status in (401, 403):
            return "auth"
        if status >= 500:
            return "server"
        if status >= 400:
            return "bad_request"
    if isinstance(exc, ValueError):
        return "invalid_response"
    if isinstance(exc, OSError | ConnectionError):
        return "connection"
    return "server"


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen = 0
    cur: BaseException | None = exc.__cause__ or exc.__context__
    while cur is not None and seen < 8:
        if isinstance(cur, kind) and not isinstance(cur, UnicodeError):
            return True
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return False


def _describe(exc: BaseException) -> str:
    """`Kind: message`, without litellm's repeated class-name prefixes."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    message = re.sub(r"\blitellm\.(\w+)", r"\1", message)
    message = re.sub(r"^(?:\w+Error:\s*|\w*Exception\s*-\s*)+", "", message)
    message = message.split(" Original exception:", 1)[0]
    return f"{type(exc).__name__}: {message}"


def retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait (Retry-After / retry-after-ms), if it said."""
    headers: Any = None
    response = getattr(exc, "response", None)
    if response is not None:
        headers = getattr(response, "headers", None)
    if not headers:
        headers = getattr(exc, "litellm_response_headers", None) or getattr(exc, "headers", None)
    if not headers:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000)
        value = headers.get("retry-after")
    except (AttributeError, TypeError, ValueError):
        return None
    return _parse_retry_after(value)


def _parse_retry_after(value: Any) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
