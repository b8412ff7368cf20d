"""Fisher-Jenks natural breaks, computed with numpy.

The same optimal classing as ``mapclassify.FisherJenks`` (Fisher's exact dynamic programme,
ties broken the same way), with the inner loops as array operations: on 500 values it takes
milliseconds where the pure-Python reference takes most of a second. The tests check the two
against each other.
"""

from __future__ import annotations

import numpy as np


def fisher_jenks(values, k: int) -> list[float]:
    """Upper bounds of the ``k`` classes that minimise the within-class sum of squared
    deviations of ``values`` (the last bound is the largest value).

    ``k`` must be between 1 and the number of distinct values.
    """
    data = np.sort(np.asarray(values, dtype=float))
    n = len(data)
    distinct = len(np.unique(data))
    if not 1 <= k <= distinct:
        raise ValueError(f"k must be between 1 and {distinct} (the distinct values); got {k}")
    if k == 1:
        return [float(data[-1])]
    # Prefix sums of the centred values: the variance of any run data[a..b] in O(1).
    centred = data - data.mean()
    s1 = np.concatenate(([0.0], np.cumsum(centred)))
    s2 = np.concatenate(([0.0], np.cumsum(centred * centred)))
    # cost[j][l]: least squared deviation of data[:l] in j classes; start[j][l]: the index
    # at which the last of those classes begins.
    cost = np.full((k + 1, n + 1), np.inf)
    start = np.zeros((k + 1, n + 1), dtype=np.int64)
    lengths = np.arange(1, n + 1)
    cost[1, 1:] = s2[1:] - s1[1:] ** 2 / lengths
    for last in range(2, n + 1):
        # the last class is data[begin:last] for begin = 1 .. last-1
        begins = np.arange(1, last)
        size = last - begins
        run1 = s1[last] - s1[begins]
        run2 = s2[last] - s2[begins]
        within = run2 - run1 * run1 / size
        for j in range(2, min(k, last) + 1):
            total = cost[j - 1, begins] + within
            # the smallest begin among equals, as the reference does
            best = int(np.argmin(total))
            cost[j, last] = total[best]
            start[j, last] = begins[best]
    bounds = [float(data[-1])]
    end = n
    for j in range(k, 1, -1):
        begin = start[j, end]
        bounds.append(float(data[begin - 1]))
        end = begin
    return bounds[::-1]
