"""Regression tests for the polytope kernel's defects (issue 12) and a degenerate suite checked
against the exact path (exact=True: rationals, brute force or exact double description).

Each defect test is named after the defect it pins down."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
from conftest import random_polytope

from geomcore import InfeasibleError, Polytope, UnboundedError, polytopes
from geomcore._kernels._polytope import polytope_batch
from geomcore._reference.polytope import polytope_batch as reference

EPS = np.finfo(float).eps


def exact_area(V):
    """Exact shoelace area of a convex polygon given by float vertices (any order)."""
    P = [(Fraction(x), Fraction(y)) for x, y in V]
    cx = sum(p[0] for p in P) / len(P)
    cy = sum(p[1] for p in P) / len(P)
    import math

    P.sort(key=lambda p: math.atan2(float(p[1] - cy), float(p[0] - cx)))
    return abs(sum(P[i][0] * P[i - 1][1] - P[i - 1][0] * P[i][1] for i in range(len(P)))) / 2


# ---------------------------------------------------------------------------------------------
# defect 1: measures of a thin sliver away from the origin


@pytest.mark.parametrize("e", [30, 40, 45, 50, 52])
def test_defect1_thin_sliver_away_from_origin_has_exact_area(e):
    d = 2.0**-e
    A = np.array([[-1.0, -1], [1, 1], [1, 0], [0, 1], [-1, 0], [0, -1]])
    p = Polytope(A, np.array([-1.0, 1 + d, 1, 1, 0, 0]))
    # the exact area is d (1 - d/2); before the fix 2.68e-16 for e = 52 (21 % off)
    assert p.volume == pytest.approx(d * (1 - d / 2), rel=4 * EPS)
    assert p.volume_error <= 1e-8 * p.volume or p.exact_fallback
    np.testing.assert_allclose(p.facet_areas[2:], d, rtol=4 * EPS)


@pytest.mark.parametrize("shift", [0.0, 1.0, 1e3, 1e6])
@pytest.mark.parametrize("width", [1e-3, 1e-7, 1e-11])
def test_defect1_volume_within_stated_bound_of_exact(shift, width):
    # a thin parallelogram-like quadrilateral at distance `shift` from the origin: the volume is
    # within volume_error of the exact one (or recomputed exactly), never silently off
    A = np.array([[1.0, 1], [-1.0, -1.0 - 2**-20], [1, 0], [-1, 0]])
    b = np.array([1 + width, -1, 1, 0]) + np.array([2, -2, 1, -1]) * shift
    p = Polytope(A, b)
    q = Polytope(A, b, exact=True)
    assert p.n_vertices == q.n_vertices
    exact = float(q.exact_volume)
    assert abs(p.volume - exact) <= max(p.volume_error, 4 * EPS * exact)
    assert p.volume_error <= 1e-8 * exact or p.exact_fallback


def test_defect1_volume_error_is_a_bound_on_random_cells(rng):
    parts = [random_polytope(rng, 8, 3) for _ in range(6)]
    shifts = [0.0, 0.5, 10.0, 1e3, 1e4, 1e5]
    A = np.vstack([p[0] for p in parts])
    b = np.concatenate([p[1] + p[0] @ np.full(3, s) for p, s in zip(parts, shifts)])
    off = np.arange(0, 49, 8)
    batch = polytopes(A, b, off)
    exact = polytopes(A, b, off, exact=True)
    assert not batch.exact_fallback.any()
    assert (np.abs(batch.volume - exact.volume) <= batch.volume_error).all()
    assert (batch.volume_error <= 1e-8 * batch.volume).all()


# ---------------------------------------------------------------------------------------------
# defect 2: PrecisionError on easy thin triangles and lines crossing at tiny angles


@pytest.mark.parametrize("e", [39, 40, 45, 52, 60, 100, 300, 1000])
@pytest.mark.parametrize("exact", [False, True])
def test_defect2_thin_triangle_does_not_raise(e, exact):
    p = Polytope(np.array([[1.0, 0], [0, -1], [-(2.0**-e), 1]]), np.array([1.0, 0, 0]),
                 exact=exact)
    assert p.vertices.tolist() == [[0.0, 0.0], [1.0, 0.0], [1.0, 2.0**-e]]
    assert p.volume == 2.0 ** -(e + 1)
    assert p.n_ridges == 3


@pytest.mark.parametrize("e", [30, 40, 45, 52, 55, 60, 100])
def test_defect2_lines_crossing_at_tiny_angle_match_exact(e):
    t = 2.0**-e
    p0 = np.array([0.3, 0.7])
    n1, n2 = np.array([0.0, 1.0]), np.array([-np.sin(t), np.cos(t)])
    A = np.vstack([-n1, n2, np.eye(2), -np.eye(2)])
    b = np.r_[-n1 @ p0, n2 @ p0, 1, 1, 1, 1]
    p, q = Polytope(A, b), Polytope(A, b, exact=True)
    assert p.facet_index.tolist() == q.facet_index.tolist() == [0, 1, 2]
    assert p.incidence.toarray().tolist() == q.incidence.toarray().tolist()
    exact = float(q.exact_volume)
    assert abs(p.volume - exact) <= max(p.volume_error, 4 * EPS * exact)


# ---------------------------------------------------------------------------------------------
# defect 3: infeasible and empty inputs decided exactly


def test_defect3_nearly_parallel_rows_infeasible_not_unbounded():
    # x <= 0.1; x + 2^-50 y >= 0.1 + 2^-40 (so y >= 2^10); x + 2^-49 y <= 0.1 + 2^-40 (so
    # y <= 0 given the second): empty. Every row is within 2^-49 of (1, 0), so in floats the
    # rows have rank 1 and the kernel used to say rank-deficient (UnboundedError).
    A = np.array([[1.0, 0], [-1.0, -(2.0**-50)], [1.0, 2.0**-49]])
    b = np.array([0.1, -(0.1 + 2.0**-40), 0.1 + 2.0**-40])
    with pytest.raises(InfeasibleError):
        Polytope(A, b)
    with pytest.raises(InfeasibleError):
        Polytope(A, b, exact=True)
    assert reference(A, b, [0, 3])["status"].tolist() == [1]


def test_defect3_rank_deficient_and_empty_is_infeasible():
    # a 3-D set with rows spanning only the x-y plane, and empty: infeasible, not unbounded
    A = np.array([[1.0, 0, 0], [-1.0, -(2.0**-50), 0], [0, 1.0, 0]])
    b = np.array([0.1, -(0.1 + 2.0**-40), 1.0])
    with pytest.raises(InfeasibleError):
        Polytope(A, b)
    assert polytopes(A, b, [0, 3], errors="ignore").status.tolist() == [1]
    # the same rows without the contradiction: non-empty, so unbounded
    with pytest.raises(UnboundedError):
        Polytope(A[[0, 2]], b[[0, 2]])


def test_defect3_empty_cell_in_a_box_with_nearly_parallel_rows_is_infeasible():
    # a box cut by two rows nearly parallel to a third that leave no room: infeasible, not a
    # numerical breakdown (status 7)
    A = np.vstack([np.eye(3), -np.eye(3), [[1.0, 0, 0], [-1.0, -(2.0**-50), 0],
                                           [1.0, 2.0**-49, 2.0**-52]]])
    b = np.r_[np.ones(6), 0.1, -(0.1 + 2.0**-40), 0.1 + 2.0**-40]
    batch = polytopes(A, b, [0, len(b)], errors="ignore")
    assert batch.status.tolist() == [1]
    assert reference(A, b, [0, len(b)])["status"].tolist() == [1]


# ---------------------------------------------------------------------------------------------
# defect 4: an empty arrangement is the domain (in the partition engine)


def test_defect4_empty_arrangement_gives_the_domain():
    from geomcore import Arrangement, Box, partition

    part = partition(Arrangement(np.zeros((0, 2)), np.zeros(0)), Box([-1, -1], [1, 1]))
    assert part.n_cells == 1
    assert float(np.sum(part.volumes)) == pytest.approx(4.0)


# Thin slabs between two nearly opposite rows in a box (the decision-region pattern): the old
# kernel oriented a new ray by its parents' float combination, which is wrong once a parent is
# rough, and called the first two (non-empty, volume ~1e-16) infeasible; the third is empty.
SLABS = [
    ([[0.9323606928378361, -0.43017718657511855, 0.45623520554183605],
      [-0.932360692837836, 0.43017718657511844, -0.4562352055418359]],
     [-0.0475404573058543, 0.047540457305854295], 0),
    ([[-0.9871677041537249, -2.1819901153128956, -0.2320352201121647, 0.7690441810351741],
      [0.9871677041537247, 2.1819901153128956, 0.23203522011216474, -0.7690441810351741],
      [0.9871677041537447, 2.181990115312879, 0.23203522011216757, -0.7690441810351609]],
     [0.048374765639052346, -0.04837476563905221, -0.048374765639063226], 0),
    ([[-0.05198613146284993, -0.8157162503744887, 0.4515342334473617, -0.17220850303451574],
      [0.051986131637181125, 0.8157162502683851, -0.4515342335244417, 0.17220850295320622],
      [0.05198613146285004, 0.8157162503744888, -0.45153423344736165, 0.17220850303451582],
      [0.05198613147327077, 0.815716250372073, -0.4515342334550416, 0.1722085030399117]],
     [-0.2207263278924182, 0.22072632798672537, 0.22072632789241803, 0.22072632787020835], 1),
]


@pytest.mark.parametrize("rows, rhs, status", SLABS)
def test_defect3_thin_slab_status_is_exact(rows, rhs, status):
    rows = np.array(rows)
    d = rows.shape[1]
    A = np.vstack([np.eye(d), -np.eye(d), rows])
    b = np.r_[np.ones(2 * d), rhs]
    off = np.array([0, len(b)])
    assert polytope_batch(A, b, off)["status"].tolist() == [status]      # the kernel alone
    exact = reference(A, b, off, vertex_search="dd")
    assert exact["status"].tolist() == [status]
    got = polytopes(A, b, off, errors="ignore")
    assert got.status.tolist() == [status]
    if status == 0:
        assert abs(got.volume[0] - float(exact["exact_volume"][0])) <= got.volume_error[0] + \
            4 * EPS * got.volume[0]


# ---------------------------------------------------------------------------------------------
# defect 5: a kernel call that ran for minutes (a cell of 5 -> 6 -> 6 -> 1, seed 12 of the
# partition-engine issue's layout, captured from the old per-cell partition code)

HANG_A = [
    [0.0, 0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.0, 0.0], [-0.0, -0.5, -0.0, -0.0, -0.0],
    [-0.0, -0.0, -0.0, -0.5, -0.0], [-0.0, -0.0, -0.0, -0.0, -0.5],
    [-0.0021588173459631244, 0.3308195562590792, 0.23451084976801057, 0.22893515985925242,
     0.5119019887861089],
    [-0.762461916504914, -0.39652145602103156, -0.8352607541330225, -0.06814866974223412,
     0.6316735989994264],
    [-0.006940531044073975, 0.15681104563026196, -0.6042381060475588, 0.04650577263683324,
     -0.28680063824977503],
    [0.8321725449238006, -0.4356387432496677, -0.6291313906564072, -0.1451773635851555,
     -0.7658429453891746],
    [-0.18794662625330866, -0.08961116197142194, -0.2303459105942858, 0.24233412378614358,
     -0.5047268157061351],
    [-0.5898354072156949, -0.29463676526946175, -0.3154011976584372, 0.01922108220954291,
     -0.20361047087132272],
    [0.5887652254212483, 0.2941021840993444, 0.31482894205025996, -0.019186207985312606,
     0.20324104540716864]]
HANG_B = [0.5, 0.5, 0.5, 0.5, 0.5, -0.041178106430784595, 0.06255664702584507,
          0.02729699778470554, 0.028848423769794025, 0.01238307546336837, -0.07342001314368216,
          0.13209969395470866]


def test_defect5_network_cell_that_hung_is_fast_and_exact():
    import time

    A, b = np.array(HANG_A), np.array(HANG_B)
    off = np.array([0, len(b)])
    t = time.perf_counter()
    k = polytope_batch(A, b, off)
    assert time.perf_counter() - t < 1.0          # the old kernel ran for minutes
    e = reference(A, b, off, vertex_search="dd")
    assert k["status"].tolist() == e["status"].tolist() == [0]
    for key in ("facet_index", "ridges", "incidence_indptr", "incidence_indices"):
        np.testing.assert_array_equal(k[key], e[key], err_msg=key)
    assert abs(k["volume"][0] - float(e["exact_volume"][0])) <= k["volume_error"][0]


@pytest.mark.parametrize("d", [3, 4, 5])
def test_defect5_double_description_stays_within_the_upper_bound(rng, d):
    # many rows through one point (a degenerate vertex): the cone may not exceed McMullen's
    # bound, and the answer is the exact one
    normals = rng.normal(size=(4 * d, d))
    A = np.vstack([np.eye(d), -np.eye(d), normals])
    b = np.r_[np.ones(2 * d), normals @ np.full(d, 0.25)]
    got = polytopes(A, b, [0, len(b)], errors="ignore")
    exact = reference(A, b, [0, len(b)], vertex_search="dd")
    assert got.status.tolist() == exact["status"].tolist()


# ---------------------------------------------------------------------------------------------
# the degenerate suite: identical combinatorics to the exact path, measures within the bound


def _box(d, lo=-1.0, hi=1.0):
    return np.vstack([np.eye(d), -np.eye(d)]), np.r_[np.full(d, hi), np.full(d, -lo)]


def _oriented(normals, point, inside):
    """Rows through `point` with `inside` strictly on their feasible side."""
    s = np.sign(normals @ (inside - point))
    s[s == 0] = 1.0
    A = -s[:, None] * normals
    return A, A @ point


def _case(name, rng):
    if name == "concurrent-2d":
        Ab, bb = _box(2)
        A, b = _oriented(rng.normal(size=(8, 2)), np.array([0.25, -0.5]), np.array([0.3, 0.2]))
    elif name == "concurrent-3d":
        Ab, bb = _box(3)
        A, b = _oriented(rng.normal(size=(9, 3)), np.full(3, 0.125), np.array([0.5, 0.4, 0.3]))
    elif name == "through-a-line-3d":
        Ab, bb = _box(3)
        n = rng.normal(size=(7, 2))
        normals = np.c_[n, np.zeros(7)]                   # all contain the z axis direction
        A, b = _oriented(normals, np.array([0.125, 0.25, 0.0]), np.array([0.5, 0.5, 0.5]))
    elif name == "duplicated-and-ulp-rows":
        Ab, bb = _box(3)
        a = rng.normal(size=3)
        A = np.vstack([a, a, 2 * a, a, np.nextafter(a, 10)])
        b = np.array([0.3, 0.3, 0.6, np.nextafter(0.3, 1), 0.3])
    elif name == "through-domain-vertices":
        Ab, bb = _box(3)
        V = np.array(list(itertools.product([-1.0, 1.0], repeat=3)))
        A = rng.normal(size=(6, 3))
        b = np.einsum("ij,ij->i", A, V[rng.choice(8, 6)])
        A, b = np.where((A @ np.zeros(3) <= b)[:, None], A, -A), np.abs(b)
    elif name == "1e-12-wide":
        Ab, bb = _box(3)
        a = rng.normal(size=3)
        A, b = np.vstack([a, -a]), np.array([0.1 + 1e-12, -0.1])
    elif name == "magnitude-1e-8":
        Ab, bb = _box(3, -1e-8, 1e-8)
        A = rng.normal(size=(5, 3))
        b = np.abs(rng.normal(size=5)) * 1e-8
    elif name == "magnitude-1e8":
        Ab, bb = _box(3, -1e8, 1e8)
        A = rng.normal(size=(5, 3))
        b = np.abs(rng.normal(size=5)) * 1e8
    elif name == "integer":
        Ab, bb = _box(3, -3, 3)
        A = rng.integers(-3, 4, size=(8, 3)).astype(float)
        b = rng.integers(0, 4, size=8).astype(float)
    else:
        raise ValueError(name)
    return np.vstack([Ab, A]), np.r_[bb, b]


def by_pattern(ptr, ind, V):
    """{facets through the vertex: vertex} of a CSR incidence."""
    return {tuple(ind[ptr[i]:ptr[i + 1]]): V[i] for i in range(len(ptr) - 1)}


CASES = ["concurrent-2d", "concurrent-3d", "through-a-line-3d", "duplicated-and-ulp-rows",
         "through-domain-vertices", "1e-12-wide", "magnitude-1e-8", "magnitude-1e8", "integer"]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("seed", range(4))
def test_degenerate_suite_matches_the_exact_path(name, seed):
    rng = np.random.default_rng(seed)
    A, b = _case(name, rng)
    off = np.array([0, len(b)])
    got = polytopes(A, b, off, errors="ignore")
    exact = reference(A, b, off, vertex_search="dd")
    assert got.status.tolist() == exact["status"].tolist()
    if exact["status"][0] != 0:
        return
    for key in ("facet_index", "ridges"):
        np.testing.assert_array_equal(getattr(got, key), exact[key], err_msg=key)
    # the same vertex-facet incidence; vertices matched by their facet pattern (nearly equal
    # vertices, as around nearly concurrent rows, may sort differently in floats)
    mine = by_pattern(got.incidence_indptr, got.incidence_indices, got.vertices)
    theirs = by_pattern(exact["incidence_indptr"], exact["incidence_indices"], exact["vertices"])
    assert mine.keys() == theirs.keys()
    scale = np.abs(exact["vertices"]).max()
    for key in mine:
        np.testing.assert_allclose(mine[key], theirs[key], rtol=0, atol=1e-12 * scale)
    vol = float(exact["exact_volume"][0])
    assert abs(got.volume[0] - vol) <= got.volume_error[0] + 4 * EPS * vol
    assert got.volume_error[0] <= 1e-8 * vol or got.exact_fallback[0] or \
        np.diff(got.vertex_offsets)[0] > 24
