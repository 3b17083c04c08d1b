"""Masses and operators: SPEC 14 spectra, dense reference agreement, Hodge theory (PSD,
self-adjointness, kernels = Betti numbers), extended Laplacian, Dirac, spectra with repeated
eigenvalues, permutations, errors."""

import doctest

import numpy as np
import pytest
from scipy import linalg

import geomcore.laplacians
import geomcore.riemannian
from geomcore import (
    Arrangement,
    Box,
    DegenerateInputError,
    InvalidInputError,
    ReLUNetwork,
    Voronoi,
    partition,
)
from geomcore._reference import complexes as ref
from geomcore.laplacians import (
    dirac_operator,
    dirichlet_energy,
    extended_laplacian,
    hodge_laplacian,
    smallest_eigenpairs,
)
from geomcore.riemannian import RiemannianComplex


def amax(a):
    return float(np.abs(a).max(initial=0.0))


def square(a, b):
    return partition(Arrangement([[1, 0], [0, 1]], [a, b]), Box([0, 0], [1, 1]))


def grid(n):
    """n - 1 equally spaced vertical and horizontal lines: n x n equal cells."""
    t = np.arange(1, n) / n
    A = np.vstack([np.tile([1.0, 0.0], (n - 1, 1)), np.tile([0.0, 1.0], (n - 1, 1))])
    return partition(Arrangement(A, np.r_[t, t]), Box([0, 0], [1, 1]))


def eig(L):
    return np.sort(np.linalg.eigvals(L.toarray()).real)


def dense_reference(rc, conductance=None):
    """Dense B_k (k = 0..max_dim + 1) and M_k from the reference module."""
    cx = rc.complex
    rows = [[tuple(r) for r in cx.simplices(k).tolist()] for k in range(cx.max_dim + 1)]
    B = [np.zeros((0, len(rows[0])))]
    B += [ref.boundary_matrix(rows[k], rows[k - 1]) for k in range(1, cx.max_dim + 1)]
    B.append(np.zeros((len(rows[-1]), 0)))
    M = [rc.mass_matrix(k).toarray() for k in range(cx.max_dim + 1)]
    if conductance is not None and cx.max_dim >= 1:
        M[1] = np.diag(conductance)
    return rows, B, M


def _random_rcs():
    rng = np.random.default_rng(21)
    yield RiemannianComplex(partition(Arrangement(rng.normal(size=(4, 2)), rng.normal(size=4) * 0.3),
                                      Box([-1, -1], [1, 1])), max_dim=3, floor=1e-2)
    yield RiemannianComplex(partition(Voronoi(rng.uniform(size=(12, 2))), Box([0, 0], [1, 1])))
    yield RiemannianComplex(partition(Arrangement([[1, 0], [0, 1], [1, 1]], [0, 0, 0]),
                                      Box([-1, -1], [1, 1])), complex="adjacency")
    yield RiemannianComplex(partition(Arrangement([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0.2]),
                                      Box(-np.ones(3), np.ones(3))), max_dim=3, floor=1e-2,
                            measure="mixed", X=rng.uniform(-1, 1, size=(50, 3)), alpha=0.3)


RCS = list(_random_rcs())


# ---------------------------------------------------------------------------------------------
# SPEC 14


def test_spec_square_half_adjacency_spectra():
    rc = RiemannianComplex(square(0.5, 0.5), complex="adjacency")
    np.testing.assert_allclose(eig(hodge_laplacian(rc, 0)), [0, 4, 4, 8], atol=1e-12)
    np.testing.assert_allclose(eig(hodge_laplacian(rc, 0, convention="chain")), [0, 1, 1, 2],
                               atol=1e-12)
    np.testing.assert_allclose(linalg.eigvalsh(hodge_laplacian(rc, 0, symmetric=True).toarray()),
                               [0, 4, 4, 8], atol=1e-12)
    # the two-point finite-volume Laplacian: centroids 0.5 apart, w = 0.5 / 0.5
    np.testing.assert_allclose(eig(hodge_laplacian(rc, 0, conductance="area/distance")),
                               [0, 8, 8, 16], atol=1e-12)
    np.testing.assert_allclose(eig(hodge_laplacian(rc, 0, conductance="unit")), [0, 8, 8, 16],
                               atol=1e-12)
    # the 4-cycle: Delta_1 = B_1^T M_0^{-1} B_1 M_1 has the same non-zero spectrum plus b_1 = 1
    np.testing.assert_allclose(eig(hodge_laplacian(rc, 1)), [0, 4, 4, 8], atol=1e-12)


