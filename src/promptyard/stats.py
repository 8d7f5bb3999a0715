"""Every statistic of the project, once: pure functions, no database.

Student-t and Wilson intervals, Bradley-Terry strengths fitted by the MM algorithm
(Hunter 2004), agreement between raters (Cohen's kappa for two raters, Fleiss' kappa for
any number per item, Krippendorff's alpha at the nominal, ordinal, interval and ratio
levels with missing ratings allowed) and Pearson and Spearman correlations.

Where a statistic is undefined it is None (NaN for the intervals, which feed tables of
floats): never a made-up 1.0 or 0.0. The `*_estimate` functions also say why, in words a
page can show beside its "—".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

Z_95 = 1.959963984540054


# Two-sided 95% Student-t critical values for 1..30 degrees of freedom.
_T975 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
)  # fmt: skip


def nearest_rank(p: int, n: int) -> int:
    """The 1-based rank of the p-th percentile of n sorted values: ceil(p * n / 100)."""
    return (p * n + 99) // 100


def t_critical(dof: int) -> float:
    """The 97.5% quantile of Student's t with `dof` degrees of freedom (NaN below 1)."""
    if dof < 1:
        return math.nan
    if dof <= len(_T975):
        return _T975[dof - 1]
    # Cornish-Fisher expansion around the normal quantile: < 1e-4 off for dof > 30.
    z, d = Z_95, float(dof)
    return (
        z
        + (z**3 + z) / (4 * d)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * d**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * d**3)
    )


def mean_interval(n: int, total: float, total_sq: float) -> tuple[float, float, float]:
    """(mean, low, high): the mean of n values from their sum and sum of squares, 95% t CI."""
    if n <= 0:
        return math.nan, math.nan, math.nan
    mean = total / n
    if n < 2:
        return mean, math.nan, math.nan
    var = max(total_sq - n * mean * mean, 0.0) / (n - 1)
    half = t_critical(n - 1) * math.sqrt(var / n)
    return mean, mean - half, mean + half


def wilson_interval(successes: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval (95% by default) of a proportion; (NaN, NaN) when n is 0,
    where no interval is defined.

    `successes` may be fractional (a tie counts as half a win).
    """
    if n <= 0:
        return math.nan, math.nan
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bradley_terry(
    wins: np.ndarray, prior: float = 0.5, iterations: int = 1000, tol: float = 1e-10
) -> np.ndarray:
    """Bradley-Terry strengths from a wins matrix (`wins[i, j]` = times i beat j).

    Fitted with Hunter's MM algorithm. `prior` adds that many virtual wins each way
    between every pair that met, so a variant that won every comparison still gets a
    finite strength. Returns strengths that sum to 1 (uniform when nothing was compared).
    """
    import numpy as np  # here, not at import: a run never loads numpy

    w = np.asarray(wins, dtype=float)
    k = w.shape[0]
    if k == 0:
        return np.zeros(0)
    games = w + w.T
    met = games > 0
    w = w + prior * met
    games = w + w.T
    total_wins = w.sum(axis=1)
    p = np.full(k, 1.0 / k)
    for _ in range(iterations):
        denom = np.where(games > 0, games / (p[:, None] + p[None, :]), 0.0).sum(axis=1)
        new = np.where(denom > 0, total_wins / np.where(denom > 0, denom, 1.0), p)
        new = new / new.sum() if new.sum() > 0 else np.full(k, 1.0 / k)
        if np.max(np.abs(new - p)) < tol:
            p = new
            break
        p = new
    return p


def elo_like(strengths: np.ndarray, base: float = 1000.0) -> np.ndarray:
    """Strengths on an Elo-like scale: 400 points = 10:1 odds, the mean player at `base`."""
    import numpy as np  # here, not at import: a run never loads numpy

    s = np.asarray(strengths, dtype=float)
    if s.size == 0:
        return s
    logs = np.log10(np.clip(s, 1e-12, None))
    return base + 400.0 * (logs - logs.mean())


# --- agreement and correlation -----------------------------------------------------------

LEVELS = ("nominal", "ordinal", "interval", "ratio")

# Why a statistic is undefined, in the words a page shows beside its "—".
FEW_ITEMS = "fewer than 2 items were rated by two or more raters, so agreement is undefined"
ONE_CATEGORY = "only one category was used, so agreement is undefined"
ONE_VALUE = "every rating had the same value, so agreement is undefined"
FEW_PAIRS = "fewer than 2 pairs of scores, so correlation is undefined"
CONSTANT = "one side gave the same score everywhere, so correlation is undefined"


@dataclass(frozen=True)
class Estimate:
    """A statistic's value, or None with the reason it is undefined."""

    value: float | None
    reason: str | None = None

    @classmethod
    def undefined(cls, reason: str) -> Estimate:
        return cls(None, reason)


def cohen_kappa_estimate(a: Sequence[Hashable], b: Sequence[Hashable]) -> Estimate:
    """Cohen's kappa of two raters' labels of the same items, or why it is undefined
    (fewer than 2 items, or both raters used one and the same category)."""
    if len(a) != len(b):
        raise ValueError("both raters must rate the same items")
    n = len(a)
    if n < 2:
        return Estimate.undefined(FEW_ITEMS)
    observed = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[label] * cb[label] for label in ca) / (n * n)
    if expected >= 1.0:
        return Estimate.undefined(ONE_CATEGORY)
    return Estimate((observed - expected) / (1 - expected))


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two raters' labels of the same items (None where undefined)."""
    return cohen_kappa_estimate(a, b).value


