"""Geometric regularizers: SPEC 14's square in closed form, every gradient against central
finite differences on arrangements and networks in 2-D and 3-D, and the errors."""

import doctest
import importlib
import math

import numpy as np
import pytest

from geomcore import Arrangement, Box, InvalidInputError, ReLUNetwork, partition
from geomcore.regularizers import (
    Penalty,
    boundary,
    penalty,
    shape_quality,
    sharp_angles,
    small_cells,
)

TERMS = {"small_cells": dict(t=0.8), "boundary": {}, "sharp_angles": dict(theta_min=1.2),
         "shape_quality": {}}


def square(a=0.3, b=0.6):
    arr = Arrangement([[1.0, 0.0], [0.0, 1.0]], [a, b])
    return arr, partition(arr, Box([0, 0], [1, 1]))


# ---------------------------------------------------------------------------------------------
# SPEC 14: the unit square cut by x1 = a, x2 = b (cells 00, 10, 01, 11)


def test_small_cells_square_closed_form():
    a, b = 0.3, 0.6
    arr, part = square(a, b)
    p = small_cells(arr, part, t=1.0)
    # r = 4 vol: only 00 (4ab) and 01 (4a(1-b)) are below t = 1
    g00, g01 = 1 - 4 * a * b, 1 - 4 * a * (1 - b)
    assert p.value == pytest.approx(g00 ** 2 + g01 ** 2, rel=1e-13)
    dP_da = 2 * g00 * (-4 * b) + 2 * g01 * (-4 * (1 - b))
    dP_db = 2 * g00 * (-4 * a) + 2 * g01 * (4 * a)
    dA, db = p.grad
    np.testing.assert_allclose(db, [dP_da, dP_db], rtol=1e-12)
    # a row scaled by s moves its line to b/s: d/dA[j, j] = -b_j dP/db_j
    np.testing.assert_allclose([dA[0, 0], dA[1, 1]], [-a * dP_da, -b * dP_db], rtol=1e-12)
    # the default t = 0.1 is below every ratio (smallest 0.48): no penalty, no gradient
    p = small_cells(arr, part)
    assert p.value == 0.0 and not p.grad[0].any() and not p.grad[1].any()


def test_boundary_square_closed_form():
    a, b = 0.3, 0.6
    arr, part = square(a, b)
    p = boundary(arr, part)                 # every wall: two unit segments
    assert p.value == pytest.approx(2.0, rel=1e-13)
    np.testing.assert_allclose(p.grad[1], [0, 0], atol=1e-13)
    np.testing.assert_allclose(p.grad[0], 0, atol=1e-13)
    # only cell 10 labelled 1: walls 00-10 (length b) and 10-11 (length 1 - a)
    p = boundary(arr, part, y=[0, 1, 0, 0])
    assert p.value == pytest.approx(b + 1 - a, rel=1e-13)
    np.testing.assert_allclose(p.grad[1], [-1.0, 1.0], rtol=1e-12)
    # tilting line 0 (x1 + e x2 = a) moves the corner on line 1 to x1 = a - e b; tilting
    # line 1 (e x1 + x2 = b) moves the corner on line 0 to x2 = b - e a
    np.testing.assert_allclose(p.grad[0], [[a, b], [-a, -b]], rtol=1e-12)


def test_shape_quality_square_closed_form():
    a, b = 0.3, 0.6
    arr, part = square(a, b)
    w = np.array([a, 1 - a, a, 1 - a])
    h = np.array([b, b, 1 - b, 1 - b])
    q = (w + h) ** 2 / (np.pi * w * h)
    p = shape_quality(arr, part)
    assert p.value == pytest.approx(np.sum(q - 1), rel=1e-13)
    # d q / d w = (w + h)(w - h) / (pi w^2 h); w of cells 00, 01 is a, of 10, 11 is 1 - a
    dq_dw = (w + h) * (w - h) / (np.pi * w ** 2 * h)
    dq_dh = (w + h) * (h - w) / (np.pi * w * h ** 2)
    dP_da = dq_dw[0] - dq_dw[1] + dq_dw[2] - dq_dw[3]
    dP_db = dq_dh[0] + dq_dh[1] - dq_dh[2] - dq_dh[3]
    np.testing.assert_allclose(p.grad[1], [dP_da, dP_db], rtol=1e-12)