def test_spec_square_offcentre_adjacency_spectra():
    rc = RiemannianComplex(square(0.3, 0.6), complex="adjacency")
    np.testing.assert_allclose(rc.masses(0), [0.18, 0.42, 0.12, 0.28], rtol=1e-13)
    np.testing.assert_allclose(rc.masses(1), [0.6, 0.3, 0.7, 0.4], rtol=1e-13)
    np.testing.assert_allclose(eig(hodge_laplacian(rc, 0)), [0, 25 / 6, 100 / 21, 125 / 14],
                               atol=1e-12)
    np.testing.assert_allclose(eig(hodge_laplacian(rc, 0, convention="chain")), [0, 1, 1, 2],
                               atol=1e-12)


@pytest.mark.parametrize("a, b, expected", [(0.5, 0.5, [0, 4, 4, 8]),
                                            (0.3, 0.6, [0, 25 / 6, 100 / 21, 125 / 14])])
def test_spec_square_nerve_moves_by_the_floor(a, b, expected):
    rc = RiemannianComplex(square(a, b))
    m1 = rc.masses(1)
    deg = rc.complex.degenerate(1)
    # degenerate diagonals carry floor * mean wall area
    np.testing.assert_allclose(m1[deg], 1e-9 * m1[~deg].mean(), rtol=1e-12)
    np.testing.assert_allclose(rc.masses(2), [1, 1, 1, 1])        # one hinge, a point
    values = eig(hodge_laplacian(rc, 0))
    np.testing.assert_allclose(values, expected, atol=1e-7)
    assert amax(values - expected) > 0                      # but they do move


def test_masses_in_space_are_hinge_lengths_and_point_counts():
    part = partition(Arrangement(np.eye(3), np.zeros(3)), Box(-np.ones(3), np.ones(3)))
    rc = RiemannianComplex(part, max_dim=3)
    cx = rc.complex
    assert cx.f_vector == (8, 28, 56, 70)
    np.testing.assert_allclose(rc.masses(0), 1.0)
    # walls: 12 unit squares; the other 16 pairs meet along an axis or at the origin only
    assert (~cx.degenerate(1)).sum() == 12
    np.testing.assert_allclose(rc.masses(1)[~cx.degenerate(1)], 1.0)
    # triangles around a half-axis (6 hinges of length 1, 4 cells each: 24 triangles)
    assert (~cx.degenerate(2)).sum() == 24
    np.testing.assert_allclose(rc.masses(2)[~cx.degenerate(2)], 1.0)
    np.testing.assert_allclose(rc.masses(2)[cx.degenerate(2)], 1e-9)
    # tetrahedra: 6 x 1 lie around a half-axis (a segment), the other 64 meet at the point
    assert (~cx.degenerate(3)).sum() == 64
    np.testing.assert_allclose(rc.masses(3)[~cx.degenerate(3)], 1.0)


# ---------------------------------------------------------------------------------------------
# the dense reference


@pytest.mark.parametrize("rc", RCS)
@pytest.mark.parametrize("convention", ["cochain", "chain"])
def test_hodge_laplacian_matches_dense_reference(rc, convention):
    _, B, M = dense_reference(rc)
    for k in range(rc.max_dim + 1):
        L = hodge_laplacian(rc, k, convention=convention)
        expected = ref.hodge_laplacian(B, M, k, convention)
        np.testing.assert_allclose(L.toarray(), expected, rtol=1e-9,
                                   atol=1e-9 * amax(expected))
        S = hodge_laplacian(rc, k, convention=convention, symmetric=True).toarray()
        d = np.sqrt(np.diag(M[k]))
        np.testing.assert_allclose(S, d[:, None] * expected / d[None, :], rtol=1e-9,
                                   atol=1e-9 * amax(S))


