"""Complexes of partitions: SPEC 14 vectors, a brute-force LP nerve, exact Betti numbers against
rational elimination, the nerve theorem, vertex contacts at T-junctions, permutations, errors."""

import doctest
from itertools import combinations

import numpy as np
import pytest

import geomcore._contacts
import geomcore.complexes
from geomcore import (
    Arrangement,
    Box,
    InvalidInputError,
    ReLUNetwork,
    Voronoi,
    partition,
    polytopes,
)
from geomcore._contacts import vertex_cells
from geomcore._reference import complexes as ref
from geomcore.complexes import SimplicialComplex, adjacency_complex, nerve
from geomcore.partitions import Hinges, Partition, Walls


def square(a, b):
    return partition(Arrangement([[1, 0], [0, 1]], [a, b]), Box([0, 0], [1, 1]))


def cells_of(part):
    return [(part.cell(i).A, part.cell(i).b) for i in range(part.n_cells)]


def as_tuples(cx, k):
    return [tuple(r) for r in cx.simplices(k).tolist()]


# ---------------------------------------------------------------------------------------------
# SPEC 14


@pytest.mark.parametrize("a, b", [(0.5, 0.5), (0.3, 0.6)])
def test_nerve_spec_square(a, b):
    cx = nerve(square(a, b), max_dim=3)
    assert cx.f_vector == (4, 6, 4, 1)
    assert cx.betti_numbers() == (1, 0, 0, 0)
    assert cx.simplices(1).tolist() == [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
    # the diagonals 00-11 and 10-01 share only the crossing point
    assert cx.degenerate(1).tolist() == [False, False, True, True, False, False]
    assert not cx.degenerate(2).any()          # every triple meets at the hinge, dim 0
    assert cx.degenerate(3).tolist() == [True]  # no (2 - 3)-volume
    assert cx.kind == "nerve"


def test_nerve_default_max_dim_reports_only_certified_degrees():
    # the 2-skeleton of the tetrahedron is a sphere: the truncated nerve's skeleton has b_2 = 1,
    # which the missing tetrahedron would fill, so betti_numbers() stops below max_dim
    cx = nerve(square(0.5, 0.5))
    assert cx.max_dim == 2 and cx.f_vector == (4, 6, 4) and cx.truncated
    assert cx.betti_numbers() == (1, 0)
    assert cx.betti_numbers(skeleton=True) == (1, 0, 1)
    full = nerve(square(0.5, 0.5), max_dim=None)
    assert full.f_vector == (4, 6, 4, 1) and not full.truncated
    assert full.betti_numbers() == (1, 0, 0, 0)
    # a cut at the largest contact leaves nothing out
    assert not nerve(square(0.5, 0.5), max_dim=3).truncated
    # a generic Voronoi diagram: three cells at every vertex, the max_dim=2 nerve is complete
    part = partition(Voronoi(np.random.default_rng(0).uniform(size=(30, 2))), Box([0, 0], [1, 1]))
    assert np.diff(part.hinges.indptr).max() == 3
    cx = nerve(part)
    assert not cx.truncated and cx.betti_numbers() == (1, 0, 0)


def test_truncated_box_nerve_uses_cliques_one_degree_up():
    # two crossing axis lines: the box path; four boxes meet at the centre
    cx = nerve(square(0.5, 0.5))
    assert geomcore.complexes._box_bounds(square(0.5, 0.5)) is not None
    assert cx.truncated and cx.betti_numbers() == (1, 0)
    assert not nerve(square(0.5, 0.5), max_dim=3).truncated


def test_relu_nerve_betti_numbers_certified():
    # a 2-D ReLU network: first-layer lines cross, so four cells meet at points; the default
    # nerve's skeleton has one 2-sphere per such point, the certified numbers are (1, 0)
    rng = np.random.default_rng(5)
    net = ReLUNetwork([rng.normal(size=(8, 2)), rng.normal(size=(6, 8)), rng.normal(size=(2, 6))],
                      [rng.normal(size=8) * 0.3, rng.normal(size=6) * 0.3, np.zeros(2)])
    part = partition(net, Box([-1, -1], [1, 1]))
    cx = nerve(part)
    four = (np.diff(part.hinges.indptr) >= 4).sum()
    assert four > 0 and cx.truncated
    assert cx.betti_numbers() == (1, 0)
    assert cx.betti_numbers(skeleton=True)[2] >= 1
    full = nerve(part, max_dim=None)
    assert full.betti_numbers() == (1,) + (0,) * full.max_dim


def test_adjacency_truncation():
    # the adjacency complex has no simplex above ndim: a cut at ndim is complete
    assert not adjacency_complex(square(0.5, 0.5)).truncated
    part = partition(Arrangement(np.eye(3), [0.5, 0.5, 0.5]), Box(np.zeros(3), np.ones(3)))
    cx = adjacency_complex(part, max_dim=1)
    assert cx.truncated and cx.betti_numbers() == (1,)
    assert len(adjacency_complex(part, max_dim=3).betti_numbers()) == 4


@pytest.mark.parametrize("a, b", [(0.5, 0.5), (0.3, 0.6)])
def test_adjacency_spec_square_is_a_four_cycle(a, b):
    cx = adjacency_complex(square(a, b))
    assert cx.f_vector == (4, 4, 0)
    assert cx.simplices(1).tolist() == [[0, 1], [0, 2], [1, 3], [2, 3]]
    assert cx.betti_numbers() == (1, 1, 0)
    assert not any(cx.degenerate(k).any() for k in range(3))


def test_boundary_matrix_spec_square():
    cx = nerve(square(0.5, 0.5), max_dim=3)
    B2 = cx.boundary_matrix(2).toarray()
    # triangle [0, 1, 2] -> [1, 2] - [0, 2] + [0, 1]
    assert B2[:, 0].tolist() == [1, -1, 0, 1, 0, 0]
    assert cx.boundary_matrix(3).toarray().ravel().tolist() == [-1, 1, -1, 1]
    assert cx.boundary_matrix(0).shape == (0, 4)
    assert cx.boundary_matrix(4).shape == (1, 0)


# ---------------------------------------------------------------------------------------------
# the brute-force LP nerve and the dense reference


def _random_partitions():
    rng = np.random.default_rng(7)
    yield "arrangement", partition(Arrangement(rng.normal(size=(3, 2)), rng.normal(size=3) * 0.3),
                                   Box([-1, -1], [1, 1]))
    yield "voronoi", partition(Voronoi(rng.uniform(size=(9, 2))), Box([0, 0], [1, 1]))
    yield "concurrent", partition(Arrangement([[1, 0], [0, 1], [1, 1]], [0, 0, 0]),
                                  Box([-1, -1], [1, 1]))


@pytest.mark.parametrize("name, part", list(_random_partitions()))
def test_nerve_matches_lp_brute_force(name, part):
    cx = nerve(part, max_dim=3)
    brute = ref.nerve(cells_of(part), 3)
    for k in range(4):
        assert as_tuples(cx, k) == [S for S, _ in brute[k]], (name, k)
        generic = [dim == part.ndim - k for _, dim in brute[k]]
        assert (~cx.degenerate(k)).tolist() == generic, (name, k)
    adj = adjacency_complex(part, max_dim=3)
    kept = {1: {S for S, dim in brute[1] if dim == 1}}
    kept[2] = {S for S, dim in brute[2] if dim == 0 and all(e in kept[1] for e in combinations(S, 2))}
    assert set(as_tuples(adj, 1)) == kept[1]
    assert set(as_tuples(adj, 2)) == kept[2]
    assert adj.f_vector[3] == 0


def test_nerve_3d_matches_lp_brute_force():
    # eight cells at (0, 0, 0.2): four around each half of the line x = y = 0
    part = partition(Arrangement([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0.2]),
                     Box(-np.ones(3), np.ones(3)))
    cx = nerve(part, max_dim=3)
    brute = ref.nerve(cells_of(part), 3)
    for k in range(4):
        assert as_tuples(cx, k) == [S for S, _ in brute[k]], k
        assert (~cx.degenerate(k)).tolist() == [dim == 3 - k for _, dim in brute[k]], k


@pytest.mark.parametrize("name, part", list(_random_partitions()))
def test_boundary_matches_reference_and_squares_to_zero(name, part):
    cx = nerve(part, max_dim=3)
    for k in range(1, 4):
        B = cx.boundary_matrix(k)
        assert B.dtype == np.int64
        expected = ref.boundary_matrix(as_tuples(cx, k), as_tuples(cx, k - 1))
        np.testing.assert_array_equal(B.toarray(), expected)
        if k < 3:
            assert abs(B @ cx.boundary_matrix(k + 1)).sum() == 0


def test_betti_numbers_match_rational_reference():
    rng = np.random.default_rng(3)
    for _ in range(6):
        tops = [sorted(rng.choice(9, size=rng.integers(2, 5), replace=False)) for _ in range(7)]
        cx = SimplicialComplex.from_simplices(tops, n_vertices=10)
        rows = [as_tuples(cx, k) for k in range(cx.max_dim + 1)]
        assert cx.betti_numbers() == ref.betti_numbers(rows)


def test_betti_numbers_exact_on_projective_plane():
    # the 6-vertex real projective plane: Z/2 torsion in H_1, so over a field of odd
    # characteristic (and Q) the Betti numbers are (1, 0, 0); mod 2 they would be (1, 1, 1)
    rp2 = [(0, 1, 2), (0, 2, 3), (0, 3, 4), (0, 4, 5), (0, 1, 5), (1, 2, 4), (2, 3, 5),
           (1, 3, 4), (1, 3, 5), (2, 4, 5)]
    cx = SimplicialComplex.from_simplices(rp2)
    assert cx.f_vector == (6, 15, 10)
    assert cx.betti_numbers() == (1, 0, 0)
    torus = SimplicialComplex.from_simplices(
        [(a, b, c) for i in range(3) for j in range(3)
         for a, b, c in [((3 * i + j), 3 * ((i + 1) % 3) + j, 3 * i + (j + 1) % 3),
                         (3 * ((i + 1) % 3) + j, 3 * ((i + 1) % 3) + (j + 1) % 3,
                          3 * i + (j + 1) % 3)]])
    assert torus.betti_numbers() == (1, 2, 1)


# ---------------------------------------------------------------------------------------------
# the nerve theorem


def _relu(rng, d):
    return ReLUNetwork([rng.normal(size=(6, d)), rng.normal(size=(5, 6)), rng.normal(size=(1, 5))],
                       [rng.normal(size=6) * 0.3, rng.normal(size=5) * 0.3, np.zeros(1)])


@pytest.mark.parametrize("seed", [0, 1])
def test_nerve_of_convex_domain_is_contractible(seed):
    rng = np.random.default_rng(seed)
    parts = [
        partition(Arrangement(rng.normal(size=(7, 2)), rng.normal(size=7) * 0.3), Box([-1, -1], [1, 1])),
        partition(Arrangement(rng.normal(size=(4, 3)), rng.normal(size=4) * 0.3),
                  Box(-np.ones(3), np.ones(3))),
        partition(Voronoi(rng.uniform(size=(150, 2))), Box([0, 0], [1, 1])),
        partition(Voronoi(rng.uniform(size=(25, 3))), Box(np.zeros(3), np.ones(3))),
        partition(_relu(rng, 2), Box([-1, -1], [1, 1])),
    ]
    for part in parts:
        cx = nerve(part, max_dim=None)
        assert cx.betti_numbers() == (1,) + (0,) * cx.max_dim, part
        assert cx.max_dim >= 2


def test_vertex_contacts_agree_with_walls_and_hinges_in_the_plane():
    # in 2-D the nerve comes from walls and hinges; the vertex table must give the same sets
    rng = np.random.default_rng(11)
    for part in (partition(Voronoi(rng.uniform(size=(60, 2))), Box([0, 0], [1, 1])),
                 partition(_relu(rng, 2), Box([-1, -1], [1, 1]))):
        _, ptr, idx = vertex_cells(part)
        from_vertices = SimplicialComplex.from_simplices(
            [idx[ptr[v]:ptr[v + 1]] for v in range(len(ptr) - 1)], n_vertices=part.n_cells,
            max_dim=2)
        cx = nerve(part, max_dim=2)
        for k in range(3):
            np.testing.assert_array_equal(from_vertices.simplices(k), cx.simplices(k))


# ---------------------------------------------------------------------------------------------
# vertex contacts at T-junctions (boxes that do not meet face to face)


def _boxes(boxes, walls, normals, hinge_sets, angles):
    d = len(boxes[0][0])
    eye = np.eye(d)
    A = np.vstack([np.vstack([eye, -eye]) for _ in boxes])
    b = np.concatenate([np.r_[hi, -np.asarray(lo, float)] for lo, hi in boxes])
    batch = polytopes(A, b, np.arange(0, 2 * d * len(boxes) + 1, 2 * d))
    model = type("Boxes", (), {"ndim": d})()
    ptr = np.r_[0, np.cumsum([len(h) for h in hinge_sets])]
    hinges = Hinges(ptr, np.concatenate(hinge_sets), np.concatenate(angles),
                    np.ones(len(hinge_sets)), np.ones(len(hinge_sets), bool))
    w = Walls(np.array(walls), np.ones(len(walls)), np.array(normals, float),
              np.zeros((len(walls), d)))
    lo = np.min([lo for lo, _ in boxes], axis=0)
    hi = np.max([hi for _, hi in boxes], axis=0)
    return Partition(model, Box(lo, hi), np.arange(len(boxes)), batch, w, hinges,
                     np.zeros(len(boxes)))


def test_vertex_cells_t_junction_plane():
    # a tall box on the left, two boxes on the right: (1, 1) is a vertex of the right two and
    # lies inside a facet of the left one
    part = _boxes([([0, 0], [1, 2]), ([1, 0], [2, 1]), ([1, 1], [2, 2])],
                  [[0, 1], [0, 2], [1, 2]], [[1, 0], [1, 0], [0, 1]], [[0, 1, 2]],
                  [[np.pi, np.pi / 2, np.pi / 2]])
    points, ptr, idx = vertex_cells(part)
    at = {tuple(p): idx[ptr[v]:ptr[v + 1]].tolist() for v, p in enumerate(points.tolist())}
    assert len(points) == 8
    assert at[(1.0, 1.0)] == [0, 1, 2]
    assert at[(1.0, 0.0)] == [0, 1] and at[(0.0, 0.0)] == [0]
    assert nerve(part).f_vector == (3, 3, 1)


def test_vertex_cells_point_contact_in_space():
    # x <= 0 split by z = 0, x >= 0 split by y = 0: the four boxes meet at the origin only
    # through a T-junction on either side; the origin is a vertex of none of them ... but the
    # corners (0, 0, +-1) and (0, +-1, 0) are, and the tetrahedron is a point contact
    boxes = [([-1, -1, -1], [0, 1, 0]), ([-1, -1, 0], [0, 1, 1]),
             ([0, -1, -1], [1, 0, 1]), ([0, 0, -1], [1, 1, 1])]
    walls = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
    normals = [[0, 0, 1], [1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0]]
    part = _boxes(boxes, walls, normals, [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]],
                  [[np.pi / 2] * 2 + [np.pi]] * 2 + [[np.pi] + [np.pi / 2] * 2] * 2)
    points, ptr, idx = vertex_cells(part)
    sets = {tuple(p): idx[ptr[v]:ptr[v + 1]].tolist() for v, p in enumerate(points.tolist())}
    assert sets[(0.0, 1.0, 0.0)] == [0, 1, 3]      # a vertex of 0, 1, 3; inside 3's facet
    assert sets[(0.0, 0.0, 1.0)] == [1, 2, 3]
    assert sets[(0.0, -1.0, 0.0)] == [0, 1, 2]
    brute = ref.nerve(cells_of(part), 3)
    # the 4-way contact is the origin alone, a vertex of no cell: found by the box path
    assert brute[3] == [((0, 1, 2, 3), 0)]
    cx = nerve(part, max_dim=3)
    for k in range(4):
        assert as_tuples(cx, k) == [S for S, _ in brute[k]]
        assert (~cx.degenerate(k)).tolist() == [dim == 3 - k for _, dim in brute[k]]
    assert cx.betti_numbers() == (1, 0, 0, 0)


