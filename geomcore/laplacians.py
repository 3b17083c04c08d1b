"""Hodge Laplacians, the extended Laplacian and the Dirac operator of a Riemannian complex
(SPEC section 7), their smallest eigenpairs and the Dirichlet energy.

Every operator is assembled from the complex's boundary matrices and masses by sparse products;
with the diagonal metric all of them are built through the scaled boundaries
``M_{k-1}^{-1/2} B_k M_k^{1/2}``, so the symmetric forms come for free.
"""

import numbers

import numpy as np
from scipy import linalg, sparse

from geomcore._validation import as_float_matrix, as_float_vector
from geomcore.complexes import _check_degree
from geomcore.errors import InvalidInputError
from geomcore.riemannian import _check_rc, _option

__all__ = ["hodge_laplacian", "extended_laplacian", "dirac_operator", "smallest_eigenpairs",
           "dirichlet_energy"]

#: above this many edges a dihedral (non-diagonal) M_1 is not inverted densely
_DENSE_LIMIT = 5000


def _conductance(rc, conductance):
    """The degree-1 metric the operators use: a 1-D array (diagonal) or rc's dihedral M_1."""
    n1 = len(rc.complex.simplices(1))
    if isinstance(conductance, str):
        _option(conductance, "conductance", ("area", "area/distance", "unit"))
        if conductance == "area":
            return rc._M1 if rc._M1 is not None else rc.masses(1)
        if conductance == "unit":
            return np.ones(n1)
        edges = rc.complex.simplices(1)
        c = np.asarray(rc.partition.centroids, np.float64)
        dist = np.linalg.norm(c[edges[:, 0]] - c[edges[:, 1]], axis=1)
        if (dist <= 0).any():
            raise InvalidInputError(
                'conductance="area/distance" needs distinct cell centroids; two cells of edge '
                f"{edges[np.argmax(dist <= 0)].tolist()} share one")
        return rc.masses(1) / dist
    w = as_float_vector(conductance, "conductance", size=n1)
    if (w < 0).any():
        i = int(np.argmax(w < 0))
        raise InvalidInputError(
            f"conductance must be non-negative edge weights; got {w[i]} at edge {i}")
    return w


def _metrics(rc, conductance, need_inverse_1=True):
    """Per-degree metrics: diagonal masses (1-D arrays), degree 1 replaced by the conductance."""
    ms = [rc.masses(k) for k in range(rc.max_dim + 1)]
    if rc.max_dim >= 1:
        ms[1] = _conductance(rc, conductance)
        if need_inverse_1 and isinstance(ms[1], np.ndarray) and (ms[1] <= 0).any():
            raise InvalidInputError(
                "conductance must be positive on every edge for this operator (it inverts "
                f"the degree-1 metric); edge {int(np.argmax(ms[1] <= 0))} has "
                f"{ms[1][np.argmax(ms[1] <= 0)]}")
    return ms


def _is_diag(m):
    return isinstance(m, np.ndarray)


def _diag(v):
    return sparse.diags_array(v).tocsr()


def _as_op(m):
    return _diag(m) if _is_diag(m) else m


def _inverse(m):
    """Inverse of a metric: diagonal, or a dense inverse of the dihedral M_1 (small only)."""
    if _is_diag(m):
        return _diag(1.0 / m)
    if m.shape[0] > _DENSE_LIMIT:
        raise InvalidInputError(
            f'this operator needs the inverse of the dihedral M_1, computed densely; it has '
            f"{m.shape[0]} edges (limit {_DENSE_LIMIT}): use metric=\"diagonal\" or a "
            "diagonal conductance")
    return sparse.csr_array(linalg.inv(m.toarray()))


