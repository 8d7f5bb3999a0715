"""The tests behind a "decline": two-proportion z-test and Welch's t-test, no scipy.

Both p-values are two-sided; a monitor fires only when the change is in the bad direction
and p < alpha. Student's t tail comes from the regularized incomplete beta function
(continued fraction, Numerical Recipes 6.4).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from promptyard.stats import nearest_rank


@dataclass(frozen=True)
class TestResult:
    """A test's statistic (z or t) and two-sided p-value; None when undefined (no variance)."""

    statistic: float | None
    p_value: float | None
    dof: float | None = None


def normal_two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def two_proportion_z_test(x1: int, n1: int, x2: int, n2: int) -> TestResult:
    """Pooled two-proportion z-test of x1/n1 against x2/n2 (z > 0 when the first is larger)."""
    if n1 <= 0 or n2 <= 0:
        return TestResult(None, None)
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return TestResult(None, None)
    z = (x1 / n1 - x2 / n2) / se
    return TestResult(z, normal_two_sided_p(z))


def _betacf(a: float, b: float, x: float) -> float:
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 3e-14:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    ln = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x)
    front = math.exp(ln + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, dof: float) -> float:
    """P(|T| >= |t|) for Student's t with `dof` (possibly fractional) degrees of freedom."""
    return regularized_beta(dof / 2.0, 0.5, dof / (dof + t * t))


def welch_t_test(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """Welch's unequal-variance t-test of mean(a) against mean(b) (t > 0 when a's is larger),
    with Welch-Satterthwaite degrees of freedom."""
    n1, n2 = len(a), len(b)
    if n1 < 2 or n2 < 2:
        return TestResult(None, None)
    m1, m2 = sum(a) / n1, sum(b) / n2
    v1 = sum((x - m1) ** 2 for x in a) / (n1 - 1)
    v2 = sum((x - m2) ** 2 for x in b) / (n2 - 1)
    s1, s2 = v1 / n1, v2 / n2
    if s1 + s2 == 0:
        return TestResult(None, None)
    t = (m1 - m2) / math.sqrt(s1 + s2)
    dof = (s1 + s2) ** 2 / (s1**2 / (n1 - 1) + s2**2 / (n2 - 1))
    return TestResult(t, t_two_sided_p(t, dof), dof)


def nearest_rank_percentile(values: Sequence[float], p: int) -> float:
    """The nearest-rank p-th percentile (the value at `stats.nearest_rank`, as the
    dashboard and the Monitoring page rank); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, nearest_rank(p, len(ordered)))
    return ordered[rank - 1]
