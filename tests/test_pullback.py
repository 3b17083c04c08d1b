"""Pullback through a network's layers: maps against the composed layers, metrics against
finite differences, k-forms by Cauchy-Binet, layer profiles against the exact images of the
cells (mapped vertices), and the errors."""

import doctest
import importlib
import itertools

import numpy as np
import pytest
from scipy.spatial import ConvexHull, Delaunay

from geomcore import Box, InvalidInputError, ReLUNetwork, partition
from geomcore.pullback import LayerProfile, layer_profile, pullback


def _network(rng, sizes, slope=0.0):
    Ws = [rng.normal(size=(o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [0.5 * rng.normal(size=o) for o in sizes[1:]]
    return ReLUNetwork(Ws, bs, negative_slope=slope)


def _forward(net, X, layer):
    """h^layer of the points, by the network's own layers."""
    h = np.atleast_2d(X)
    for l in range(layer):
        h = h @ net.weights[l].T + net.biases[l]
        if l < len(net.weights) - 1:
            h = np.where(h > 0, h, net.negative_slope * h)
    return h


def _compound(M, k):
    """k-th compound matrix, one minor at a time (the independent oracle)."""
    rows = list(itertools.combinations(range(M.shape[0]), k))
    cols = list(itertools.combinations(range(M.shape[1]), k))
    return np.array([[np.linalg.det(M[np.ix_(r, c)]) for c in cols] for r in rows])


@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_pullback_is_the_composed_layers_on_the_cell(slope):
    rng = np.random.default_rng(5)
    net = _network(rng, (3, 6, 5, 4, 2), slope)
    x0 = rng.uniform(-1, 1, size=3)
    pattern = net.patterns(x0)[0]
    # points of the same cell: small steps that keep the pattern
    X = x0 + 1e-3 * rng.normal(size=(20, 3))
    X = X[(net.patterns(X) == pattern).all(axis=1)]
    assert len(X) >= 10
    for layer in range(len(net.weights) + 1):
        m = pullback(net, pattern, layer)
        np.testing.assert_allclose(X @ m.A.T + m.c, _forward(net, X, layer), rtol=1e-12,
                                   atol=1e-12)
        np.testing.assert_allclose(m.metric, m.A.T @ m.A, rtol=1e-14)
    np.testing.assert_allclose(x0 @ m.A.T + m.c, net(x0)[0], rtol=1e-12)
    first = pullback(net, pattern, 0)
    assert np.array_equal(first.A, np.eye(3)) and not first.c.any() and first.volume_factor == 1


def test_metric_matches_finite_differences_of_the_network():
    rng = np.random.default_rng(8)
    net = _network(rng, (3, 8, 8, 2))
    x0 = rng.uniform(-1, 1, size=3)
    pattern = net.patterns(x0)[0]
    h = 1e-6
    for layer in (1, 2, 3):
        J = np.column_stack([(_forward(net, x0 + h * e, layer) - _forward(net, x0 - h * e, layer))[0]
                             / (2 * h) for e in np.eye(3)])
        m = pullback(net, pattern, layer)
        np.testing.assert_allclose(m.metric, J.T @ J, rtol=1e-7, atol=1e-9)
        det = np.linalg.det(J.T @ J)
        assert m.volume_factor == pytest.approx(np.sqrt(det), rel=1e-6)


def test_volume_factor_zero_below_full_rank():
    # SPEC 14's layer: on the cells 00, 10, 01 fewer than two neurons are on
    net = ReLUNetwork([np.eye(2), [[1.0, 1.0]]], [[-0.3, -0.6], [0.0]])
    for pattern, factor in [([0, 0], 0.0), ([1, 0], 0.0), ([0, 1], 0.0), ([1, 1], 1.0)]:
        assert pullback(net, np.array(pattern, bool), 1).volume_factor == factor
    # a narrow layer (1 < ndim) never has full rank
    net = ReLUNetwork([[[1.0, 2.0]], [[1.0]]], [[0.0], [0.0]])
    assert pullback(net, [True], 1).volume_factor == 0.0
    assert pullback(net, [True], 2).form(1).tolist() == [[1.0, 2.0]]


def test_forms_are_compound_matrices_and_compose():
    rng = np.random.default_rng(2)
    net = _network(rng, (3, 5, 4, 3))
    pattern = net.patterns(rng.uniform(-1, 1, size=(1, 3)))[0]
    prev = pullback(net, pattern, 0)
    start = 0
    for layer in range(1, len(net.weights) + 1):
        m = pullback(net, pattern, layer)
        W = net.weights[layer - 1]
        if layer < len(net.weights):
            D = np.where(pattern[start:start + W.shape[0]], 1.0, 0.0)
            start += W.shape[0]
        else:
            D = np.ones(W.shape[0])
        for k in range(4):
            f = m.form(k)
            assert f.shape == (len(list(itertools.combinations(range(m.A.shape[0]), k))),
                               len(list(itertools.combinations(range(3), k))))
            if k:
                np.testing.assert_allclose(f, _compound(m.A, k), atol=1e-12)
                # Cauchy-Binet: C_k(D W A) = C_k(D W) C_k(A)
                np.testing.assert_allclose(f, _compound(D[:, None] * W, k) @ prev.form(k),
                                           atol=1e-10)
        prev = m
    assert np.array_equal(m.form(0), [[1.0]])
    np.testing.assert_allclose(m.form(1), m.A)
    # a 2-form on two vectors: the layer's 2-form of (A u, A v) is the pulled-back form of (u, v)
    u, v = rng.normal(size=3), rng.normal(size=3)
    coeffs = rng.normal(size=m.form(2).shape[0])
    Au, Av = m.A @ u, m.A @ v
    pairs = list(itertools.combinations(range(m.A.shape[0]), 2))
    lhs = sum(c * (Au[i] * Av[j] - Au[j] * Av[i]) for c, (i, j) in zip(coeffs, pairs))
    uv = np.array([u[i] * v[j] - u[j] * v[i] for i, j in itertools.combinations(range(3), 2)])
    assert lhs == pytest.approx((m.form(2).T @ coeffs) @ uv, rel=1e-10)


def test_pullback_errors():
    net = ReLUNetwork([np.eye(2), [[1.0, 1.0]]], [[-0.3, -0.6], [0.0]])
    with pytest.raises(InvalidInputError, match="pattern must be 1-D of length n_hidden=2"):
        pullback(net, [True, False, True], 1)
    with pytest.raises(InvalidInputError, match=r"layer must lie in \[0, 2\]"):
        pullback(net, [True, False], 3)
    with pytest.raises(InvalidInputError, match=r"layer must lie in \[0, 2\]"):
        pullback(net, [True, False], -1)
    with pytest.raises(InvalidInputError, match="layer must be an int"):
        pullback(net, [True, False], 1.0)
    with pytest.raises(InvalidInputError, match="pattern must hold booleans"):
        pullback(net, [0.5, 1], 1)
    with pytest.raises(InvalidInputError, match="network must be a geomcore.ReLUNetwork"):
        pullback("net", [True, False], 1)
    with pytest.raises(InvalidInputError, match=r"k must be an int in \[0, ndim=2\]"):
        pullback(net, [True, True], 1).form(3)


# ---------------------------------------------------------------------------------------------
# layer profiles


def _ordered_vertices(cell):
    V = np.asarray(cell.vertices)
    return V[ConvexHull(V).vertices]            # counter-clockwise in 2-D


def _simplex_volume(E):
    """k-volume of the simplex spanned by the rows of E (k, n) in R^n: by Cauchy-Binet, the
    root of the sum of squared k x k minors over k!, free of the cancellation in det(E E^T)."""
    k, n = E.shape
    minors = [np.linalg.det(E[:, list(c)]) for c in itertools.combinations(range(n), k)]
    return np.sqrt(np.sum(np.square(minors))) / np.prod(np.arange(1, k + 1))


def _polygon_area(P):
    """Area of a planar convex polygon given by its vertices in order, in any R^n."""
    return sum(_simplex_volume(np.array([P[i] - P[0], P[i + 1] - P[0]]))
               for i in range(1, len(P) - 1))


@pytest.fixture(scope="module")
def net_2d():
    rng = np.random.default_rng(11)
    net = _network(rng, (2, 4, 3, 1))
    part = partition(net, Box([-1, -1], [1, 1]))
    return net, part, layer_profile(part, net)


def test_layer_profile_row0_is_the_partition(net_2d):
    net, part, prof = net_2d
    assert isinstance(prof, LayerProfile)
    L = len(net.weights)
    assert prof.volumes.shape == (L, part.n_cells)
    assert prof.wall_areas.shape == (L, len(part.walls))
    assert prof.hinge_angles.shape == (L, len(part.hinges.angles))
    np.testing.assert_array_equal(prof.volumes[0], part.volumes)
    np.testing.assert_array_equal(prof.wall_areas[0], part.walls.areas)
    np.testing.assert_array_equal(prof.hinge_angles[0], part.hinges.angles)
    for i in range(part.n_cells):
        for layer in range(L):
            f = pullback(net, part.labels[i], layer).volume_factor
            assert prof.volumes[layer, i] == pytest.approx(part.volumes[i] * f, rel=1e-9,
                                                           abs=1e-15)


def test_layer_volumes_are_the_images_of_the_cells_2d(net_2d):
    net, part, prof = net_2d
    zero = 0
    for layer in range(1, len(net.weights)):
        for i in range(part.n_cells):
            image = _forward(net, _ordered_vertices(part.cell(i)), layer)
            exact = _polygon_area(image)
            assert prof.volumes[layer, i] == pytest.approx(exact, rel=1e-9, abs=1e-12)
            zero += prof.volumes[layer, i] == 0
    assert 0 < zero < part.n_cells * (len(net.weights) - 1)      # both kinds occur


def test_layer_wall_areas_are_the_images_of_the_walls_2d(net_2d):
    net, part, prof = net_2d
    W = part.walls
    for w, (i, j) in enumerate(W.cells):
        V = np.asarray(part.cell(i).vertices)
        on = np.abs((V - W.centroids[w]) @ W.normals[w]) < 1e-9
        assert on.sum() == 2
        for layer in range(1, len(net.weights)):
            p, q = _forward(net, V[on], layer)
            assert prof.wall_areas[layer, w] == pytest.approx(np.linalg.norm(p - q), rel=1e-9,
                                                              abs=1e-12)


def test_layer_hinge_angles_are_the_images_of_the_corners_2d(net_2d):
    net, part, prof = net_2d
    H = part.hinges
    checked = nan = 0
    for h in range(len(H.volumes)):
        cells = H.indices[H.indptr[h]:H.indptr[h + 1]]
        common = None
        for c in cells:
            V = {tuple(np.round(v, 9)) for v in part.cell(c).vertices}
            common = V if common is None else common & V
        assert len(common) == 1
        point = np.array(next(iter(common)))
        for e in range(H.indptr[h], H.indptr[h + 1]):
            c = H.indices[e]
            P = _ordered_vertices(part.cell(c))
            k = int(np.argmin(np.linalg.norm(P - point, axis=1)))
            u, v = P[k - 1] - P[k], P[(k + 1) % len(P)] - P[k]
            for layer in range(1, len(net.weights)):
                m = pullback(net, part.labels[c], layer)
                if m.volume_factor == 0:
                    assert np.isnan(prof.hinge_angles[layer, e])
                    nan += 1
                    continue
                Au, Av = m.A @ u, m.A @ v
                angle = np.arccos(Au @ Av / np.linalg.norm(Au) / np.linalg.norm(Av))
                assert prof.hinge_angles[layer, e] == pytest.approx(angle, rel=1e-9)
                checked += 1
    assert checked > 0 and nan > 0


def test_layer_volumes_are_the_images_of_the_cells_3d():
    rng = np.random.default_rng(4)
    net = _network(rng, (3, 4, 4, 1))
    part = partition(net, Box(-np.ones(3), np.ones(3)))
    prof = layer_profile(part, net)
    positive = 0
    for i in range(part.n_cells):
        V = np.asarray(part.cell(i).vertices)
        tets = Delaunay(V).simplices
        for layer in (1, 2):
            image = _forward(net, V, layer)
            E = image[tets[:, 1:]] - image[tets[:, :1]]              # (n_tets, 3, n_l)
            exact = sum(_simplex_volume(e) for e in E)
            assert prof.volumes[layer, i] == pytest.approx(exact, rel=1e-8, abs=1e-10)
            positive += exact > 1e-9
    assert positive > 0


def test_layer_profile_of_another_model():
    rng = np.random.default_rng(1)
    net = _network(rng, (2, 3, 1))
    part = partition(net, Box([-1, -1], [1, 1]))
    with pytest.raises(InvalidInputError, match="partition must be of network"):
        layer_profile(part, _network(rng, (2, 3, 1)))
    with pytest.raises(InvalidInputError, match="labels must be bool"):
        layer_profile(part, _network(rng, (2, 4, 1)))


def test_docstring_examples():
    result = doctest.testmod(importlib.import_module("geomcore.pullback"), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
