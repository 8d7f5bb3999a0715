"""Decode an OTLP/HTTP traces body (protobuf or JSON, gzip or not) into plain spans.

`decode_traces(body, content_type, content_encoding)` returns `RawSpan`s or raises
`OtlpError` with the reason; nothing is half-decoded: one bad span refuses the body.
Content-Encoding is undone by the server first. OTLP JSON follows the spec: lowerCamelCase field names (snake_case is accepted too),
trace and span ids as hex, 64-bit integers as numbers or strings, enums as integers.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from promptyard.errors import PromptyardError

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_HEX_TRACE = re.compile(r"^[0-9a-fA-F]{32}$")
_HEX_SPAN = re.compile(r"^[0-9a-fA-F]{16}$")
_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
_STATUSES = ("unset", "ok", "error")
_MAX_DEPTH = 16  # nested arrays / kvlists in one attribute value


class OtlpError(PromptyardError):
    """An OTLP body that cannot be decoded; the message says what and where."""


class UnsupportedMediaType(OtlpError):
    """A Content-Type the receiver does not speak (HTTP 415)."""


@dataclass
class RawSpan:
    """One span as OTLP sent it: hex ids, kind and status as words, attributes as values."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status: str
    status_message: str | None
    attributes: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    resource: dict[str, Any] = field(default_factory=dict)
    scope: str | None = None


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header, lower case ('' when absent)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode_traces(body: bytes, content_type: str | None, limit: int) -> list[RawSpan]:
    """Every span of an ExportTraceServiceRequest body; OtlpError says why not."""
    kind = media_type(content_type)
    if kind == PROTOBUF:
        return _from_protobuf(body)
    if kind == JSON:
        return _from_json(body)
    raise UnsupportedMediaType(
        f"Content-Type {kind or '(none)'!r} is not supported; send {PROTOBUF} or {JSON}"
    )


# -- protobuf ----------------------------------------------------------------------------


def _pb_value(v: Any, depth: int = 0) -> Any:
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        if depth > _MAX_DEPTH:
            raise OtlpError("an attribute value is nested too deeply")
        return [_pb_value(x, depth + 1) for x in v.array_value.values]
    if which == "kvlist_value":
        if depth > _MAX_DEPTH:
            raise OtlpError("an attribute value is nested too deeply")
        return {kv.key: _pb_value(kv.value, depth + 1) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return getattr(v, which)


def _pb_attrs(kvs: Any) -> dict[str, Any]:
    return {kv.key: _pb_value(kv.value) for kv in kvs}


def _from_protobuf(body: bytes) -> list[RawSpan]:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise OtlpError(
            f"the body is not a valid ExportTraceServiceRequest protobuf: {exc}"
        ) from None
    spans: list[RawSpan] = []
    for ri, rs in enumerate(request.resource_spans):
        resource = _pb_attrs(rs.resource.attributes)
        for si, ss in enumerate(rs.scope_spans):
            scope = ss.scope.name or None
            for pi, s in enumerate(ss.spans):
                where = f"resourceSpans[{ri}].scopeSpans[{si}].spans[{pi}]"
                trace_id = _id_bytes(s.trace_id, 16, f"{where}.traceId")
                span_id = _id_bytes(s.span_id, 8, f"{where}.spanId")
                parent = _id_bytes(s.parent_span_id, 8, f"{where}.parentSpanId", optional=True)
                spans.append(
                    RawSpan(
                        trace_id=trace_id,
                        span_id=span_id,
                        parent_span_id=parent,
                        name=s.name,
                        kind=_KINDS[s.kind] if 0 <= s.kind < len(_KINDS) else "unspecified",
                        start_ns=s.start_time_unix_nano,
                        end_ns=s.end_time_unix_nano,
                        status=_STATUSES[s.status.code] if s.status.code < 3 else "unset",
                        status_message=s.status.message or None,
                        attributes=_pb_attrs(s.attributes),
                        events=[
                            {
                                "name": e.name,
                                "time_ns": e.time_unix_nano,
                                "attributes": _pb_attrs(e.attributes),
                            }
                            for e in s.events
                        ],
                        resource=resource,
                        scope=scope,
                    )
                )
    return spans


def _id_bytes(raw: bytes, size: int, where: str, optional: bool = False) -> Any:
    if not raw and optional:
        return None
    if len(raw) != size or not any(raw):
        raise OtlpError(f"{where}: expected {size} bytes, not all zero; got {len(raw)} bytes")
    return raw.hex()


# -- JSON --------------------------------------------------------------------------------


def _get(obj: dict[str, Any], camel: str, default: Any = None) -> Any:
    if camel in obj:
        return obj[camel]
    snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel)
    return obj.get(snake, default)


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise OtlpError(f"{where}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    if value is None:
        return 0
    raise OtlpError(f"{where}: expected an integer, got {value!r}")


def _json_value(v: Any, where: str, depth: int = 0) -> Any:
    if not isinstance(v, dict):
        raise OtlpError(f"{where}: expected an AnyValue object, got {v!r}"[:200])
    if depth > _MAX_DEPTH:
        raise OtlpError(f"{where}: nested too deeply")
    for key in ("stringValue", "string_value"):
        if key in v:
            return str(v[key])
    for key in ("boolValue", "bool_value"):
        if key in v:
            return bool(v[key])
    for key in ("intValue", "int_value"):
        if key in v:
            return _int(v[key], where)
    for key in ("doubleValue", "double_value"):
        if key in v:
            try:
                return float(v[key])
            except (TypeError, ValueError):
                raise OtlpError(f"{where}: expected a number, got {v[key]!r}") from None
    for key in ("arrayValue", "array_value"):
        if key in v:
            values = (v[key] or {}).get("values") or []
            return [_json_value(x, f"{where}[{i}]", depth + 1) for i, x in enumerate(values)]
    for key in ("kvlistValue", "kvlist_value"):
        if key in v:
            return _json_attrs((v[key] or {}).get("values") or [], where, depth + 1)
    for key in ("bytesValue", "bytes_value"):
        if key in v:
            return str(v[key])
    return None  # an empty AnyValue


def _json_attrs(items: Any, where: str, depth: int = 0) -> dict[str, Any]:
    if not isinstance(items, list):
        raise OtlpError(f"{where}.attributes: expected a list of key/value objects")
    out: dict[str, Any] = {}
    for i, kv in enumerate(items):
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise OtlpError(f"{where}.attributes[{i}]: expected an object with a string 'key'")
        out[kv["key"]] = _json_value(kv.get("value") or {}, f"{where}.attributes[{i}]", depth)
    return out


def _hex(value: Any, pattern: re.Pattern[str], where: str, optional: bool = False) -> Any:
    if optional and value in (None, ""):
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value) or not value.strip("0"):
        size = 32 if pattern is _HEX_TRACE else 16
        raise OtlpError(f"{where}: expected {size} hex digits, not all zero; got {value!r}"[:200])
    return value.lower()