@pytest.mark.parametrize("rc", RCS[:2])
def test_conductances_match_dense_reference(rc):
    edges = rc.complex.simplices(1)
    c = rc.partition.centroids
    dist = np.linalg.norm(c[edges[:, 0]] - c[edges[:, 1]], axis=1)
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(edges))
    for conductance, weights in [("unit", np.ones(len(edges))),
                                 ("area/distance", rc.masses(1) / dist), (w, w)]:
        _, B, M = dense_reference(rc, weights)
        for k in range(rc.max_dim + 1):
            L = hodge_laplacian(rc, k, conductance=conductance).toarray()
            expected = ref.hodge_laplacian(B, M, k)
            np.testing.assert_allclose(L, expected, rtol=1e-9, atol=1e-9 * amax(expected))


@pytest.mark.parametrize("rc", RCS)
def test_hodge_theory(rc):
    """PSD, self-adjoint in M_k, B_k B_{k+1} = 0 and dim ker Delta_k = b_k."""
    betti = rc.complex.betti_numbers(skeleton=True)     # the operators live on the skeleton
    for k in range(1, rc.max_dim):
        assert abs(rc.complex.boundary_matrix(k) @ rc.complex.boundary_matrix(k + 1)).sum() == 0
    for k in range(rc.max_dim + 1):
        for convention in ("cochain", "chain"):
            L = hodge_laplacian(rc, k, convention=convention).toarray()
            Mk = rc.mass_matrix(k).toarray()
            ML = Mk @ L
            np.testing.assert_allclose(ML, ML.T, atol=1e-10 * amax(ML))
            S = hodge_laplacian(rc, k, convention=convention, symmetric=True).toarray()
            np.testing.assert_allclose(S, S.T, atol=1e-12 * amax(S))
            lam = linalg.eigvalsh(S) if S.size else np.zeros(0)   # older scipy: no 0x0
            top = max(amax(lam), 1.0)
            assert lam.min(initial=0.0) > -1e-9 * top
            assert (lam < 1e-9 * top).sum() == betti[k], (k, convention, lam[:5], betti)


def test_kernels_count_the_holes_of_the_adjacency_complex():
    rc = RiemannianComplex(grid(3), complex="adjacency")
    assert rc.complex.betti_numbers() == (1, 4, 0)           # one hole per crossing
    lam = linalg.eigvalsh(hodge_laplacian(rc, 1, symmetric=True).toarray())
    assert (lam < 1e-10).sum() == 4 and lam[4] > 1e-3


# ---------------------------------------------------------------------------------------------
# extended Laplacian and Dirac operator


@pytest.mark.parametrize("rc", RCS)
def test_extended_laplacian(rc):
    rows, _, _ = dense_reference(rc)
    taus = np.arange(1.0, rc.max_dim)          # tau_2 = 1, tau_3 = 2
    L = extended_laplacian(rc, tau=taus, convention="stiffness").toarray()
    masses = [rc.masses(k) for k in range(rc.max_dim + 1)]
    expected = ref.extended_laplacian(rc.partition.n_cells, rows, masses, rc.masses(1), taus)
    np.testing.assert_allclose(L, expected, atol=1e-12 * amax(expected))
    np.testing.assert_allclose(L.sum(axis=1), 0, atol=1e-12 * amax(L))
    np.testing.assert_allclose(L, L.T, atol=0)
    assert linalg.eigvalsh(L).min() > -1e-10 * amax(L)
    # cochain: divided by M_0, zero row sums, self-adjoint in M_0
    C = extended_laplacian(rc, tau=taus).toarray()
    np.testing.assert_allclose(C, L / rc.masses(0)[:, None], rtol=1e-12)
    np.testing.assert_allclose(C.sum(axis=1), 0, atol=1e-10 * amax(C))
    sym = extended_laplacian(rc, tau=taus, symmetric=True).toarray()
    np.testing.assert_allclose(eig(extended_laplacian(rc, tau=taus)), linalg.eigvalsh(sym),
                               atol=1e-9 * amax(sym))
    # tau = 0 is the graph Laplacian, the stiffness of Delta_0
    L0 = extended_laplacian(rc, tau=0.0).toarray()
    np.testing.assert_allclose(L0, hodge_laplacian(rc, 0).toarray(), rtol=1e-12, atol=1e-12)


