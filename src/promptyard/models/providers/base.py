"""The provider contract: one `ModelCall` in, one `Completion` out, failures as an `ErrorKind`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from promptyard.models.endpoints import ModelEndpoint


class ErrorKind(StrEnum):
    """Why a call failed; stored with the cell, so the values never change."""

    RATE_LIMIT = "rate_limit"
    TIMEOUT = "timeout"
    AUTH = "auth"
    BAD_REQUEST = "bad_request"
    CONTEXT_WINDOW = "context_window"
    CONTENT_FILTER = "content_filter"
    SERVER = "server"
    CONNECTION = "connection"
    INVALID_RESPONSE = "invalid_response"
    GUARDRAIL = "guardrail"  # a guardrail policy blocked the input or the answer


#: The kinds worth trying again: the same request may well succeed a moment later.
RETRYABLE_KINDS = frozenset(
    {
        ErrorKind.RATE_LIMIT,
        ErrorKind.TIMEOUT,
        ErrorKind.SERVER,
        ErrorKind.CONNECTION,
        ErrorKind.INVALID_RESPONSE,
    }
)


class ProviderKind(StrEnum):
    """The built-in providers; a plugin's provider kind is the name of its entry point."""

    OPENAI_COMPATIBLE = "openai_compatible"  # the lean aiohttp path against an api_base
    LITELLM = "litellm"  # everything else, through litellm's public API


@dataclass(frozen=True)
class ModelCall:
    """One request to one model. `repeat` is sent in the `X-Promptyard-Repeat` header."""

    endpoint: ModelEndpoint
    messages: list[dict[str, str]]
    parameters: dict[str, Any] = field(default_factory=dict)
    repeat: int = 0
    timeout_s: float = 60.0
    stream: bool = False
    # The key to send; None: the endpoint's key, read when the call is made; ""
    # (`keys.NO_KEY`): the caller looked it up and there is none.
    api_key: str | None = field(default=None, repr=False)
    # OpenAI-format function tools; None: whatever `parameters["tools"]` says (if anything)
    tools: list[dict[str, Any]] | None = None


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
    error_kind: str | None = None  # an `ErrorKind` value
    error_message: str | None = None
    raw: dict[str, Any] | None = None
    retry_after_s: float | None = None
    cached: bool = False
    tokens_estimated: bool = False  # tokens counted with tiktoken: the provider gave none
    # the tools the model called: [{"id", "type": "function", "function": {"name", "arguments"}}]
    tool_calls: list[dict[str, Any]] | None = None
    # what a guardrail policy did to the call (promptyard.guardrails.GuardRecord.to_dict())
    guardrail: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True when the model answered (an answer withheld by a filter is not ok)."""
        return self.error_kind is None

    @property
    def retryable(self) -> bool:
        """True when the same call may succeed if sent again."""
        return self.error_kind in RETRYABLE_KINDS

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, for storing with a cell."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Completion:
        """The completion `to_dict` gave (unknown keys are ignored)."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


@runtime_checkable
class Provider(Protocol):
    """Makes calls to one endpoint. A plugin's factory returns one: `(endpoint) -> Provider`.

    `complete` returns failures as a `Completion` with an `error_kind`; an exception it
    raises anyway is turned into one by `providers.complete`.
    """

    async def complete(
        self, call: ModelCall, on_delta: Callable[[str], None] | None = None
    ) -> Completion: ...


#: What a `promptyard.providers` entry point names: builds the provider of one endpoint.
ProviderFactory = Callable[[ModelEndpoint], Provider]