def fleiss_kappa_estimate(items: Sequence[Sequence[Hashable]]) -> Estimate:
    """Fleiss' kappa over items, each a list of the labels its raters gave, or why it is
    undefined.

    Items with fewer than two ratings are left out; the number of raters may vary per
    item (each item's agreement is averaged with equal weight).
    """
    usable = [list(x) for x in items if len(x) >= 2]
    if len(usable) < 2:
        return Estimate.undefined(FEW_ITEMS)
    totals: Counter[Hashable] = Counter()
    n_ratings = 0
    p_items = []
    for labels in usable:
        counts = Counter(labels)
        n = len(labels)
        totals.update(counts)
        n_ratings += n
        p_items.append((sum(c * c for c in counts.values()) - n) / (n * (n - 1)))
    p_bar = sum(p_items) / len(p_items)
    p_e = sum((c / n_ratings) ** 2 for c in totals.values())
    if p_e >= 1.0:
        return Estimate.undefined(ONE_CATEGORY)
    return Estimate((p_bar - p_e) / (1 - p_e))


def fleiss_kappa(items: Sequence[Sequence[Hashable]]) -> float | None:
    """Fleiss' kappa over items, each the labels its raters gave (None where undefined)."""
    return fleiss_kappa_estimate(items).value


def _distances(values: list[Any], n_c: np.ndarray, level: str) -> np.ndarray:
    """Krippendorff's squared difference δ² between every pair of values (2011, p. 6)."""
    import numpy as np  # here, not at import: a run never loads numpy

    k = len(values)
    if level == "nominal":
        return 1.0 - np.eye(k)
    nums = np.array([float(v) for v in values])
    if level == "interval":
        return (nums[:, None] - nums[None, :]) ** 2
    if level == "ratio":
        total = nums[:, None] + nums[None, :]
        diff = nums[:, None] - nums[None, :]
        return np.divide(diff, total, out=np.zeros((k, k)), where=total != 0) ** 2
    # ordinal: the frequencies from rank c to rank k, less half of the two ends
    cum = np.concatenate([[0.0], np.cumsum(n_c)])
    lo, hi = (
        np.minimum.outer(np.arange(k), np.arange(k)),
        np.maximum.outer(np.arange(k), np.arange(k)),
    )
    between = cum[hi + 1] - cum[lo] - (n_c[lo] + n_c[hi]) / 2
    return between**2


