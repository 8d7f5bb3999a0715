"""`promptyard simulate`: run the offline OpenAI-compatible model server in the foreground."""

from __future__ import annotations

import typer

from promptyard.cli._common import fail


def register(app: typer.Typer) -> None:
    """Add `promptyard simulate` to the `promptyard` app."""

    @app.command("simulate")
    def simulate(
        port: int = typer.Option(8765, "--port", help="Port on 127.0.0.1 (0 picks a free one)."),
        latency_ms: float = typer.Option(200.0, "--latency-ms", help="Mean latency of a call."),
        jitter: float = typer.Option(
            0.0, "--jitter", help="Latency varies by up to +/- this many ms."
        ),
        error_rate: float = typer.Option(
            0.0, "--error-rate", help="Share of calls that fail with 429/500/503 (0..1)."
        ),
        rps: float | None = typer.Option(
            None, "--rps", help="Answer 429 with Retry-After above this many requests per second."
        ),
        api_key: str | None = typer.Option(
            None,
            "--api-key",
            envvar="PROMPTYARD_SIMULATOR_KEY",
            show_envvar=True,
            help="Answer 401 unless a request carries this key (Authorization: Bearer KEY).",
        ),
    ) -> None:
        """Serve simulated models (sim-fast, sim-smart, sim-json, echo) on an OpenAI-compatible API.

        Point a run at it with PROMPTYARD_SIMULATOR_URL=http://127.0.0.1:PORT/v1, or any
        OpenAI client with that base url. With --api-key (or PROMPTYARD_SIMULATOR_KEY),
        clients must send that key; simulated models in runs send $PROMPTYARD_SIMULATOR_KEY.
        Stop with Ctrl-C.
        """
        from promptyard.models import SIMULATED_MODELS, start_simulator

        if not 0 <= error_rate <= 1:
            fail(f"--error-rate must be between 0 and 1, got {error_rate}")
        if latency_ms < 0 or jitter < 0:
            fail("--latency-ms and --jitter must be >= 0")
        if rps is not None and rps <= 0:
            fail(f"--rps must be > 0, got {rps}")
        if not 0 <= port <= 65535:
            fail(f"--port must be between 0 and 65535, got {port}")
        if api_key is not None and not api_key.strip():
            fail("--api-key must not be empty")
        try:
            handle = start_simulator(
                port=port,
                latency_ms=latency_ms,
                jitter_ms=jitter,
                error_rate=error_rate,
                rps=rps,
                api_key=api_key,
            )
        except OSError as exc:
            fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}")
        handle.keep_requests = False
        typer.echo(f"simulator listening on {handle.url}", err=True)
        typer.echo(
            f"models: {', '.join(SIMULATED_MODELS)} (simulated answers and prices)", err=True
        )
        typer.echo(f"use it: export PROMPTYARD_SIMULATOR_URL={handle.url}", err=True)
        if api_key:
            typer.echo("requests need the API key given (--api-key); it is not shown", err=True)
        try:
            handle.serve_forever()
        except KeyboardInterrupt:
            typer.echo(f"stopped after {handle.calls} calls", err=True)
