"""What OpenAI refuses with a 400, refused the same way: the message, `param` and `code` of
its validation errors, so a strict client sees the error it would see from OpenAI.

Unknown request fields are accepted (litellm and the SDKs add their own); the known ones
are checked for type and range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_RANGES: dict[str, tuple[float, float, bool]] = {  # name: (min, max, integer)
    "temperature": (0, 2, False),
    "top_p": (0, 1, False),
    "presence_penalty": (-2, 2, False),
    "frequency_penalty": (-2, 2, False),
    "n": (1, 128, True),
    "max_tokens": (1, 1_000_000, True),
    "max_completion_tokens": (1, 1_000_000, True),
    "top_logprobs": (0, 20, True),
}
_TOOL_CHOICES = ("none", "auto", "required")


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: OpenAI's `error` object, and the HTTP status."""

    message: str
    param: str | None = None
    code: str | None = None
    status: int = 400

    def body(self) -> dict[str, Any]:
        """The JSON body OpenAI sends for this refusal."""
        return {
            "error": {
                "message": self.message,
                "type": "invalid_request_error",
                "param": self.param,
                "code": self.code,
            }
        }


def _missing(param: str) -> Refusal:
    return Refusal(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def _wrong_type(param: str, expected: str, value: Any) -> Refusal:
    got = {bool: "a boolean", str: "a string", list: "an array", dict: "an object"}.get(
        type(value), "a number" if isinstance(value, int | float) else "null"
    )
    return Refusal(
        f"Invalid type for '{param}': expected {expected}, but got {got} instead.",
        param,
        "invalid_type",
    )


def _check_range(name: str, value: Any) -> Refusal | None:
    low, high, integer = _RANGES[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _wrong_type(name, "an integer" if integer else "a decimal", value)
    if integer and not float(value).is_integer():
        return _wrong_type(name, "an integer", value)
    kind = "integer" if integer else "decimal"
    shown = int(value) if integer else value
    if value < low:
        return Refusal(
            f"Invalid '{name}': {kind} below minimum value. Expected a value >= {low:g}, "
            f"but got {shown} instead.",
            name,
            f"{kind}_below_min_value",
        )
    if value > high:
        return Refusal(
            f"Invalid '{name}': {kind} above maximum value. Expected a value <= {high:g}, "
            f"but got {shown} instead.",
            name,
            f"{kind}_above_max_value",
        )
    return None


def check_sampling(body: dict[str, Any]) -> Refusal | None:
    """The first out-of-range or mistyped sampling parameter (temperature, n, max_tokens...)."""
    for name in _RANGES:
        if body.get(name) is not None:
            refusal = _check_range(name, body[name])
            if refusal:
                return refusal
    stop = body.get("stop")
    if stop is not None:
        if isinstance(stop, str):
            stop = [stop]
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            return _wrong_type("stop", "a string or an array of strings", body["stop"])
        if len(stop) > 4:
            return Refusal(
                f"Invalid 'stop': array too long. Expected an array with maximum length 4, "
                f"but got an array with length {len(stop)} instead.",
                "stop",
                "array_above_max_length",
            )
    return None


def _check_message(i: int, message: Any) -> Refusal | None:
    where = f"messages[{i}]"
    if not isinstance(message, dict):
        return _wrong_type(where, "an object", message)
    role = message.get("role")
    if role is None:
        return _missing(f"{where}.role")
    if role not in ROLES:
        supported = ", ".join(f"'{r}'" for r in ROLES[:-1]) + f", and '{ROLES[-1]}'"
        return Refusal(
            f"Invalid value: '{role}'. Supported values are: {supported}.",
            f"{where}.role",
            "invalid_value",
        )
    content = message.get("content")
    may_be_empty = role == "assistant" and (message.get("tool_calls") or "content" in message)
    if content is None and not may_be_empty:
        return _missing(f"{where}.content")
    if content is not None and not isinstance(content, str | list):
        return _wrong_type(f"{where}.content", "one of a string or array of objects", content)
    if role == "tool" and not message.get("tool_call_id"):
        return _missing(f"{where}.tool_call_id")
    return None


def _check_tools(body: dict[str, Any]) -> Refusal | None:
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if tools is not None:
        if not isinstance(tools, list):
            return _wrong_type("tools", "an array", tools)
        for i, tool in enumerate(tools):
            fn = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(fn, dict) or tool.get("type", "function") != "function":
                return _missing(f"tools[{i}].function")
            if not isinstance(fn.get("name"), str) or not fn["name"]:
                return _missing(f"tools[{i}].function.name")
    if choice is None:
        return None
    if not tools and choice != "none":
        return Refusal(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified.",
            "tool_choice",
        )
    if isinstance(choice, str):
        if choice not in _TOOL_CHOICES:
            return Refusal(
                f"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'.",
                "tool_choice",
                "invalid_value",
            )
        return None
    name = (choice.get("function") or {}).get("name") if isinstance(choice, dict) else None
    if not isinstance(name, str):
        return _missing("tool_choice.function.name")
    if name not in {t["function"]["name"] for t in tools or []}:
        return Refusal(
            f"Invalid value for 'tool_choice': function '{name}' is not one of the 'tools'.",
            "tool_choice",
        )
    return None


def check_chat(body: dict[str, Any]) -> Refusal | None:
    """Why OpenAI would refuse this chat request, or None when it is well formed."""
    if not body.get("model"):
        return _missing("model")
    messages = body.get("messages")
    if messages is None:
        return _missing("messages")
    if not isinstance(messages, list):
        return _wrong_type("messages", "an array", messages)
    if not messages:
        return Refusal(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            "messages",
            "empty_array",
        )
    for i, message in enumerate(messages):
        refusal = _check_message(i, message)
        if refusal:
            return refusal
    refusal = check_sampling(body) or _check_tools(body)
    if refusal:
        return refusal
    if body.get("logprobs") is not None and not isinstance(body["logprobs"], bool):
        return _wrong_type("logprobs", "a boolean", body["logprobs"])
    if body.get("top_logprobs") is not None and not body.get("logprobs"):
        return Refusal(
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when "
            "'top_logprobs' is specified.",
            "top_logprobs",
        )
    fmt = body.get("response_format")
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind not in ("text", "json_object", "json_schema"):
            return Refusal(
                f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', "
                "and 'json_schema'.",
                "response_format.type",
                "invalid_value",
            )
    return None