def test_sharp_angles_square_and_skew():
    arr, part = square()
    p = sharp_angles(arr, part)             # four right angles, above pi/6
    assert p.value == 0.0
    p = sharp_angles(arr, part, theta_min=2.0)
    assert p.value == pytest.approx(4 * (2.0 - np.pi / 2) ** 2, rel=1e-13)
    # rotating either line makes two angles larger and two smaller by the same amount
    np.testing.assert_allclose(p.grad[0], 0, atol=1e-12)
    # lines at angle alpha: cells with alpha and pi - alpha
    alpha = 0.5
    arr = Arrangement([[0.0, 1.0], [math.sin(alpha), -math.cos(alpha)]], [0.5, 0.0])
    part = partition(arr, Box([-1, -1], [1, 1]))
    p = sharp_angles(arr, part, theta_min=1.0)
    assert p.value == pytest.approx(2 * (1.0 - alpha) ** 2, rel=1e-12)
    # turning line 1 by phi (normal (sin(alpha + phi), -cos(alpha + phi))) opens alpha
    n = np.array([math.cos(alpha), math.sin(alpha)])        # d normal / d phi
    assert p.grad[0][1] @ n == pytest.approx(-4 * (1.0 - alpha), rel=1e-12)
    assert p.grad[1].tolist() == [0.0, 0.0]


def test_values_match_public_partition_fields(rng):
    A = rng.normal(size=(7, 2))
    b = A @ rng.uniform(-0.6, 0.6, size=(7, 2)).T.diagonal() if False else \
        np.einsum("ij,ij->i", A, rng.uniform(-0.6, 0.6, size=(7, 2)))
    arr = Arrangement(A, b)
    part = partition(arr, Box([-1, -1], [1, 1]))
    n = part.n_cells
    r = part.volumes / (4.0 / n)
    assert small_cells(arr, part, t=0.8).value == pytest.approx(
        np.sum(np.maximum(0, 0.8 - r) ** 2), rel=1e-10)
    assert boundary(arr, part).value == pytest.approx(part.walls.areas.sum(), rel=1e-10)
    ang = part.hinges.angles
    assert sharp_angles(arr, part, theta_min=1.2).value == pytest.approx(
        np.sum(np.maximum(0, 1.2 - ang) ** 2), rel=1e-10)
    perim = np.array([part.cell(i).facet_areas.sum() for i in range(n)])
    q = perim ** 2 / (part.volumes * 4 * np.pi)
    assert shape_quality(arr, part).value == pytest.approx(np.sum(q - 1), rel=1e-10)


# ---------------------------------------------------------------------------------------------
# gradients against central finite differences, combinatorics fixed


def _fd_arrangement(term, arr, part, options, h=1e-6):
    theta = np.r_[arr.A.ravel(), arr.b]
    m, d = arr.A.shape
    out = np.empty_like(theta)
    for k in range(theta.size):
        vals = []
        for s in (1, -1):
            t = theta.copy()
            t[k] += s * h
            moved = Arrangement(t[:m * d].reshape(m, d), t[m * d:])
            vals.append(penalty(term, moved, part, **options).value)
        out[k] = (vals[0] - vals[1]) / (2 * h)
    return out


def _flat(grad):
    first, second = grad
    if isinstance(first, list):
        return np.concatenate([np.concatenate([w.ravel() for w in first]),
                               np.concatenate([v.ravel() for v in second])])
    return np.r_[first.ravel(), second.ravel()]


def _fd_network(term, net, part, options, h=1e-6):
    Ws, bs = net.weights, net.biases
    shapes = [W.shape for W in Ws] + [b.shape for b in bs]
    theta = np.concatenate([W.ravel() for W in Ws] + [b.ravel() for b in bs])
    out = np.empty_like(theta)

    def unpack(t):
        arrs, pos = [], 0
        for s in shapes:
            k = int(np.prod(s))
            arrs.append(t[pos:pos + k].reshape(s))
            pos += k
        L = len(Ws)
        return arrs[:L], arrs[L:]

    for k in range(theta.size):
        vals = []
        for s in (1, -1):
            t = theta.copy()
            t[k] += s * h
            W2, b2 = unpack(t)
            vals.append(penalty(term, ReLUNetwork(W2, b2, negative_slope=net.negative_slope),
                                part, **options).value)
        out[k] = (vals[0] - vals[1]) / (2 * h)
    return out


def _assert_close(g, fd, rel=1e-5):
    scale = np.linalg.norm(fd)
    assert scale > 0, "the test needs a non-zero gradient"
    assert np.linalg.norm(g - fd) <= rel * scale, (np.abs(g - fd).max(), scale)


def _arrangement(rng, m, d):
    A = rng.normal(size=(m, d))
    b = np.einsum("ij,ij->i", A, rng.uniform(-0.6, 0.6, size=(m, d)))
    return Arrangement(A, b)


