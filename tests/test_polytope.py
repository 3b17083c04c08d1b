"""Polytope and polytopes: closed forms, independent oracles, identities, degenerate input and
errors. Tests taking the `impl` fixture run on the Cython kernel and on the exact reference."""

import itertools
import math

import numpy as np
import pytest
from conftest import cross_polytope, cube, random_polytope, simplex
from scipy.spatial import ConvexHull, HalfspaceIntersection

import geomcore
from geomcore import (
    DegenerateInputError,
    InfeasibleError,
    InvalidInputError,
    Polytope,
    UnboundedError,
    polytopes,
)


def regular_simplex(d):
    """A, b of a regular simplex: facet normals the d + 1 unit vectors of a centred simplex."""
    centred = np.eye(d + 1) - 1.0 / (d + 1)
    basis = np.linalg.qr(centred[:, :d])[0]          # orthonormal basis of sum(x) = 0
    normals = centred @ basis
    normals /= np.linalg.norm(normals, axis=1)[:, None]
    return normals, np.ones(d + 1)


def check_identities(p, rtol=1e-9):
    """SPEC section 3: sum_f area_f n_f = 0 and d vol = sum_f dist(q, H_f) area_f."""
    scale = max(1.0, np.abs(p.facet_areas).max())
    np.testing.assert_allclose((p.facet_areas[:, None] * p.facet_normals).sum(0), 0,
                               atol=rtol * scale * len(p.facet_areas))
    q = p.vertices.mean(axis=0) + 0.3
    unit = p.A / np.linalg.norm(p.A, axis=1)[:, None]
    heights = p.b / np.linalg.norm(p.A, axis=1) - unit @ q
    np.testing.assert_allclose(p.ndim * p.volume, heights @ p.facet_areas, rtol=rtol, atol=1e-300)
    assert p.contains(p.vertices).all()
    assert p.contains(p.centroid)
    assert p.contains(p.facet_centroids).all()


# ---------------------------------------------------------------------------------------------
# closed forms


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_polytope_cube(impl, d):
    p = Polytope(*cube(d))
    assert p.volume == pytest.approx(1.0, rel=1e-14)
    np.testing.assert_allclose(p.centroid, 0.5, rtol=1e-14)
    assert p.n_vertices == 2**d and p.n_facets == 2 * d
    np.testing.assert_allclose(p.facet_areas, 1.0, rtol=1e-14)
    assert p.facet_index.tolist() == list(range(2 * d))
    assert p.n_ridges == (2 * d * (d - 1) if d >= 2 else 0)
    np.testing.assert_allclose(p.ridge_volumes, 1.0, rtol=1e-14)
    np.testing.assert_allclose(p.dihedral_angles, np.pi / 2, rtol=1e-14)
    # every vertex lies on exactly d facets; vertices come in lexicographic order
    assert (p.incidence.sum(axis=1) == d).all()
    assert p.vertices.tolist() == sorted(p.vertices.tolist())
    check_identities(p)


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_polytope_simplex_volume(impl, d):
    p = Polytope(*simplex(d))
    assert p.volume == pytest.approx(1 / math.factorial(d), rel=1e-13)
    np.testing.assert_allclose(p.centroid, 1 / (d + 1), rtol=1e-13)
    assert p.n_vertices == d + 1 and p.n_ridges == d * (d + 1) // 2
    # the slanted facet is a regular (d-1)-simplex of side sqrt(2)
    assert p.facet_areas[-1] == pytest.approx(math.sqrt(d) / math.factorial(d - 1), rel=1e-13)
    check_identities(p)


