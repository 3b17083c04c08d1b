"""Partitions of scikit-learn trees and ensembles, against a brute-force grid oracle.

The oracle never looks at geomcore's boxes: it cuts the domain by every threshold of every tree
into elementary grid boxes, asks scikit-learn's own ``apply`` for the leaves at each grid box's
centre, and reads cells (equal leaf tuples), walls (grid faces between different cells) and
hinges (grid (d-2)-faces around which three or more cells meet) off the grid.
"""

import itertools
from collections import defaultdict

import numpy as np
import pytest

from geomcore import Box, InvalidInputError, Polytope, partition

sklearn = pytest.importorskip("sklearn")
from sklearn.ensemble import (  # noqa: E402
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import (  # noqa: E402
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    ExtraTreeRegressor,
)


@pytest.fixture(params=["kernel", "reference"])
def tree_impl(request, monkeypatch):
    """Run a test on the Cython descent and on its numpy reference."""
    import geomcore.partitions.trees

    monkeypatch.setattr(geomcore.partitions.trees, "_implementation", request.param)
    return request.param


def _data(d, n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    y = (np.sin(4 * X[:, 0]) + X[:, 1:].sum(axis=1) > 1).astype(int)
    return X, y


def _apply(est, X):
    return est.apply(X).reshape(len(X), -1)


def _grid(est, lo, hi):
    """Grid coordinates per axis: the domain's ends and every threshold strictly inside."""
    trees = [est] if hasattr(est, "tree_") else list(np.ravel(est.estimators_))
    axes = []
    for k in range(len(lo)):
        t = np.concatenate([tr.tree_.threshold[tr.tree_.feature == k] for tr in trees])
        axes.append(np.unique(np.r_[lo[k], t[(t > lo[k]) & (t < hi[k])], hi[k]]))
    return axes


def _oracle(est, lo, hi):
    axes = _grid(est, lo, hi)
    d = len(axes)
    shape = tuple(len(a) - 1 for a in axes)
    mids = np.meshgrid(*[(a[1:] + a[:-1]) / 2 for a in axes], indexing="ij")
    widths = np.meshgrid(*[np.diff(a) for a in axes], indexing="ij")
    leaves = _apply(est, np.column_stack([m.ravel() for m in mids]))
    keys = [tuple(r) for r in leaves]
    cell_of = {k: i for i, k in enumerate(sorted(set(keys)))}
    ids = np.array([cell_of[k] for k in keys]).reshape(shape)
    vol = np.prod([w.ravel() for w in widths], axis=0)
    volumes = np.bincount(ids.ravel(), vol, minlength=len(cell_of))
    walls = defaultdict(float)
    for f in range(d):
        a = np.take(ids, range(shape[f] - 1), axis=f)
        b = np.take(ids, range(1, shape[f]), axis=f)
        face = np.prod([np.take(w, range(shape[f] - 1), axis=f) for k, w in enumerate(widths)
                        if k != f], axis=0) if d > 1 else np.ones(a.shape)
        for i, j, s in zip(a.ravel(), b.ravel(), face.ravel()):
            if i != j:
                walls[(min(i, j), max(i, j))] += s
    hinges = defaultdict(float)                     # frozenset of (cell, quadrants) -> volume
    for f, g in itertools.combinations(range(d), 2):
        free = [k for k in range(d) if k not in (f, g)]
        for pos in itertools.product(*[range(1, n) if k in (f, g) else range(n)
                                       for k, n in enumerate(shape)]):
            # the four grid boxes around this (d-2)-face
            around = []
            for qa, qb in itertools.product((0, 1), repeat=2):
                p = list(pos)
                p[f] -= 1 - qa
                p[g] -= 1 - qb
                around.append(ids[tuple(p)])
            if len(set(around)) >= 3:
                key = frozenset((c, around.count(c)) for c in set(around))
                hinges[key] += np.prod([widths[k][tuple(pos)] for k in free])
    return list(cell_of), volumes, dict(walls), dict(hinges)


def _hinge_table(part):
    h = part.hinges
    out = defaultdict(float)
    for k in range(len(h)):
        cells = h.indices[h.indptr[k]:h.indptr[k + 1]]
        angles = h.angles[h.indptr[k]:h.indptr[k + 1]]
        key = frozenset((int(c), int(round(a / (np.pi / 2)))) for c, a in zip(cells, angles))
        out[key] += h.volumes[k]
    return dict(out)


MODELS = [
    lambda: DecisionTreeClassifier(max_depth=5, random_state=0),
    lambda: DecisionTreeRegressor(max_leaf_nodes=12, random_state=0),
    lambda: ExtraTreeRegressor(max_depth=4, random_state=0),
    lambda: RandomForestClassifier(n_estimators=6, max_depth=3, random_state=0),
    lambda: ExtraTreesClassifier(n_estimators=5, max_depth=3, random_state=0),
    lambda: GradientBoostingRegressor(n_estimators=4, max_depth=2, random_state=0),
]


@pytest.mark.parametrize("make", MODELS)
@pytest.mark.parametrize("d", [2, 3])
def test_tree_partition_matches_grid_oracle(make, d, tree_impl):
    X, y = _data(d)
    est = make().fit(X, y)
    lo, hi = np.full(d, -0.1), np.full(d, 1.2)     # thresholds inside, plus empty margins
    part = partition(est, Box(lo, hi))
    labels, volumes, walls, hinges = _oracle(est, lo, hi)
    # cells: exactly the leaf tuples the grid sees, in lexicographic order, with their volumes
    assert [tuple(r) for r in part.labels] == labels
    np.testing.assert_allclose(part.volumes, volumes, rtol=1e-12)
    assert part.volumes.sum() == pytest.approx(np.prod(hi - lo), rel=1e-12)
    # walls: every adjacent pair with its (partial) contact area
    got = {tuple(c): a for c, a in zip(part.walls.cells.tolist(), part.walls.areas)}
    assert got.keys() == walls.keys()
    for pair, area in walls.items():
        assert got[pair] == pytest.approx(area, rel=1e-12)
    # hinges: cells, quadrants (angles in units of pi/2) and (d-2)-volumes
    mine = _hinge_table(part)
    assert mine.keys() == hinges.keys()
    for key, volume in hinges.items():
        assert mine[key] == pytest.approx(volume, rel=1e-12)


@pytest.mark.parametrize("d", [2, 3])
def test_forest_invariants(d, tree_impl):
    X, y = _data(d, n=300, seed=1)
    est = RandomForestClassifier(n_estimators=12, max_depth=4 if d == 2 else 3,
                                 random_state=1).fit(X, y)
    part = partition(est, Box(np.zeros(d), np.ones(d)))
    # locate agrees with scikit-learn's apply
    Q = np.random.default_rng(2).random((3000, d))
    cells = part.locate(Q)
    assert (cells >= 0).all()
    np.testing.assert_array_equal(part.labels[cells], est.apply(Q))
    # facet areas = walls + boundary, cell by cell
    facet_area = np.array([part.cell(i).facet_areas.sum() for i in range(part.n_cells)])
    w = part.walls
    walls_per_cell = np.bincount(w.cells.ravel(), np.repeat(w.areas, 2), minlength=part.n_cells)
    np.testing.assert_allclose(walls_per_cell + part.boundary_areas, facet_area, rtol=1e-12)
    # cells from the kernel (Partition.cell) agree with the boxes
    np.testing.assert_allclose([part.cell(i).volume for i in range(part.n_cells)],
                               part.volumes, rtol=1e-12)
    # walls pair touching boxes: normal is an axis, centroid on both cells' closures
    lo = part.centroids - [np.ptp(part.cell(i).vertices, axis=0) / 2 for i in range(part.n_cells)]
    hi = 2 * part.centroids - lo
    for k in (0, 1):
        c = w.cells[:, k]
        assert ((w.centroids >= lo[c] - 1e-12) & (w.centroids <= hi[c] + 1e-12)).all()
    np.testing.assert_allclose(np.abs(w.normals).sum(axis=1), 1)
    # half a cell width across the wall lands in the second cell
    axis = np.abs(w.normals).argmax(axis=1)
    width = (hi - lo)[w.cells[:, 1], axis]
    step = part.locate(w.centroids + 0.5 * width[:, None] * w.normals)
    np.testing.assert_array_equal(step, w.cells[:, 1])
    # angles: 2 pi around interior hinges, pi on a domain facet; T-junctions carry pi
    sums = np.add.reduceat(part.hinges.angles, part.hinges.indptr[:-1])
    np.testing.assert_allclose(sums[part.hinges.interior], 2 * np.pi)
    np.testing.assert_allclose(sums[~part.hinges.interior], np.pi)
    assert np.isclose(part.hinges.angles, np.pi).any()
    # boxes meet the domain's boundary two at a time: no boundary hinge has three cells
    assert part.hinges.interior.all()


def test_t_junction():
    # two splits on different axes: one half stays whole, the other is cut in two -> a T
    X = np.array([[0.25, 0.5], [0.75, 0.125], [0.75, 0.875]])
    est = DecisionTreeClassifier(random_state=0).fit(X, [0, 1, 2])
    t = est.tree_
    f0, f1 = t.feature[0], t.feature[t.feature >= 0][1]
    assert f0 != f1
    part = partition(est, Box([0, 0], [1, 1]))
    assert part.n_cells == 3
    leaf_under_root = [c for c in (t.children_left[0], t.children_right[0]) if t.feature[c] < 0]
    big = int(np.flatnonzero(part.labels[:, 0] == leaf_under_root[0])[0])
    assert len(part.hinges) == 1 and part.hinges.interior[0]
    angles = dict(zip(part.hinges.indices.tolist(), part.hinges.angles.tolist()))
    assert angles[big] == pytest.approx(np.pi)
    assert sorted(angles.values()) == pytest.approx([np.pi / 2, np.pi / 2, np.pi])
    # the whole half has two partial walls, as long as the second split's two pieces
    split = t.threshold[t.feature >= 0][1]
    areas = sorted(part.walls.areas[(part.walls.cells == big).any(axis=1)].tolist())
    assert areas == pytest.approx(sorted([split, 1 - split]))
    assert part.volumes.sum() == pytest.approx(1.0)


def test_gradient_boosting_multiclass_labels():
    X, y = _data(2, n=300)
    y = y + (X[:, 0] > 0.7)                         # three classes: three trees per stage
    est = GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0).fit(X, y)
    part = partition(est, Box([0, 0], [1, 1]))
    assert part.labels.shape[1] == 9
    Q = np.random.default_rng(0).random((500, 2))
    np.testing.assert_array_equal(part.labels[part.locate(Q)], _apply(est, Q))


def test_domain_clips_the_leaves():
    X, y = _data(2)
    est = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    part = partition(est, Box([0.4, 0.4], [0.6, 0.6]))
    assert part.volumes.sum() == pytest.approx(0.04)
    Q = 0.4 + 0.2 * np.random.default_rng(0).random((500, 2))
    np.testing.assert_array_equal(part.labels[part.locate(Q), 0], est.apply(Q))
    assert (part.locate([[0.0, 0.0], [0.7, 0.5]]) == -1).all()


def test_regressor_forest_max_cells_and_progress(capsys):
    X, y = _data(2)
    est = RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0).fit(X, y)
    with pytest.raises(Exception, match="max_cells=5 after 1 of 10 trees"):
        partition(est, Box([0, 0], [1, 1]), max_cells=5)
    partition(est, Box([0, 0], [1, 1]), progress=True)
    assert "tree 10/10" in capsys.readouterr().err


