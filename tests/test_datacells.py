"""data_cells: patterns, facets, Chebyshev balls, neighbours, volumes, slices, dask."""

import pickle
import warnings

import numpy as np
import pytest
from scipy.optimize import linprog

from geomcore.datacells import DataCells, data_cells
from geomcore.errors import DegenerateInputError, InvalidInputError
from geomcore.networks import ReLUNetwork


def _random_net(rng, sizes, bias=1.0):
    Ws = [rng.standard_normal((o, i)) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [bias * rng.standard_normal(o) for o in sizes[1:]]
    return ReLUNetwork(Ws, bs)


@pytest.fixture(scope="module")
def digits():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X, y = X[:240] / 16.0, y[:240]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier((12, 10), max_iter=150, random_state=0).fit(X, y)
    assert sklearn is not None
    cells = data_cells(clf, X)
    return clf, X, cells


# ---- independent oracles ---------------------------------------------------------------------

def _oracle_facet(A, b, j):
    """Row j non-redundant: max a_j.x over the other rows exceeds b_j (scipy HiGHS IPM)."""
    keep = np.r_[0:j, j + 1:len(b)]
    res = linprog(-A[j], A_ub=A[keep], b_ub=b[keep], bounds=[(None, None)] * A.shape[1],
                  method="highs-ipm")
    if res.status == 3:
        return True
    return -res.fun > b[j] + 1e-7 * max(1.0, abs(b[j]))


def _oracle_chebyshev(A, b):
    norm = np.linalg.norm(A, axis=1)
    res = linprog(np.r_[np.zeros(A.shape[1]), -1.0], A_ub=np.c_[A, norm], b_ub=b,
                  bounds=[(None, None)] * A.shape[1] + [(0, None)], method="highs-ipm")
    return -res.fun


def _oracle_wall(A1, b1, A2, b2, g):
    """Largest r of a (d-1)-ball on row g of cell 1 inside both closed cells (dense LP)."""
    a = A1[g]
    A = np.vstack([np.delete(A1, g, 0), np.delete(A2, g, 0)])
    b = np.r_[np.delete(b1, g), np.delete(b2, g)]
    u = a / np.linalg.norm(a)
    proj = np.linalg.norm(A - np.outer(A @ u, u), axis=1)
    res = linprog(np.r_[np.zeros(A.shape[1]), -1.0], A_ub=np.c_[A, proj], b_ub=b,
                  A_eq=np.r_[a, 0][None], b_eq=[b1[g]],
                  bounds=[(None, None)] * A.shape[1] + [(0, None)], method="highs-ipm")
    return -res.fun if res.status == 0 else 0.0


# ---- small closed forms ------------------------------------------------------------------------

def test_data_cells_two_lines_closed_form():
    net = ReLUNetwork([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]]], [[-0.5, -0.5], [0.0]])
    X = [[0.2, 0.2], [0.8, 0.3], [0.7, 0.9], [0.9, 0.6]]
    cells = data_cells(net, X)
    assert cells.patterns.tolist() == [[False, False], [True, False], [True, True]]
    assert cells.counts.tolist() == [1, 1, 2]
    assert cells.cell_of.tolist() == [0, 1, 2, 2]
    assert cells.members.indptr.tolist() == [0, 1, 2, 4]
    assert cells.members.indices.tolist() == [0, 1, 2, 3]
    # domain: [0.2, 0.9] widened by 0.035 on each side
    np.testing.assert_allclose(cells.lo, [0.165, 0.165])
    np.testing.assert_allclose(cells.hi, [0.935, 0.935])
    # cell 0 is [0.165, 0.5]^2: centre its middle, radius half its side
    np.testing.assert_allclose(cells.centers[0], [0.3325, 0.3325], atol=1e-9)
    np.testing.assert_allclose(cells.inradii, [0.1675, 0.1675, 0.2175], atol=1e-9)
    A, b = cells.halfspaces(0)
    np.testing.assert_array_equal(A, [[1, 0], [0, 1], [-1, 0], [0, -1]])
    np.testing.assert_allclose(b, [0.5, 0.5, -0.165, -0.165])
    assert cells.neighbors.tolist() == [[0, 1], [1, 2]]
    assert cells.neighbor_neurons.tolist() == [0, 1]
    assert cells.neighbor_exact.all()
    assert (cells.n_facets == 4).all()


def test_data_cells_zero_range_feature_bounded():
    net = ReLUNetwork([[[1.0, 1.0]], [[1.0]]], [[-0.5], [0.0]])
    X = np.array([[0.0, 2.0], [1.0, 2.0]])       # feature 1 constant
    cells = data_cells(net, X)
    assert (cells.hi - cells.lo > 0).all()
    np.testing.assert_allclose(cells.hi[1] - cells.lo[1], 0.1)   # 5% of the largest range
    assert np.isfinite(cells.centers).all() and (cells.inradii > 0).all()
    X1 = np.array([[3.0, 2.0]])                  # every feature constant
    one = data_cells(net, X1)
    assert one.n_cells == 1 and (one.hi - one.lo > 0).all() and one.inradii[0] > 0