@pytest.mark.parametrize("d", [2, 3, 4, 6])
def test_polytope_regular_simplex_dihedral(d):
    p = Polytope(*regular_simplex(d))
    np.testing.assert_allclose(p.dihedral_angles, np.arccos(1 / d), rtol=1e-12)
    assert p.n_ridges == d * (d + 1) // 2
    check_identities(p)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_polytope_cross_polytope(impl, d):
    p = Polytope(*cross_polytope(d))
    assert p.volume == pytest.approx(2**d / math.factorial(d), rel=1e-13)
    assert p.n_vertices == 2 * d and p.n_facets == 2**d
    # non-simple: every vertex lies on 2^(d-1) facets, decided exactly
    assert (p.incidence.sum(axis=1) == 2 ** (d - 1)).all()
    # facets are adjacent when their sign vectors differ in one place
    assert p.n_ridges == 2**d * d // 2
    np.testing.assert_allclose(p.dihedral_angles, np.pi - np.arccos((d - 2) / d), rtol=1e-12)
    check_identities(p)


@pytest.mark.parametrize("d", [5, 6, 8, 10])
def test_polytope_cross_polytope_high_dimension(d):
    p = Polytope(*cross_polytope(d))
    assert p.volume == pytest.approx(2**d / math.factorial(d), rel=1e-12)
    assert p.n_vertices == 2 * d and p.n_ridges == 2**d * d // 2
    assert (p.incidence.sum(axis=1) == 2 ** (d - 1)).all()
    assert p.n_exact_calls > 0        # its zeros are settled exactly


@pytest.mark.parametrize("d", [7, 10])
def test_polytope_simplex_and_cube_high_dimension(d):
    assert Polytope(*simplex(d)).volume == pytest.approx(1 / math.factorial(d), rel=1e-12)
    p = Polytope(*cube(d, -1.0, 2.0))
    assert p.volume == pytest.approx(3.0**d, rel=1e-12)
    np.testing.assert_allclose(p.centroid, 0.5, rtol=1e-12)


def test_polytope_square_pyramid_apex(impl):
    # base [-1, 1]^2 at z = 0, apex (0, 0, 1): the apex is on four facets
    A = [[0, 0, -1], [1, 0, 1], [-1, 0, 1], [0, 1, 1], [0, -1, 1]]
    p = Polytope(A, [0, 1, 1, 1, 1])
    apex = p.vertices.tolist().index([0.0, 0.0, 1.0])
    assert p.incidence[[apex]].toarray().ravel().tolist() == [0, 1, 1, 1, 1]
    assert sorted(p.incidence.sum(axis=1).tolist()) == [3, 3, 3, 3, 4]
    assert p.volume == pytest.approx(4 / 3, rel=1e-14)
    np.testing.assert_allclose(p.centroid, [0, 0, 0.25], atol=1e-15)
    assert p.n_ridges == 8
    check_identities(p)


def test_polytope_interval(impl):
    p = Polytope([[1.0], [-2.0]], [2.0, 2.0])
    assert p.volume == 3.0 and p.vertices.ravel().tolist() == [-1.0, 2.0]
    assert p.facet_areas.tolist() == [1.0, 1.0] and p.n_ridges == 0


# ---------------------------------------------------------------------------------------------
# independent oracles


@pytest.mark.parametrize("d", [2, 3, 4, 5, 6])
def test_polytope_matches_scipy_qhull(d):
    rng = np.random.default_rng(100 + d)
    for _ in range(3):
        A, b = random_polytope(rng, 2 * d + 6, d)
        p = Polytope(A, b)
        hs = HalfspaceIntersection(np.column_stack([A, -b]), np.zeros(d))
        hull = ConvexHull(hs.intersections)
        assert p.volume == pytest.approx(hull.volume, rel=1e-9)
        # same vertex set (qhull repeats vertices of non-simple duals; dedupe)
        theirs = np.unique(np.round(hs.intersections, 9), axis=0)
        np.testing.assert_allclose(np.unique(np.round(p.vertices, 9), axis=0), theirs, atol=1e-8)
        check_identities(p)


