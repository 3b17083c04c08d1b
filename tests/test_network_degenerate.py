"""Constructed degeneracies of networks and arrangements, settled exactly by the cell complex."""

import math

import numpy as np
import pytest
from test_partitions import check_invariants

from geomcore import Arrangement, Box, ReLUNetwork, partition
from geomcore.partitions._complex import AffineSources, CellComplex


def test_deep_neuron_through_an_existing_vertex():
    # layer 1: x = 0.5 and y = 0.5 cross at (0.5, 0.5); the layer-2 neuron
    # relu(x - .5) - relu(y - .5) vanishes on the diagonal through that crossing vertex
    net = ReLUNetwork([[[1, 0], [0, 1]], [[1, -1]], [[1]]], [[-0.5, -0.5], [0], [0]])
    part = partition(net, Box([0, 0], [1, 1]))
    # the second-layer neuron splits only the quadrant where both are active, through the
    # existing vertex: 5 cells (its zero set elsewhere is a whole region where it is 0)
    assert part.n_cells == 5
    check_invariants(part, 1.0)
    assert sorted(np.round(part.volumes, 12).tolist()) == [0.125, 0.125, 0.25, 0.25, 0.25]
    # the crossing vertex is one hinge with all five cells around it, angles summing to 2 pi
    assert len(part.hinges) == 1
    assert np.diff(part.hinges.indptr).tolist() == [5]
    assert part.hinges.angles.sum() == pytest.approx(2 * np.pi, rel=1e-12)


def test_duplicated_and_dead_neurons():
    W1 = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    b1 = np.array([-0.25, -0.25, -1.0, -0.5, -10.0])     # a duplicate, a zero row, a dead one
    net = ReLUNetwork([W1, np.ones((1, 5))], [b1, [0.0]])
    part = partition(net, Box([0, 0], [1, 1]))
    assert part.n_cells == 4
    np.testing.assert_allclose(np.sort(part.volumes), [0.125, 0.125, 0.375, 0.375], rtol=1e-14)
    # the duplicate flips with its twin; the zero row and the dead neuron are never active
    assert (part.labels[:, 0] == part.labels[:, 1]).all()
    assert not part.labels[:, 2].any() and not part.labels[:, 4].any()
    check_invariants(part, 1.0)


def test_zero_weight_row_with_positive_bias_is_always_active():
    net = ReLUNetwork([[[0.0, 0.0], [1.0, 0.0]], [[1.0, 1.0]]], [[0.5, -0.5], [0.0]])
    part = partition(net, Box([0, 0], [1, 1]))
    assert part.n_cells == 2 and part.labels[:, 0].all()


@pytest.mark.parametrize("offset", [0.0, 1.0])
def test_neuron_tangent_to_the_domain(offset):
    # x = 0 and x = 1 are the box's own sides; x + y = 2 touches its corner (1, 1)
    net = ReLUNetwork([[[1.0, 0.0], [1.0, 1.0]], [[1.0, 1.0]]], [[-offset, -2.0], [0.0]])
    part = partition(net, Box([0, 0], [1, 1]))
    assert part.n_cells == 1
    # z = x - offset is positive inside the box for offset 0, negative for offset 1
    assert part.labels.tolist() == [[offset == 0.0, False]]
    assert len(part.walls) == 0 and len(part.hinges) == 0


def test_integer_weights_many_lines_through_one_vertex():
    # eight integer lines through (1/2, 1/2) and the dyadic point (1/4, 3/4): exact ties
    normals = np.array([[1, 0], [0, 1], [1, 1], [1, -1], [1, 2], [2, 1], [1, -2], [3, 1]], float)
    p = np.array([0.5, 0.5])
    part = partition(Arrangement(normals, normals @ p), Box([0, 0], [1, 1]))
    assert part.n_cells == 16
    check_invariants(part, 1.0)
    assert len(part.hinges) == 1 and np.diff(part.hinges.indptr).tolist() == [16]
    assert part.hinges.angles.sum() == pytest.approx(2 * np.pi, rel=1e-12)


def test_dyadic_network_exact_volumes():
    rng = np.random.default_rng(7)
    W1 = rng.integers(-4, 5, size=(6, 3)) / 4
    b1 = rng.integers(-4, 5, size=6) / 8
    W2 = rng.integers(-4, 5, size=(5, 6)) / 4
    b2 = rng.integers(-4, 5, size=5) / 8
    net = ReLUNetwork([W1, W2, np.ones((1, 5))], [b1, b2, [0.0]])
    part = partition(net, Box(-np.ones(3), np.ones(3)), exact=True)
    assert sum(part.exact_volumes) == 8
    assert (net.patterns(part.centroids) == part.labels).all()


def test_ties_are_settled_exactly():
    # the second layer's neuron is x - y exactly zero along the diagonal, reached through
    # two first-layer neurons with huge and tiny weights: floats alone cannot decide it
    big, tiny = 2.0 ** 30, 2.0 ** -30
    net = ReLUNetwork([[[big, 0.0], [0.0, tiny]], [[1 / big, -1 / tiny]], [[1.0]]],
                      [[0.0, 0.0], [0.0], [0.0]])
    part = partition(net, Box([0.0, 0.0], [1.0, 1.0]))
    assert part.n_cells == 2
    np.testing.assert_allclose(part.volumes, [0.5, 0.5], rtol=1e-12)


def test_exact_fallback_runs_on_vertices_within_their_bound():
    # lines through a common point: the third line meets the vertex of the first two exactly,
    # so its sign there is decided on the exact path
    A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = np.array([0.1, 0.2, 0.30000000000000004])        # 0.1 + 0.2 in floats
    cx = CellComplex(AffineSources([A], [-b]), np.vstack([np.eye(2), -np.eye(2)]),
                     np.r_[1.0, 1.0, 0.0, 0.0])
    cx.insert_layer(0)
    assert cx.n_exact >= 1
    from fractions import Fraction

    # whether the third line passes through the crossing, as rationals
    on = Fraction(0.1) + Fraction(0.2) == Fraction(0.30000000000000004)
    assert cx.n_cells == (6 if on else 7)


def test_zaslavsky_in_three_dimensions_small_domain():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(7, 3))
    b = rng.normal(size=7) * 0.1
    part = partition(Arrangement(A, b), Box(-np.full(3, 100.0), np.full(3, 100.0)))
    assert part.n_cells == sum(math.comb(7, i) for i in range(4))


@pytest.mark.parametrize("regions", ["linear", "decision"])
def test_polytope_domain_with_rounded_vertices(regions):
    # a random polytope domain: its vertices are not doubles, so they are solved exactly
    from geomcore import Polytope

    rng = np.random.default_rng(11)
    A = rng.normal(size=(12, 3))
    A /= np.linalg.norm(A, axis=1)[:, None]
    domain = Polytope(A, np.ones(12))
    net = ReLUNetwork([rng.normal(size=(6, 3)), rng.normal(size=(5, 6)), rng.normal(size=(3, 5))],
                      [0.3 * rng.normal(size=6), 0.3 * rng.normal(size=5), rng.normal(size=3)],
                      negative_slope=0.1)
    part = partition(net, domain, regions=regions)
    assert part.volumes.sum() == pytest.approx(domain.volume, rel=1e-12)
    assert (net.patterns(part.centroids) == part.labels).all()
    if regions == "decision":
        assert (net.classes(part.centroids) == part.classes).all()
    assert (part.locate(part.centroids) == np.arange(part.n_cells)).all()