@pytest.mark.parametrize("d,m", [(2, 7), (3, 5)])
@pytest.mark.parametrize("term", list(TERMS))
def test_arrangement_gradient_matches_finite_differences(term, d, m):
    rng = np.random.default_rng(7 + d)
    arr = _arrangement(rng, m, d)
    part = partition(arr, Box(-np.ones(d), np.ones(d)))
    options = dict(TERMS[term])
    if term == "small_cells":
        options["t"] = 1.0
    if term == "sharp_angles" and d == 3:
        options["theta_min"] = 1.4
    p = penalty(term, arr, part, **options)
    assert isinstance(p, Penalty) and p.term == term and p.value > 0
    _assert_close(_flat(p.grad), _fd_arrangement(term, arr, part, options))


def _network(rng, sizes, slope=0.0):
    Ws = [rng.normal(size=(o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [0.5 * rng.normal(size=o) for o in sizes[1:]]
    return ReLUNetwork(Ws, bs, negative_slope=slope)


@pytest.mark.parametrize("sizes,slope,regions,seed", [
    ((2, 5, 4, 1), 0.0, "linear", 12),
    ((2, 4, 3, 3), 0.1, "decision", 13),
    ((3, 4, 3, 2), 0.0, "linear", 12),
    ((3, 3, 3, 2), 0.0, "decision", 4),
])
@pytest.mark.parametrize("term", list(TERMS))
def test_network_gradient_matches_finite_differences(term, sizes, slope, regions, seed):
    rng = np.random.default_rng(seed)
    net = _network(rng, sizes, slope)
    d = sizes[0]
    # centre the output so that the decision boundary crosses the box
    out = net(rng.uniform(-1, 1, size=(500, d)))
    net.biases[-1] -= np.median(out, axis=0)
    part = partition(net, Box(-np.ones(d), np.ones(d)), regions=regions)
    if regions == "decision":
        assert len(np.unique(part.classes)) > 1
    options = dict(TERMS[term])
    if term == "small_cells":
        options["t"] = 1.0
    if term == "sharp_angles":
        options["theta_min"] = 1.4
    p = penalty(term, net, part, **options)
    assert p.value > 0
    assert [g.shape for g in p.grad[0]] == [W.shape for W in net.weights]
    assert [g.shape for g in p.grad[1]] == [b.shape for b in net.biases]
    _assert_close(_flat(p.grad), _fd_network(term, net, part, options))


def test_cells_option_restricts_the_sum():
    rng = np.random.default_rng(3)
    arr = _arrangement(rng, 6, 2)
    part = partition(arr, Box([-1, -1], [1, 1]))
    half = np.arange(part.n_cells) % 2 == 0
    for term, opts in TERMS.items():
        full = penalty(term, arr, part, **opts)
        a = penalty(term, arr, part, cells=half, **opts)
        b = penalty(term, arr, part, cells=np.flatnonzero(~half), **opts)
        if term == "boundary":       # a wall counts when one of its cells is selected
            assert a.value + b.value >= full.value - 1e-12
        else:
            assert a.value + b.value == pytest.approx(full.value, rel=1e-12)
            np.testing.assert_allclose(_flat(a.grad) + _flat(b.grad), _flat(full.grad),
                                       rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# errors


def test_unknown_term_and_option():
    arr, part = square()
    with pytest.raises(InvalidInputError, match="term must be one of"):
        penalty("curvature", arr, part)
    with pytest.raises(InvalidInputError, match="unknown option 'tt'"):
        small_cells(arr, part, tt=0.1)
    with pytest.raises(InvalidInputError, match="unknown option 'theta'"):
        sharp_angles(arr, part, theta=0.1)
    with pytest.raises(InvalidInputError, match="t must be a positive"):
        small_cells(arr, part, t=-1)
    with pytest.raises(InvalidInputError, match="y must have one label per cell"):
        boundary(arr, part, y=[0, 1])
    with pytest.raises(InvalidInputError, match="cells must lie in"):
        small_cells(arr, part, cells=[7])


def test_partition_of_another_model():
    arr, part = square()
    other = Arrangement([[1.0, 0.0], [0.0, 1.0]], [0.7, 0.6])
    with pytest.raises(InvalidInputError, match="partition must be of model"):
        small_cells(other, part)
    three = Arrangement([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0.3, 0.6, 1.0])
    with pytest.raises(InvalidInputError, match="labels must be bool"):
        boundary(three, part)
    net = ReLUNetwork([np.eye(2), [[1.0, 1.0]]], [[-0.3, -0.6], [0.0]])
    with pytest.raises(InvalidInputError, match="labels must be bool|another model"):
        boundary(net, partition(Arrangement([[1.0, 0.0]], [0.5]), Box([0, 0], [1, 1])))
    with pytest.raises(InvalidInputError, match="Arrangement or ReLUNetwork"):
        small_cells("model", part)


def test_docstring_examples():
    result = doctest.testmod(importlib.import_module("geomcore.regularizers"), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
