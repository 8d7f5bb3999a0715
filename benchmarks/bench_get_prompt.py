"""How long `get_prompt` takes: from the store uncached, cached, and from a bundle.

Makes a workspace with `promptyard init` in a temporary folder, labels `summarize` v1 as
production, writes a bundle of it, then times `get_prompt("summarize", label="production")`
each way (and the file as it is, uncached). A process that imports only the bundle path is
timed too, for the import cost an app pays.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_get_prompt.py [--repeat 2000]

Prints a table of microseconds per call (median of 5 batches).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _us(fn: Callable[[], Any], repeat: int) -> float:
    batches = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        batches.append((time.perf_counter() - start) / repeat * 1e6)
    return statistics.median(batches)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PROMPTYARD_HOME"] = str(Path(tmp, "ws"))
        import promptyard
        from promptyard.models import write_bundle

        ws = promptyard.init_workspace(Path(tmp, "ws"))
        promptyard.label_prompt("summarize", "v1", "production", workspace=ws)
        bundle = Path(tmp, "prompts.bundle.json")
        write_bundle(bundle, label="production", workspace=ws)
        slow = max(1, args.repeat // 100)  # each uncached call runs git

        def get(**kw: Any) -> Any:
            return promptyard.get_prompt("summarize", workspace=ws, **kw)

        rows = [
            ("store, by label, uncached", _us(lambda: get(label="production", cache_ttl=0), slow)),
            ("store, the file as it is, uncached", _us(lambda: get(cache_ttl=0), slow)),
            ("store, by label, cached", _us(lambda: get(label="production"), args.repeat)),
            ("store, the file as it is, cached", _us(lambda: get(), args.repeat)),
            (
                "bundle, by label",
                _us(
                    lambda: promptyard.get_prompt("summarize", label="production", bundle=bundle),
                    args.repeat,
                ),
            ),
        ]
        code = (
            "import time; t = time.perf_counter(); import promptyard;"
            f" promptyard.get_prompt('summarize', label='production', bundle={str(bundle)!r});"
            " print((time.perf_counter() - t) * 1e6)"
        )
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        first = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(3)
        ]
        rows.append(("bundle, first call in a new process (imports)", statistics.median(first)))
    print(f"{'get_prompt of summarize':<48}{'µs per call':>14}")
    for what, us in rows:
        print(f"{what:<48}{us:>14,.1f}")


if __name__ == "__main__":
    main()