def _sqrt(m, inverse=False):
    if _is_diag(m):
        return _diag(m ** (-0.5 if inverse else 0.5))
    if m.shape[0] > _DENSE_LIMIT:
        raise InvalidInputError(
            f"the symmetric form needs the square root of the dihedral M_1, computed densely; "
            f"it has {m.shape[0]} edges (limit {_DENSE_LIMIT})")
    w, U = linalg.eigh(m.toarray())
    return sparse.csr_array((U * w ** (-0.5 if inverse else 0.5)) @ U.T)


def _boundary(rc, k):
    return rc.complex.boundary_matrix(k).astype(np.float64)


def _stiffness(rc, k, ms, convention):
    """The symmetric S_k with Delta_k = M_k^{-1} S_k (both conventions)."""
    Bk, Bk1 = _boundary(rc, k), _boundary(rc, k + 1)
    if convention == "cochain":
        up = Bk1 @ _as_op(ms[k + 1]) @ Bk1.T if k + 1 <= rc.max_dim else None
        if k >= 1:
            Mk = _as_op(ms[k])
            down = Mk @ (Bk.T @ _inverse(ms[k - 1]) @ Bk) @ Mk
        else:
            down = None
    else:
        Mk = _as_op(ms[k])
        up = Mk @ (Bk1 @ _inverse(ms[k + 1]) @ Bk1.T) @ Mk if k + 1 <= rc.max_dim else None
        down = Bk.T @ _as_op(ms[k - 1]) @ Bk if k >= 1 else None
    n = len(rc.complex.simplices(k))
    S = sparse.csr_array((n, n))
    for term in (up, down):
        if term is not None:
            S = S + term
    return sparse.csr_array(S)


def _scaled(indptr, indices, data, row_scale, col_scale, shape):
    """The CSR matrix (indptr, indices, data) with row i times row_scale[i] and column j times
    col_scale[j]."""
    rows = np.repeat(np.arange(shape[0]), np.diff(indptr))
    return sparse.csr_array((data * row_scale[rows] * col_scale[indices], indices, indptr),
                            shape=shape)


def _symmetric_form(rc, k, ms, convention, symmetric=True):
    """M_k^{1/2} Delta_k M_k^{-1/2} for diagonal metrics, as W W^T with W = [Bt_{k+1}, Bt_k^T]
    and Bt_j = M_{j-1}^{-1/2} B_j M_j^{1/2} (cochain; the powers change sign for chain): one
    sparse product. Both W and W^T are assembled directly in CSR from the cached boundary
    matrices (rows: faces) and the face tables (rows: simplices), with no transposition.
    symmetric=False returns Delta_k itself, (M_k^{-1/2} W)(W^T M_k^{1/2})."""
    p = 0.5 if convention == "cochain" else -0.5
    cx = rc.complex
    n = cx.f_vector[k]
    q = 0.0 if symmetric else 0.5               # the similarity to Delta_k, folded into W
    left, right = [], []                        # blocks of W (n_k rows) and of W^T
    if k + 1 <= rc.max_dim:
        B = cx.boundary_matrix(k + 1)           # (n_k, n_{k+1}): Bt_{k+1}
        left.append(_scaled(B.indptr, B.indices, B.data.astype(np.float64), ms[k] ** (-p - q),
                            ms[k + 1] ** p, B.shape))
        faces = cx._faces(k + 1)                # rows of Bt_{k+1}^T
        signs = np.where(np.arange(k + 2) % 2 == 0, 1.0, -1.0)
        vals = signs[None, :] * (ms[k + 1] ** p)[:, None] * ms[k][faces] ** (-p + q)
        right.append(sparse.csr_array((vals.ravel(), faces.ravel(),
                                       np.arange(0, faces.size + 1, k + 2)),
                                      shape=(len(faces), n)))
    if k >= 1:
        faces = cx._faces(k)                    # rows of Bt_k^T: (n_k, n_{k-1})
        signs = np.where(np.arange(k + 1) % 2 == 0, 1.0, -1.0)
        vals = signs[None, :] * (ms[k] ** (p - q))[:, None] * ms[k - 1][faces] ** -p
        left.append(sparse.csr_array((vals.ravel(), faces.ravel(),
                                      np.arange(0, faces.size + 1, k + 1)),
                                     shape=(n, cx.f_vector[k - 1])))
        B = cx.boundary_matrix(k)               # (n_{k-1}, n_k): Bt_k
        right.append(_scaled(B.indptr, B.indices, B.data.astype(np.float64), ms[k - 1] ** -p,
                             ms[k] ** (p + q), B.shape))
    if not left:
        return sparse.csr_array((n, n))
    W = left[0] if len(left) == 1 else sparse.hstack(left, format="csr")
    WT = right[0] if len(right) == 1 else sparse.vstack(right, format="csr")
    return sparse.csr_array(W @ WT)


