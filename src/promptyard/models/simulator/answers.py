"""The simulator's answers: deterministic for a request, plausible for its prompt."""

from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any

from promptyard.models.simulator.catalog import SIMULATED_MODELS
from promptyard.models.simulator.schema_values import value_for_schema
from promptyard.prompts.tokens import count_tokens

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]{2,}")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_STOP_TEXT = (
    "the and for are but not you all any can had her was one our out day get has him his "
    "how man new now old see two way who its let put say she too use that with have this "
    "will your from they know want been good much some time very when come here just like "
    "long make many more only over such take than them well were what into also could "
    "would should there their about which these those then other after before being "
    "please text following given write answer return reply using below above each must "
    "keys key json object output input summarize summary sentence sentences words word "
    "classify category label one-word respond response extract fields field explain "
    "describe provide list format valid only"
)
_STOP = frozenset(_STOP_TEXT.split())
_OPENERS = ["", "", "In short, ", "Overall, ", "Essentially, ", "To summarize: "]
_FOLLOW_UPS = [
    "The main points are {a}, {b} and {c}.",
    "It centres on {a}, with {b} as the next concern.",
    "Most of the detail concerns {a} and {b}.",
    "A good next step is to look at {a} before {b}.",
    "{A} matters most here; {b} and {c} follow from it.",
    "Without {a}, {b} would be hard to explain.",
]
_JSON_KEY_HINTS = re.compile(
    r"""(?:keys?|fields?|properties)\s*[:\-]?\s*([`"']?[A-Za-z_][A-Za-z0-9_]*[`"']?(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+)[`"']?[A-Za-z_][A-Za-z0-9_]*[`"']?){0,11})""",
    re.IGNORECASE,
)
_QUOTED_KEY = re.compile(r"""["`]([A-Za-z_][A-Za-z0-9_]{0,40})["`]""")
_OPTIONS = re.compile(
    r"(?:one of|choose from|options?|categories|labels?)\s*[:\-]?\s*\[?([A-Za-z_\- ]+(?:\s*[,/|]\s*(?:or\s+)?[A-Za-z_\- ]+){1,10})",
    re.IGNORECASE,
)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return " ".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    return "" if content is None else str(content)


