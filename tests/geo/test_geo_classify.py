"""The numpy Fisher-Jenks against mapclassify's reference implementation, and against a brute
force over every way of cutting a short sorted list."""

from __future__ import annotations

import itertools
import warnings

import mapclassify
import numpy as np
import pytest

from geo.classify import fisher_jenks


def within_squares(values, bounds: list[float]) -> float:
    """Sum over the classes of the squared deviations from the class mean."""
    data = np.asarray(values, dtype=float)
    classes = np.searchsorted(np.asarray(bounds), data, side="left")
    return sum(
        float(((data[classes == c] - data[classes == c].mean()) ** 2).sum())
        for c in np.unique(classes)
    )


def reference(values, k: int) -> list[float]:
    with warnings.catch_warnings():  # mapclassify suggests numba
        warnings.simplefilter("ignore", UserWarning)
        return [float(b) for b in mapclassify.FisherJenks(np.asarray(values), k=k).bins]


def brute_force(values, k: int) -> float:
    """The least within-class sum of squares over every cut of the sorted values."""
    data = sorted(values)
    best = float("inf")
    for cuts in itertools.combinations(range(1, len(data)), k - 1):
        parts = np.split(np.asarray(data, dtype=float), cuts)
        best = min(best, sum(float(((p - p.mean()) ** 2).sum()) for p in parts))
    return best


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [12, 60, 250])
def test_same_breaks_as_mapclassify_on_continuous_values(seed, n):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(4, 0.7, n)
    assert fisher_jenks(values, 5) == reference(values, 5)


@pytest.mark.parametrize("seed", range(6))
def test_same_breaks_as_mapclassify_with_many_ties(seed):
    # households per worker are often whole numbers that repeat
    rng = np.random.default_rng(100 + seed)
    values = rng.integers(80, 140, 200).astype(float)
    ours = fisher_jenks(values, 5)
    assert ours == reference(values, 5)
    assert within_squares(values, ours) == pytest.approx(
        within_squares(values, reference(values, 5))
    )


@pytest.mark.parametrize("k", [2, 3, 4])
def test_optimal_by_brute_force(k):
    values = [3, 4, 4, 9, 10, 11, 25, 26, 40, 41, 43, 90]
    bounds = fisher_jenks(values, k)
    assert within_squares(values, bounds) == pytest.approx(brute_force(values, k))


def test_obvious_groups():
    values = [1, 2, 3, 101, 102, 103, 1001, 1002, 1003]
    assert fisher_jenks(values, 3) == [3.0, 103.0, 1003.0]
    assert fisher_jenks(values, 1) == [1003.0]


def test_unsorted_input_is_sorted_first():
    assert fisher_jenks([1003, 2, 102, 1, 1001, 101], 3) == [2.0, 102.0, 1003.0]


@pytest.mark.parametrize("k", [0, 4])
def test_k_outside_the_distinct_values_is_refused(k):
    with pytest.raises(ValueError, match="between 1 and 3"):
        fisher_jenks([5, 5, 7, 9], k)