def test_data_cells_flat_pattern():
    # two neurons with one hyperplane x = 0 and opposite signs: a point on it has the
    # pattern (False, False), realised only on the line: a flat cell
    net = ReLUNetwork([[[1.0, 0.0], [-1.0, 0.0]], [[1.0, 1.0]]], [[0.0, 0.0], [0.0]])
    X = np.array([[0.0, 0.5], [0.5, 0.2], [-0.5, 0.9]])
    cells = data_cells(net, X)
    assert cells.patterns.tolist() == [[False, False], [False, True], [True, False]]
    assert cells.flat.tolist() == [True, False, False]
    assert cells.n_facets[0] == 0 and cells.inradii[0] == 0
    assert 0 not in cells.neighbors


# ---- digits -----------------------------------------------------------------------------------

def test_data_cells_digits_patterns_members(digits):
    clf, X, cells = digits
    net = ReLUNetwork.from_sklearn(clf)
    P = net.patterns(X)
    assert cells.n_points == len(X) and cells.ndim == 64
    np.testing.assert_array_equal(cells.patterns[cells.cell_of], P)
    # lexicographic rows, False < True, all distinct
    keys = [tuple(r) for r in cells.patterns.astype(int)]
    assert keys == sorted(keys) and len(set(keys)) == cells.n_cells
    assert cells.counts.sum() == len(X)
    np.testing.assert_array_equal(np.bincount(cells.cell_of), cells.counts)
    for i in range(cells.n_cells):
        m = cells.members.indices[cells.members.indptr[i]:cells.members.indptr[i + 1]]
        assert (cells.cell_of[m] == i).all() and (np.diff(m) > 0).all()


def test_data_cells_digits_points_in_cells(digits):
    _, X, cells = digits
    for i in range(cells.n_cells):
        A, b = cells.all_halfspaces(i)
        pts = X[cells.members.indices[cells.members.indptr[i]:cells.members.indptr[i + 1]]]
        assert (pts @ A.T <= b + 1e-9).all()
        Af, bf = cells.halfspaces(i)                     # the facets alone describe it too
        assert (pts @ Af.T <= bf + 1e-9).all()