@pytest.mark.parametrize("d", [2, 3, 5, 7])
def test_polytope_matches_cdd(d):
    cdd = pytest.importorskip("cdd")
    rng = np.random.default_rng(200 + d)
    A, b = random_polytope(rng, 2 * d + 4, d)
    p = Polytope(A, b)
    mat = cdd.matrix_from_array(np.column_stack([b, -A]), rep_type=cdd.RepType.INEQUALITY)
    poly = cdd.polyhedron_from_matrix(mat)
    gens = np.array(cdd.copy_generators(poly).array)
    assert (gens[:, 0] == 1).all()           # vertices only, no rays
    theirs = gens[:, 1:]
    theirs = theirs[np.lexsort(theirs.T[::-1])]
    np.testing.assert_allclose(p.vertices, theirs, atol=1e-9)
    # cdd's redundancy removal agrees on the facets
    cdd.matrix_canonicalize(mat)
    assert p.n_facets == len(mat.array)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_kernel_matches_reference_exactly(d):
    """Seeded random cross-check: combinatorics equal, measures close."""
    from geomcore._kernels._polytope import polytope_batch as kernel
    from geomcore._reference.polytope import polytope_batch as reference

    rng = np.random.default_rng(300 + d)
    m = {2: 9, 3: 9, 4: 9}[d]
    A = rng.normal(size=(6 * m, d))
    b = rng.uniform(0.5, 1.5, size=6 * m)
    offsets = np.arange(0, 6 * m + 1, m, dtype=np.int64)
    k, r = kernel(A, b, offsets), reference(A, b, offsets)
    for key in ("status", "vertex_offsets", "facet_index", "facet_offsets", "incidence_indptr",
                "incidence_indices", "ridges", "ridge_offsets"):
        np.testing.assert_array_equal(k[key], r[key], err_msg=key)
    for key in ("vertices", "volume", "centroid", "facet_areas", "facet_normals",
                "facet_centroids", "ridge_volumes", "dihedral_angles"):
        np.testing.assert_allclose(k[key], r[key], rtol=1e-9, atol=1e-12, err_msg=key)


# ---------------------------------------------------------------------------------------------
# invariance


def test_polytope_row_permutation_invariance(impl, rng):
    A, b = random_polytope(rng, 9, 3)
    p = Polytope(A, b)
    perm = rng.permutation(len(b))
    q = Polytope(A[perm], b[perm])
    assert q.volume == pytest.approx(p.volume, rel=1e-12)
    np.testing.assert_allclose(q.vertices, p.vertices, atol=1e-13)
    assert sorted(perm[q.facet_index]) == p.facet_index.tolist()
    order = np.argsort(perm[q.facet_index])
    np.testing.assert_allclose(q.facet_areas[order], p.facet_areas, rtol=1e-12)


def test_polytope_row_scaling_invariance(impl, rng):
    A, b = random_polytope(rng, 9, 3)
    p = Polytope(A, b)
    # powers of two are exact: the same halfspaces, bit for bit the same result
    s = 2.0 ** rng.integers(-600, 600, size=len(b))
    q = Polytope(A * s[:, None], b * s)
    np.testing.assert_array_equal(q.vertices, p.vertices)
    assert q.volume == p.volume and q.facet_index.tolist() == p.facet_index.tolist()
    # other factors round the rows, so only nearly the same halfspaces
    s = 10.0 ** rng.uniform(-8, 8, size=len(b))
    q = Polytope(A * s[:, None], b * s)
    assert q.volume == pytest.approx(p.volume, rel=1e-12)