def _generic(monkeypatch):
    monkeypatch.setattr(geomcore.complexes, "_box_bounds", lambda part: None)


def test_box_path_agrees_with_the_generic_path(monkeypatch):
    parts = [square(0.3, 0.6), partition(Arrangement(np.eye(3), [0.1, 0.2, 0.3]), Box(-np.ones(3), np.ones(3))),
             partition(Arrangement([[1, 0], [1, 0], [0, 1], [0, 1]], [0.2, 0.7, 0.4, 0.5]), Box([0, 0], [1, 1]))]
    boxed = [nerve(p, max_dim=None) for p in parts]
    assert all(geomcore.complexes._box_bounds(p) is not None for p in parts)
    _generic(monkeypatch)
    for p, cb in zip(parts, boxed):
        cg = nerve(p, max_dim=None)
        assert cg.f_vector == cb.f_vector
        for k in range(cg.max_dim + 1):
            np.testing.assert_array_equal(cg.simplices(k), cb.simplices(k))
            np.testing.assert_array_equal(cg.degenerate(k), cb.degenerate(k))
            np.testing.assert_allclose(cg._measures[k][0], cb._measures[k][0], rtol=1e-12)


@pytest.mark.parametrize("d", [2, 3])
def test_tree_partitions_nerve(d):
    sklearn_tree = pytest.importorskip("sklearn.tree")
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(d)
    X = rng.uniform(size=(200, d))
    y = ((X.sum(axis=1) > d / 2) ^ (X[:, 0] > 0.3)).astype(int)
    tree = sklearn_tree.DecisionTreeClassifier(max_leaf_nodes=8, random_state=0).fit(X, y)
    try:
        part = partition(tree, Box(np.zeros(d), np.ones(d)))
    except InvalidInputError as exc:          # trees land in their own issue
        pytest.skip(str(exc))
    cx = nerve(part, max_dim=3)
    brute = ref.nerve(cells_of(part), 3)
    for k in range(4):
        assert as_tuples(cx, k) == [S for S, _ in brute[k]], k
        assert (~cx.degenerate(k)).tolist() == [dim == d - k for _, dim in brute[k]], k
    forest = RandomForestClassifier(n_estimators=3, max_leaf_nodes=6, random_state=0).fit(X, y)
    full = nerve(partition(forest, Box(np.zeros(d), np.ones(d))), max_dim=None)
    assert full.betti_numbers() == (1,) + (0,) * full.max_dim