def test_tree_errors():
    X, y = _data(2)
    with pytest.raises(InvalidInputError, match="not fitted"):
        partition(RandomForestClassifier(), Box([0, 0], [1, 1]))
    with pytest.raises(InvalidInputError, match="not fitted"):
        partition(DecisionTreeClassifier(), Box([0, 0], [1, 1]))
    with pytest.raises(InvalidInputError, match="HistGradientBoostingClassifier"):
        partition(HistGradientBoostingClassifier(max_iter=2).fit(X, y), Box([0, 0], [1, 1]))
    est = DecisionTreeClassifier(max_depth=2).fit(X, y)
    with pytest.raises(InvalidInputError, match="fitted on 2 features"):
        partition(est, Box([0, 0, 0], [1, 1, 1]))
    with pytest.raises(InvalidInputError, match="must be a Box"):
        partition(est, Polytope(np.vstack([np.eye(2), -np.ones((1, 2))]), [1, 1, 0]))
    with pytest.raises(InvalidInputError, match="domain is required"):
        partition(est)


def test_tree_partition_4d_matches_grid_oracle():
    X, y = _data(4, n=150)
    est = RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0).fit(X, y)
    part = partition(est, Box(np.zeros(4), np.ones(4)))
    labels, volumes, walls, hinges = _oracle(est, np.zeros(4), np.ones(4))
    assert [tuple(r) for r in part.labels] == labels
    np.testing.assert_allclose(part.volumes, volumes, rtol=1e-12)
    assert {tuple(c) for c in part.walls.cells.tolist()} == walls.keys()
    mine = _hinge_table(part)
    assert mine.keys() == hinges.keys()
    np.testing.assert_allclose([mine[k] for k in hinges], list(hinges.values()), rtol=1e-12)


