"""Random choices and rejection sampling shared by the procedural generators.

A rejection-sampling loop that runs out of tries raises: keeping its last (invalid) draw would
silently put an example that breaks its task's rules into a dataset.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import TypeVar

import numpy as np

T = TypeVar("T")


class RejectionSamplingError(RuntimeError):
    """No draw satisfied the constraints within the allowed tries: a generator bug or settings
    under which the constraints cannot be met (not bad user input)."""


def sample_until(draw: Callable[[], T], check: Callable[[T], str | None], tries: int, what: str) -> T:
    """Call `draw()` until `check(value)` returns None (valid) and return that value.

    `check` returns the constraint a draw breaks, in words, for the error raised when all
    `tries` draws fail (each broken constraint is listed with how often it failed).
    """
    if tries < 1:
        raise ValueError(f"{what}: tries={tries}; needs at least one")
    failures: collections.Counter[str] = collections.Counter()
    for _ in range(tries):
        value = draw()
        broken = check(value)
        if broken is None:
            return value
        failures[broken] += 1
    detail = "; ".join(f"{reason} ({n}x)" for reason, n in failures.most_common())
    raise RejectionSamplingError(f"{what}: none of {tries} draws was valid: {detail}")


def pick(rng: np.random.Generator, seq, n: int | None = None):
    """One element of `seq`, or `n` distinct ones in random order."""
    if n is None:
        return seq[int(rng.integers(len(seq)))]
    idx = rng.choice(len(seq), size=n, replace=False)
    return [seq[int(i)] for i in idx]


def place_in_order(gold: int, target, others) -> list:
    """Candidates with `target` at position `gold` and `others` filling the rest in order."""
    order = [None] * (len(others) + 1)
    order[gold] = target
    rest = iter(others)
    for j in range(len(order)):
        if order[j] is None:
            order[j] = next(rest)
    return order
