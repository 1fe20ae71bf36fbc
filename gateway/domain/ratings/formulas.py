"""The three estimators of the rating method, as plain functions of counts."""

from __future__ import annotations

import math


def bayesian_average(total: float, n: float, prior_mean: float, prior_weight: float) -> float:
    """(C·m + Σx) / (C + n): the mean of n observations summing to `total`, pulled towards the prior mean m
    as if C observations of m had been made before. With n = 0 it is m; as n grows it tends to Σx / n."""
    if n + prior_weight <= 0:
        return prior_mean
    return (prior_weight * prior_mean + total) / (prior_weight + n)


def wilson_lower_bound(successes: float, n: float, z: float = 1.96) -> float:
    """The lower bound of the Wilson score interval for a share of successes (z = 1.96: 95 %):

        (p̂ + z²/2n − z·√(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n),   p̂ = successes / n

    0 when n = 0: no record is not a good record."""
    if n <= 0:
        return 0.0
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z2 / n))


def normalise_stars(stars: float) -> float:
    """1–5 stars onto 0–1: (s − 1) / 4."""
    return (stars - 1) / 4