def test_polytope_inputs_scaled_by_1e6(impl, rng):
    A, b = random_polytope(rng, 8, 3)
    p = Polytope(A, b)
    q = Polytope(A, b * 1e6)              # x -> 1e6 x
    assert q.volume == pytest.approx(p.volume * 1e18, rel=1e-12)
    np.testing.assert_allclose(q.vertices, p.vertices * 1e6, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(q.dihedral_angles, p.dihedral_angles, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# degenerate but valid input


def test_polytope_duplicate_zero_and_weakly_redundant_rows(impl):
    A, b = cube(3)
    A2 = np.vstack([A, [0, 0, 0], [2, 0, 0], [1, 1, 1], A[:1], [0.5, 0.5, 0.5]])
    b2 = np.r_[b, 1, 2, 3, b[:1], 1.5]
    p = Polytope(A2, b2)
    # zero rows, copies, scaled copies and planes through one vertex add no facet
    assert p.facet_index.tolist() == list(range(6))
    assert p.volume == pytest.approx(1.0) and p.n_vertices == 8
    # of equal rows the first one is the facet
    p = Polytope(np.vstack([[2, 0, 0], A]), np.r_[2, b])
    assert p.facet_index.tolist() == [0, 2, 3, 4, 5, 6]


def test_polytope_thin_cell(impl):
    # a box 1e-9 thick, and a slab of a triangle 1e-12 thick: all combinatorics intact
    A, b = cube(3)
    b = b.copy()
    b[2] = 1e-9
    p = Polytope(A, b)
    assert p.volume == pytest.approx(1e-9, rel=1e-12) and p.n_vertices == 8
    A = [[-1, 0], [0, -1], [1, 1], [-1, -1]]
    p = Polytope(A, [0, 0, 1, -(1 - 1e-12)])
    assert p.n_facets == 4 and p.n_vertices == 4
    assert p.volume == pytest.approx(0.5 - 0.5 * (1 - 1e-12) ** 2, rel=1e-3)


def test_polytope_near_parallel_facets(impl):
    # a roof y <= 1 - eps |x| over [-1, 1]: two facets whose normals differ by 2e-12 radians
    # meet in a ridge at x = 0; the angle there keeps its 2e-12 (arccos would round it away)
    eps = 1e-12
    A = [[0, -1], [-1, 0], [1, 0], [eps, 1], [-eps, 1], [0, 1]]
    p = Polytope(A, [0, 1, 1, 1, 1, 1])
    assert p.facet_index.tolist() == [0, 1, 2, 3, 4]        # y <= 1 only touches the apex
    assert p.volume == pytest.approx(2 - eps, rel=1e-15)
    angles = dict(zip(map(tuple, p.ridges.tolist()), p.dihedral_angles))
    assert np.pi - angles[(3, 4)] == pytest.approx(2 * eps, rel=1e-6)
    # and a row tilted by 1e-12 against the top of the unit square only touches a vertex
    q = Polytope([[0, -1], [-1, 0], [1, 0], [-eps, 1], [eps, 1]], [0, 0, 1, 1, 1])
    assert q.facet_index.tolist() == [0, 1, 2, 4]


def test_polytope_nearly_concurrent_lines_match_exact_reference():
    """Lines through a point that is not a double: the tiny pieces they leave are decided
    exactly, so the kernel agrees with the rational reference on every facet and vertex."""
    from geomcore._kernels._polytope import polytope_batch as kernel
    from geomcore._reference.polytope import polytope_batch as reference

    rng = np.random.default_rng(7)
    As, bs = [], []
    for _ in range(20):
        normals = rng.integers(-9, 10, size=(5, 2)).astype(float)
        normals = normals[np.abs(normals).sum(1) > 0]
        point = np.array([0.1, 0.7])
        A = np.vstack([np.eye(2), -np.eye(2), normals])
        b = np.r_[1, 1, 1, 1, normals @ point]
        As.append(A)
        bs.append(b)
    offsets = np.r_[0, np.cumsum([len(b) for b in bs])]
    A, b = np.vstack(As), np.concatenate(bs)
    k, r = kernel(A, b, offsets), reference(A, b, offsets)
    for key in ("status", "facet_index", "ridges", "vertex_offsets", "incidence_indptr"):
        np.testing.assert_array_equal(k[key], r[key], err_msg=key)
    # vertices 1e-17 apart may sort differently in floats than in rationals: compare each
    # polytope's vertices as a set of facet-incidence patterns
    def patterns(res, i):
        lo, hi = res["vertex_offsets"][i], res["vertex_offsets"][i + 1]
        ptr = res["incidence_indptr"]
        return sorted(tuple(res["incidence_indices"][ptr[v]:ptr[v + 1]]) for v in range(lo, hi))

    for i in range(len(offsets) - 1):
        assert patterns(k, i) == patterns(r, i)


def test_polytope_exact_mode(impl):
    gmpy2 = pytest.importorskip("gmpy2")
    p = Polytope(*cross_polytope(4), exact=True)
    assert p.exact_volume == gmpy2.mpq(2, 3)
    assert p.volume == pytest.approx(2 / 3, rel=1e-15)
    assert (0, 0, 0, 1) in [tuple(int(c) for c in v) for v in p.exact_vertices]
    q = Polytope([[0.1, 0.3], [-1, 0], [0, -1]], [0.7, 0, 0], exact=True)
    assert q.exact_volume == gmpy2.mpq(0.7) ** 2 / (2 * gmpy2.mpq(0.1) * gmpy2.mpq(0.3))


# ---------------------------------------------------------------------------------------------
# contains


def test_polytope_contains(impl):
    p = Polytope(*simplex(2))
    X = [[0.2, 0.2], [0.5, 0.5], [0.6, 0.6], [-1e-3, 0.5]]
    assert p.contains(X).tolist() == [True, True, False, False]
    assert p.contains([0.1, 0.1]) is True
    assert p.contains([[0.5, 0.5 + 1e-9]], tol=0).tolist() == [False]
    with pytest.raises(InvalidInputError, match="X must have 2 columns"):
        p.contains(np.zeros((3, 3)))


# ---------------------------------------------------------------------------------------------
# batches


def test_polytopes_batch_matches_single(impl, rng):
    pieces = [cube(2), simplex(2), random_polytope(rng, 7, 2), cross_polytope(2)]
    A = np.vstack([p[0] for p in pieces])
    b = np.concatenate([p[1] for p in pieces])
    offsets = np.r_[0, np.cumsum([len(p[1]) for p in pieces])]
    batch = polytopes(A, b, offsets)
    assert len(batch) == 4 and batch.ndim == 2
    for i, (Ai, bi) in enumerate(pieces):
        single, item = Polytope(Ai, bi), batch[i]
        assert batch.volume[i] == pytest.approx(single.volume, rel=1e-14)
        np.testing.assert_array_equal(item.vertices, single.vertices)
        assert item.facet_index.tolist() == single.facet_index.tolist()
        np.testing.assert_array_equal(item.A, single.A)
        np.testing.assert_array_equal(
            batch.facet_index[batch.facet_offsets[i]:batch.facet_offsets[i + 1]],
            offsets[i] + single.facet_index,
        )
        assert (item.incidence != single.incidence).nnz == 0
        np.testing.assert_array_equal(
            batch.dihedral_angles[batch.ridge_offsets[i]:batch.ridge_offsets[i + 1]],
            single.dihedral_angles,
        )
    assert batch.vertex_offsets[-1] == len(batch.vertices)
    assert batch.incidence_indptr[-1] == len(batch.incidence_indices)


def test_polytopes_errors_name_the_polytope(impl):
    A, b = cube(2)
    bad_A = np.vstack([A, A[:2]])
    bad_b = np.r_[b, 1, 1]
    with pytest.raises(UnboundedError, match=r"polytope 1: rows offsets\[1\]:offsets\[2\]"):
        polytopes(bad_A, bad_b, [0, 4, 6])
    batch = polytopes(bad_A, bad_b, [0, 4, 6], errors="ignore")
    assert batch.status.tolist() == [0, 2]
    assert np.isnan(batch.volume[1]) and batch.vertex_offsets.tolist() == [0, 4, 4]
    with pytest.raises(UnboundedError):
        batch[1]
    with pytest.raises(InvalidInputError, match="offsets must start at 0"):
        polytopes(A, b, [1, 4])
    with pytest.raises(InvalidInputError, match="non-decreasing"):
        polytopes(np.vstack([A, A]), np.r_[b, b], [0, 5, 4, 8])
    with pytest.raises(InvalidInputError, match='errors must be "raise" or "ignore"'):
        polytopes(A, b, [0, 4], errors="warn")


# ---------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    "A, b, error, match",
    [
        ([[1.0], [-1.0]], [0.0, -1.0], InfeasibleError, "infeasible"),
        ([[1, 0], [0, 1], [-1, -1]], [0, 0, 1], UnboundedError, None),   # bounded: control
        ([[1, 0], [0, 1]], [0, 0], UnboundedError, "A must have rank ndim=2|recession"),
        ([[1, 0], [0, 1], [-1, 0]], [1, 1, 1], UnboundedError, "recession direction"),
        ([[1, 0], [-1, 0]], [1, 1], UnboundedError, "A must have rank ndim=2"),
        ([[1, 0], [-1, 0], [0, 1], [0, -1]], [0, 0, 1, 0], DegenerateInputError, "no|non-empty interior"),
        ([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]], [-1, 1, 1, 1, 1], InfeasibleError, None),
    ],
)
def test_polytope_invalid_sets(impl, A, b, error, match):
    if match is None and error is UnboundedError:
        Polytope(A, b)            # the triangle x, y <= 0, x + y >= -1 is fine
        return
    with pytest.raises(error, match=match):
        Polytope(A, b)