def test_forest_stops_before_exhausting_memory(monkeypatch):
    import geomcore._memory
    from geomcore import TooLargeError

    X, y = _data(2)
    est = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    monkeypatch.setattr(geomcore._memory, "available_bytes", lambda: 30_000)
    with pytest.raises(TooLargeError, match="after 1 of 5 trees"):
        partition(est, Box([0, 0], [1, 1]))


@pytest.mark.parametrize("n_free", [0, 1, 2, 3])
@pytest.mark.parametrize("huge_groups", [False, True])
def test_box_join_matches_brute_force(n_free, huge_groups):
    """The face join against all pairs, on random tilings: each group's e boxes are disjoint
    (a random grid's cells, some merged), the p boxes arbitrary."""
    from geomcore.partitions.trees import _box_join

    rng = np.random.default_rng(n_free)
    g_e, lo_e, hi_e = [], [], []
    for g in range(3):
        cuts = [np.unique(np.r_[0, rng.integers(1, 40, 6), 40]) for _ in range(n_free)]
        for idx in itertools.product(*[range(len(c) - 1) for c in cuts]):
            lo = [c[i] for c, i in zip(cuts, idx)]
            hi = [c[i + 1] for c, i in zip(cuts, idx)]
            g_e.append(g), lo_e.append(lo), hi_e.append(hi)
    g_e = np.array(g_e)
    lo_e = np.array(lo_e, np.int64).reshape(len(g_e), n_free)
    hi_e = np.array(hi_e, np.int64).reshape(len(g_e), n_free)
    lo_p = rng.integers(0, 30, (60, n_free))
    hi_p = lo_p + rng.integers(1, 25, (60, n_free))
    g_p = rng.integers(0, 3, 60)
    if huge_groups:                       # grid keys would overflow: the fallback sweep
        g_e, g_p = g_e * 2**40, g_p * 2**40
    p, e = _box_join(g_p, lo_p, hi_p, g_e, lo_e, hi_e)
    got = sorted(zip(p.tolist(), e.tolist()))
    overlap = (np.minimum(hi_p[:, None], hi_e[None]) > np.maximum(lo_p[:, None], lo_e[None]))
    want = np.argwhere((g_p[:, None] == g_e[None]) & overlap.all(axis=2))
    assert got == sorted(map(tuple, want.tolist()))
    assert len(got) > 0


def test_refine_by_tree_kernel_matches_reference():
    from geomcore._kernels._trees import refine_by_tree as kernel
    from geomcore._reference.trees import refine_by_tree as reference
    from geomcore.partitions.trees import TreeEnsemble

    X, y = _data(3, n=300)
    model = TreeEnsemble(ExtraTreesClassifier(n_estimators=3, random_state=0).fit(X, y))
    rng = np.random.default_rng(1)
    lo = rng.random((40, 3)) * 0.5
    hi = lo + rng.random((40, 3)) * 0.5 + 1e-3
    lo[0], hi[0] = 0.0, 1.0
    for nodes in model._nodes:
        got, want = kernel(lo, hi, *nodes), reference(lo, hi, *nodes)

        def rows(out):
            return sorted(map(tuple, np.column_stack([out[2], out[3], out[0], out[1]]).tolist()))

        assert rows(got) == rows(want) and len(got[2]) > len(lo)
        lo, hi = got[0], got[1]