# ---------------------------------------------------------------------------------------------
# permutations


def test_permuting_sites_permutes_the_nerve():
    rng = np.random.default_rng(5)
    pts = rng.uniform(size=(40, 2))
    perm = rng.permutation(40)                      # new site q is old site perm[q]
    cx = nerve(partition(Voronoi(pts), Box([0, 0], [1, 1])))
    cy = nerve(partition(Voronoi(pts[perm]), Box([0, 0], [1, 1])))
    new_of_old = np.argsort(perm)
    for k in range(3):
        mapped = np.sort(new_of_old[cx.simplices(k)], axis=1)
        mapped = mapped[np.lexsort(mapped.T[::-1])]
        np.testing.assert_array_equal(mapped, cy.simplices(k))
        assert cx.degenerate(k).sum() == cy.degenerate(k).sum()


# ---------------------------------------------------------------------------------------------
# errors and docstrings


def test_errors():
    cx = nerve(square(0.5, 0.5))
    with pytest.raises(InvalidInputError, match=r"k must be an integer degree in 0..2 .*got 3"):
        cx.simplices(3)
    with pytest.raises(InvalidInputError, match=r"k must be an integer degree in 0..3 .*got 4"):
        cx.boundary_matrix(4)
    with pytest.raises(InvalidInputError, match="got -1"):
        cx.degenerate(-1)
    with pytest.raises(InvalidInputError, match="got 1.0"):
        cx.simplices(1.0)
    with pytest.raises(InvalidInputError, match="max_dim must be a non-negative int or None; got -1"):
        nerve(square(0.5, 0.5), max_dim=-1)
    with pytest.raises(InvalidInputError, match="max_dim must be .* got '2'"):
        adjacency_complex(square(0.5, 0.5), max_dim="2")
    with pytest.raises(InvalidInputError, match="partition must be a geomcore.Partition .* list"):
        nerve([1, 2, 3])
    with pytest.raises(InvalidInputError, match=r"face \[1, 2\] of \[0, 1, 2\] is not in"):
        SimplicialComplex([[[0], [1], [2]], [[0, 1], [0, 2]], [[0, 1, 2]]])
    with pytest.raises(InvalidInputError, match="strictly increasing; row 0 is \\[1, 0\\]"):
        SimplicialComplex([[[0], [1]], [[1, 0]]])
    with pytest.raises(InvalidInputError, match="lexicographic"):
        SimplicialComplex([[[0], [1], [2]], [[1, 2], [0, 1]]])
    with pytest.raises(InvalidInputError, match=r"simplices\[1\] must be an int array of shape"):
        SimplicialComplex([[[0], [1]], [[0.0, 1.0]]])
    with pytest.raises(InvalidInputError, match="column 0..n_vertices-1"):
        SimplicialComplex([[[1], [2]]])
    with pytest.raises(InvalidInputError, match="vertex indices in 0..1; got 0..2"):
        SimplicialComplex([[[0], [1]], [[0, 2]]])


@pytest.mark.parametrize("module", [geomcore.complexes, geomcore._contacts])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