def hodge_laplacian(rc, k=0, *, convention="cochain", conductance="area", symmetric=False):
    """The Hodge Laplacian of degree k of a Riemannian complex (SPEC 7).

    Cochain (default): ``Delta_k = M_k^{-1} B_{k+1} M_{k+1} B_{k+1}^T + B_k^T M_{k-1}^{-1} B_k M_k``,
    self-adjoint in ``<f, g>_k = f^T M_k g``; ``(Delta_0 f)_i = (1/m_0(i)) sum_j w_ij (f_i - f_j)``.
    Chain: ``L_k = B_{k+1} M_{k+1}^{-1} B_{k+1}^T M_k + M_k^{-1} B_k^T M_{k-1} B_k``.
    ``B_{max_dim+1} = 0``: the top degree has only its down term.

    Parameters
    ----------
    rc : RiemannianComplex
    k : int
        Degree, ``0..rc.max_dim``.
    convention : {"cochain", "chain"}
    conductance : {"area", "area/distance", "unit"} or array_like, shape (n_1,)
        The degree-1 metric: "area" is ``M_1`` itself (wall areas, floored on degenerate
        edges; the dihedral ``M_1`` with ``metric="dihedral"``); "area/distance" divides each
        edge's mass by the distance between its cells' centroids (the two-point
        finite-volume Laplacian); "unit" is 1 on every edge; an array gives each edge's
        weight (non-negative; positive where the operator inverts it). It replaces ``M_1``
        wherever ``M_1`` enters: in ``Delta_0`` (the edge weights ``w_ij``), in both terms
        of ``Delta_1`` (``M_1^{-1}`` up, ``M_1`` down) and in the down term of ``Delta_2``
        (``M_1^{-1}``); ``Delta_k`` for ``k >= 3`` does not involve it. So every operator is
        the Hodge Laplacian of the complex with degree-1 masses ``w``: self-adjoint in that
        inner product, with kernel dimension ``b_k``.
    symmetric : bool
        Return ``M_k^{1/2} Delta_k M_k^{-1/2}`` (symmetric, same spectrum; ``M_1`` here is the
        conductance).

    Returns
    -------
    scipy.sparse.csr_array, shape (n_k, n_k)

    Notes
    -----
    Both conventions factor as ``Delta_k = M_k^{-1} S_k`` with S_k symmetric positive
    semi-definite, so they are self-adjoint in the ``M_k`` inner product; the chain form is
    the cochain form with every mass inverted, transposed. With diagonal metrics the operator
    is ``M_k^{-1/2} W W^T M_k^{1/2}`` with ``W = [Bt_{k+1}, Bt_k^T]`` and the scaled boundaries
    ``Bt_j = M_{j-1}^{-1/2} B_j M_j^{1/2}`` (powers of the other sign for "chain"); ``W`` and
    ``W^T`` are assembled directly in CSR (from the boundary matrices and the face tables)
    with the outer scalings folded in, so each operator is one sparse product. A dihedral
    ``M_1`` is used as a sparse matrix where it multiplies and inverted densely where the
    formula inverts it.

    Examples
    --------
    SPEC 14: the adjacency complex of two lines crossing the unit square at (0.5, 0.5).

    >>> import numpy as np
    >>> from geomcore import Arrangement, Box, RiemannianComplex, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.5]), Box([0, 0], [1, 1]))
    >>> rc = RiemannianComplex(part, complex="adjacency")
    >>> (np.linalg.eigvalsh(hodge_laplacian(rc, 0, symmetric=True).toarray()).round(9) + 0).tolist()
    [0.0, 4.0, 4.0, 8.0]
    >>> L = hodge_laplacian(rc, 0, convention="chain").toarray()
    >>> (np.sort(np.linalg.eigvals(L).real).round(9) + 0).tolist()
    [0.0, 1.0, 1.0, 2.0]
    """
    _check_rc(rc)
    k = _check_degree(k, rc.max_dim)
    _option(convention, "convention", ("cochain", "chain"))
    if not isinstance(symmetric, (bool, np.bool_)):
        raise InvalidInputError(f"symmetric must be a bool; got {symmetric!r}")
    ms = _metrics(rc, conductance, need_inverse_1=_inverts_1(rc, k, convention, symmetric))
    if all(_is_diag(m) for m in ms):
        return _symmetric_form(rc, k, ms, convention, symmetric)
    S = _stiffness(rc, k, ms, convention)
    if symmetric:
        return sparse.csr_array(_sqrt(ms[k], inverse=True) @ S @ _sqrt(ms[k], inverse=True))
    return sparse.csr_array(_inverse(ms[k]) @ S)


