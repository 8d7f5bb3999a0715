"""How a spend in US dollars is written, in the CLI, the pages and the gate's reports."""

from __future__ import annotations

import math


def format_usd(value: float) -> str:
    """`$0.0317`; a small but known spend keeps two significant digits (`$0.000017`), so it
    never reads as nothing."""
    if 0 < abs(value) < 0.0001:
        digits = 1 - math.floor(math.log10(abs(value)))
        return f"${value:.{digits}f}"
    return f"${value:.4f}"