def test_extended_laplacian_couples_the_diagonal_cells():
    rc = RiemannianComplex(square(0.5, 0.5))
    L = extended_laplacian(rc, convention="stiffness").toarray()
    # each diagonal pair lies in two triangles of mass 1: -2/3, plus its floored edge
    np.testing.assert_allclose(L[0, 3], -2 / 3 - 0.5e-9, rtol=1e-12)
    np.testing.assert_allclose(L[0, 1], -0.5 - 2 / 3, rtol=1e-12)


@pytest.mark.parametrize("rc", RCS)
def test_dirac_squares_to_the_hodge_laplacians(rc):
    D = dirac_operator(rc)
    _, B, M = dense_reference(rc)
    np.testing.assert_allclose(D.toarray(), ref.dirac_operator(B, M), rtol=1e-12, atol=1e-12)
    D2 = (D @ D).toarray()
    off = np.r_[0, np.cumsum(rc.complex.f_vector)]
    for k in range(rc.max_dim + 1):
        block = D2[off[k]:off[k + 1], off[k]:off[k + 1]]
        L = hodge_laplacian(rc, k).toarray()
        np.testing.assert_allclose(block, L, atol=1e-9 * max(amax(L), 1))
        D2[off[k]:off[k + 1], off[k]:off[k + 1]] = 0
    assert amax(D2) <= 1e-9 * amax(D.toarray()) ** 2


# ---------------------------------------------------------------------------------------------
# spectra


def test_smallest_eigenpairs_complete_repeated_eigenspaces():
    rc = RiemannianComplex(grid(3), complex="adjacency")
    # 3 x 3 grid graph, w = 1/3, m_0 = 1/9: 3 (l_i + l_j), l in {0, 1, 3}
    values, vectors = smallest_eigenpairs(rc, n=2)
    np.testing.assert_allclose(values, [0, 3, 3], atol=1e-10)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(3), atol=1e-12)
    S = hodge_laplacian(rc, 0, symmetric=True)
    np.testing.assert_allclose(S @ vectors, vectors * values, atol=1e-10)


@pytest.mark.parametrize("dense_limit", [2000, 0])
def test_smallest_eigenpairs_returns_n_beside_a_sliver(dense_limit):
    # a sliver cell (width 1e-9) makes the largest eigenvalue ~2e9; the small ones must still
    # come back n at a time, plus only the rest of a repeated eigenspace (here the pair at 8)
    A = [[1, 0]] * 3 + [[0, 1]] * 3 + [[1, 0]]
    b = [0.25, 0.5, 0.75] * 2 + [0.5 + 1e-9]
    rc = RiemannianComplex(partition(Arrangement(A, b), Box([0, 0], [1, 1])), complex="adjacency")
    S = hodge_laplacian(rc, 0, symmetric=True)
    full = linalg.eigvalsh(S.toarray())
    assert full[-1] > 1e9 and full[5] - full[4] < 1e-6 and full[6] - full[5] > 1
    for n, m in [(1, 1), (2, 2), (4, 4), (5, 6), (6, 6), (7, 7)]:
        values, vectors = smallest_eigenpairs(rc, n=n, dense_limit=dense_limit)
        assert len(values) == m, (n, values)
        np.testing.assert_allclose(values, full[:m], atol=1e-6)
        np.testing.assert_allclose(vectors.T @ vectors, np.eye(m), atol=1e-8)
        np.testing.assert_allclose(S @ vectors, vectors * values, atol=1e-5)


@pytest.mark.parametrize("k", [0, 1])
def test_smallest_eigenpairs_shift_invert_matches_dense(k):
    rc = RiemannianComplex(grid(7), complex="adjacency")
    dense_vals, _ = smallest_eigenpairs(rc, k, n=10)
    vals, vecs = smallest_eigenpairs(rc, k, n=10, dense_limit=0)
    np.testing.assert_allclose(vals, dense_vals, atol=1e-8)
    assert len(vals) >= 10
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(len(vals)), atol=1e-8)
    S = hodge_laplacian(rc, k, symmetric=True)
    np.testing.assert_allclose(S @ vecs, vecs * vals, atol=1e-7)
    full = linalg.eigvalsh(S.toarray())
    np.testing.assert_allclose(vals, full[:len(vals)], atol=1e-8)
    if k == 1:   # b_1 = 36 holes: the kernel alone exceeds n
        assert len(vals) == 36 and amax(vals) < 1e-8


# ---------------------------------------------------------------------------------------------
# data masses, energy, dihedral metric, permutations


