"""Seeded campaign: partitions of random He-initialised networks in 3-6 D against an independent
LP search of the activation regions, and against the network's own patterns and classes.

The default run takes a few seeds per case; ``GEOMCORE_LONG=1 pytest tests/test_network_campaign.py``
runs the full campaign (200 networks per case and region kind, every one against the LP
search; hours on two cores).
"""

import itertools
import os

import numpy as np
import pytest
from scipy.optimize import linprog

from geomcore import Box, ReLUNetwork, partition

LONG = os.environ.get("GEOMCORE_LONG") == "1"
N_SEEDS = 200 if LONG else 3

# (ndim, hidden widths, outputs): widths 6-12, two or three hidden layers, 1 or 3 outputs
CASES = [(3, [8, 8], 1), (3, [6, 6, 6], 3), (4, [8, 8], 1), (4, [6, 6], 3), (5, [6, 6], 1),
         (5, [6, 6, 6], 3), (6, [6, 5], 1), (6, [6, 6], 3)]


def he_network(d, widths, n_out, seed):
    """The issue's layout: W ~ N(0, 2 / n_in) per layer, then b ~ 0.1 N(0, 1)."""
    rng = np.random.default_rng(seed)
    sizes = [d] + list(widths) + [n_out]
    weights, biases = [], []
    for n_in, n_next in itertools.pairwise(sizes):
        weights.append(rng.standard_normal((n_next, n_in)) * np.sqrt(2 / n_in))
        biases.append(0.1 * rng.standard_normal(n_next))
    return ReLUNetwork(weights, biases)


def region_rows(net, pattern):
    """Halfspaces (A, b) of the activation region of `pattern`: every neuron's pulled-back row
    on the side the pattern says."""
    rows = net.cell_rows(pattern[None])[0]                     # (n_hidden, d + 1): a . x + c
    side = np.where(pattern, -1.0, 1.0)
    return side[:, None] * rows[:, :-1], -side * rows[:, -1]


def lp_regions(net, lo, hi):
    """Every activation region of the net in the box, by a search of the region graph: from a
    region, an LP finds a ball in each of its facets' hyperplanes (the largest radius r with
    every other row satisfied by the whole ball), and a step of r / 2 across gives a point of
    the neighbour. Independent of geomcore's enumeration (float LPs, scipy's HiGHS)."""
    d = net.ndim
    box_A = np.vstack([np.eye(d), -np.eye(d)])
    box_b = np.r_[hi, -lo]
    start = tuple(net.patterns([(lo + hi) / 2])[0])
    seen, todo = {start}, [start]
    while todo:
        p = np.array(todo.pop())
        A, b = region_rows(net, p)
        A, b = np.vstack([A, box_A]), np.r_[b, box_b]
        norms = np.linalg.norm(A, axis=1)
        for g in range(len(p)):
            if norms[g] == 0:
                continue
            others = np.arange(len(b)) != g
            res = linprog(np.r_[np.zeros(d), -1.0],
                          A_ub=np.column_stack([A[others], norms[others]]), b_ub=b[others],
                          A_eq=np.r_[A[g], 0.0][None], b_eq=[b[g]],
                          bounds=[(None, None)] * d + [(0, 1)], method="highs")
            if res.status != 0 or res.x[-1] < 1e-9:
                continue
            x = res.x[:d] + 0.5 * res.x[-1] * A[g] / norms[g]
            q = tuple(net.patterns([x])[0])
            if q not in seen:
                seen.add(q)
                todo.append(q)
    return seen


def chebyshev_radius(A, b):
    """Radius of the largest ball in A x <= b (rows normalised, radius bounded: HiGHS's simplex
    can stall on the raw rows of a thin region), or -1 when the LP finds none."""
    norms = np.linalg.norm(A, axis=1)
    keep = norms > 0
    A, b = A[keep] / norms[keep, None], b[keep] / norms[keep]
    d = A.shape[1]
    res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.column_stack([A, np.ones(len(b))]), b_ub=b,
                  bounds=[(None, None)] * d + [(0, 1e3)], method="highs")
    return res.x[-1] if res.status == 0 else -1.0


@pytest.mark.parametrize("d, widths, n_out", CASES)
@pytest.mark.parametrize("seed", range(N_SEEDS))
def test_linear_regions_match_lp_search(d, widths, n_out, seed):
    net = he_network(d, widths, n_out, seed)
    lo, hi = -np.ones(d), np.ones(d)
    part = partition(net, Box(lo, hi))
    assert part.volumes.sum() == pytest.approx(2.0 ** d, rel=1e-10)
    assert (part.volumes > 0).all()
    # each label is the network's own pattern at the cell's centroid, and locate agrees
    assert (net.patterns(part.centroids) == part.labels).all()
    assert (part.locate(part.centroids) == np.arange(part.n_cells)).all()
    # every cell has an interior, and the LP search finds exactly the same regions
    found = {tuple(row) for row in part.labels}
    assert len(found) == part.n_cells
    # the LP search is slow (one LP per region and neuron): by default on the first seed of
    # the smaller cases
    if LONG or (seed == 0 and d * sum(widths) <= 48):
        assert found == lp_regions(net, lo, hi)


@pytest.mark.parametrize("d, widths, n_out", [c for c in CASES if c[2] == 3])
@pytest.mark.parametrize("seed", range(N_SEEDS))
def test_decision_regions_match_the_network(d, widths, n_out, seed):
    net = he_network(d, widths, n_out, seed)
    lo, hi = -np.ones(d), np.ones(d)
    part = partition(net, Box(lo, hi), regions="decision")
    linear = partition(net, Box(lo, hi))
    assert part.volumes.sum() == pytest.approx(2.0 ** d, rel=1e-10)
    # decision regions refine the linear regions: per pattern the volumes add up
    keys = {tuple(r): v for r, v in zip(linear.labels, linear.volumes)}
    per_pattern = {}
    for row, v in zip(part.labels, part.volumes):
        per_pattern[tuple(row)] = per_pattern.get(tuple(row), 0.0) + v
    assert per_pattern.keys() == keys.keys()
    for k, v in per_pattern.items():
        assert v == pytest.approx(keys[k], rel=1e-9, abs=1e-12)
    # the class and pattern at each region's centroid (regions are convex) are its own
    assert (net.classes(part.centroids) == part.classes).all()
    assert (net.patterns(part.centroids) == part.labels).all()
    assert (part.locate(part.centroids) == np.arange(part.n_cells)).all()
    # each (pattern, class) pair is a region with an interior, by a Chebyshev LP
    out = net.output_rows(part.labels)
    for i in range(part.n_cells):
        A, b = region_rows(net, part.labels[i])
        f = out[i]
        k = part.classes[i]
        if f.shape[0] == 1:
            f = np.vstack([np.zeros_like(f), f])
        diff = np.delete(f - f[k], k, axis=0)                        # f_j - f_k <= 0
        A = np.vstack([A, diff[:, :-1], np.eye(d), -np.eye(d)])
        b = np.r_[b, -diff[:, -1], hi, -lo]
        assert chebyshev_radius(A, b) > 0
