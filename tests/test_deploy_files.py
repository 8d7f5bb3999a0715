"""deploy/: the compose file runs real `promptyard` commands against one PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli import run_cli

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def test_every_service_shares_one_postgres_and_runs_a_real_command() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "ui", "collector", "worker", "monitors", "online-eval", "caddy"} <= set(services)
    ours = {n: s for n, s in services.items() if n not in ("db", "caddy")}
    for name, service in ours.items():
        url = service["environment"]["PROMPTYARD_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://") and "@db:5432/" in url, name
    for name in ("ui", "collector", "monitors", "online-eval"):
        args = services[name]["command"][1:]
        words = [a for a in args if not a.startswith("-")][:2]
        shown = run_cli(*words[:2] if name == "monitors" else words[:1], "--help")
        assert shown.returncode == 0, (name, shown.stderr)
    assert "promptyard worker --database-url" in " ".join(services["worker"]["command"])
    caddy = (DEPLOY / "Caddyfile").read_text()
    assert "reverse_proxy ui:8501" in caddy and "reverse_proxy collector:4318" in caddy
