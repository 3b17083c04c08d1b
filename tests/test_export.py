"""Export: networkx graphs of partitions and complexes, .npz round trips, pickling."""

import pickle
import warnings

import numpy as np
import pytest

import geomcore as gc
from geomcore.export import load_npz, save_npz, to_networkx


def square(a=0.3, b=0.6):
    return gc.partition(gc.Arrangement([[1, 0], [0, 1]], [a, b]), gc.Box([0, 0], [1, 1]))


def _net(seed=0):
    rng = np.random.default_rng(seed)
    return gc.ReLUNetwork([rng.normal(size=(6, 2)), rng.normal(size=(4, 6)), rng.normal(size=(3, 4))],
                          [rng.normal(size=6) * 0.3, rng.normal(size=4) * 0.3, np.zeros(3)])


def _partitions():
    rng = np.random.default_rng(0)
    out = {
        "arrangement": square(),
        "network": gc.partition(_net(), gc.Box([-1, -1], [1, 1])),
        "decision": gc.partition(_net(), gc.Box([-1, -1], [1, 1]), regions="decision"),
        "voronoi": gc.partition(gc.Voronoi(rng.uniform(size=(12, 2))), gc.Box([0, 0], [1, 1])),
        "3d": gc.partition(gc.Arrangement(rng.normal(size=(4, 3)), rng.normal(size=4) * 0.2),
                           gc.Box(-np.ones(3), np.ones(3))),
    }
    try:
        from sklearn.tree import DecisionTreeClassifier

        X = rng.uniform(size=(100, 2))
        tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, X[:, 0] > X[:, 1])
        out["tree"] = gc.partition(tree, gc.Box([0, 0], [1, 1]))
    except ImportError:
        pass
    return out


PARTS = _partitions()


# ---------------------------------------------------------------------------------------------
# networkx


def test_to_networkx_partition_spec_square():
    nx = pytest.importorskip("networkx")
    g = to_networkx(square())
    assert isinstance(g, nx.Graph)
    assert sorted(g.edges) == [(0, 1), (0, 2), (1, 3), (2, 3)]
    assert [round(g.nodes[i]["volume"], 12) for i in range(4)] == [0.18, 0.42, 0.12, 0.28]
    areas = {e: round(g.edges[e]["area"], 12) for e in g.edges}
    assert areas == {(0, 1): 0.6, (0, 2): 0.3, (1, 3): 0.7, (2, 3): 0.4}
    assert g.nodes[3]["label"] == (True, True)
    assert g.edges[0, 1]["normal"] == pytest.approx((1.0, 0.0))
    assert nx.is_connected(g)


@pytest.mark.parametrize("name", sorted(PARTS))
def test_to_networkx_partition_matches_walls(name):
    pytest.importorskip("networkx")
    part = PARTS[name]
    g = to_networkx(part)
    assert g.number_of_nodes() == part.n_cells
    assert g.number_of_edges() == len(part.walls.areas)
    total = sum(d["area"] for _, _, d in g.edges(data=True))
    assert total == pytest.approx(float(np.sum(part.walls.areas)), rel=1e-12)
    assert sum(d["volume"] for _, d in g.nodes(data=True)) == pytest.approx(part.domain.volume)
    if part.classes is not None:
        assert [g.nodes[i]["cls"] for i in range(part.n_cells)] == part.classes.tolist()


def test_to_networkx_complex_and_riemannian():
    pytest.importorskip("networkx")
    part = square(0.5, 0.5)
    cx = gc.nerve(part)
    g = to_networkx(cx)
    assert g.number_of_nodes() == 4 and g.number_of_edges() == 6
    degenerate = sorted(e for e in g.edges if g.edges[e]["degenerate"])
    assert degenerate == [(0, 3), (1, 2)]                 # the diagonals of the crossing
    assert g.edges[0, 3]["measure"] == 0.0 and g.edges[0, 1]["measure"] == pytest.approx(0.5)
    rc = gc.RiemannianComplex(part)
    gr = to_networkx(rc)
    np.testing.assert_allclose([gr.nodes[i]["mass"] for i in range(4)], rc.masses(0))
    e = rc.complex.simplices(1)
    np.testing.assert_allclose([gr.edges[tuple(r)]["mass"] for r in e.tolist()], rc.masses(1))
    assert gr.edges[0, 3]["mass"] == pytest.approx(1e-9 * 0.5)   # the floor (SPEC 6)
    plain = to_networkx(gc.SimplicialComplex.from_simplices([[0, 1], [1, 2]]))
    assert sorted(plain.edges) == [(0, 1), (1, 2)] and "measure" not in plain.edges[0, 1]


def test_to_networkx_rejects_other_objects():
    pytest.importorskip("networkx")
    with pytest.raises(gc.InvalidInputError, match="obj must be a Partition"):
        to_networkx(np.eye(3))


# ---------------------------------------------------------------------------------------------
# npz