def test_data_cells_digits_facets_match_lp_oracle(digits):
    _, X, cells = digits
    for i in range(0, cells.n_cells, max(1, cells.n_cells // 6)):
        A, b = cells.all_halfspaces(i)
        truth = np.array([_oracle_facet(A, b, j) for j in range(len(b))])
        rows = cells.facet_rows[cells.facet_indptr[i]:cells.facet_indptr[i + 1]]
        got = np.zeros(len(b), bool)
        got[rows] = True
        np.testing.assert_array_equal(got, truth, err_msg=f"cell {i}")
        # the facets describe the closed cell: no other row cuts the facet polytope
        Af, bf = A[rows], b[rows]
        for j in np.flatnonzero(~truth):
            res = linprog(-A[j], A_ub=Af, b_ub=bf, bounds=[(None, None)] * 64,
                          method="highs-ipm")
            assert -res.fun <= b[j] + 1e-7


def test_data_cells_digits_inradii_match_chebyshev_lp(digits):
    _, X, cells = digits
    for i in range(0, cells.n_cells, max(1, cells.n_cells // 8)):
        A, b = cells.all_halfspaces(i)
        np.testing.assert_allclose(cells.inradii[i], _oracle_chebyshev(A, b), rtol=1e-6,
                                   atol=1e-9)
        # the ball lies in the cell
        c = cells.centers[i]
        assert (A @ c + np.linalg.norm(A, axis=1) * cells.inradii[i] <= b + 1e-7).all()


def test_data_cells_digits_neighbors_match_oracle(digits):
    _, X, cells = digits
    P = cells.patterns
    found = {tuple(p): g for p, g in zip(map(tuple, cells.neighbors), cells.neighbor_neurons)}
    # every pair of data cells differing in one bit, tested by the dense oracle LP
    diff = (P[:, None, :] != P[None, :, :]).sum(axis=2)
    ii, jj = np.nonzero(np.triu(diff == 1))
    assert len(ii) > 0
    for i, j in zip(ii, jj):
        g = int(np.flatnonzero(P[i] != P[j])[0])
        A1, b1 = cells.all_halfspaces(i)
        A2, b2 = cells.all_halfspaces(j)
        r = _oracle_wall(A1, b1, A2, b2, g)
        if r > 1e-7:
            assert found.get((i, j)) == g, (i, j, r)
        elif r < 1e-11:
            assert (i, j) not in found
    assert (cells.neighbors[:, 0] < cells.neighbors[:, 1]).all()
    assert cells.neighbor_exact.all()


def test_data_cells_torch_equals_sklearn(digits):
    torch = pytest.importorskip("torch")
    clf, X, cells = digits
    net = ReLUNetwork.from_sklearn(clf)
    layers = []
    for k, (W, b) in enumerate(zip(net.weights, net.biases)):
        lin = torch.nn.Linear(W.shape[1], W.shape[0]).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if k < len(net.weights) - 1:
            layers.append(torch.nn.ReLU())
    other = data_cells(torch.nn.Sequential(*layers), X[:60])
    np.testing.assert_array_equal(other.patterns, np.unique(cells.patterns[cells.cell_of[:60]],
                                                            axis=0))


def test_walk_kernel_matches_numpy_reference(digits, monkeypatch):
    """The compiled simplex walk and the NumPy walker decide the same facets."""
    import geomcore._datacells_geometry as geo

    if geo._walk_row is None:
        pytest.skip("the _datacells extension is not built")
    clf, X, cells = digits
    net = cells.network
    args = (cells._dom_A, cells._dom_b, (cells.lo, cells.hi), cells._scale)
    picks = range(0, cells.n_cells, max(1, cells.n_cells // 5))
    compiled = [geo.cell_geometry(net, cells.patterns[i], *args)[0] for i in picks]
    monkeypatch.setattr(geo, "_walk_row", None)
    for i, f in zip(picks, compiled):
        ref = geo.cell_geometry(net, cells.patterns[i], *args)[0]
        np.testing.assert_array_equal(ref, f)


# ---- 784-D synthetic --------------------------------------------------------------------------

def test_data_cells_784d_synthetic():
    rng = np.random.default_rng(7)
    net = _random_net(rng, [784, 6, 5, 2], bias=0.3)
    centres = rng.standard_normal((4, 784))
    X = np.repeat(centres, 10, axis=0) + 0.05 * rng.standard_normal((40, 784))
    cells = data_cells(net, X)
    assert cells.ndim == 784
    np.testing.assert_array_equal(cells.patterns[cells.cell_of], net.patterns(X))
    for i in range(cells.n_cells):
        A, b = cells.all_halfspaces(i)
        pts = X[cells.cell_of == i]
        assert (pts @ A.T <= b + 1e-9).all()
    i = int(np.argmax(cells.counts))
    A, b = cells.all_halfspaces(i)
    rows = set(cells.facet_rows[cells.facet_indptr[i]:cells.facet_indptr[i + 1]].tolist())
    sample = list(range(11)) + list(rng.choice(np.arange(11, len(b)), 6, replace=False))
    for j in sample:
        assert (j in rows) == _oracle_facet(A, b, j), j
    np.testing.assert_allclose(cells.inradii[i], _oracle_chebyshev(A, b), rtol=1e-6)


# ---- volumes, slices --------------------------------------------------------------------------

@pytest.mark.parametrize("d", [2, 3])
def test_volume_estimates_agree_with_exact_partition(d):
    from geomcore import partition
    from geomcore.partitions import Box

    rng = np.random.default_rng(3 + d)
    net = _random_net(rng, [d, 6, 4, 1], bias=0.5)
    X = rng.uniform(-1, 1, (300, d))
    cells = data_cells(net, X)
    est, se = cells.volume_estimates(n_samples=6000, seed=5)
    part = partition(net, Box(cells.lo, cells.hi))
    exact = {tuple(l): v for l, v in zip(part.labels, part.volumes)}
    truth = np.array([exact[tuple(p)] for p in cells.patterns])
    z = (est - truth) / se
    assert (np.abs(z) < 4.5).all(), z
    assert np.mean(z ** 2) < 3.0, z
    again = cells.volume_estimates(n_samples=6000, seed=5)
    np.testing.assert_array_equal(again[0], est)
    other = cells.volume_estimates(n_samples=6000, seed=6)
    assert not np.array_equal(other[0], est)


def test_slice_through_two_digits_matches_patterns(digits):
    clf, X, cells = digits
    x0, x1 = X[0], X[1]
    u = x1 - x0
    v = np.random.default_rng(0).standard_normal(64)
    v -= (v @ u) / (u @ u) * u
    v *= np.linalg.norm(u) / np.linalg.norm(v)
    U = np.column_stack([u, v])
    part = cells.slice(x0, U, [-0.25, -0.5], [1.25, 0.5])
    net = cells.network
    assert part.labels.shape[1] == net.n_hidden
    # the two data points sit at t = (0, 0) and (1, 0), in cells labelled with their patterns
    at = part.locate(np.array([[0.0, 0.0], [1.0, 0.0]]))
    np.testing.assert_array_equal(part.labels[at], net.patterns(X[:2]))
    # random slice points: the full network's pattern is the label of their cell
    T = np.random.default_rng(1).uniform([-0.25, -0.5], [1.25, 0.5], (300, 2))
    loc = part.locate(T)
    np.testing.assert_array_equal(part.labels[loc], net.patterns(x0 + T @ U.T))
    np.testing.assert_allclose(part.volumes.sum(), 1.5 * 1.0)


# ---- plumbing ---------------------------------------------------------------------------------

def test_data_cells_pickle(digits):
    _, X, cells = digits
    back = pickle.loads(pickle.dumps(cells))
    assert isinstance(back, DataCells)
    np.testing.assert_array_equal(back.patterns, cells.patterns)
    np.testing.assert_array_equal(back.facet_rows, cells.facet_rows)
    np.testing.assert_array_equal(back.halfspaces(3)[0], cells.halfspaces(3)[0])


def test_data_cells_riemannian_complex_data_measure(digits):
    from geomcore.laplacians import hodge_laplacian
    from geomcore.riemannian import RiemannianComplex

    _, X, cells = digits
    part = cells.to_partition(wall_areas="unit")
    rc = RiemannianComplex(part, measure="data", X=X, max_dim=1)
    np.testing.assert_allclose(rc.masses(0), cells.counts / len(X))
    L = hodge_laplacian(rc, 0).toarray()
    assert L.shape == (cells.n_cells, cells.n_cells)
    np.testing.assert_allclose(L @ np.ones(cells.n_cells), 0, atol=1e-9)
    # off-diagonal entries exactly on the neighbour pairs
    nz = np.argwhere(np.triu(np.abs(L + L.T) > 0, 1))
    np.testing.assert_array_equal(nz, cells.neighbors)


def test_data_cells_dask_local_cluster_equals_local():
    """A real 2-process LocalCluster (about 10 s, mostly its start-up)."""
    distributed = pytest.importorskip("distributed")
    rng = np.random.default_rng(11)
    net = _random_net(rng, [5, 8, 6, 2], bias=0.4)
    X = rng.uniform(-1, 1, (60, 5))
    local = data_cells(net, X)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = data_cells(net, X, client=client)
        est_r = remote.volume_estimates(n_samples=400, seed=2, client=client)
    for name in ("patterns", "counts", "cell_of", "facet_indptr", "facet_rows", "centers",
                 "inradii", "neighbors", "neighbor_neurons", "neighbor_exact", "wall_radii"):
        np.testing.assert_array_equal(getattr(remote, name), getattr(local, name), err_msg=name)
    est_l = local.volume_estimates(n_samples=400, seed=2)
    np.testing.assert_array_equal(est_r[0], est_l[0])
    np.testing.assert_array_equal(est_r[1], est_l[1])


# ---- bad input --------------------------------------------------------------------------------

def test_data_cells_bad_input():
    net = ReLUNetwork([[[1.0, 0.0]], [[1.0]]], [[0.0], [0.0]])
    with pytest.raises(InvalidInputError, match="X must have 2 columns"):
        data_cells(net, np.zeros((3, 3)))
    with pytest.raises(DegenerateInputError, match="X must be finite"):
        data_cells(net, [[0.0, np.nan]])
    with pytest.raises(InvalidInputError, match="at least one point"):
        data_cells(net, np.zeros((0, 2)))
    with pytest.raises(InvalidInputError, match="client must be a dask.distributed.Client"):
        data_cells(net, [[0.0, 1.0]], client="tcp://localhost:8786")
    with pytest.raises(InvalidInputError, match="model must be"):
        data_cells("a model", [[0.0, 1.0]])
    with pytest.raises(InvalidInputError, match="domain must be"):
        data_cells(net, [[0.0, 1.0]], domain=(0, 1))
    from geomcore.partitions import Box

    with pytest.raises(DegenerateInputError, match="X must lie in the domain"):
        data_cells(net, [[0.0, 5.0]], domain=Box([-1, -1], [1, 1]))
    cells = data_cells(net, [[0.5, 0.5], [-0.5, 0.5]])
    with pytest.raises(InvalidInputError, match="i must be a cell index"):
        cells.halfspaces(2)
    with pytest.raises(InvalidInputError, match="n_samples must be"):
        cells.volume_estimates(n_samples=10)
    with pytest.raises(InvalidInputError, match="U must have shape"):
        cells.slice([0, 0], np.ones((3, 2)), [0, 0], [1, 1])


def test_data_cells_unsupported_layer():
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    with pytest.raises(InvalidInputError, match="ReLU or LeakyReLU"):
        data_cells(model, [[0.0, 1.0]])


def test_datacells_docstring_examples():
    import doctest

    import geomcore.datacells

    result = doctest.testmod(geomcore.datacells, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
