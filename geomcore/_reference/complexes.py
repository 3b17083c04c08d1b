"""Dense brute-force versions of the complexes and operators, for the tests.

Plain Python loops and dense NumPy matrices, written from the definitions in SPEC 5-7 and
independent of :mod:`geomcore.complexes` and :mod:`geomcore.laplacians`: slow and obviously
correct, for small complexes only.
"""

from fractions import Fraction
from itertools import combinations

import numpy as np

__all__ = ["intersection_dimension", "nerve", "boundary_matrix", "betti_numbers",
           "hodge_laplacian", "extended_laplacian", "dirac_operator"]


def intersection_dimension(halfspaces, tol=1e-9):
    """Dimension of ``{x : A x <= b}`` for the stacked halfspaces of several cells (a list of
    (A, b)), -1 if empty: rows that no feasible point can leave slack on are implicit
    equalities, and the dimension is ndim minus their rank. One LP per row (scipy HiGHS),
    with a tolerance ``tol`` on feasibility (cells meet up to rounding)."""
    from scipy.optimize import linprog

    A = np.vstack([a for a, _ in halfspaces])
    b = np.concatenate([c for _, c in halfspaces])
    norms = np.linalg.norm(A, axis=1)
    A, b = A / norms[:, None], b / norms
    d = A.shape[1]
    free = [(None, None)] * d
    feas = linprog(np.zeros(d), A_ub=A, b_ub=b + tol, bounds=free, method="highs")
    if feas.status != 0:
        return -1
    # rows that some feasible point leaves slack on: maximise the sum of capped slacks of the
    # rows not yet known slack, until no new row gets slack; the rest are implicit equalities
    m = len(A)
    unknown = np.ones(m, bool)
    while unknown.any():
        u = np.flatnonzero(unknown)
        S = np.zeros((m, len(u)))
        S[u, np.arange(len(u))] = 1.0
        res = linprog(np.r_[np.zeros(d), -np.ones(len(u))], A_ub=np.hstack([A, S]), b_ub=b + tol,
                      bounds=free + [(0, 1)] * len(u), method="highs")
        slack = res.x[d:] > 1e3 * tol
        if not slack.any():
            break
        unknown[u[slack]] = False
    equal = A[unknown]
    if not len(equal):
        return d
    s = np.linalg.svd(np.array(equal), compute_uv=False)
    return d - int((s > 1e-6 * s[0]).sum())


def nerve(cells, max_dim, tol=1e-9):
    """Every set of at most max_dim + 1 cells (list of (A, b)) with a common point, by LP:
    per degree a list of (sorted tuple, intersection dimension)."""
    n = len(cells)
    out = []
    for k in range(max_dim + 1):
        found = []
        for S in combinations(range(n), k + 1):
            dim = intersection_dimension([cells[i] for i in S], tol)
            if dim >= 0:
                found.append((S, dim))
        out.append(found)
    return out


def boundary_matrix(simplices_k, simplices_km1):
    """Dense B_k from lists of sorted tuples: column of [v0..vk] has (-1)^i at the row of
    [v0..^vi..vk]."""
    index = {tuple(s): r for r, s in enumerate(simplices_km1)}
    B = np.zeros((len(simplices_km1), len(simplices_k)))
    for c, s in enumerate(simplices_k):
        s = tuple(s)
        for i in range(len(s)):
            B[index[s[:i] + s[i + 1:]], c] += (-1) ** i
    return B


def _rank(M):
    """Exact rank of an integer matrix by Gaussian elimination over the rationals."""
    rows = [[Fraction(int(x)) for x in row] for row in M]
    rank, n_cols = 0, len(rows[0]) if rows else 0
    for c in range(n_cols):
        piv = next((r for r in range(rank, len(rows)) if rows[r][c] != 0), None)
        if piv is None:
            continue
        rows[rank], rows[piv] = rows[piv], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][c] != 0:
                f = rows[r][c] / rows[rank][c]
                rows[r] = [x - f * y for x, y in zip(rows[r], rows[rank])]
        rank += 1
    return rank


def betti_numbers(simplices):
    """Rational Betti numbers from per-degree lists of sorted tuples (exact, dense)."""
    md = len(simplices) - 1
    ranks = [0] * (md + 2)
    for k in range(1, md + 1):
        if simplices[k] and simplices[k - 1]:
            ranks[k] = _rank(boundary_matrix(simplices[k], simplices[k - 1]))
    return tuple(len(simplices[k]) - ranks[k] - ranks[k + 1] for k in range(md + 1))


def hodge_laplacian(B, M, k, convention="cochain"):
    """Dense Delta_k from the dense boundary matrices B[j] (B[0] and B[max_dim + 1] empty) and
    dense mass matrices M[j], straight from SPEC 7."""
    inv = np.linalg.inv
    md = len(M) - 1
    n = M[k].shape[0]
    out = np.zeros((n, n))
    if convention == "cochain":
        if k < md:
            out += inv(M[k]) @ B[k + 1] @ M[k + 1] @ B[k + 1].T
        if k > 0:
            out += B[k].T @ inv(M[k - 1]) @ B[k] @ M[k]
    else:
        if k < md:
            out += B[k + 1] @ inv(M[k + 1]) @ B[k + 1].T @ M[k]
        if k > 0:
            out += inv(M[k]) @ B[k].T @ M[k - 1] @ B[k]
    return out


def extended_laplacian(n_cells, simplices, masses, w, tau):
    """Dense L_ext = B_1 W B_1^T + sum_k tau_k sum_S m_k(S) (I_S - 11^T/|S|), by loops."""
    L = np.zeros((n_cells, n_cells))
    for (i, j), we in zip(simplices[1], w):
        L[i, i] += we
        L[j, j] += we
        L[i, j] -= we
        L[j, i] -= we
    for k in range(2, len(simplices)):
        for S, m in zip(simplices[k], masses[k]):
            for a in S:
                for b in S:
                    L[a, b] += tau[k - 2] * m * ((a == b) - 1.0 / len(S))
    return L


def dirac_operator(B, M):
    """Dense D = d + d* on all degrees: d_k = B_{k+1}^T, d*_k = M_k^{-1} B_{k+1} M_{k+1}."""
    sizes = [m.shape[0] for m in M]
    off = np.r_[0, np.cumsum(sizes)]
    D = np.zeros((off[-1], off[-1]))
    for k in range(len(M) - 1):
        D[off[k + 1]:off[k + 2], off[k]:off[k + 1]] = B[k + 1].T
        D[off[k]:off[k + 1], off[k + 1]:off[k + 2]] = np.linalg.inv(M[k]) @ B[k + 1] @ M[k + 1]
    return D