def test_data_and_mixed_masses():
    part = square(0.5, 0.5)
    X = np.array([[0.1, 0.1], [0.2, 0.3], [0.9, 0.1], [0.7, 0.8], [2.0, 2.0]])
    rc = RiemannianComplex(part, measure="data", X=X)
    assert rc.counts.tolist() == [2, 1, 0, 1] and rc.n_points == 4
    # the empty cell gets floor * (mean positive mass) = 1e-9 / 3
    np.testing.assert_allclose(rc.masses(0), [0.5, 0.25, 1e-9 / 3, 0.25], rtol=1e-12)
    np.testing.assert_allclose(rc.data_means, [[0.15, 0.2], [0.9, 0.1], [0.25, 0.75], [0.7, 0.8]])
    rc = RiemannianComplex(part, measure="mixed", X=X, alpha=0.25)
    np.testing.assert_allclose(rc.masses(0), 0.75 * 0.25 + 0.25 * np.array([0.5, 0.25, 0, 0.25]))
    rc = RiemannianComplex(part, X=X)
    np.testing.assert_allclose(rc.masses(0), 0.25)
    assert rc.counts.tolist() == [2, 1, 0, 1]


def test_dirichlet_energy():
    rc = RiemannianComplex(square(0.3, 0.6))
    f = np.array([0.0, 1.0, 2.0, 4.0])
    m1 = rc.masses(1)
    e = rc.complex.simplices(1)
    expected = (m1 * (f[e[:, 0]] - f[e[:, 1]]) ** 2).sum()
    assert dirichlet_energy(rc, f) == pytest.approx(expected, rel=1e-13)
    L = hodge_laplacian(rc, 0).toarray()
    assert dirichlet_energy(rc, f) == pytest.approx(f @ np.diag(rc.masses(0)) @ L @ f, rel=1e-12)
    both = dirichlet_energy(rc, np.column_stack([f, np.ones(4)]))
    np.testing.assert_allclose(both, [expected, 0.0], atol=1e-15)
    g = np.arange(6.0)
    L1 = hodge_laplacian(rc, 1).toarray()
    assert dirichlet_energy(rc, g, k=1) == pytest.approx(g @ rc.mass_matrix(1) @ L1 @ g, rel=1e-9)
    assert dirichlet_energy(rc, f, conductance="unit") == pytest.approx(
        ((f[e[:, 0]] - f[e[:, 1]]) ** 2).sum(), rel=1e-13)


def test_dihedral_metric():
    # orthogonal walls: no off-diagonal entries
    rc = RiemannianComplex(square(0.3, 0.6), metric="dihedral")
    M1 = rc.mass_matrix(1).toarray()
    np.testing.assert_allclose(M1, np.diag(rc.masses(1)), atol=1e-16)
    # a slightly tilted second line: walls at about 84 degrees
    part = partition(Arrangement([[1, 0], [-0.1, 1]], [0.5, 0.45]), Box([0, 0], [1, 1]))
    rc = RiemannianComplex(part, complex="adjacency", metric="dihedral")
    M1 = rc.mass_matrix(1).toarray()
    w = part.walls
    m = rc.masses(1)
    # cells 0 and 1 share wall 0 (normal +x); cell 0's other wall is 0-2 (normal ~ +y)
    assert w.cells[:2].tolist() == [[0, 1], [0, 2]]
    expected = np.sqrt(m[0] * m[1]) * (w.normals[0] @ w.normals[1])
    assert M1[0, 1] == pytest.approx(expected, rel=1e-12) and abs(expected) > 0.04
    assert (np.count_nonzero(M1 - np.diag(np.diag(M1)))) == 8     # 4 pairs, symmetric
    assert linalg.eigvalsh(M1).min() > 0
    # Delta_0 uses M_1 itself; Delta_1 inverts it (dense); both match the reference
    _, B, M = dense_reference(rc)
    for k in range(2):
        np.testing.assert_allclose(hodge_laplacian(rc, k).toarray(), ref.hodge_laplacian(B, M, k),
                                   atol=1e-10)
        np.testing.assert_allclose(hodge_laplacian(rc, k, convention="chain").toarray(),
                                   ref.hodge_laplacian(B, M, k, "chain"), atol=1e-10)
    S = hodge_laplacian(rc, 1, symmetric=True).toarray()
    np.testing.assert_allclose(np.sort(linalg.eigvalsh(S)), eig(hodge_laplacian(rc, 1)), atol=1e-9)


