"""How long each guardrail check takes on a 2 KB input (the target: under 2 ms each).

The input is a support message of about 2,000 characters with the personal data a real one
carries (an email, a phone number, a card number, an IBAN, an IP address) among ordinary
text full of look-alikes (order numbers, dates, times, versions). Each check runs
`--repeat` times; the table shows the median and the 95th percentile per call, and what
the check found. No model is called (the judge check is a model call: its time is the
model's).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_guardrails.py [--repeat 500]

Prints a table; the numbers go in docs/benchmarks.md ("## Guardrails").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from promptyard.guardrails import (  # noqa: E402
    GuardRecord,
    check_output,
    find_banned,
    find_injection,
    find_pii,
    guard_input,
    parse_guardrails,
    repair_json,
    run_now,
)
from promptyard.guardrails.jsoncheck import check_json  # noqa: E402

FILLER = (
    "Order 1234567890123 placed on 2024-05-14 at 12:30:45 (app version 1.2.3) arrived with "
    "a cracked base; the courier's ticket is 55102-88 and the box said 220-240 V. "
)
PII = (
    "You can reach me at dana.kowalski@example.com or +44 20 7946 0958. I paid with "
    "4111 1111 1111 1111; refunds to GB82 WEST 1234 5698 7654 32 please. My router is 203.0.113.7. "
)


def make_input(size: int = 2048) -> str:
    text = PII
    while len(text) < size:
        text += FILLER
    return text[:size]


POLICY = parse_guardrails(
    """policies:
  pii:
    restore: true
    input:
      - check: pii
        kinds: [email, phone, card]
        action: mask
  all:
    input:
      - check: length
        max_chars: 20000
        action: block
      - check: pii
        action: mask
      - check: injection
        action: flag
      - check: banned
        terms: [guaranteed returns, wire the money, crypto giveaway]
        regexes: ['\\bpassword\\s*[:=]']
        action: flag
"""
)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    fn()  # warm: regexes compiled, phonenumbers metadata loaded
    samples = []
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()
    text = make_input()
    messages = [{"role": "system", "content": "You are a support agent."},
                {"role": "user", "content": text}]  # fmt: skip
    broken = ("{'vendor': 'Northwind', 'items': [" + ", ".join(
        f"{{'sku': 'A{i}', 'qty': {i}, 'note': 'box {i}'}}" for i in range(40)
    ) + "],")[:2048]  # fmt: skip
    valid = repair_json(broken) or "{}"

    policy = parse_guardrails(
        "policies:\n  j:\n    output:\n      - check: json\n        action: repair\n"
    )["j"]

    def output_json() -> Any:
        return run_now(check_output(policy, broken, GuardRecord("j")))

    checks: list[tuple[str, Callable[[], Any], Callable[[Any], str]]] = [
        ("pii: email", lambda: find_pii(text, ["email"]), lambda r: f"{len(r)} found"),
        ("pii: phone (phonenumbers)", lambda: find_pii(text, ["phone"]), lambda r: f"{len(r)} found"),
        ("pii: card (Luhn)", lambda: find_pii(text, ["card"]), lambda r: f"{len(r)} found"),
        ("pii: iban (stdnum)", lambda: find_pii(text, ["iban"]), lambda r: f"{len(r)} found"),
        ("pii: national id (stdnum)", lambda: find_pii(text, ["national_id"]), lambda r: f"{len(r)} found"),
        ("pii: ip", lambda: find_pii(text, ["ip"]), lambda r: f"{len(r)} found"),
        ("pii: api key", lambda: find_pii(text, ["api_key"]), lambda r: f"{len(r)} found"),
        ("pii: all kinds", lambda: find_pii(text), lambda r: f"{len(r)} found"),
        ("injection", lambda: find_injection(text), lambda r: f"{len(r)} found"),
        ("banned terms + regex", lambda: find_banned(text, ["guaranteed returns", "wire the money"],
                                                      [r"\bpassword\s*[:=]"]), lambda r: f"{len(r)} found"),
        ("json: valid (2 KB)", lambda: check_json(valid), lambda r: "ok" if r.ok else "invalid"),
        ("json: repair (2 KB, json-repair)", lambda: repair_json(broken), lambda r: "repaired" if r else "—"),
        ("output json check, repairing", output_json, lambda r: "repaired" if r.text else "—"),
        ("policy pii: mask input", lambda: guard_input(POLICY["pii"], messages),
         lambda r: ", ".join(f"{n} {k}" for k, n in sorted(r.record.masked.items()))),
        ("policy all: 4 input checks", lambda: guard_input(POLICY["all"], messages),
         lambda r: ", ".join(f"{n} {k}" for k, n in sorted(r.record.masked.items()))),
    ]  # fmt: skip
    print(f"input: {len(text)} characters; {args.repeat} runs per check\n")
    print(f"| {'check':<34} | {'median ms':>9} | {'p95 ms':>7} | {'result':<36} |")
    print(f"|{'-' * 36}|{'-' * 11}:|{'-' * 8}:|{'-' * 38}|")
    for name, fn, show in checks:
        median, p95, result = timed(fn, args.repeat)
        print(f"| {name:<34} | {median:>9.3f} | {p95:>7.3f} | {show(result):<36} |")


if __name__ == "__main__":
    main()