def _inverts_1(rc, k, convention, symmetric):
    """Whether Delta_k inverts (or takes the square root of) the degree-1 metric."""
    if rc.max_dim < 1:
        return False
    return k == 1 or (k == 2 and convention == "cochain") or (k == 0 and convention == "chain")


def extended_laplacian(rc, *, tau=1.0, convention="cochain", conductance="area",
                       symmetric=False):
    """The extended Laplacian on cells: walls plus every higher contact (SPEC 7).

    ``L_ext = B_1 W B_1^T + sum_{k >= 2} tau_k sum_{S in K_k} m_k(S) (I_S - 11^T / |S|)``,
    ``W`` the diagonal of edge conductances; every term has zero row sums and is positive
    semi-definite, so ``L_ext`` is too; the triangle and higher terms couple cells that meet
    only at a hinge or a point.

    Parameters
    ----------
    rc : RiemannianComplex
    tau : float or sequence of float
        One non-negative weight for every degree ``k >= 2``, or ``(tau_2, ..., tau_max_dim)``.
    convention : {"cochain", "stiffness"}
        "cochain" (default) returns ``M_0^{-1} L_ext`` (self-adjoint in ``M_0``);
        "stiffness" returns ``L_ext`` itself (symmetric).
    conductance : as for :func:`hodge_laplacian`, diagonal
        ``W``; "area" uses the diagonal masses ``m_1`` even with ``metric="dihedral"``.
    symmetric : bool
        With "cochain": return ``M_0^{-1/2} L_ext M_0^{-1/2}``.

    Returns
    -------
    scipy.sparse.csr_array, shape (n_cells, n_cells)

    Examples
    --------
    >>> import numpy as np
    >>> from geomcore import Arrangement, Box, RiemannianComplex, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.5]), Box([0, 0], [1, 1]))
    >>> L = extended_laplacian(RiemannianComplex(part), convention="stiffness")
    >>> np.abs(L.sum(axis=1)).max() < 1e-15, L[0, 3] != 0
    (np.True_, np.True_)
    """
    _check_rc(rc)
    _option(convention, "convention", ("cochain", "stiffness"))
    if not isinstance(symmetric, (bool, np.bool_)):
        raise InvalidInputError(f"symmetric must be a bool; got {symmetric!r}")
    n_hi = max(rc.max_dim - 1, 0)
    if isinstance(tau, numbers.Real) and not isinstance(tau, (bool, np.bool_)):
        taus = np.full(n_hi, float(tau))
    else:
        taus = np.asarray(tau, dtype=np.float64).ravel() if not isinstance(tau, str) else None
        if taus is None or taus.size != n_hi:
            raise InvalidInputError(
                f"tau must be a number or a sequence (tau_2, ..., tau_{rc.max_dim}) of "
                f"{n_hi} numbers; got {tau!r}")
    if not np.isfinite(taus).all() or (taus < 0).any():
        raise InvalidInputError(f"tau must be finite and non-negative; got {tau!r}")
    n = rc.partition.n_cells
    L = sparse.csr_array((n, n))
    if rc.max_dim >= 1:
        w = _conductance(rc, conductance)
        if not _is_diag(w):
            w = rc.masses(1)
        e = rc.complex.simplices(1)
        L = _clique_terms(e, w, n)
    rows, cols, vals = [], [], []
    for k in range(2, rc.max_dim + 1):
        S = rc.complex.simplices(k)
        if not len(S) or taus[k - 2] == 0:
            continue
        m = taus[k - 2] * rc.masses(k)
        size = k + 1
        a, b = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
        a, b = a.ravel(), b.ravel()
        coef = np.where(a == b, 1.0 - 1.0 / size, -1.0 / size)
        rows.append(S[:, a].ravel())
        cols.append(S[:, b].ravel())
        vals.append((m[:, None] * coef[None, :]).ravel())
    if rows:
        L = L + sparse.csr_array((np.concatenate(vals), (np.concatenate(rows),
                                                         np.concatenate(cols))), shape=(n, n))
    L = sparse.csr_array(L)
    if convention == "stiffness":
        return L
    m0 = rc.masses(0)
    coo = L.tocoo()
    if symmetric:
        s = 1 / np.sqrt(m0)
        return sparse.csr_array((coo.data * s[coo.row] * s[coo.col], (coo.row, coo.col)),
                                shape=L.shape)
    return sparse.csr_array((coo.data / m0[coo.row], (coo.row, coo.col)), shape=L.shape)


