"""An offline OpenAI-compatible model server: first runs, demos, tests and benchmarks.

`start_simulator()` serves `/v1/chat/completions` (plain and SSE streaming) and
`/v1/models` on 127.0.0.1 from a background thread. Its answers derive deterministically
from the request (model, messages, temperature, repeat index), look plausible for the
prompt (a summary for a summarize prompt, JSON with the asked-for keys for a JSON prompt),
carry token usage, and are priced at the simulated prices in `SIMULATED_MODELS`.

Faults (`Faults`) can be switched on and off on a running server, so tests can provoke
every error a real provider produces: 429 with Retry-After, 500/503, hangs, malformed
JSON, truncated streams, a slow first byte.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import re
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from promptyard.prompts.tokens import count_tokens, truncate_to_tokens

SIMULATOR_URL_ENV = "PROMPTYARD_SIMULATOR_URL"
SIMULATOR_LATENCY_ENV = "PROMPTYARD_SIMULATOR_LATENCY_MS"
REPEAT_USER_PREFIX = "promptyard-repeat-"
REPEAT_HEADER = "X-Promptyard-Repeat"  # the repeat index, sent by providers.complete


@dataclass(frozen=True)
class SimModel:
    """A simulated model: its name, simulated prices and behaviour."""

    name: str
    input_cost_per_token: float
    output_cost_per_token: float
    context_window: int
    description: str
    latency_factor: float = 1.0
    words: int = 40  # typical answer length
    always_json: bool = False


SIMULATED_MODELS: dict[str, SimModel] = {
    m.name: m
    for m in (
        SimModel(
            "sim-fast",
            0.15e-6,
            0.60e-6,
            16_384,
            "simulated: short, fast answers",
            latency_factor=1.0,
            words=28,
        ),
        SimModel(
            "sim-smart",
            2.50e-6,
            10.00e-6,
            128_000,
            "simulated: longer, more detailed answers",
            latency_factor=2.0,
            words=70,
        ),
        SimModel(
            "sim-json",
            0.50e-6,
            1.50e-6,
            32_768,
            "simulated: always answers with a JSON object",
            latency_factor=1.2,
            words=20,
            always_json=True,
        ),
    )
}


@dataclass
class Faults:
    """Faults to inject; mutable, so a test can flip them on a running server."""

    rate_limit: bool = False  # 429 with Retry-After
    retry_after_s: float = 1.0
    server_error: int | None = None  # 500 or 503 on every call
    hang: bool = False  # accept the request and never answer
    malformed_json: bool = False  # 200 whose body (or stream chunk) is not JSON
    truncated_stream: bool = False  # stream stops mid-way: no finish_reason, no [DONE]
    slow_first_byte_ms: float = 0.0  # delay before the first byte
    fail_first: int = 0  # the next N calls fail with 500, then calls succeed
    error_rate: float = 0.0  # random 429/500/503 with this probability
    auth: bool = False  # 401
    echo_auth_in_error: bool = False  # 401 whose message repeats the Authorization header
    bad_request: bool = False  # 400
    context_window: bool = False  # 400 context_length_exceeded
    content_filter: bool = False  # 400 content_policy_violation
    no_usage: bool = False  # answer without token usage (as some local servers do)
    filtered_output: bool = False  # 200 with finish_reason "content_filter" and no text

    def clear(self) -> None:
        """Switch every fault off."""
        fresh = Faults()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))


# ---------------------------------------------------------------------------------------
# Answers


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


def _variant(body: dict[str, Any], repeat: str | None) -> str:
    """What tells repeats apart: the repeat header (or `user="promptyard-repeat-N"`), `seed`."""
    user = str(body.get("user") or "")
    if repeat is None and user.startswith(REPEAT_USER_PREFIX):
        repeat, user = user.removeprefix(REPEAT_USER_PREFIX), ""
    return f"{repeat or ''}|{user}|{body.get('seed') or ''}"


def request_key(body: dict[str, Any], repeat: str | None = None) -> str:
    """The identity of a chat request: model, repeat index and a hash of the messages."""
    digest = hashlib.sha256(
        json.dumps(body.get("messages"), sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return f"{body.get('model')}|{_variant(body, repeat)}|{digest}"


# ---------------------------------------------------------------------------------------
# The server


def _error_body(message: str, type_: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


class SimulatorHandle:
    """A running simulator: `.url`, `.port`, `.faults`, call counts, `.stop()`."""

    def __init__(
        self,
        port: int = 0,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        error_rate: float = 0.0,
        rps: float | None = None,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.port = port
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        self.rps = rps
        self.faults = faults or Faults()
        if error_rate:
            self.faults.error_rate = error_rate
        self.calls = 0  # chat completion requests received, whatever their outcome
        self.calls_by_key: Counter[str] = Counter()  # every request, by request_key()
        self.completed_by_key: Counter[str] = Counter()  # successful answers, by request_key()
        self.requests: deque[dict[str, Any]] = deque(maxlen=10_000)  # recent request bodies
        self.keep_requests = True
        self.last_authorization: str | None = None  # in memory only, for tests
        self._recent: deque[float] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: Any = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._rand = random.Random(0)

    @property
    def url(self) -> str:
        """The OpenAI-compatible base url, e.g. `http://127.0.0.1:PORT/v1`."""
        return f"http://{self.host}:{self.port}/v1"

    def reset_counts(self) -> None:
        self.calls = 0
        self.calls_by_key.clear()
        self.completed_by_key.clear()
        self.requests.clear()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> SimulatorHandle:
        self._thread = threading.Thread(target=self._run, name="promptyard-simulator", daemon=True)
        self._thread.start()
        self._ready.wait(15)
        if self._error:
            raise self._error
        if not self._ready.is_set():
            raise RuntimeError("the simulator did not start within 15 s")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._runner.cleanup())
            pending = asyncio.all_tasks(loop)  # hung requests
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _serve(self) -> None:
        from aiohttp import web

        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/models", self._models)
        app.router.add_get("/health", self._health)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(runner, sock, backlog=1024)
        await site.start()
        self._runner = runner

    def stop(self) -> None:
        """Stop serving; open connections (hung requests too) are dropped."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return
        loop.call_soon_threadsafe(loop.stop)
        if self._thread:
            self._thread.join(10)

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until interrupted (used by `promptyard simulate`)."""
        try:
            while self._thread and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    # -- handlers ------------------------------------------------------------------------

    async def _health(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response({"ok": True, "calls": self.calls})

    async def _models(self, request: Any) -> Any:
        from aiohttp import web

        data = [
            {
                "id": m.name,
                "object": "model",
                "created": 0,
                "owned_by": "promptyard-simulator",
                "description": m.description,
                "input_cost_per_token": m.input_cost_per_token,
                "output_cost_per_token": m.output_cost_per_token,
                "context_window": m.context_window,
            }
            for m in SIMULATED_MODELS.values()
        ]
        return web.json_response({"object": "list", "data": data})

    def _latency_s(self, spec: SimModel) -> float:
        base = self.latency_ms * spec.latency_factor
        if self.jitter_ms:
            base += self._rand.uniform(-self.jitter_ms, self.jitter_ms)
        return max(0.0, base) / 1000.0

    def _over_rps(self) -> float | None:
        """Seconds until a slot frees when more than `rps` requests came in the last second."""
        if not self.rps:
            return None
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.rps:
            return max(0.05, 1.0 - (now - self._recent[0]))
        self._recent.append(now)
        return None

    def _fault_response(
        self, request: Any, spec: SimModel | None, model: str, prompt_tokens: int
    ) -> Any:
        from aiohttp import web

        f = self.faults
        if f.fail_first > 0:
            f.fail_first -= 1
            return web.json_response(
                _error_body("The simulated server had an error (fail_first).", "server_error"),
                status=500,
            )
        if f.server_error:
            return web.json_response(
                _error_body(f"Simulated {f.server_error} error.", "server_error"),
                status=f.server_error,
            )
        if f.rate_limit:
            return _rate_limited(f.retry_after_s)
        wait = self._over_rps()
        if wait is not None:
            return _rate_limited(wait, f"Rate limit of {self.rps:g} requests per second reached.")
        if f.error_rate and self._rand.random() < f.error_rate:
            status = self._rand.choice([429, 500, 503])
            if status == 429:
                return _rate_limited(f.retry_after_s)
            return web.json_response(
                _error_body(f"Simulated random {status}.", "server_error"), status=status
            )
        if f.auth or f.echo_auth_in_error:
            shown = request.headers.get("Authorization", "") if f.echo_auth_in_error else "sk-...."
            return web.json_response(
                _error_body(
                    f"Incorrect API key provided: {shown}.",
                    "invalid_request_error",
                    "invalid_api_key",
                ),
                status=401,
            )
        if spec is None:
            return web.json_response(
                _error_body(
                    f"The model `{model}` does not exist; the simulator serves {', '.join(SIMULATED_MODELS)}.",
                    "invalid_request_error",
                    "model_not_found",
                ),
                status=404,
            )
        if f.bad_request:
            return web.json_response(
                _error_body(
                    "Simulated bad request: 'temperature' is invalid.", "invalid_request_error"
                ),
                status=400,
            )
        if f.context_window or prompt_tokens > spec.context_window:
            return web.json_response(
                _error_body(
                    f"This model's maximum context length is {spec.context_window} tokens. "
                    f"However, your messages resulted in {prompt_tokens} tokens. "
                    "Please reduce the length of the messages.",
                    "invalid_request_error",
                    "context_length_exceeded",
                ),
                status=400,
            )
        if f.content_filter:
            return web.json_response(
                _error_body(
                    "Your request was rejected as a result of our safety system (content_policy_violation).",
                    "invalid_request_error",
                    "content_policy_violation",
                ),
                status=400,
            )
        return None

    async def _chat(self, request: Any) -> Any:
        from aiohttp import web

        self.calls += 1
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("body is not an object")
        except (ValueError, UnicodeDecodeError):
            return web.json_response(
                _error_body("The request body is not valid JSON.", "invalid_request_error"),
                status=400,
            )
        repeat = request.headers.get(REPEAT_HEADER)
        key = request_key(body, repeat)
        self.calls_by_key[key] += 1
        self.last_authorization = request.headers.get("Authorization")
        if self.keep_requests:
            self.requests.append({**body, "repeat": repeat} if repeat is not None else body)
        model = str(body.get("model", ""))
        spec = SIMULATED_MODELS.get(model)
        messages = body.get("messages") or []
        if not isinstance(messages, list) or not messages:
            return web.json_response(
                _error_body("'messages' must be a non-empty list.", "invalid_request_error"),
                status=400,
            )
        prompt_tokens = _prompt_tokens(messages)
        f = self.faults
        if f.hang:
            await asyncio.Event().wait()  # never answers; dropped on stop()
        fault = self._fault_response(request, spec, model, prompt_tokens)
        if fault is not None:
            if f.slow_first_byte_ms:
                await asyncio.sleep(f.slow_first_byte_ms / 1000)
            return fault
        assert spec is not None
        variant = _variant(body, repeat)
        text = simulated_answer(model, messages, body, variant)
        completion_tokens = _count_tokens(text)
        finish = "stop"
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(max_tokens, int) and 0 < max_tokens < completion_tokens:
            text = truncate_to_tokens(text, max_tokens, "gpt-4o-mini")
            completion_tokens = max_tokens
            finish = "length"
        if f.filtered_output:
            text, completion_tokens, finish = "", 0, "content_filter"
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        created = int(time.time())
        cid = "chatcmpl-sim-" + key.rsplit("|", 1)[-1][:12]
        latency = self._latency_s(spec)
        first_byte = f.slow_first_byte_ms / 1000
        if f.no_usage:
            usage = {}
        if body.get("stream"):
            return await self._stream(
                request, body, cid, created, model, text, finish, usage, latency, first_byte, key
            )
        await asyncio.sleep(latency + first_byte)
        if f.malformed_json:
            return web.Response(
                text='{"id": "' + cid + '", "choices": [{"message": ',
                content_type="application/json",
            )
        self.completed_by_key[key] += 1
        return web.json_response(
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "system_fingerprint": "promptyard-simulator",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish,
                        "logprobs": None,
                    }
                ],
                **({"usage": usage} if usage else {}),
            }
        )

    async def _stream(
        self,
        request: Any,
        body: dict[str, Any],
        cid: str,
        created: int,
        model: str,
        text: str,
        finish: str,
        usage: dict[str, int],
        latency: float,
        first_byte: float,
        key: str,
    ) -> Any:
        from aiohttp import web

        # time to first token: a third of the latency, plus any slow-first-byte fault
        await asyncio.sleep(latency / 3 + first_byte)
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await resp.prepare(request)

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            payload = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }
            return f"data: {json.dumps(payload)}\n\n".encode()

        pieces = re.findall(r"\S+\s*", text) or [text]
        groups = max(1, min(8, len(pieces)))
        per = -(-len(pieces) // groups)
        parts = ["".join(pieces[i : i + per]) for i in range(0, len(pieces), per)]
        step = (latency * 2 / 3) / max(1, len(parts))
        await resp.write(chunk({"role": "assistant", "content": ""}))
        f = self.faults
        for i, part in enumerate(parts):
            if f.malformed_json and i == len(parts) // 2:
                await resp.write(b'data: {"id": "' + cid.encode() + b'", "choices": [{\n\n')
                await resp.write_eof()
                return resp
            if f.truncated_stream and i == max(1, len(parts) // 2):
                await resp.write_eof()  # ends without finish_reason and without [DONE]
                return resp
            await resp.write(chunk({"content": part}))
            if step:
                await asyncio.sleep(step)
        await resp.write(chunk({}, finish))
        opts = body.get("stream_options") or {}
        if usage and isinstance(opts, dict) and opts.get("include_usage"):
            tail = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            await resp.write(f"data: {json.dumps(tail)}\n\n".encode())
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        self.completed_by_key[key] += 1
        return resp


def _rate_limited(
    retry_after_s: float, message: str = "Simulated rate limit: too many requests."
) -> Any:
    from aiohttp import web

    return web.json_response(
        _error_body(message, "rate_limit_error", "rate_limit_exceeded"),
        status=429,
        headers={
            "Retry-After": f"{retry_after_s:g}",
            "retry-after-ms": str(int(retry_after_s * 1000)),
        },
    )


def start_simulator(
    port: int = 0,
    latency_ms: float = 0,
    jitter_ms: float = 0,
    error_rate: float = 0,
    rps: float | None = None,
    faults: Faults | None = None,
    host: str = "127.0.0.1",
) -> SimulatorHandle:
    """Start a simulator in a background thread; port 0 picks a free port."""
    return SimulatorHandle(port, latency_ms, jitter_ms, error_rate, rps, faults, host).start()


_shared: SimulatorHandle | None = None
_shared_lock = threading.Lock()


def ensure_simulator() -> str:
    """The base url of the simulator that simulated models use.

    `$PROMPTYARD_SIMULATOR_URL` when set (a `promptyard simulate` elsewhere); else one
    in-process simulator, started on first use and kept for the life of the process.
    """
    url = os.environ.get(SIMULATOR_URL_ENV)
    if url:
        return url.rstrip("/")
    global _shared
    with _shared_lock:
        if _shared is None or not (_shared._thread and _shared._thread.is_alive()):
            try:
                latency = float(os.environ.get(SIMULATOR_LATENCY_ENV) or 0)
            except ValueError:
                latency = 0.0
            _shared = start_simulator(latency_ms=latency, jitter_ms=latency / 4)
            _shared.keep_requests = False
        return _shared.url


def shared_simulator() -> SimulatorHandle | None:
    """The in-process simulator `ensure_simulator()` started, if any."""
    return _shared