def test_permuting_cells_permutes_the_operators():
    rng = np.random.default_rng(5)
    pts = rng.uniform(size=(30, 2))
    perm = rng.permutation(30)                    # new site q is old site perm[q]
    rc = RiemannianComplex(partition(Voronoi(pts), Box([0, 0], [1, 1])))
    rp = RiemannianComplex(partition(Voronoi(pts[perm]), Box([0, 0], [1, 1])))
    new_of_old = np.argsort(perm)
    P0 = np.eye(30)[perm]                         # old cochain -> new cochain: P0 @ f
    L, Lp = hodge_laplacian(rc, 0).toarray(), hodge_laplacian(rp, 0).toarray()
    np.testing.assert_allclose(Lp @ P0, P0 @ L, atol=1e-9 * amax(L))
    # edges: relabelled, re-sorted; the orientation flips where the order of the ends flips
    e_old = new_of_old[rc.complex.simplices(1)]
    sign = np.where(e_old[:, 0] < e_old[:, 1], 1.0, -1.0)
    e_sorted = np.sort(e_old, axis=1)
    e_new = rp.complex.simplices(1)
    index = {tuple(r): i for i, r in enumerate(e_new.tolist())}
    P1 = np.zeros((len(e_new), len(e_old)))
    P1[[index[tuple(r)] for r in e_sorted.tolist()], np.arange(len(e_old))] = sign
    L1, L1p = hodge_laplacian(rc, 1).toarray(), hodge_laplacian(rp, 1).toarray()
    np.testing.assert_allclose(L1p @ P1, P1 @ L1, atol=1e-9 * amax(L1))
    E, Ep = extended_laplacian(rc).toarray(), extended_laplacian(rp).toarray()
    np.testing.assert_allclose(Ep @ P0, P0 @ E, atol=1e-9 * amax(E))


def test_relu_network_complex():
    rng = np.random.default_rng(2)
    net = ReLUNetwork([rng.normal(size=(5, 2)), rng.normal(size=(1, 5))],
                      [rng.normal(size=5) * 0.3, np.zeros(1)])
    rc = RiemannianComplex(partition(net, Box([-1, -1], [1, 1])), max_dim=None, floor=1e-3)
    assert rc.complex.betti_numbers() == (1,) + (0,) * rc.max_dim
    lam = linalg.eigvalsh(hodge_laplacian(rc, 1, symmetric=True).toarray())
    assert lam[0] > 1e-12 * lam[-1]                # b_1 = 0


# ---------------------------------------------------------------------------------------------
# errors and docstrings