def krippendorff_alpha_estimate(items: Sequence[Sequence[Any]], level: str = "nominal") -> Estimate:
    """Krippendorff's alpha over items, each the list of values its raters gave, or why
    it is undefined (fewer than 2 items with two values, or a single value used).

    `level` is "nominal" (labels), "ordinal" (ranks: Likert scales), "interval" or
    "ratio" (numbers). Missing ratings are fine: items with one value are left out.
    """
    import numpy as np  # here, not at import: a run never loads numpy

    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}: use {', '.join(LEVELS)}")
    usable = [list(x) for x in items if len(x) >= 2]
    if len(usable) < 2:
        return Estimate.undefined(FEW_ITEMS)
    if level == "nominal":
        values = sorted({v for item in usable for v in item}, key=lambda v: (str(type(v)), v))
    else:
        values = sorted({float(v) for item in usable for v in item})
        usable = [[float(v) for v in item] for item in usable]
    index = {v: i for i, v in enumerate(values)}
    k = len(values)
    o = np.zeros((k, k))  # the coincidence matrix
    for item in usable:
        m = len(item)
        counts = Counter(item)
        for v, cv in counts.items():
            for u, cu in counts.items():
                pairs = cv * (cu - 1) if v == u else cv * cu
                o[index[v], index[u]] += pairs / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    delta = _distances(values, n_c, level)
    d_o = float((o * delta).sum()) / n
    d_e = float((np.outer(n_c, n_c) * delta).sum()) / (n * (n - 1))
    if d_e == 0:
        return Estimate.undefined(ONE_VALUE if level != "nominal" else ONE_CATEGORY)
    return Estimate(1.0 - d_o / d_e)


def krippendorff_alpha(items: Sequence[Sequence[Any]], level: str = "nominal") -> float | None:
    """Krippendorff's alpha at `level` (nominal, ordinal, interval or ratio); None where
    undefined. See `krippendorff_alpha_estimate`."""
    return krippendorff_alpha_estimate(items, level).value


def _correlation(xs: Sequence[float], ys: Sequence[float], ranked: bool) -> Estimate:
    import numpy as np  # here, not at import: a run never loads numpy
    import pandas as pd  # only for ranks; not at import time of the library

    if len(xs) != len(ys):
        raise ValueError("both sides must score the same items")
    if len(xs) < 2:
        return Estimate.undefined(FEW_PAIRS)
    x, y = pd.Series(xs, dtype=float), pd.Series(ys, dtype=float)
    if ranked:  # Spearman's rho is Pearson's r of the ranks, ties sharing their mean rank
        x, y = x.rank(method="average"), y.rank(method="average")
    if x.nunique() < 2 or y.nunique() < 2:
        return Estimate.undefined(CONSTANT)
    return Estimate(float(np.corrcoef(x.to_numpy(), y.to_numpy())[0, 1]))


def pearson_estimate(xs: Sequence[float], ys: Sequence[float]) -> Estimate:
    """Pearson's r of paired scores, or why it is undefined (under 2 pairs, a constant side)."""
    return _correlation(xs, ys, ranked=False)


def spearman_estimate(xs: Sequence[float], ys: Sequence[float]) -> Estimate:
    """Spearman's rho of paired scores (average ranks for ties), or why it is undefined."""
    return _correlation(xs, ys, ranked=True)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r of paired scores (None where undefined)."""
    return pearson_estimate(xs, ys).value


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rho of paired scores (None where undefined)."""
    return spearman_estimate(xs, ys).value


def dispute(values: Sequence[Any], level: str = "nominal", span: float | None = None) -> float:
    """How much raters of one item disagree, 0 (all agree) to 1.

    Nominal: the share of ratings outside the most common value, scaled so that an even
    split of two raters is 1. Ordinal, interval, ratio: the spread (max - min) over the
    scale's `span`.
    """
    vals = list(values)
    if len(vals) < 2:
        return 0.0
    if level != "nominal":
        nums = [float(v) for v in vals]
        width = span if span and span > 0 else (max(nums) - min(nums)) or 1.0
        return min(1.0, (max(nums) - min(nums)) / width)
    top = Counter(vals).most_common(1)[0][1]
    share_outside = 1 - top / len(vals)
    worst = 1 - 1 / len(vals)
    return share_outside / worst if worst > 0 else 0.0


def majority_share(values: Mapping[Hashable, int] | Sequence[Hashable]) -> float:
    """The share of the most common value (1.0 when all agree); 1.0 for nothing."""
    counts = Counter(values) if not isinstance(values, Mapping) else Counter(dict(values))
    total = sum(counts.values())
    if total == 0:
        return 1.0
    return counts.most_common(1)[0][1] / total
