"""The discrimination index of a question: Pearson's r between its score and the rest of the quiz's,
worked out from the sums SQL aggregated over first tries.

Apart because it is plain arithmetic on sums, with its own reasons to give none.
"""

from __future__ import annotations

import math


def pearson(n: int, sum_x: float, sum_y: float, sum_xy: float, sum_xx: float, sum_yy: float) -> float | None:
    """Return Pearson's r from the sums SQL aggregated, or None when either variable is constant."""
    covariance = n * sum_xy - sum_x * sum_y
    spread_x = n * sum_xx - sum_x * sum_x
    spread_y = n * sum_yy - sum_y * sum_y
    # Float sums of identical values can miss zero by a rounding error; treat that as zero.
    if spread_x <= 1e-9 * max(1.0, n * sum_xx) or spread_y <= 1e-9 * max(1.0, n * sum_yy):
        return None
    return max(-1.0, min(1.0, covariance / math.sqrt(spread_x * spread_y)))


def discrimination_from_sums(sums: dict[str, float]) -> tuple[float | None, str | None]:
    """The discrimination index from one range's sums, or None and why not."""
    first, pairs = int(sums["first_attempts"]), int(sums["pairs"])
    if first == 0:
        return None, "No first tries yet."
    if pairs < 2:
        if first >= 2:
            return None, "The quiz has no other questions to compare with."
        return None, "Needs at least 2 first tries; has 1."
    sum_x, sum_y = float(sums["sum_x"]), float(sums["sum_y"])
    if sum_x in (0, pairs):
        everyone = "right" if sum_x else "wrong"
        return None, f"Every first try got it {everyone}, so it cannot separate learners."
    r = pearson(pairs, sum_x, sum_y, float(sums["sum_xy"]), sum_x, float(sums["sum_yy"]))
    if r is None:
        return None, "Every first try scored the same on the rest of the quiz."
    return r, None