@pytest.mark.parametrize(
    "A, b, error, match",
    [
        ([[1.0, np.nan]], [1.0], DegenerateInputError, r"A must be finite; got nan at index \(0, 1\)"),
        ([[1.0, 0.0]], [np.inf], DegenerateInputError, "b must be finite; got inf at index 0"),
        ([1.0, 0.0], [1.0], InvalidInputError, r"A must be 2-D"),
        (np.ones((2, 2, 2)), [1.0, 1.0], InvalidInputError, "A must be 2-D"),
        ([[1.0, 0.0]], [1.0, 2.0], InvalidInputError, "b must have length 1"),
        ([[1.0, 0.0]], [[1.0]], InvalidInputError, "b must be 1-D"),
        (np.zeros((0, 2)), [], InvalidInputError, "at least one row"),
        ([[1 + 1j, 0]], [1.0], InvalidInputError, "A must be real"),
        ([["a", "b"]], [1.0], InvalidInputError, "A must hold real numbers"),
        ([[1.0, 0.0], [1.0]], [1.0, 1.0], InvalidInputError, "A must"),
    ],
)
def test_polytope_bad_arrays(A, b, error, match):
    with pytest.raises(error, match=match):
        Polytope(A, b)
    assert issubclass(error, ValueError)


def test_errors_hierarchy():
    assert issubclass(geomcore.PrecisionError, ArithmeticError)
    for cls in (DegenerateInputError, InfeasibleError, UnboundedError, InvalidInputError):
        assert issubclass(cls, geomcore.GeomcoreError) and issubclass(cls, ValueError)


