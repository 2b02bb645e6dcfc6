"""Uncertainty of small-scale results: Wilson intervals for accuracies, a paired bootstrap for
differences between two methods evaluated on the same test examples.

The Wilson score interval is computed in SQL (livr/results/schema.sql, view `metrics`); the
bootstrap is computed here when the database is built, and stored in table `paired_deltas`.
"""

from __future__ import annotations

import numpy as np

Z95 = 1.959963984540054  # two-sided 95% normal quantile
BOOTSTRAP_SAMPLES = 10_000
BOOTSTRAP_SEED = 0
BASELINES = ("sft", "livr")  # every method is compared with each of these, when evaluated on the same examples


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of k successes in n, in percent (the SQL view's formula)."""
    p = k / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return 100 * (center - half), 100 * (center + half)


def paired_bootstrap(a_correct, b_correct, samples: int = BOOTSTRAP_SAMPLES, seed: int = BOOTSTRAP_SEED) -> dict:
    """Accuracy of A minus accuracy of B (points) on the same examples, with a percentile 95%
    interval from resampling examples with replacement (the pairing is kept: both methods are
    resampled on the same examples)."""
    d = np.asarray(a_correct, dtype=np.float64) - np.asarray(b_correct, dtype=np.float64)
    n = len(d)
    rng = np.random.default_rng(seed)
    means = np.empty(samples)
    for start in range(0, samples, 1000):  # bounded memory: 1000 resamples of n at a time
        stop = min(samples, start + 1000)
        means[start:stop] = d[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {
        "n": n,
        "delta": 100 * float(d.mean()),
        "ci_low": 100 * float(lo),
        "ci_high": 100 * float(hi),
        "a_only": int((d > 0).sum()),  # examples A gets right and B wrong
        "b_only": int((d < 0).sum()),
        "samples": samples,
        "seed": seed,
    }
