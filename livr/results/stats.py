"""Uncertainty of small-scale results: Wilson intervals for accuracies, a paired bootstrap for
differences between two methods evaluated on the same test examples, and a two-level bootstrap
(training seeds, then test examples) for results pooled over several training seeds.

The Wilson score interval is computed in SQL (livr/results/schema.sql, view `metrics`); the
bootstraps are computed here when the database is built, and stored in tables `paired_deltas`
(one training seed), `pooled_deltas` (every seed of a cell) and `pooled_accuracy` (cells of several seeds).
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
        "bootstrap_seed": seed,
    }


def two_level_bootstrap(per_seed, samples: int = BOOTSTRAP_SAMPLES, seed: int = BOOTSTRAP_SEED) -> dict:
    """Mean over training seeds of a per-example score (points), with a percentile 95% interval from
    resampling seeds with replacement, then test examples with replacement.

    `per_seed`: one row per training seed, each the same examples in the same order (a paired
    difference A - B of seed s, or one method's correctness). Every seed was tested on the same
    examples, so each resample draws one set of examples and applies it to every drawn seed: the
    test-set noise is shared across seeds, as it is in the data. With one seed this is exactly
    `paired_bootstrap` (same draws), and with identical seeds the same interval up to rounding."""
    d = np.asarray(per_seed, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] == 0:
        raise ValueError(f"per_seed: expected one row of scores per seed, got shape {d.shape}")
    k, n = d.shape
    if k == 1:
        one = paired_bootstrap(d[0], np.zeros(n), samples, seed)
        return {
            "n_seeds": 1,
            **{key: one[key] for key in ("n", "delta", "ci_low", "ci_high", "samples", "bootstrap_seed")},
        }
    examples = np.random.default_rng(seed)  # the stream paired_bootstrap draws its examples from
    seeds = np.random.default_rng([seed, 1])  # an independent stream for the seeds
    means = np.empty(samples)
    for start in range(0, samples, 1000):
        stop = min(samples, start + 1000)
        idx = examples.integers(0, n, size=(stop - start, n))
        drawn = seeds.integers(0, k, size=(stop - start, k))
        counts = np.zeros((stop - start, k))
        np.add.at(counts, (np.arange(stop - start)[:, None], drawn), 1)
        by_example = counts @ d / k  # each resample's mean over its drawn seeds, per example
        means[start:stop] = np.take_along_axis(by_example, idx, axis=1).mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {
        "n_seeds": k,
        "n": n,
        "delta": 100 * float(d.mean()),
        "ci_low": 100 * float(lo),
        "ci_high": 100 * float(hi),
        "samples": samples,
        "bootstrap_seed": seed,
    }
