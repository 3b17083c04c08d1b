"""Tests of geomcore.splines: dense reference solves, limits in lam, harmonic fill, refinement."""

import itertools

import numpy as np
import pytest

from geomcore import Arrangement, Box, Voronoi, partition
from geomcore.errors import DegenerateInputError, InvalidInputError
from geomcore.riemannian import RiemannianComplex
from geomcore.splines import GeometricSplineRegressor, RefinedModel, refine, spline


@pytest.fixture(scope="module")
def rc():
    rng = np.random.default_rng(11)
    part = partition(Voronoi(rng.uniform(size=(25, 2))), Box([0, 0], [1, 1]))
    return RiemannianComplex(part, complex="adjacency")


def _dense_S1(part):
    """Wall-area graph Laplacian, by a loop over walls (independent of the sparse build)."""
    S = np.zeros((part.n_cells, part.n_cells))
    for (i, j), a in zip(part.walls.cells, part.walls.areas):
        S[i, i] += a
        S[j, j] += a
        S[i, j] -= a
        S[j, i] -= a
    return S


def _data(n, seed=0, zeros=()):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    w = rng.uniform(0.5, 3, size=n)
    w[list(zeros)] = 0
    return y, w


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("lam", [0.01, 1.0, 30.0])
def test_spline_matches_dense_solve(rc, order, lam):
    part = rc.partition
    y, w = _data(part.n_cells, zeros=(2, 5, 11))
    S = _dense_S1(part)
    if order == 2:
        S = S @ np.diag(1 / part.volumes) @ S
    expect = np.linalg.solve(np.diag(w) + lam * S, w * y)
    np.testing.assert_allclose(spline(rc, y, weights=w, lam=lam, order=order), expect,
                               rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("order", [1, 2])
def test_spline_lam_zero_interpolates(rc, order):
    y, w = _data(rc.partition.n_cells, seed=1)
    np.testing.assert_allclose(spline(rc, y, weights=w, lam=0, order=order), y, atol=1e-14)
    # and it is the limit of small lam
    np.testing.assert_allclose(spline(rc, y, weights=w, lam=1e-9, order=order), y, atol=1e-5)


@pytest.mark.parametrize("order", [1, 2])
def test_spline_large_lam_gives_weighted_mean(rc, order):
    y, w = _data(rc.partition.n_cells, seed=2, zeros=(0, 3))
    f = spline(rc, y, weights=w, lam=1e10, order=order)
    np.testing.assert_allclose(f, np.sum(w * y) / np.sum(w), atol=1e-5)


@pytest.mark.parametrize("lam", [0.0, 0.5, 5.0])
def test_spline_harmonic_fill_is_dirichlet_solution(rc, lam):
    part = rc.partition
    U = np.array([1, 4, 7, 8, 13, 20])
    y, w = _data(part.n_cells, seed=3, zeros=U)
    y[U] = np.nan
    f = spline(rc, y, weights=w, lam=lam, order=1)
    K = np.setdiff1d(np.arange(part.n_cells), U)
    S = _dense_S1(part)
    fU = np.linalg.solve(S[np.ix_(U, U)], -S[np.ix_(U, K)] @ f[K])
    np.testing.assert_allclose(f[U], fU, rtol=1e-10, atol=1e-12)
    if lam == 0:
        np.testing.assert_allclose(f[K], y[K], atol=1e-14)


def test_spline_default_weights_from_nan():
    part = partition(Arrangement([[1, 0], [1, 0], [1, 0]], [0.25, 0.5, 0.75]), Box([0, 0], [1, 1]))
    rc = RiemannianComplex(part, complex="adjacency")
    # a path of 4 equal cells: harmonic fill is linear interpolation
    np.testing.assert_allclose(spline(rc, [1.0, np.nan, np.nan, 4.0], lam=0), [1, 2, 3, 4])


def test_spline_errors(rc):
    n = rc.partition.n_cells
    y = np.zeros(n)
    with pytest.raises(InvalidInputError, match=rf"y must have one value per cell, shape \({n},\); "
                                                r"got shape \(3,\)"):
        spline(rc, [1.0, 2.0, 3.0])
    bad = y.copy()
    bad[4] = np.nan
    with pytest.raises(DegenerateInputError, match="NaN only where the weight is 0; got NaN at "
                                                   "index 4"):
        spline(rc, bad, weights=np.ones(n))
    w = np.ones(n)
    w[2] = -1
    with pytest.raises(InvalidInputError, match="weights must be >= 0; got -1.0 at index 2"):
        spline(rc, y, weights=w)
    with pytest.raises(InvalidInputError, match="weights must have length"):
        spline(rc, y, weights=np.ones(n + 1))
    with pytest.raises(DegenerateInputError, match="at least one positive"):
        spline(rc, y, weights=np.zeros(n))
    with pytest.raises(DegenerateInputError, match="at least one positive"):
        spline(rc, np.full(n, np.nan))
    with pytest.raises(InvalidInputError, match="lam must be a finite number >= 0; got -1"):
        spline(rc, y, lam=-1)
    with pytest.raises(InvalidInputError, match="lam must be"):
        spline(rc, y, lam=np.inf)
    with pytest.raises(InvalidInputError, match="order must be 1 or 2; got 3"):
        spline(rc, y, order=3)
    with pytest.raises(InvalidInputError, match="rc must be a geomcore.RiemannianComplex"):
        spline(None, y)


def _tree_data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.normal(size=n)
    return X, y


def test_refine_lam_zero_is_the_tree():
    from sklearn.tree import DecisionTreeRegressor

    X, y = _tree_data()
    tree = DecisionTreeRegressor(max_depth=4, random_state=0).fit(X, y)
    refined = refine(tree, X, y, lam=0)
    assert isinstance(refined, RefinedModel)
    np.testing.assert_allclose(refined.predict(X), tree.predict(X), atol=1e-12)
    # outside the padded box: clipped onto it, so it matches the tree's extension there
    far = np.array([[5.0, 5.0], [-7.0, 0.1]])
    np.testing.assert_allclose(refined.predict(far), tree.predict(far), atol=1e-12)


def test_refine_smooths_towards_neighbours():
    from sklearn.tree import DecisionTreeRegressor

    X, y = _tree_data(1)
    tree = DecisionTreeRegressor(max_depth=5, random_state=0).fit(X, y)
    p0 = refine(tree, X, y, lam=0, order=1).predict(X)
    p1 = refine(tree, X, y, lam=1e6, order=1).predict(X)
    np.testing.assert_allclose(p1, y.mean(), atol=1e-3)
    assert np.var(p0) > np.var(refine(tree, X, y, lam=1.0, order=1).predict(X)) > np.var(p1)


def test_refine_errors():
    import warnings

    from sklearn.neural_network import MLPRegressor
    from sklearn.tree import DecisionTreeRegressor

    warnings.simplefilter("ignore")          # the tiny MLP does not converge; it need not

    X, y = _tree_data()
    tree = DecisionTreeRegressor(max_depth=2).fit(X, y)
    X3 = np.column_stack([X, X[:, 0] * X[:, 1]])
    net3 = MLPRegressor(hidden_layer_sizes=(3,), max_iter=50, random_state=0).fit(X3, y)
    with pytest.raises(NotImplementedError, match=r'kind="affine" needs .* 2-D .* box partitions .* ndim=3'):
        refine(net3, X3, y, kind="affine")
    with pytest.raises(InvalidInputError, match="kind must be"):
        refine(tree, X, y, kind="spline")
    with pytest.raises(InvalidInputError, match=r"y must have one value per row of X \(300\); got 5"):
        refine(tree, X, y[:5])
    with pytest.raises(InvalidInputError, match="lam must be"):
        refine(tree, X, y, lam=-2.0)


def test_regressor_fit_predict_get_params():
    from sklearn.tree import DecisionTreeRegressor

    X, y = _tree_data(2)
    reg = GeometricSplineRegressor(DecisionTreeRegressor(max_depth=3), lam=0.0, order=1)
    assert reg.get_params()["lam"] == 0.0 and reg.get_params()["estimator__max_depth"] == 3
    p = reg.fit(X, y).predict(X)
    np.testing.assert_allclose(p, reg.estimator_.predict(X), atol=1e-12)


def test_regressor_passes_sklearn_estimator_checks():
    import warnings

    from sklearn.tree import DecisionTreeRegressor
    from sklearn.utils.estimator_checks import check_estimator

    # every check applies: none is skipped or xfailed. A depth-3 tree keeps it fast: the checks
    # fit 10-feature data, whose box cells the complex builds with all 2^10 vertices each.
    est = GeometricSplineRegressor(DecisionTreeRegressor(max_depth=3, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            results = check_estimator(est, on_fail=None)
        except TypeError:  # scikit-learn < 1.6: raises on the first failure
            check_estimator(est)
            return
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]
    assert failed == []


def test_refine_diabetes_runs():
    """Real data: a depth-5 tree vs its refinement on load_diabetes, fixed split.

    Only checks that both run and give finite errors; the numbers are reported, not asserted.
    """
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split
    from sklearn.tree import DecisionTreeRegressor

    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    tree = DecisionTreeRegressor(max_depth=5, random_state=0).fit(Xtr, ytr)
    refined = refine(tree, Xtr, ytr, lam=1.0, order=1)
    # measured: tree 4558, refined 3666 (order 2: 3856)
    mse_tree = np.mean((tree.predict(Xte) - yte) ** 2)
    mse_ref = np.mean((refined.predict(Xte) - yte) ** 2)
    assert np.isfinite(mse_tree) and np.isfinite(mse_ref)


def test_docstring_examples():
    import doctest

    import geomcore.splines

    geomcore.splines.GeometricSplineRegressor  # noqa: B018  (defined on first access)
    result = doctest.testmod(geomcore.splines, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 15 and result.failed == 0


def test_import_does_not_import_sklearn(tmp_path):
    import subprocess
    import sys

    code = "import sys, geomcore, geomcore.splines; print('sklearn' in sys.modules)"
    # run outside the source tree, so that the installed (built) package is the one imported
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert out.stdout.strip() == "False"


def test_refine_affine_reproduces_a_global_affine_function():
    # a global affine function is in the kernel of both penalties and fits the data exactly
    from sklearn.tree import DecisionTreeRegressor

    X, _ = _tree_data(4)
    y = 2 * X[:, 0] - X[:, 1] + 0.5
    tree = DecisionTreeRegressor(max_depth=4, random_state=0).fit(X, y + np.sin(5 * X[:, 1]))
    for lam in (1e-3, 1.0, 100.0):
        r = refine(tree, X, y, kind="affine", lam=lam)
        np.testing.assert_allclose(r.gradients, np.tile([2.0, -1.0], (tree.get_n_leaves(), 1)),
                                   atol=1e-7)
        np.testing.assert_allclose(r.predict(X), y, atol=1e-7)


def _affine_dense(part, X, y, lam0, lam1):
    """The affine spline by dense normal equations with the wall integrals by 2-point
    Gauss-Legendre quadrature (exact for the quadratic integrands) on each segment."""
    n, k = part.n_cells, 3
    x0 = part.centroids
    A = np.zeros((n * k, n * k))
    rhs = np.zeros(n * k)
    cell = part.locate(X)
    for x, t, c in zip(X, y, cell):
        phi = np.r_[x - x0[c], 1.0]
        A[c * k:(c + 1) * k, c * k:(c + 1) * k] += np.outer(phi, phi)
        rhs[c * k:(c + 1) * k] += phi * t
    gauss = np.array([-1, 1]) / np.sqrt(3) / 2          # nodes on [-1/2, 1/2], weights 1/2
    for (i, j), L, nrm, m in zip(part.walls.cells, part.walls.areas, part.walls.normals,
                                 part.walls.centroids):
        tang = np.array([-nrm[1], nrm[0]])
        for s in gauss:
            x = m + s * L * tang
            row = np.zeros(n * k)
            row[i * k:(i + 1) * k] = np.r_[x - x0[i], 1.0]
            row[j * k:(j + 1) * k] = -np.r_[x - x0[j], 1.0]
            A += lam0 * (L / 2) * np.outer(row, row)
        for a in range(2):
            row = np.zeros(n * k)
            row[i * k + a], row[j * k + a] = 1.0, -1.0
            A += lam1 * L * np.outer(row, row)
    z = np.linalg.solve(A, rhs).reshape(n, k)
    return z[:, :2], z[:, 2]


def test_refine_affine_matches_dense_quadrature():
    from sklearn.tree import DecisionTreeRegressor

    X, y = _tree_data(5, n=200)
    tree = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y)
    lam = 0.3
    r = refine(tree, X, y, kind="affine", lam=lam)
    part = r.partition
    counts = np.bincount(part.locate(X), minlength=part.n_cells)
    lam0 = lam * counts.mean() / part.walls.areas.mean()
    G, c = _affine_dense(part, X, y, lam0, lam0 * part.volumes.mean())
    np.testing.assert_allclose(r.gradients, G, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(r.values, c, rtol=1e-6, atol=1e-8)
    # small lam: each cell's own least-squares plane
    r0 = refine(tree, X, y, kind="affine", lam=1e-10)
    cell = part.locate(X)
    for i in range(part.n_cells):
        P = np.column_stack([X[cell == i] - part.centroids[i], np.ones((cell == i).sum())])
        coef = np.linalg.lstsq(P, y[cell == i], rcond=None)[0]
        np.testing.assert_allclose(np.r_[r0.gradients[i], r0.values[i]], coef, atol=1e-5)


@pytest.mark.parametrize("ndim", [3, 5])
def test_refine_affine_on_boxes_in_higher_dimension(ndim):
    """Box walls give exact moments in any dimension: a global affine function is reproduced,
    and the wall integral of the jump matches a Monte Carlo-free check, the box formula."""
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(ndim)
    X = rng.random((400, ndim))
    slope = np.arange(1, ndim + 1) / ndim
    y = X @ slope - 0.25
    tree = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y + np.sin(6 * X[:, 0]))
    r = refine(tree, X, y, kind="affine", lam=1.0)
    np.testing.assert_allclose(r.gradients, np.tile(slope, (r.partition.n_cells, 1)), atol=1e-7)
    np.testing.assert_allclose(r.predict(X), y, atol=1e-7)
    # the moments of each box wall equal a tensor Gauss rule on the wall (exact for quadratics)
    from geomcore.splines import _wall_central_moments

    part = r.partition
    S = _wall_central_moments(part)
    lo, hi = part._boxes
    for w in range(min(len(part.walls), 5)):
        i, j = part.walls.cells[w]
        a, b = np.maximum(lo[i], lo[j]), np.minimum(hi[i], hi[j])
        axis = np.abs(part.walls.normals[w]).argmax()
        free = [k for k in range(ndim) if k != axis]
        nodes = [[(a[k] + b[k]) / 2 + s * (b[k] - a[k]) / (2 * np.sqrt(3)) for s in (-1, 1)]
                 for k in free]
        m = part.walls.centroids[w]
        want = np.zeros((ndim, ndim))
        weight = part.walls.areas[w] / 2 ** len(free)
        for point in itertools.product(*nodes):
            x = m.copy()
            x[free] = point
            want += weight * np.outer(x - m, x - m)
        np.testing.assert_allclose(S[w], want, atol=1e-14)