def _rng_for(
    model: str, messages: list[dict[str, Any]], temperature: float, variant: str
) -> random.Random:
    material = json.dumps([model, messages], sort_keys=True, default=str)
    if temperature > 0:  # at temperature 0 the answer ignores the repeat index, like a real model
        material += f"|{temperature:.3f}|{variant}"
    digest = hashlib.sha256(material.encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _content_words(text: str) -> list[str]:
    """Content words of `text`, most frequent first (ties: first appearance)."""
    counts: dict[str, int] = {}
    for w in _WORD.findall(text):
        lw = w.lower()
        if lw not in _STOP:
            counts[lw] = counts.get(lw, 0) + 1
    order = {w: i for i, w in enumerate(counts)}
    return sorted(counts, key=lambda w: (-counts[w], order[w]))


def _sentences(text: str) -> list[str]:
    out = []
    for m in _SENTENCE.finditer(text):
        sent = " ".join(m.group(0).split())
        head, colon, tail = sent.partition(": ")
        if colon and len(head.split()) <= 5 and len(tail.split()) >= 3:
            sent = tail[0].upper() + tail[1:]  # drop an instruction prefix such as "Text:"
        if len(sent.split()) >= 3 and not sent.endswith(":"):
            out.append(sent if sent[-1] in ".!?" else sent + ".")
    return out


def _pick_sentences(rng: random.Random, text: str, words: list[str], k: int) -> list[str]:
    """The `k` sentences of `text` richest in its key words, in their original order."""
    sents = _sentences(text)
    if not sents:
        return []
    weight = {w: len(words) - i for i, w in enumerate(words[:20])}

    def score(s: str) -> float:
        return sum(weight.get(w.lower(), 0) for w in _WORD.findall(s)) + rng.random() * 6

    best = sorted(range(len(sents)), key=lambda i: -score(sents[i]))[:k]
    return [sents[i] for i in sorted(best)]


def _shorten(sentence: str, limit: int) -> str:
    tokens = sentence.split()
    if len(tokens) <= limit:
        return sentence
    return " ".join(tokens[:limit]).rstrip(",;:") + "."


def _summary(rng: random.Random, text: str, words: list[str], n_sentences: int, limit: int) -> str:
    picked = _pick_sentences(rng, text, words, n_sentences)
    if not picked:
        return _follow_up(rng, words)
    out = [_shorten(s, limit) for s in picked]
    opener = rng.choice(_OPENERS)
    if opener:
        out[0] = opener + out[0][0].lower() + out[0][1:]
    return " ".join(out)


def _follow_up(rng: random.Random, words: list[str]) -> str:
    pool = (words[:8] or ["the request", "the details", "the context"]) + ["the context"]
    a, b, c = rng.sample(pool, 3) if len(pool) >= 3 else (pool * 3)[:3]
    text = rng.choice(_FOLLOW_UPS).format(a=a, b=b, c=c, A=a.capitalize())
    return text


def _json_keys(instructions: str, parameters: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, type) pairs the request asks for: from a json_schema, else from the prompt."""
    fmt = parameters.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {}
        props = schema.get("properties") or {}
        if isinstance(props, dict) and props:
            return [
                (k, str(v.get("type", "string")) if isinstance(v, dict) else "string")
                for k, v in props.items()
            ]
    keys: list[str] = []
    for k in _QUOTED_KEY.findall(instructions):
        if k not in keys and k.lower() != "json":
            keys.append(k)
    if not keys:
        m = _JSON_KEY_HINTS.search(instructions)
        if m:
            for k in re.split(r"\s*,\s*|\s+and\s+|\s+", m.group(1)):
                k = k.strip("`\"' ")
                if k and k not in keys and k.lower() not in {"and", "or"}:
                    keys.append(k)
    return [(k, _guess_type(k)) for k in keys] or [("answer", "string"), ("confidence", "number")]


def _guess_type(key: str) -> str:
    k = key.lower()
    if any(s in k for s in ("score", "rating", "confidence", "count", "number", "probability")):
        return "number"
    if k.startswith(("is_", "has_")) or k in {"valid", "ok", "correct", "passed"}:
        return "boolean"
    if k.endswith(("tags", "keywords", "items", "list", "topics", "entities")):
        return "array"
    return "string"


def _json_value(
    key: str, kind: str, rng: random.Random, text: str, words: list[str], options: list[str]
) -> Any:
    k = key.lower()
    if kind == "integer":
        return rng.randint(1, 5)
    if kind == "number":
        return (
            rng.randint(1, 5) if "rating" in k or "score" in k else round(rng.uniform(0.5, 1.0), 2)
        )
    if kind == "boolean":
        return rng.random() < 0.7
    if kind == "array":
        return words[: rng.randint(2, 4)] or ["none"]
    if kind == "object":
        return {}
    if "sentiment" in k or "tone" in k:
        return rng.choice(["positive", "negative", "neutral"])
    if k in {"category", "label", "intent", "class", "type", "topic"}:
        return rng.choice(options) if options else (words[0] if words else "other")
    if k in {"language", "lang"}:
        return "en"
    if "summary" in k or "answer" in k or "reason" in k or "explanation" in k:
        return _summary(rng, text, words, 1, 20)
    return " ".join(words[rng.randint(0, 2) : rng.randint(3, 6)]) or "unknown"


def _options(instructions: str) -> list[str]:
    m = _OPTIONS.search(instructions)
    if not m:
        return []
    choices = [c.strip(" .") for c in re.split(r"\s*[,/|]\s*(?:or\s+)?", m.group(1))]
    return [c.removeprefix("or ").strip() for c in choices if c.strip(" .")]


def simulated_answer(
    model: str, messages: list[dict[str, Any]], parameters: dict[str, Any], variant: str = ""
) -> str:
    """The simulated model's answer: deterministic for the same inputs, plausible for the prompt.

    A summarize prompt gets sentences taken from its input; a JSON prompt (or `sim-json`)
    gets a JSON object with the keys it names; a classify prompt gets one of its options.
    """
    spec = SIMULATED_MODELS.get(model) or SIMULATED_MODELS["sim-fast"]
    if spec.echo:
        return echo_answer(messages)
    temperature = float(parameters.get("temperature", 1.0) or 0.0)
    rng = _rng_for(model, messages, temperature, variant)
    system = " ".join(
        _content_text(m.get("content")) for m in messages if m.get("role") == "system"
    )
    users = [_content_text(m.get("content")) for m in messages if m.get("role") != "system"]
    last = users[-1] if users else ""
    instructions = f"{system}\n{last}"
    lowered = instructions.lower()
    words = _content_words(last) or _content_words(system)
    fmt = parameters.get("response_format")
    options = _options(instructions)
    wants_json = (
        spec.always_json
        or (isinstance(fmt, dict) and fmt.get("type") in {"json_object", "json_schema"})
        or "json" in lowered
    )
    schema = _response_schema(fmt)
    if schema is not None:
        last_words = words

        def hint(key: str) -> str:
            return str(_json_value(key, "string", rng, last, last_words, options))

        return json.dumps(value_for_schema(schema, rng, hint), ensure_ascii=False)
    if wants_json:
        keys = _json_keys(instructions, parameters)
        named = {k.lower() for k, _ in keys}
        words = [w for w in words if w not in named]
        obj = {k: _json_value(k, t, rng, last, words, options) for k, t in keys}
        return json.dumps(obj, ensure_ascii=False)
    if options and any(
        w in lowered for w in ("classify", "categor", "label", "sentiment", "one of")
    ):
        return rng.choice(options)
    detailed = spec.words > 40
    if any(w in lowered for w in ("summar", "tl;dr", "tldr", "in one sentence", "briefly")):
        one = "one sentence" in lowered or "one line" in lowered
        return _summary(rng, last, words, 1 if one or not detailed else 2, 30 if detailed else 18)
    parts = [_summary(rng, last, words, 2 if detailed else 1, 25)]
    for _ in range(rng.randint(2, 4) if detailed else rng.randint(0, 1)):
        parts.append(_follow_up(rng, words))
    return " ".join(parts)


def echo_answer(messages: list[dict[str, Any]]) -> str:
    """The rendered prompt: every message's content, joined by a blank line."""
    return "\n\n".join(_content_text(m.get("content")) for m in messages)


def _response_schema(fmt: Any) -> dict[str, Any] | None:
    """The JSON schema a `json_schema` response format asks for, if it names one."""
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        if isinstance(schema, dict) and schema:
            return schema
    return None


def _count_tokens(text: str) -> int:
    return count_tokens(text, "gpt-4o-mini")


def _prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return count_tokens(
        [
            {"role": str(m.get("role", "")), "content": _content_text(m.get("content"))}
            for m in messages
        ],
        "gpt-4o-mini",
    )