@pytest.mark.parametrize("name", sorted(PARTS))
def test_npz_partition_round_trip(tmp_path, name):
    part = PARTS[name]
    save_npz(part, tmp_path / "p.npz")
    back = load_npz(tmp_path / "p.npz")
    assert back.n_cells == part.n_cells and back.ndim == part.ndim
    np.testing.assert_array_equal(back.labels, part.labels)
    for attr in ("volumes", "centroids", "boundary_areas"):
        np.testing.assert_array_equal(getattr(back, attr), getattr(part, attr))
    for attr in ("cells", "areas", "normals", "centroids"):
        np.testing.assert_array_equal(getattr(back.walls, attr), getattr(part.walls, attr))
    for attr in ("indptr", "indices", "angles", "volumes", "interior"):
        np.testing.assert_array_equal(getattr(back.hinges, attr), getattr(part.hinges, attr))
    if part.classes is not None:
        np.testing.assert_array_equal(back.classes, part.classes)
    # the cells are rebuilt from their saved facets: same polytopes
    for i in range(0, part.n_cells, max(1, part.n_cells // 7)):
        assert back.cell(i).volume == pytest.approx(part.cell(i).volume, rel=1e-12)
    # locate agrees away from walls (points at the centroids and random points)
    rng = np.random.default_rng(1)
    lo, hi = np.asarray(part.domain.lo), np.asarray(part.domain.hi)
    X = np.vstack([part.centroids, rng.uniform(lo, hi, size=(300, part.ndim))])
    np.testing.assert_array_equal(back.locate(X), part.locate(X))
    # and the complex of the loaded partition is the same
    assert gc.nerve(back).f_vector == gc.nerve(part).f_vector


def test_npz_complex_round_trip(tmp_path):
    cx = gc.nerve(square(0.5, 0.5))
    save_npz(cx, tmp_path / "c.npz")
    back = load_npz(tmp_path / "c.npz")
    assert back.f_vector == cx.f_vector and back.kind == "nerve" and back.truncated
    for k in range(cx.max_dim + 1):
        np.testing.assert_array_equal(back.simplices(k), cx.simplices(k))
        np.testing.assert_array_equal(back.degenerate(k), cx.degenerate(k))
    assert back.betti_numbers() == (1, 0)
    assert back.betti_numbers(skeleton=True) == (1, 0, 1)
    with np.load(tmp_path / "c.npz") as z:           # plain arrays, no pickle
        assert z["simplices_2"].shape == (4, 3) and str(z["kind"]) == "complex"


def test_load_npz_rejects_foreign_files(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.eye(2))
    with pytest.raises(gc.InvalidInputError, match="written by geomcore.export.save_npz"):
        load_npz(tmp_path / "x.npz")


# ---------------------------------------------------------------------------------------------
# pickling

@pytest.mark.parametrize("name", ["arrangement", "network", "decision", "voronoi", "3d", "tree"])
def test_fresh_partition_pickles(name):
    if name not in PARTS:
        pytest.skip("scikit-learn not installed")
    part = _partitions()[name]                  # fresh: no cell has been asked for yet
    back = pickle.loads(pickle.dumps(part))
    np.testing.assert_array_equal(back.volumes, part.volumes)
    np.testing.assert_array_equal(back.labels, part.labels)
    np.testing.assert_array_equal(back.locate(part.centroids), np.arange(part.n_cells))


@pytest.mark.parametrize("name", sorted(PARTS))
def test_used_partition_pickles(name):
    part = PARTS[name]
    part.cell(0)                                # the batch is built
    back = pickle.loads(pickle.dumps(part))
    np.testing.assert_array_equal(back.volumes, part.volumes)
    np.testing.assert_array_equal(back.walls.cells, part.walls.cells)
    np.testing.assert_array_equal(back.locate(part.centroids), np.arange(part.n_cells))
    assert back.cell(part.n_cells - 1).volume == pytest.approx(part.cell(part.n_cells - 1).volume)


def test_complexes_and_results_pickle():
    part = PARTS["network"]
    part.cell(0)
    X = np.random.default_rng(2).uniform(-1, 1, size=(200, 2))
    cx = gc.nerve(part)
    rc = gc.RiemannianComplex(part, X=X)
    for obj in (cx, rc):
        back = pickle.loads(pickle.dumps(obj))
        c = back if obj is cx else back.complex
        assert c.f_vector == cx.f_vector and c.truncated == cx.truncated
        assert c.betti_numbers() == cx.betti_numbers()
    back = pickle.loads(pickle.dumps(rc))
    np.testing.assert_array_equal(back.masses(1), rc.masses(1))
    np.testing.assert_allclose(gc.hodge_laplacian(back, 0).toarray(),
                               gc.hodge_laplacian(rc, 0).toarray())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refined = gc.refine(_net(), X, X[:, 0] ** 2, domain=gc.Box([-1, -1], [1, 1]))
    back = pickle.loads(pickle.dumps(refined))
    np.testing.assert_array_equal(back.predict(X), refined.predict(X))
    loaded_cx = pickle.loads(pickle.dumps(gc.Polytope(*gc.Box([0, 0], [1, 2]).halfspaces())))
    assert loaded_cx.volume == 2.0


def test_docstring_examples():
    import doctest

    import geomcore.export

    result = doctest.testmod(geomcore.export, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