def test_polytope_arrays_are_read_only():
    p = Polytope(*cube(2))
    with pytest.raises(ValueError):
        p.vertices[0, 0] = 5.0


def test_polytope_repr():
    assert repr(Polytope(*cube(2))) == "Polytope(ndim=2, n_facets=4, n_vertices=4, volume=1)"


@pytest.mark.parametrize("d", [2, 3, 4])
def test_polytope_all_sign_pattern_cells_tile_the_box(d):
    """Cells of 3 random hyperplanes in a box: volumes sum to the box, and every facet area
    is matched by a neighbour's or the box's (a partition-level invariant on the kernel)."""
    rng = np.random.default_rng(d)
    H, h = rng.normal(size=(3, d)), rng.normal(size=3) * 0.2
    boxA, boxb = cube(d, -1, 1)
    As, bs = [], []
    for signs in itertools.product([-1, 1], repeat=3):
        s = np.array(signs, float)
        As.append(np.vstack([boxA, s[:, None] * H]))
        bs.append(np.r_[boxb, s * h])
    offsets = np.r_[0, np.cumsum([len(b) for b in bs])]
    batch = polytopes(np.vstack(As), np.concatenate(bs), offsets, errors="ignore")
    ok = batch.status == 0
    assert set(batch.status[~ok]) <= {1}          # empty sign patterns are infeasible
    assert batch.volume[ok].sum() == pytest.approx(2.0**d, rel=1e-12)
    # area on each cutting hyperplane from its negative side equals that from its positive side
    local = batch.facet_index - np.repeat(offsets[:-1], np.diff(batch.facet_offsets))
    for j in range(3):
        on_j = local == 2 * d + j
        normals = batch.facet_normals[on_j]
        sides = np.sign(normals @ H[j])
        areas = batch.facet_areas[on_j]
        assert areas[sides > 0].sum() == pytest.approx(areas[sides < 0].sum(), rel=1e-12)


