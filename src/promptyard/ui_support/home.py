"""What the home page summarises about a workspace."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import func, select

from promptyard.monitoring import Alert, list_alerts
from promptyard.prompts.api import list_prompts
from promptyard.storage import db
from promptyard.storage.tables import Rating, Run
from promptyard.workspace import Workspace


@dataclass(frozen=True)
class Overview:
    prompts: int
    datasets: int
    runs: int
    ratings: int
    prompt_names: list[tuple[str, str, str]]  # (name, latest vN, description)


def workspace_overview(ws: Workspace) -> Overview:
    """Counts of prompts, datasets, runs and ratings, and the prompts to open."""
    summaries = list_prompts(ws)
    datasets = len(list(ws.datasets_dir.glob("*.jsonl"))) if ws.datasets_dir.is_dir() else 0
    with db.session(ws) as session:
        runs = int(session.exec(select(func.count()).select_from(Run)).one())
        ratings = int(session.exec(select(func.count()).select_from(Rating)).one())
    names = [(s.name, s.latest.tag if s.latest else "unsaved", s.description) for s in summaries]
    return Overview(len(summaries), datasets, runs, ratings, names)


def recent_alerts(ws: Workspace, limit: int = 5) -> list[Alert]:
    """The newest stored monitor alerts (for the Home page), newest first."""
    return list_alerts(ws, limit=limit)
