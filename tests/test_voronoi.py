"""Output-sensitive Voronoi and max-affine partitions, and the scikit-learn models behind them.

Oracles: scipy's Voronoi of the sites reflected across the box's sides (2-D areas and walls),
Qhull volumes (3-D), the all-pairs construction (every cell from every other function's row),
closed forms on grids and circles, cKDTree nearest sites, and the estimators' own predict."""

import itertools

import numpy as np
import pytest
from scipy.spatial import ConvexHull, cKDTree
from scipy.spatial import Voronoi as ScipyVoronoi

from geomcore import Polytope
from geomcore.errors import DegenerateInputError, InvalidInputError
from geomcore.partitions import Box, MaxAffine, Voronoi, maxaffine, partition


def all_pairs(model, domain):
    """The partition with every cell cut by every other function's row (no Qhull)."""
    saved = maxaffine.ALL_PAIRS
    maxaffine.ALL_PAIRS = 10**9
    try:
        return partition(MaxAffine(model.A, model.b), domain)
    finally:
        maxaffine.ALL_PAIRS = saved


def hinge_table(h):
    return [tuple(h.indices[h.indptr[k]:h.indptr[k + 1]].tolist()) for k in range(len(h))]


def assert_same(part, ref):
    np.testing.assert_array_equal(part.labels, ref.labels)
    np.testing.assert_allclose(part.volumes, ref.volumes, rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(part.walls.cells, ref.walls.cells)
    np.testing.assert_allclose(part.walls.areas, ref.walls.areas, rtol=1e-8, atol=1e-15)
    np.testing.assert_allclose(part.boundary_areas, ref.boundary_areas, rtol=1e-8, atol=1e-15)
    assert hinge_table(part.hinges) == hinge_table(ref.hinges)
    np.testing.assert_allclose(part.hinges.angles, ref.hinges.angles, rtol=1e-9)
    np.testing.assert_array_equal(part.hinges.interior, ref.hinges.interior)


def check_invariants(part, volume, *, tiny_cells=False):
    assert part.volumes.sum() == pytest.approx(volume, rel=1e-12)
    assert (part.volumes >= 0).all() if tiny_cells else (part.volumes > 0).all()
    facet_area = np.array([part.cell(i).facet_areas.sum() for i in range(part.n_cells)])
    wall_area = np.bincount(part.walls.cells.ravel(), weights=np.repeat(part.walls.areas, 2),
                            minlength=part.n_cells)
    np.testing.assert_allclose(facet_area, wall_area + part.boundary_areas, rtol=1e-9, atol=1e-12)
    sums = np.add.reduceat(part.hinges.angles, part.hinges.indptr[:-1]) if len(part.hinges) \
        else np.zeros(0)
    np.testing.assert_allclose(sums[part.hinges.interior], 2 * np.pi, rtol=1e-9)


def reflected(sites, lo, hi):
    """The sites and their mirror images across every side of the box."""
    out = [sites]
    for k in range(sites.shape[1]):
        for wall in (lo[k], hi[k]):
            r = sites.copy()
            r[:, k] = 2 * wall - r[:, k]
            out.append(r)
    return np.vstack(out)


def shoelace(poly):
    c = poly.mean(axis=0)
    poly = poly[np.argsort(np.arctan2(poly[:, 1] - c[1], poly[:, 0] - c[0]))]
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(x @ np.roll(y, -1) - y @ np.roll(x, -1))


# --- against scipy -------------------------------------------------------------------------------

@pytest.mark.parametrize("lo, hi", [([0, 0], [1, 1]), ([-1.0, 0.5], [2.0, 1.25])])
def test_voronoi_2d_matches_scipy_reflected(lo, hi):
    rng = np.random.default_rng(11)
    lo, hi = np.array(lo, float), np.array(hi, float)
    n = 400
    sites = lo + (hi - lo) * rng.uniform(size=(n, 2))
    part = partition(Voronoi(sites), Box(lo, hi))
    check_invariants(part, np.prod(hi - lo))
    assert part.labels.tolist() == list(range(n))
    ref = ScipyVoronoi(reflected(sites, lo, hi))
    areas = np.array([shoelace(ref.vertices[ref.regions[ref.point_region[i]]]) for i in range(n)])
    np.testing.assert_allclose(part.volumes, areas, rtol=1e-9)
    # walls: scipy's ridges between two original sites, with their lengths
    pairs = ref.ridge_points
    own = (pairs < n).all(axis=1)
    lengths = {}
    for k in np.flatnonzero(own):
        i, j = pairs[k]
        a, b = ref.vertices[ref.ridge_vertices[k]]
        lengths[(min(i, j), max(i, j))] = np.linalg.norm(a - b)
    assert sorted(lengths) == [tuple(w) for w in part.walls.cells.tolist()]
    np.testing.assert_allclose(part.walls.areas, [lengths[tuple(w)] for w in
                                                  part.walls.cells.tolist()], rtol=1e-8)
    # every Voronoi vertex strictly inside the box is an interior hinge of three cells
    v = ref.vertices
    inside = ((v > lo + 1e-9) & (v < hi - 1e-9)).all(axis=1).sum()
    assert part.hinges.interior.sum() == inside
    assert (np.diff(part.hinges.indptr) == 3).all()


def test_voronoi_3d_matches_qhull_volumes():
    rng = np.random.default_rng(12)
    n = 150
    sites = rng.uniform(size=(n, 3))
    part = partition(Voronoi(sites), Box(np.zeros(3), np.ones(3)))
    check_invariants(part, 1.0)
    ref = ScipyVoronoi(reflected(sites, np.zeros(3), np.ones(3)))
    volumes = [ConvexHull(ref.vertices[ref.regions[ref.point_region[i]]]).volume
               for i in range(n)]
    np.testing.assert_allclose(part.volumes, volumes, rtol=1e-9)
    own = (ref.ridge_points < n).all(axis=1)
    theirs = {tuple(sorted(p)) for p in ref.ridge_points[own].tolist()}
    assert {tuple(w) for w in part.walls.cells.tolist()} == theirs


@pytest.mark.parametrize("d, n", [(2, 150), (3, 90), (4, 50), (5, 36)])
def test_voronoi_any_dimension_matches_all_pairs_and_locates(d, n):
    rng = np.random.default_rng(30 + d)
    sites = rng.uniform(-0.2, 1.2, size=(n, d))          # some outside the domain
    dom = Box(np.zeros(d), np.ones(d))
    part = partition(Voronoi(sites), dom)
    check_invariants(part, 1.0)
    assert_same(part, all_pairs(Voronoi(sites), dom))
    X = rng.uniform(size=(2000, d))
    np.testing.assert_array_equal(part.labels[part.locate(X)], cKDTree(sites).query(X)[1])
    assert (part.locate(X + 2.0) == -1).all()


def test_voronoi_polytope_domain():
    rng = np.random.default_rng(13)
    triangle = Polytope([[-1, 0], [0, -1], [1, 1]], [0, 0, 1])
    sites = rng.uniform(size=(200, 2))                     # half of them outside the triangle
    part = partition(Voronoi(sites), triangle)
    check_invariants(part, 0.5)
    assert_same(part, all_pairs(Voronoi(sites), triangle))
    assert part.n_cells < 200 and part.hinges.interior.all() is not None
    X = rng.uniform(size=(500, 2))
    X = X[X.sum(axis=1) < 1]
    np.testing.assert_array_equal(part.labels[part.locate(X)], cKDTree(sites).query(X)[1])


# --- degenerate input ----------------------------------------------------------------------------

@pytest.mark.parametrize("k", [4, 16])
def test_voronoi_square_grid_hinges_carry_four_cells(k):
    g = (np.arange(k) + 0.5) / k              # dyadic: the rows are exact
    sites = np.array(list(itertools.product(g, g)))
    part = partition(Voronoi(sites), Box([0, 0], [1, 1]))
    check_invariants(part, 1.0)
    np.testing.assert_allclose(part.volumes, 1 / k**2, rtol=1e-12)
    assert len(part.walls) == 2 * k * (k - 1)
    np.testing.assert_allclose(part.walls.areas, 1 / k, rtol=1e-12)
    h = part.hinges
    assert len(h) == (k - 1) ** 2 and h.interior.all()
    assert (np.diff(h.indptr) == 4).all()
    np.testing.assert_allclose(h.angles, np.pi / 2, rtol=1e-12)


def test_voronoi_rounded_grid_keeps_whole_hinges():
    # sites (i + 1/2) / 5 are cospherical but their rows are rounded: cells may get sliver
    # walls of 1e-17 at the grid points, and the hinge there still holds the four cells with
    # their right angles
    k = 5
    g = (np.arange(k) + 0.5) / k
    part = partition(Voronoi(np.array(list(itertools.product(g, g)))), Box([0, 0], [1, 1]))
    check_invariants(part, 1.0)
    big = part.walls.areas > 1e-12
    assert big.sum() == 2 * k * (k - 1)
    h = part.hinges
    assert len(h) == (k - 1) ** 2 and (np.diff(h.indptr) == 4).all()
    np.testing.assert_allclose(h.angles, np.pi / 2, rtol=1e-9)


def test_voronoi_cube_grid_hinges():
    g = (np.arange(4) + 0.5) / 4
    sites = np.array(list(itertools.product(g, g, g)))
    part = partition(Voronoi(sites), Box(np.zeros(3), np.ones(3)))
    check_invariants(part, 1.0)
    assert len(part.walls) == 3 * 4 * 4 * 3
    h = part.hinges
    assert len(h) == 3 * 4 * 3 * 3 and (np.diff(h.indptr) == 4).all()
    np.testing.assert_allclose(h.volumes, 0.25, rtol=1e-12)
    np.testing.assert_allclose(h.angles, np.pi / 2, rtol=1e-12)


def test_voronoi_sites_on_a_circle_meet_at_its_centre():
    # integer points on the circle of radius 5 (exactly cospherical), scaled by a power of two
    pts = np.array([(3, 4), (4, 3), (5, 0), (4, -3), (3, -4), (0, -5), (-3, -4), (-4, -3),
                    (-5, 0), (-4, 3), (-3, 4), (0, 5)], float)
    sites = pts / 16 + 0.5
    part = partition(Voronoi(sites), Box([0, 0], [1, 1]))
    check_invariants(part, 1.0)
    h = part.hinges
    assert len(h) == 1 and h.indices.tolist() == list(range(12)) and h.interior.tolist() == [True]
    # each cell's angle at the centre is half the arc between its two neighbours
    theta = np.arctan2(pts[:, 1], pts[:, 0])
    gap = (np.roll(theta, 1) - np.roll(theta, -1)) % (2 * np.pi)
    np.testing.assert_allclose(h.angles, gap / 2, rtol=1e-12)
    # adding the centre: twelve triangles' worth of walls around a central cell
    part = partition(Voronoi(np.vstack([sites, [0.5, 0.5]])), Box([0, 0], [1, 1]))
    check_invariants(part, 1.0)
    assert (part.walls.cells[:, 1] == 12).sum() == 12


def test_voronoi_collinear_sites_give_strips():
    x = np.sort(np.random.default_rng(3).uniform(size=25))
    part = partition(Voronoi(np.column_stack([x, np.full(25, 0.5)])), Box([0, 0], [1, 1]))
    cuts = np.r_[0, (x[1:] + x[:-1]) / 2, 1]
    np.testing.assert_allclose(part.volumes, np.diff(cuts), rtol=1e-12)
    assert part.walls.cells.tolist() == [[i, i + 1] for i in range(24)]
    np.testing.assert_allclose(part.walls.areas, 1.0)
    assert len(part.hinges) == 0
    # collinear along a slanted line, a few sites
    t = np.linspace(0.1, 0.9, 7)
    sites = np.column_stack([t, 0.2 + 0.5 * t])
    assert_same(partition(Voronoi(sites), Box([0, 0], [1, 1])),
                all_pairs(Voronoi(sites), Box([0, 0], [1, 1])))


def test_voronoi_on_a_line():
    x = np.random.default_rng(4).uniform(-0.5, 1.5, size=300)
    part = partition(Voronoi(x[:, None]), Box([0.0], [1.0]))
    # the cells are the intervals between midpoints, clipped to [0, 1]
    order = np.argsort(x)
    mids = (x[order][1:] + x[order][:-1]) / 2
    lo = np.clip(np.r_[-np.inf, mids], 0, 1)
    hi = np.clip(np.r_[mids, np.inf], 0, 1)
    has = hi > lo
    assert part.labels.tolist() == np.sort(order[has]).tolist()
    np.testing.assert_allclose(part.volumes, (hi - lo)[has][np.argsort(order[has])], atol=1e-12)
    assert len(part.walls) == part.n_cells - 1 and len(part.hinges) == 0
    X = np.linspace(0, 1, 1001)[:, None]
    np.testing.assert_array_equal(part.labels[part.locate(X)], cKDTree(x[:, None]).query(X)[1])


def test_voronoi_small_and_outside():
    dom = Box([0, 0], [1, 1])
    one = partition(Voronoi([[0.3, 0.3]]), dom)
    assert one.n_cells == 1 and one.volumes.tolist() == [1.0] and len(one.walls) == 0
    two = partition(Voronoi([[0.25, 0.5], [0.75, 0.5]]), dom)
    assert two.volumes.tolist() == [0.5, 0.5] and two.walls.areas.tolist() == [1.0]
    # a site far outside has no cell; one just outside has one
    part = partition(Voronoi([[0.5, 0.5], [5.0, 5.0], [1.1, 0.5]]), dom)
    assert part.labels.tolist() == [0, 2]
    np.testing.assert_allclose(part.volumes, [0.8, 0.2])
    # the mirror image of a site across a side shares only that side: no cell
    part = partition(Voronoi([[0.25, 0.5], [0.75, 0.5], [1.25, 0.5]]), dom)
    assert part.labels.tolist() == [0, 1] and len(part.walls) == 1


def test_voronoi_duplicate_sites_raise():
    with pytest.raises(DegenerateInputError, match="functions 1 and 3 are identical"):
        Voronoi([[0, 0], [0.5, 0.5], [1, 1], [0.5, 0.5]])
    with pytest.raises(InvalidInputError, match="points must hold at least one site"):
        Voronoi(np.zeros((0, 2)))


def test_voronoi_verification_adds_the_rows_qhull_missed(monkeypatch):
    # propose only each site's nearest other site: every cell is then too large, and the
    # vertex check must add rows round after round until the diagram is right
    rng = np.random.default_rng(14)
    sites = rng.uniform(size=(120, 2))
    full = partition(Voronoi(sites), Box([0, 0], [1, 1]))

    def poor(self, dom_A, dom_b):
        nearest = cKDTree(self.points).query(self.points, k=2)[1][:, 1]
        n = len(self.points)
        return np.arange(n + 1, dtype=np.int64), nearest.astype(np.int64), np.ones(n, bool)

    monkeypatch.setattr(Voronoi, "_candidates", poor)
    assert_same(partition(Voronoi(sites), Box([0, 0], [1, 1])), full)


# --- max-affine models ---------------------------------------------------------------------------

@pytest.mark.parametrize("d, n", [(2, 400), (3, 200), (4, 80)])
def test_max_affine_power_diagram_matches_all_pairs(d, n):
    # lifted sites with random heights: many functions never win
    rng = np.random.default_rng(40 + d)
    P = rng.uniform(size=(n, d))
    model = MaxAffine(2 * P, -np.einsum("ij,ij->i", P, P) + rng.uniform(0, 0.02, n))
    dom = Box(np.zeros(d), np.ones(d))
    part = partition(model, dom)
    assert part.n_cells < n or d == 4
    check_invariants(part, 1.0)
    assert_same(part, all_pairs(model, dom))
    X = rng.uniform(size=(1000, d))
    np.testing.assert_array_equal(part.labels[part.locate(X)], model.argmax(X))


def test_max_affine_few_functions():
    part = partition(MaxAffine([[1, 0], [-1, 0], [0, 0]], [0, 0, -1]), Box([-1, -1], [1, 1]))
    assert part.labels.tolist() == [0, 1] and part.walls.areas.tolist() == [2.0]
    A = [[np.cos(t), np.sin(t)] for t in np.arange(6) * np.pi / 3]
    part = partition(MaxAffine(A, np.zeros(6)), Box([-1, -1], [1, 1]))
    assert len(part.hinges) == 1 and np.diff(part.hinges.indptr).tolist() == [6]
    np.testing.assert_allclose(part.hinges.angles, np.pi / 3, rtol=1e-12)


# --- scikit-learn --------------------------------------------------------------------------------

sklearn = pytest.importorskip("sklearn")


def _moons():
    from sklearn.datasets import make_moons

    X, y = make_moons(200, noise=0.25, random_state=0)
    lo, hi = X.min(axis=0) - 0.2, X.max(axis=0) + 0.2
    Q = np.random.default_rng(0).uniform(lo, hi, size=(3000, 2))
    return X, y, Box(lo, hi), Q


def _estimators():
    from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
    from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
    from sklearn.svm import LinearSVC

    return [KNeighborsClassifier(n_neighbors=1), NearestCentroid(), LogisticRegression(),
            LinearSVC(), RidgeClassifier(), SGDClassifier(random_state=0)]


@pytest.mark.parametrize("est", _estimators(), ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_sklearn_partition_predicts_like_the_model(est, n_classes):
    from sklearn.datasets import make_blobs

    if n_classes == 2:
        X, y, dom, Q = _moons()
    else:
        X, y = make_blobs(240, centers=4, random_state=1)
        lo, hi = X.min(axis=0) - 1, X.max(axis=0) + 1
        dom, Q = Box(lo, hi), np.random.default_rng(1).uniform(lo, hi, size=(3000, 2))
    est.fit(X, y)
    part = partition(est, dom)
    # RidgeClassifier's fourth class wins only on a triangle of about 1e-16: a true cell of
    # its rounded rows, with float volume 0
    check_invariants(part, float(np.prod(dom.hi - dom.lo)), tiny_cells=True)
    np.testing.assert_array_equal(est.classes_[part.classes[part.locate(Q)]], est.predict(Q))
    assert set(part.classes.tolist()) == set(range(n_classes))
    if type(est).__name__ == "KNeighborsClassifier":
        assert part.labels.tolist() == list(range(len(X)))          # training-point index
        np.testing.assert_array_equal(part.classes, y)
    else:
        assert part.n_cells == n_classes and part.labels.tolist() == part.classes.tolist()
    # the decision boundary: walls between cells of different classes
    boundary = part.classes[part.walls.cells[:, 0]] != part.classes[part.walls.cells[:, 1]]
    assert boundary.any()
    if type(est).__name__ != "KNeighborsClassifier" and n_classes == 2:
        assert boundary.all() and len(part.walls) == 1


def test_sklearn_knn_regressor_and_duplicates():
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    X, y, dom, Q = _moons()
    X = np.vstack([X, X[:5]])                       # five duplicated training points
    reg = KNeighborsRegressor(n_neighbors=1).fit(X, np.r_[y, y[:5]] * 2.5)
    part = partition(reg, dom)
    assert part.classes is None and part.n_cells == 200
    assert part.labels.tolist() == list(range(200))   # the first of each duplicate
    np.testing.assert_array_equal(reg._y[part.labels[part.locate(Q)]], reg.predict(Q))
    knn = KNeighborsClassifier(n_neighbors=1, algorithm="brute").fit(X, np.r_[y, y[:5]])
    part = partition(knn, dom)
    np.testing.assert_array_equal(knn.classes_[part.classes[part.locate(Q)]], knn.predict(Q))


def test_sklearn_unsupported_models_raise():
    from sklearn.linear_model import LinearRegression
    from sklearn.neighbors import KNeighborsClassifier, NearestCentroid

    X, y, dom, _ = _moons()
    with pytest.raises(InvalidInputError, match="only with n_neighbors=1"):
        partition(KNeighborsClassifier(n_neighbors=3).fit(X, y), dom)
    with pytest.raises(InvalidInputError, match="only with the Euclidean metric"):
        partition(KNeighborsClassifier(n_neighbors=1, metric="manhattan").fit(X, y), dom)
    with pytest.raises(InvalidInputError, match="must be fitted"):
        partition(KNeighborsClassifier(n_neighbors=1), dom)
    with pytest.raises(InvalidInputError, match="metric='euclidean'"):
        partition(NearestCentroid(metric="manhattan").fit(X, y), dom)
    with pytest.raises(InvalidInputError, match="uniform priors"):
        partition(NearestCentroid(priors=[0.2, 0.8]).fit(X, y), dom)
    with pytest.raises(InvalidInputError, match="model must be"):
        partition(LinearRegression().fit(X, y), dom)


def test_sklearn_docstring_examples():
    import doctest

    import geomcore
    import geomcore.partitions.sklearn_linear

    result = doctest.testmod(geomcore.partitions.sklearn_linear, extraglobs=vars(geomcore),
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