def test_errors():
    part = square(0.5, 0.5)
    rc = RiemannianComplex(part)
    with pytest.raises(InvalidInputError, match=r"k must be an integer degree in 0..2 .*got 3"):
        hodge_laplacian(rc, 3)
    with pytest.raises(InvalidInputError, match=r"k must be .* got 3"):
        rc.masses(3)
    with pytest.raises(InvalidInputError, match=r"k must be .* got 5"):
        rc.mass_matrix(5)
    with pytest.raises(InvalidInputError, match=r"X must have 2 columns; got array of shape \(3, 3\)"):
        RiemannianComplex(part, measure="data", X=np.zeros((3, 3)))
    with pytest.raises(DegenerateInputError, match="X must be finite; got nan at index"):
        RiemannianComplex(part, measure="data", X=[[0.1, np.nan]])
    with pytest.raises(DegenerateInputError, match="X must have points inside the domain"):
        RiemannianComplex(part, X=[[5.0, 5.0]])
    with pytest.raises(InvalidInputError, match='measure="data" needs data: pass X'):
        RiemannianComplex(part, measure="data")
    with pytest.raises(InvalidInputError, match='measure must be one of "volume", "data", "mixed"; got \'mass\''):
        RiemannianComplex(part, measure="mass")
    with pytest.raises(InvalidInputError, match='complex must be one of "nerve", "adjacency"'):
        RiemannianComplex(part, complex="cech")
    with pytest.raises(InvalidInputError, match='metric must be one of "diagonal", "dihedral"'):
        RiemannianComplex(part, metric="euclidean")
    with pytest.raises(InvalidInputError, match=r"alpha must be a number in \[0, 1\]; got 1.5"):
        RiemannianComplex(part, alpha=1.5)
    with pytest.raises(InvalidInputError, match="floor must be a finite number > 0; got 0"):
        RiemannianComplex(part, floor=0)
    four_d = partition(Arrangement(np.eye(4) + 0.1, np.zeros(4)), Box(-np.ones(4), np.ones(4)))
    with pytest.raises(InvalidInputError, match="max_dim=3 needs masses of degree 3..3"):
        RiemannianComplex(four_d, max_dim=3)
    # boxes record every intersection: no error in 4-D
    boxes = RiemannianComplex(partition(Arrangement(np.eye(4), np.zeros(4)),
                                        Box(-np.ones(4), np.ones(4))), max_dim=3)
    # each of the 8 half-axes (length 1) has 8 orthants around it; 64 of their C(8, 4) = 70
    # quadruples meet in that ray only (the other 6 share a second sign: a 2-D quarter-plane)
    generic = ~boxes.complex.degenerate(3)
    assert generic.sum() == 8 * 64
    np.testing.assert_allclose(boxes.masses(3)[generic], 1.0)

    tilted = partition(Arrangement([[1, 0], [1, -1]], [0.5, 0]), Box([0, 0], [1, 1]))
    with pytest.raises(DegenerateInputError, match="dihedral.*positive definite.*smallest eigenvalue -0.414"):
        RiemannianComplex(tilted, metric="dihedral")
    with pytest.raises(InvalidInputError, match='convention must be one of "cochain", "chain"'):
        hodge_laplacian(rc, 0, convention="cochains")
    with pytest.raises(InvalidInputError, match='conductance must be one of "area", "area/distance", "unit"'):
        hodge_laplacian(rc, 0, conductance="length")
    with pytest.raises(InvalidInputError, match="conductance must be non-negative edge weights; got -1.0 at edge 2"):
        hodge_laplacian(rc, 0, conductance=[1, 1, -1, 1, 1, 1])
    with pytest.raises(DegenerateInputError, match="conductance must be finite; got nan at index 1"):
        hodge_laplacian(rc, 0, conductance=[1, np.nan, 1, 1, 1, 1])
    with pytest.raises(InvalidInputError, match=r"conductance must have length 6; got array of shape \(2,\)"):
        hodge_laplacian(rc, 0, conductance=[1, 1])
    with pytest.raises(InvalidInputError, match="conductance must be positive on every edge .* edge 0 has 0.0"):
        hodge_laplacian(rc, 1, conductance=[0, 1, 1, 1, 1, 1])
    with pytest.raises(InvalidInputError, match="symmetric must be a bool; got 'yes'"):
        hodge_laplacian(rc, 0, symmetric="yes")
    with pytest.raises(InvalidInputError, match="rc must be a geomcore.RiemannianComplex; got Partition"):
        hodge_laplacian(part)
    with pytest.raises(InvalidInputError, match=r"tau must be finite and non-negative; got -1.0"):
        extended_laplacian(rc, tau=-1.0)
    with pytest.raises(InvalidInputError, match=r"tau must be a number or a sequence \(tau_2, ..., tau_2\) of 1 numbers"):
        extended_laplacian(rc, tau=[1.0, 2.0])
    with pytest.raises(InvalidInputError, match='convention must be one of "cochain", "stiffness"'):
        extended_laplacian(rc, convention="chain")
    with pytest.raises(InvalidInputError, match="n must be a positive int; got 0"):
        smallest_eigenpairs(rc, n=0)
    with pytest.raises(InvalidInputError, match=r"f must have length 4; got array of shape \(3,\)"):
        dirichlet_energy(rc, [1.0, 2.0, 3.0])
    with pytest.raises(DegenerateInputError, match="f must be finite"):
        dirichlet_energy(rc, [1.0, np.inf, 3.0, 4.0])
    with pytest.raises(InvalidInputError, match=r"f must have n_0 = 4 rows .* got shape \(3, 2\)"):
        dirichlet_energy(rc, np.ones((3, 2)))


@pytest.mark.parametrize("module", [geomcore.riemannian, geomcore.laplacians])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