def _enum(value: Any, names: tuple[str, ...], prefix: str, where: str) -> str:
    if value is None:
        return names[0]
    if isinstance(value, str) and not value.isdigit():
        word = value.upper().removeprefix(prefix).lower()
        if word in names:
            return word
        raise OtlpError(f"{where}: unknown value {value!r}")
    number = _int(value, where)
    return names[number] if 0 <= number < len(names) else names[0]


def _list(obj: dict[str, Any], camel: str, where: str) -> list[Any]:
    value = _get(obj, camel) or []
    if not isinstance(value, list):
        raise OtlpError(f"{where}.{camel}: expected a list")
    return value


def _from_json(body: bytes) -> list[RawSpan]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OtlpError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OtlpError("the body must be a JSON object with 'resourceSpans'")
    spans: list[RawSpan] = []
    for ri, rs in enumerate(_list(data, "resourceSpans", "body")):
        rwhere = f"resourceSpans[{ri}]"
        if not isinstance(rs, dict):
            raise OtlpError(f"{rwhere}: expected an object")
        res = _get(rs, "resource") or {}
        resource = _json_attrs(res.get("attributes") or [], f"{rwhere}.resource")
        for si, ss in enumerate(_list(rs, "scopeSpans", rwhere)):
            swhere = f"{rwhere}.scopeSpans[{si}]"
            if not isinstance(ss, dict):
                raise OtlpError(f"{swhere}: expected an object")
            scope = (_get(ss, "scope") or {}).get("name") or None
            for pi, s in enumerate(_list(ss, "spans", swhere)):
                spans.append(_json_span(s, f"{swhere}.spans[{pi}]", resource, scope))
    return spans


def _json_span(s: Any, where: str, resource: dict[str, Any], scope: str | None) -> RawSpan:
    if not isinstance(s, dict):
        raise OtlpError(f"{where}: expected an object")
    status = _get(s, "status") or {}
    if not isinstance(status, dict):
        raise OtlpError(f"{where}.status: expected an object")
    events = []
    for ei, e in enumerate(_list(s, "events", where)):
        if not isinstance(e, dict):
            raise OtlpError(f"{where}.events[{ei}]: expected an object")
        events.append(
            {
                "name": str(e.get("name") or ""),
                "time_ns": _int(_get(e, "timeUnixNano"), f"{where}.events[{ei}].timeUnixNano"),
                "attributes": _json_attrs(e.get("attributes") or [], f"{where}.events[{ei}]"),
            }
        )
    name = s.get("name")
    if name is not None and not isinstance(name, str):
        raise OtlpError(f"{where}.name: expected a string")
    return RawSpan(
        trace_id=_hex(_get(s, "traceId"), _HEX_TRACE, f"{where}.traceId"),
        span_id=_hex(_get(s, "spanId"), _HEX_SPAN, f"{where}.spanId"),
        parent_span_id=_hex(
            _get(s, "parentSpanId"), _HEX_SPAN, f"{where}.parentSpanId", optional=True
        ),
        name=name or "",
        kind=_enum(s.get("kind"), _KINDS, "SPAN_KIND_", f"{where}.kind"),
        start_ns=_int(_get(s, "startTimeUnixNano"), f"{where}.startTimeUnixNano"),
        end_ns=_int(_get(s, "endTimeUnixNano"), f"{where}.endTimeUnixNano"),
        status=_enum(status.get("code"), _STATUSES, "STATUS_CODE_", f"{where}.status.code"),
        status_message=status.get("message") or None,
        attributes=_json_attrs(s.get("attributes") or [], where),
        events=events,
        resource=resource,
        scope=scope,
    )


def encode_status(code: int, message: str) -> bytes:
    """A google.rpc.Status protobuf (code, message): the OTLP error body for protobuf clients."""
    text = message.encode()

    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            byte = n & 0x7F
            n >>= 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    return b"\x08" + varint(code) + b"\x12" + varint(len(text)) + text
