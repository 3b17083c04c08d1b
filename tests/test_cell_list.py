"""Partitions given as a list of Polytope cells: validation, and agreement with the tree and
Voronoi sources, which find walls and hinges by different mechanisms."""

import numpy as np
import pytest

from geomcore import Box, InvalidInputError, Polytope, Voronoi, partition


def _box(lo, hi):
    d = len(lo)
    return Polytope(np.vstack([np.eye(d), -np.eye(d)]), np.r_[hi, -np.asarray(lo, float)])


def _hinge_table(h):
    """{cells around the hinge: (their angles, volume, interior)}, rounded."""
    return {tuple(h.indices[h.indptr[k]:h.indptr[k + 1]].tolist()): (
        tuple(np.round(h.angles[h.indptr[k]:h.indptr[k + 1]], 9)), round(h.volumes[k], 9),
        bool(h.interior[k])) for k in range(len(h))}


def test_t_junction_cells():
    cells = [_box([0, 0], [0.5, 1]), _box([0.5, 0], [1, 0.25]), _box([0.5, 0.25], [1, 1])]
    part = partition(cells, Box([0, 0], [1, 1]))
    np.testing.assert_allclose(part.volumes, [0.5, 0.125, 0.375])
    assert part.walls.cells.tolist() == [[0, 1], [0, 2], [1, 2]]
    np.testing.assert_allclose(part.walls.areas, [0.25, 0.75, 0.5])
    np.testing.assert_allclose(part.walls.normals, [[1, 0], [1, 0], [0, 1]])
    np.testing.assert_allclose(part.walls.centroids, [[0.5, 0.125], [0.5, 0.625], [0.75, 0.25]])
    assert part.hinges.indices.tolist() == [0, 1, 2]
    np.testing.assert_allclose(part.hinges.angles, [np.pi, np.pi / 2, np.pi / 2])
    np.testing.assert_allclose(part.boundary_areas, [2, 0.75, 1.25])
    assert part.locate([[0.2, 0.2], [0.7, 0.1], [0.7, 0.9], [2, 2]]).tolist() == [0, 1, 2, -1]
    assert part.labels.tolist() == [0, 1, 2]


def test_cells_of_a_forest_match_the_tree_partition():
    sklearn = pytest.importorskip("sklearn")  # noqa: F841
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(3)
    X = rng.random((200, 3))
    y = (X.sum(axis=1) > 1.5).astype(int)
    est = RandomForestClassifier(n_estimators=3, max_depth=2, random_state=0).fit(X, y)
    dom = Box(np.zeros(3), np.ones(3))
    trees = partition(est, dom)
    lo = trees.centroids - np.array([np.ptp(trees.cell(i).vertices, axis=0) / 2
                                     for i in range(trees.n_cells)])
    cells = [_box(a, 2 * c - a) for a, c in zip(lo, trees.centroids)]
    part = partition(cells, dom)
    np.testing.assert_allclose(part.volumes, trees.volumes, rtol=1e-12)
    np.testing.assert_array_equal(part.walls.cells, trees.walls.cells)
    np.testing.assert_allclose(part.walls.areas, trees.walls.areas, rtol=1e-12)
    np.testing.assert_allclose(part.walls.normals, trees.walls.normals)
    np.testing.assert_allclose(part.walls.centroids, trees.walls.centroids, atol=1e-12)
    np.testing.assert_allclose(part.boundary_areas, trees.boundary_areas, rtol=1e-12)
    assert _hinge_table(part.hinges) == _hinge_table(trees.hinges)


def test_cells_of_a_voronoi_diagram_match_it():
    # dyadic sites keep the cells' rows exact, so three cells meet exactly at each vertex
    # (rounded rows would leave slivers of 1e-17 that are, exactly, extra hinges)
    rng = np.random.default_rng(0)
    sites = np.unique(rng.integers(0, 64, size=(14, 2)), axis=0) / 64
    vor = partition(Voronoi(sites), Box([0, 0], [1, 1]))
    part = partition([vor.cell(i) for i in range(vor.n_cells)], Box([0, 0], [1, 1]))
    np.testing.assert_array_equal(part.walls.cells, vor.walls.cells)
    np.testing.assert_allclose(part.walls.areas, vor.walls.areas, rtol=1e-9)
    assert len(part.hinges) > 5
    assert _hinge_table(part.hinges) == _hinge_table(vor.hinges)


def test_cell_list_errors():
    dom = Box([0, 0], [1, 1])
    with pytest.raises(InvalidInputError, match="overlap"):
        partition([_box([0, 0], [0.6, 1]), _box([0.4, 0], [1, 1])], dom)
    with pytest.raises(InvalidInputError, match="do not cover"):
        partition([_box([0, 0], [0.4, 1]), _box([0.5, 0], [1, 1])], dom)
    with pytest.raises(InvalidInputError, match=r"cells\[1\] is not inside the domain"):
        partition([_box([0, 0], [0.5, 1]), _box([0.5, 0], [1.5, 1])], dom)
    with pytest.raises(InvalidInputError, match=r"cells\[1\] must be a geomcore.Polytope"):
        partition([_box([0, 0], [0.5, 1]), "cell"], dom)
    with pytest.raises(InvalidInputError, match="same ndim"):
        partition([_box([0, 0], [0.5, 1]), _box([0, 0, 0], [1, 1, 1])], dom)
    with pytest.raises(InvalidInputError, match="non-empty"):
        partition([], dom)
    with pytest.raises(InvalidInputError, match="domain is required"):
        partition([_box([0, 0], [1, 1])])
    # the whole domain as one cell is a partition
    whole = partition([_box([0, 0], [1, 1])], dom)
    assert whole.n_cells == 1 and len(whole.walls) == 0 and whole.boundary_areas[0] == 4
