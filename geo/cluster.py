"""Clustering points into groups of similar size, to seed partitions that follow population."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Metres per degree of latitude; k-means runs on an equirectangular plane around the points'
# mean, which is metric to well under 1% across a town.
METRES_PER_DEGREE = 111_320.0


def kmeans_centres(
    points: NDArray[np.float64], k: int, rng: np.random.Generator, *, iterations: int = 15
) -> NDArray[np.float64]:
    """Lloyd's k-means on lon/lat points, measured in the local metric projection.

    Parameters
    ----------
    points : ndarray, shape (n, 2)
        Longitude, latitude in WGS84.
    k : int
        Number of centres; at most ``n``.
    rng : numpy.random.Generator
        Chooses the initial centres (k-means++), so a seed gives the same result.
    iterations : int
        Lloyd iterations after seeding.

    Returns
    -------
    ndarray, shape (k, 2)
        The centres in lon/lat, ordered as found.

    Examples
    --------
    >>> pts = np.array([[106.0, 31.0], [106.0001, 31.0], [106.1, 31.1], [106.1001, 31.1]])
    >>> c = kmeans_centres(pts, 2, np.random.default_rng(0))
    >>> sorted(np.round(c[:, 0], 2).tolist())
    [106.0, 106.1]
    >>> kmeans_centres(np.empty((0, 2)), 0, np.random.default_rng(0)).shape
    (0, 2)
    """
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    if not 0 <= k <= len(points):
        raise ValueError(f"k must be between 0 and the number of points ({len(points)}), got {k}")
    if k == 0:
        return np.empty((0, 2))
    x0, y0 = points.mean(axis=0)
    scale = np.array([np.cos(np.radians(y0)), 1.0]) * METRES_PER_DEGREE
    xy = (points - [x0, y0]) * scale
    centres = _plus_plus(xy, k, rng)
    for _ in range(iterations):
        labels = _nearest(xy, centres)
        counts = np.bincount(labels, minlength=k)
        sums = np.zeros((k, 2))
        np.add.at(sums, labels, xy)
        moved = counts > 0
        centres[moved] = sums[moved] / counts[moved, None]
    return centres / scale + [x0, y0]


def _nearest(xy: NDArray[np.float64], centres: NDArray[np.float64]) -> NDArray[np.int64]:
    d2 = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return d2.argmin(axis=1)


def _plus_plus(xy: NDArray[np.float64], k: int, rng: np.random.Generator) -> NDArray[np.float64]:
    centres = [xy[rng.integers(len(xy))]]
    d2 = ((xy - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = d2.sum()
        index = rng.choice(len(xy), p=d2 / total) if total > 0 else rng.integers(len(xy))
        centres.append(xy[index])
        d2 = np.minimum(d2, ((xy - xy[index]) ** 2).sum(axis=1))
    return np.array(centres, dtype=float)