def _clique_terms(edges, w, n):
    """B_1 diag(w) B_1^T from the edge list directly."""
    i, j = edges[:, 0], edges[:, 1]
    deg = np.bincount(i, weights=w, minlength=n) + np.bincount(j, weights=w, minlength=n)
    return sparse.csr_array((np.r_[-w, -w, deg], (np.r_[i, j, np.arange(n)],
                                                   np.r_[j, i, np.arange(n)])), shape=(n, n))


def dirac_operator(rc, *, conductance="area"):
    """The Dirac operator ``D = d + d*`` on the direct sum of all cochain degrees (SPEC 7).

    ``d_k = B_{k+1}^T`` maps k- to (k+1)-cochains and ``d*_k = M_k^{-1} B_{k+1} M_{k+1}`` back;
    ``D^2`` is block diagonal with the cochain Hodge Laplacians ``Delta_0 .. Delta_max_dim`` as
    blocks (``d d = 0``).

    Parameters
    ----------
    rc : RiemannianComplex
    conductance : as for :func:`hodge_laplacian` (replaces ``M_1``)

    Returns
    -------
    scipy.sparse.csr_array, shape (N, N), ``N = sum_k n_k``
        Rows and columns ordered by degree, then by simplex.

    Examples
    --------
    >>> from geomcore import Arrangement, Box, RiemannianComplex, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.5]), Box([0, 0], [1, 1]))
    >>> rc = RiemannianComplex(part, complex="adjacency")
    >>> D = dirac_operator(rc)
    >>> D.shape, abs((D @ D)[:4, :4] - hodge_laplacian(rc, 0)).max() < 1e-12
    ((8, 8), np.True_)
    """
    _check_rc(rc)
    ms = _metrics(rc, conductance, need_inverse_1=rc.max_dim >= 2)
    md = rc.max_dim
    blocks = [[None] * (md + 1) for _ in range(md + 1)]
    f = rc.complex.f_vector
    for k in range(md + 1):
        blocks[k][k] = sparse.csr_array((f[k], f[k]))
    for k in range(md):
        B = _boundary(rc, k + 1)
        blocks[k + 1][k] = sparse.csr_array(B.T)
        blocks[k][k + 1] = sparse.csr_array(_inverse(ms[k]) @ B @ _as_op(ms[k + 1]))
    return sparse.csr_array(sparse.block_array(blocks, format="csr"))