def test_polytope_non_simple_pyramid_in_10d():
    from geomcore.__main__ import example_polytope

    A, b, _, volume = example_polytope("pyramid", 10)
    p = Polytope(A, b)
    assert p.volume == pytest.approx(volume, rel=1e-12)        # 2^9 / 10
    assert p.n_vertices == 2**9 + 1
    apex = int(np.argmax(p.vertices[:, -1]))
    assert p.incidence[[apex]].sum() == 18                      # the apex is on 18 facets
    np.testing.assert_allclose(p.centroid[-1], 1 / 11, rtol=1e-12)


def test_polytope_measures_false_keeps_combinatorics(impl, rng):
    A, b = random_polytope(rng, 9, 3)
    full, comb = Polytope(A, b), Polytope(A, b, measures=False)
    np.testing.assert_array_equal(comb.vertices, full.vertices)
    assert comb.facet_index.tolist() == full.facet_index.tolist()
    assert comb.ridges.tolist() == full.ridges.tolist()
    np.testing.assert_array_equal(comb.dihedral_angles, full.dihedral_angles)
    assert np.isnan(comb.volume) and np.isnan(comb.facet_areas).all()
    assert np.isnan(comb.ridge_volumes).all() and np.isnan(comb.centroid).all()


def test_polytope_extreme_magnitudes(impl):
    # rows whose entries span 600 binary orders
    A, b = cube(2)
    A2 = np.vstack([A, [2.0**-300, 1.0], [1.0, 2.0**300]])
    b2 = np.r_[b, 5.0, 2.0**301]
    assert Polytope(A2, b2).volume == pytest.approx(1.0)
    # a square of side 2^-26 at 2^26 from the origin (the sum needs all 53 bits): exact
    p = Polytope(A, np.r_[1.0, 1.0, 0.0, 0.0] * 2.0**-26 + np.r_[1, 1, -1, -1] * 2.0**26)
    assert p.n_vertices == 4 and p.volume == 2.0**-52
    # at 2^30 the offsets round to 2^30 and the square is a point: an error, never a guess
    with pytest.raises((DegenerateInputError, geomcore.PrecisionError)):
        Polytope(A, np.r_[1.0, 1.0, 0.0, 0.0] * 2.0**-30 + np.r_[1, 1, -1, -1] * 2.0**30)


def test_polytopes_workers_give_the_same_result(rng):
    pieces = [random_polytope(rng, int(rng.integers(5, 9)), 3) for _ in range(300)]
    A = np.vstack([p[0] for p in pieces])
    b = np.concatenate([p[1] for p in pieces])
    offsets = np.r_[0, np.cumsum([len(p[1]) for p in pieces])]
    one = polytopes(A, b, offsets)
    three = polytopes(A, b, offsets, workers=3)
    for key in ("status", "volume", "centroid", "vertices", "vertex_offsets", "facet_index",
                "facet_offsets", "facet_areas", "ridges", "ridge_offsets", "incidence_indptr",
                "incidence_indices", "dihedral_angles"):
        np.testing.assert_array_equal(getattr(three, key), getattr(one, key), err_msg=key)
    assert three[299].volume == one[299].volume
    with pytest.raises(InvalidInputError, match="workers must be a positive int or -1"):
        polytopes(A, b, offsets, workers=0)
    from geomcore.polytope import _n_workers

    assert _n_workers(3) == 3 and _n_workers(None) == 1 and _n_workers(-1) >= 1