def smallest_eigenpairs(rc, k=0, n=10, *, convention="cochain", conductance="area", tol=1e-8,
                        dense_limit=2000):
    """The smallest eigenvalues of ``Delta_k`` and an orthonormal basis of each eigenspace.

    Works on the symmetric form ``M_k^{1/2} Delta_k M_k^{-1/2}`` (same eigenvalues; its
    eigenvectors ``U`` give Delta_k's as ``M_k^{-1/2} U``, orthonormal in the ``M_k`` inner
    product).

    Parameters
    ----------
    rc : RiemannianComplex
    k : int
    n : int
        How many eigenvalues. When the n-th belongs to a repeated eigenvalue, the rest of its
        eigenspace is returned too, so more than n may come back (never more than that).
    convention, conductance : as for :func:`hodge_laplacian`
    tol : float
        Neighbouring eigenvalues closer than ``tol * max(1, |lambda_n|) + 64 eps |A|`` are one
        eigenvalue (``lambda_n`` the n-th smallest; the second term is the rounding error of
        any computed eigenvalue, which grows with the largest one: tiny cells give large
        ones); each such cluster's vectors are re-orthonormalised (Rayleigh-Ritz on the
        cluster).
    dense_limit : int
        At most this many simplices: dense ``scipy.linalg.eigh``; above, ARPACK ``eigsh`` in
        shift-invert mode around a small negative shift (the matrix is singular at 0; the
        shifted matrix is factored once by SuperLU with a symmetric minimum-degree ordering),
        asking for more pairs until the last returned eigenspace is complete.

    Returns
    -------
    values : ndarray, shape (m,)
        Increasing; ``m = min(n, n_k)`` plus the rest of the n-th eigenvalue's eigenspace.
    vectors : ndarray, shape (n_k, m)
        Orthonormal columns.

    Examples
    --------
    >>> from geomcore import Arrangement, Box, RiemannianComplex, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.5]), Box([0, 0], [1, 1]))
    >>> values, vectors = smallest_eigenpairs(RiemannianComplex(part, complex="adjacency"), n=2)
    >>> values.round(9).tolist(), vectors.shape
    ([0.0, 4.0, 4.0], (4, 3))
    """
    _check_rc(rc)
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
        raise InvalidInputError(f"n must be a positive int; got {n!r}")
    A = hodge_laplacian(rc, k, convention=convention, conductance=conductance, symmetric=True)
    A = sparse.csr_array((A + A.T) / 2)
    N = A.shape[0]
    n = min(int(n), N)
    if N == 0:
        return np.zeros(0), np.zeros((0, 0))
    if N <= dense_limit:
        w, U = linalg.eigh(A.toarray())
        return _complete_clusters(w, U, A, n, tol, float(np.abs(w).max()), complete=True)
    from scipy.sparse.linalg import LinearOperator, eigsh, splu

    scale = float(np.abs(A.diagonal()).max()) or 1.0
    norm = float(abs(A).sum(axis=1).max())              # >= |A|_2 (A symmetric)
    sigma = -1e-6 * scale
    # A - sigma I is positive definite: a symmetric ordering with diagonal pivots, factored once
    lu = splu(sparse.csc_array(A - sigma * sparse.eye_array(N)), permc_spec="MMD_AT_PLUS_A",
              diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    inverse = LinearOperator((N, N), matvec=lu.solve, dtype=np.float64)
    m = min(N - 1, n + max(5, n // 2))
    v0 = np.random.default_rng(0).standard_normal(N)
    while True:
        w, U = eigsh(A, k=m, sigma=sigma, OPinv=inverse, which="LM", v0=v0, tol=1e-12)
        order = np.argsort(w)
        w, U = w[order], U[:, order]
        values, vectors, ok = _complete_clusters(w, U, A, n, tol, norm, complete=m >= N - 1,
                                                 check=True)
        if ok:
            return values, vectors
        m = min(N - 1, 2 * m)


def _complete_clusters(w, U, A, n, tol, norm, complete, check=False):
    """The first n eigenpairs and the rest of the n-th one's cluster of (numerically) equal
    eigenvalues, each cluster's vectors orthonormalised. Two neighbouring eigenvalues are one
    cluster when they differ by at most ``tol * max(1, |w[n-1]|) + 64 eps norm`` (norm: a bound
    on |A|, so the second term is the rounding error of any eigenvalue). With check: also
    whether the last cluster is known complete (a computed eigenvalue beyond it)."""
    thresh = tol * max(1.0, abs(float(w[n - 1]))) + 64 * np.finfo(float).eps * norm
    gap = np.diff(w) > thresh
    cluster = np.r_[0, np.cumsum(gap)]
    last = cluster[n - 1]
    take = np.flatnonzero(cluster <= last)
    ok = complete or take[-1] < len(w) - 1
    values, vectors = w[take].copy(), U[:, take].copy()
    for c in np.unique(cluster[take]):
        sel = np.flatnonzero(cluster[take] == c)
        if len(sel) > 1:
            Q, _ = np.linalg.qr(vectors[:, sel])
            H = Q.T @ (A @ Q)
            lam, R = np.linalg.eigh((H + H.T) / 2)
            values[sel], vectors[:, sel] = lam, Q @ R
    if check:
        return values, vectors, ok
    return values, vectors


def dirichlet_energy(rc, f, *, k=0, conductance="area"):
    """The Dirichlet energy ``<f, Delta_k f>_{M_k} = f^T M_k Delta_k f`` of a k-cochain.

    For ``k = 0``: ``sum over edges ij of w_ij (f_i - f_j)^2`` (cochain convention, ``w`` the
    conductance).

    Parameters
    ----------
    rc : RiemannianComplex
    f : array_like of float, shape (n_k,) or (n_k, m)
        One cochain or m of them as columns.
    k : int
    conductance : as for :func:`hodge_laplacian`

    Returns
    -------
    float, or ndarray of shape (m,)

    Examples
    --------
    >>> from geomcore import Arrangement, Box, RiemannianComplex, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.3, 0.6]), Box([0, 0], [1, 1]))
    >>> rc = RiemannianComplex(part, complex="adjacency")
    >>> round(dirichlet_energy(rc, [0.0, 1.0, 0.0, 1.0]), 12)     # walls 00-10 and 01-11
    1.0
    """
    _check_rc(rc)
    k = _check_degree(k, rc.max_dim)
    n_k = rc.complex.f_vector[k]
    arr = np.asarray(f)
    if arr.ndim == 1:
        F = as_float_vector(arr, "f", size=n_k)[:, None]
    else:
        F = as_float_matrix(arr, "f")
        if F.shape[0] != n_k:
            raise InvalidInputError(
                f"f must have n_{k} = {n_k} rows (one per {k}-simplex); got shape {F.shape}")
    ms = _metrics(rc, conductance, need_inverse_1=k == 1 or k == 2)
    if k == 0 and rc.max_dim >= 1 and _is_diag(ms[1]):
        e = rc.complex.simplices(1)
        diff = F[e[:, 0]] - F[e[:, 1]]
        out = (ms[1][:, None] * diff**2).sum(axis=0)
    else:
        S = _stiffness(rc, k, ms, "cochain")
        out = np.einsum("ij,ij->j", F, S @ F)
    return float(out[0]) if arr.ndim == 1 else out
