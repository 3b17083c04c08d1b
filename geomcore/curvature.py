"""Curvature of a partition's wall graph and of the data on it (SPEC 9).

Edge curvatures are aligned with ``rc.partition.walls``: Ollivier-Ricci with exact Wasserstein-1
(:func:`ollivier_ricci`) and the weighted Forman-Ricci (:func:`forman_ricci`). Vertex curvatures
(:func:`vertex_curvature`) average the incident edge curvatures or give the scalar curvature of
the data's conformal metric; :func:`angle_defects` checks the hinges' angles.
"""


import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from geomcore.errors import DegenerateInputError, InvalidInputError
from geomcore.riemannian import _check_rc, _option, _positive_float

__all__ = ["angle_defects", "forman_ricci", "ollivier_ricci", "vertex_curvature"]

#: distances held at once by the batched Dijkstra (sources x subgraph cells), float64 entries
_DIJKSTRA_BLOCK = 4_000_000
#: sources per Dijkstra block (halved while a block's subgraph is too large)
_SOURCE_BLOCK = 512


def _walls(rc):
    walls = rc.partition.walls
    edges = np.asarray(walls.cells, np.int64).reshape(-1, 2)
    areas = np.asarray(walls.areas, np.float64)
    if (areas <= 0).any():
        i = int(np.argmax(areas <= 0))
        raise DegenerateInputError(f"wall areas must be positive; got {areas[i]} at wall {i}")
    return edges, areas


def _centres(rc):
    """Cell centres of the edge curvatures: data means with X, else geometric centroids."""
    if rc.data_means is not None:
        return np.asarray(rc.data_means, np.float64)
    return np.asarray(rc.partition.centroids, np.float64)


def forman_ricci(rc):
    """Weighted Forman-Ricci curvature of every wall, shape (n_walls,) (SPEC 9).

    Parameters
    ----------
    rc : RiemannianComplex
        Vertex weights ``mu = rc.masses(0)`` (so they follow ``measure=``); edge weights the
        wall areas ``w``.

    Returns
    -------
    F : ndarray, shape (n_walls,)
        Aligned with ``rc.partition.walls``:
        ``F(e) = w_e (mu_i/w_e + mu_j/w_e - sum_{e'~i, e'!=e} mu_i/sqrt(w_e w_e')
        - sum_{e'~j, e'!=e} mu_j/sqrt(w_e w_e'))``.

    Raises
    ------
    InvalidInputError
        rc is not a RiemannianComplex.

    Notes
    -----
    With ``T_i = sum_{e'~i} w_e'^{-1/2}`` this is
    ``mu_i + mu_j - sqrt(w_e) (mu_i (T_i - w_e^{-1/2}) + mu_j (T_j - w_e^{-1/2}))``: two
    bincounts, O(n_walls). With uniform weights it is ``mu (4 - deg i - deg j)``.

    Examples
    --------
    >>> from geomcore import Arrangement, Box, RiemannianComplex, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.5]), Box([0, 0], [1, 1]))
    >>> forman_ricci(RiemannianComplex(part)).tolist()   # mu = 1/4, every degree 2
    [0.0, 0.0, 0.0, 0.0]
    """
    _check_rc(rc)
    edges, w = _walls(rc)
    n = rc.partition.n_cells
    mu = rc.masses(0)
    r = 1.0 / np.sqrt(w)
    T = np.bincount(edges[:, 0], weights=r, minlength=n) \
        + np.bincount(edges[:, 1], weights=r, minlength=n)
    i, j = edges[:, 0], edges[:, 1]
    return mu[i] + mu[j] - np.sqrt(w) * (mu[i] * (T[i] - r) + mu[j] * (T[j] - r))


def _w1_linprog(a, b, M):
    """Exact W1 between a (k,) and b (l,) with costs M (k, l), by scipy's HiGHS LP."""
    from scipy.optimize import linprog

    k, l = M.shape
    rows = np.repeat(np.arange(k), l)
    cols = np.tile(np.arange(l), k)
    A_eq = sparse.vstack([sparse.coo_array((np.ones(k * l), (rows, np.arange(k * l))), (k, k * l)),
                          sparse.coo_array((np.ones(k * l), (cols, np.arange(k * l))), (l, k * l))])
    res = linprog(M.ravel(), A_eq=A_eq, b_eq=np.r_[a, b], bounds=(0, None), method="highs")
    return float(res.fun)


def _w1_solver():
    """POT's network simplex: its C entry point when it answers as expected (skips
    ``ot.emd2``'s per-call backend handling), else ``ot.emd2``; scipy's LP without POT."""
    try:
        import ot
    except ImportError:  # POT is optional: fall back to the LP
        return _w1_linprog

    def emd2(a, b, M):
        return float(ot.emd2(a, b, M))

    try:
        from ot.lp.emd_wrap import emd_c

        def fast(a, b, M):
            out = emd_c(a, b, M, 100000, 1)
            if out[-1] != 1:            # not OPTIMAL: let POT's checked path decide
                return emd2(a, b, M)
            return float(out[1])

        a, b = np.array([0.5, 0.5]), np.array([0.25, 0.75])
        M = np.array([[0.0, 1.0], [1.0, 0.0]])
        if abs(fast(a, b, M) - 0.25) > 1e-12:
            return emd2
        return fast
    except Exception:  # noqa: BLE001  (a POT without this private entry point, other signature)
        return emd2


def _ollivier_graph(n, edges, weights, mu, lengths, alpha, solver=None, key=None):
    """Ollivier-Ricci curvature of the edges of a weighted graph (the kernel of ollivier_ricci).

    ``m_i(i) = alpha``, ``m_i(j) = (1 - alpha) w_ij mu_j / sum_k w_ik mu_k``; ground distance the
    shortest path with edge lengths ``lengths``; ``kappa = 1 - W1(m_i, m_j) / d(i, j)``.
    Shortest paths only from the cells in some support, by Dijkstra limited to
    ``3 max(lengths)`` (the longest path i' - i - j - j' a needed pair can need), in blocks of
    sources sorted by ``key`` (n,) (e.g. a coordinate of the cell centres), each on the subgraph
    within the limit of the block.
    """
    solver = _w1_solver() if solver is None else solver
    m = len(edges)
    if m == 0:
        return np.zeros(0)
    i, j = edges[:, 0], edges[:, 1]
    # supports: cell c first, then its neighbours (CSR by cell)
    src = np.concatenate([i, j])
    dst = np.concatenate([j, i])
    ww = np.concatenate([weights, weights])
    order = np.lexsort((dst, src))
    src, dst, ww = src[order], dst[order], ww[order]
    deg = np.bincount(src, minlength=n)
    p = ww * mu[dst]
    tot = np.bincount(src, weights=p, minlength=n)
    if (tot[deg > 0] <= 0).any():
        raise DegenerateInputError("the cells' masses mu must not all vanish around a cell")
    p = (1 - alpha) * p / tot[src]
    size = deg + 1
    sptr = np.zeros(n + 1, np.int64)
    np.cumsum(size, out=sptr[1:])
    sidx = np.empty(sptr[-1], np.int64)
    smass = np.empty(sptr[-1])
    first = sptr[:-1]
    sidx[first] = np.arange(n)
    smass[first] = alpha
    rest = np.ones(sptr[-1], bool)
    rest[first] = False
    sidx[rest] = dst
    smass[rest] = p
    # the needed pairs, edge by edge: supp(i) x supp(j)
    ka, kb = size[i], size[j]
    cnt = ka * kb
    off = np.zeros(m + 1, np.int64)
    np.cumsum(cnt, out=off[1:])
    e_of = np.repeat(np.arange(m), cnt)
    local = np.arange(off[-1]) - off[e_of]
    px = sidx[sptr[i[e_of]] + local // kb[e_of]]
    py = sidx[sptr[j[e_of]] + local % kb[e_of]]
    dist = np.empty(off[-1])
    G = sparse.csr_array((np.concatenate([lengths, lengths]),
                          (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n))
    G.indices = G.indices.astype(np.int32)
    G.indptr = G.indptr.astype(np.int32)
    limit = 3.0 * float(lengths.max()) * (1 + 1e-9)
    # sources in a spatially coherent order (key), in blocks; each block runs Dijkstra only on
    # the subgraph within `limit` of it (found by one multi-source search), which holds every
    # path the block needs, so memory is block x subgraph, not block x n
    sources = np.unique(px)
    rank = np.full(n, -1, np.int64)
    srt = sources[np.argsort(key[sources], kind="stable")] if key is not None else sources
    rank[srt] = np.arange(len(srt))
    by_src = np.argsort(rank[px], kind="stable")
    pos = np.searchsorted(rank[px][by_src], np.arange(len(srt) + 1))
    loc = np.full(n, -1, np.int64)
    pending = [(r0, min(r0 + _SOURCE_BLOCK, len(srt))) for r0 in range(0, len(srt), _SOURCE_BLOCK)]
    while pending:
        r0, r1 = pending.pop()
        chunk = srt[r0:r1].astype(np.int32)
        reach = csgraph.dijkstra(G, directed=False, indices=chunk, limit=limit, min_only=True)
        sub = np.flatnonzero(np.isfinite(reach))
        if r1 - r0 > 1 and (r1 - r0) * len(sub) > _DIJKSTRA_BLOCK:
            mid = (r0 + r1) // 2
            pending += [(r0, mid), (mid, r1)]
            continue
        loc[sub] = np.arange(len(sub))
        Gs = G[sub][:, sub]
        Gs.indices = Gs.indices.astype(np.int32)
        Gs.indptr = Gs.indptr.astype(np.int32)
        D = csgraph.dijkstra(Gs, directed=False, indices=loc[chunk].astype(np.int32), limit=limit)
        sel = by_src[pos[r0]:pos[r1]]
        dist[sel] = D[rank[px[sel]] - r0, loc[py[sel]]]
        if (loc[py[sel]] < 0).any():  # a needed cell outside the subgraph: cannot happen
            dist[sel[loc[py[sel]] < 0]] = np.inf
        loc[sub] = -1
    if not np.isfinite(dist).all():  # cannot happen with the limit above; be safe
        raise DegenerateInputError("a needed shortest-path distance exceeded the search limit")
    kappa = np.empty(m)
    for e in range(m):
        a = smass[sptr[i[e]]:sptr[i[e] + 1]]
        b = smass[sptr[j[e]]:sptr[j[e] + 1]]
        M = dist[off[e]:off[e + 1]].reshape(ka[e], kb[e])
        d_ij = M[0, 0]   # the shortest path i -> j (the edge, by the triangle inequality)
        kappa[e] = 1.0 - solver(a / a.sum(), b / b.sum(), np.ascontiguousarray(M)) / d_ij
    return kappa


def ollivier_ricci(rc, *, alpha=0.5):
    """Statistical Ollivier-Ricci curvature of every wall, shape (n_walls,) (SPEC 9).

    Parameters
    ----------
    rc : RiemannianComplex
        ``mu = rc.masses(0)``; centres are the cells' data means when rc was built with X
        (the centroid for a cell without data), else the geometric centroids.
    alpha : float in [0, 1], optional
        Laziness: the mass each measure keeps at its own cell (default 0.5).

    Returns
    -------
    kappa : ndarray, shape (n_walls,)
        ``1 - W1(m_i, m_j) / d(i, j)`` per wall ``(i, j)`` of ``rc.partition.walls``, with
        ``m_i(i) = alpha`` and ``m_i(j) = (1 - alpha) w_ij mu_j / sum_k w_ik mu_k`` over wall
        neighbours (``w`` the wall areas).

    Raises
    ------
    InvalidInputError
        rc is not a RiemannianComplex; alpha outside [0, 1].
    DegenerateInputError
        Two wall-adjacent cells with the same centre (zero edge length).

    Notes
    -----
    The ground distance is the shortest path in the wall graph, edge length the distance
    between centres. Only the distances between the supports of ``m_i`` and ``m_j`` are
    computed: Dijkstra from every cell, cut at three times the longest edge (a needed pair
    ``i' ~ i ~ j ~ j'`` is never farther), run in blocks of sources ordered by their first
    coordinate, each block on the subgraph within that limit of it (memory O(block x
    subgraph), not O(n^2)). W1 is solved exactly per
    wall by POT's network simplex (``ot.emd2``) when POT is installed, else by the HiGHS LP of
    ``scipy.optimize.linprog``. Cost: O(n_walls) small transport problems of size
    ``(deg i + 1) x (deg j + 1)``, plus the limited Dijkstra searches.

    Examples
    --------
    >>> from geomcore import Arrangement, Box, RiemannianComplex, partition
    >>> part = partition(Arrangement([[1, 0], [1, 0]], [1/3, 2/3]), Box([0, 0], [1, 1]))
    >>> ollivier_ricci(RiemannianComplex(part), alpha=0.5).round(12).tolist()
    [0.5, 0.5]
    """
    _check_rc(rc)
    alpha = _positive_float(alpha, "alpha", upper=1.0, zero_ok=True)
    edges, w = _walls(rc)
    c = _centres(rc)
    lengths = np.linalg.norm(c[edges[:, 0]] - c[edges[:, 1]], axis=1)
    if (lengths <= 0).any():
        k = int(np.argmax(lengths <= 0))
        raise DegenerateInputError(
            f"wall-adjacent cells must have distinct centres; cells {edges[k].tolist()} share one")
    return _ollivier_graph(rc.partition.n_cells, edges, w, rc.masses(0), lengths, alpha,
                           key=c[:, 0])


def _density_curvature(rc):
    if rc.counts is None:
        raise InvalidInputError(
            'kind="density" needs data: build the RiemannianComplex with X (n_points, ndim)')
    part = rc.partition
    d, n = part.ndim, part.n_cells
    edges, area = _walls(rc)
    vol = np.asarray(part.volumes, np.float64)
    c = np.asarray(part.centroids, np.float64)
    i, j = edges[:, 0], edges[:, 1]
    dist = np.linalg.norm(c[i] - c[j], axis=1)
    if (dist <= 0).any():
        k = int(np.argmax(dist <= 0))
        raise DegenerateInputError(
            f"wall-adjacent cells must have distinct centroids; cells {edges[k].tolist()} share one")
    g = area / dist
    rho = (rc.counts + 1.0) / (rc.n_points * vol)
    u = np.log(rho) / d
    du = u[i] - u[j]
    Lu = (np.bincount(i, weights=g * du, minlength=n)
          - np.bincount(j, weights=g * du, minlength=n)) / vol
    sq = g * du * du
    grad2 = (np.bincount(i, weights=sq, minlength=n) + np.bincount(j, weights=sq, minlength=n)) \
        / (2 * vol)
    return np.exp(-2 * u) * (2 * (d - 1) * Lu - (d - 1) * (d - 2) * grad2)


def vertex_curvature(rc, *, kind="ollivier", alpha=0.5):
    """Curvature of every cell, shape (n_cells,) (SPEC 9).

    Parameters
    ----------
    rc : RiemannianComplex
    kind : {"ollivier", "forman", "density"}, optional
        "ollivier" / "forman": the mean of the curvatures of the cell's walls (NaN for a cell
        without walls). "density": the scalar curvature of the conformally flat metric
        ``exp(2u) |dx|^2``, ``u = log(rho) / d``, ``rho_i = (n_i + 1) / (N vol(C_i))``;
        needs rc built with X.
    alpha : float in [0, 1], optional
        Laziness of "ollivier" (default 0.5).

    Returns
    -------
    K : ndarray, shape (n_cells,)

    Raises
    ------
    InvalidInputError
        Unknown kind; alpha outside [0, 1]; "density" without X.

    Notes
    -----
    Density curvature: ``K_i = exp(-2 u_i) [2(d-1) (L u)_i - (d-1)(d-2) |grad u|_i^2]`` with
    ``(L u)_i = (1/vol(C_i)) sum_j (A_ij / dist_ij) (u_i - u_j)`` over walls (geometric
    centroids), the finite-volume ``-div grad``; it equals
    ``hodge_laplacian(rc, 0, conductance="area/distance") @ u`` for an adjacency complex with
    volume masses (this function always divides by the cell volumes, whatever ``measure=``),
    and ``|grad u|_i^2 = (1/(2 vol(C_i))) sum_j (A_ij/dist_ij) (u_j - u_i)^2``. Positive at a
    density peak. A linear ``u`` on a regular grid gives ``K = 0`` at interior cells in 2-D.

    Examples
    --------
    >>> from geomcore import Arrangement, Box, RiemannianComplex, partition
    >>> part = partition(Arrangement([[1, 0], [1, 0]], [1/3, 2/3]), Box([0, 0], [1, 1]))
    >>> rc = RiemannianComplex(part, X=[[0.5, 0.5]] * 3)
    >>> vertex_curvature(rc, kind="density").round(6).tolist()   # the peak is positive
    [-12.476649, 6.238325, -12.476649]
    >>> vertex_curvature(rc, kind="forman").round(12).tolist()   # 1/3 on each wall
    [0.333333333333, 0.333333333333, 0.333333333333]
    """
    _check_rc(rc)
    _option(kind, "kind", ("ollivier", "forman", "density"))
    alpha = _positive_float(alpha, "alpha", upper=1.0, zero_ok=True)
    if kind == "density":
        return _density_curvature(rc)
    kappa = ollivier_ricci(rc, alpha=alpha) if kind == "ollivier" else forman_ricci(rc)
    edges, _ = _walls(rc)
    n = rc.partition.n_cells
    s = np.bincount(edges[:, 0], weights=kappa, minlength=n) \
        + np.bincount(edges[:, 1], weights=kappa, minlength=n)
    deg = np.bincount(edges.ravel(), minlength=n)
    return np.divide(s, deg, out=np.full(n, np.nan), where=deg > 0)


def angle_defects(partition):
    """Angle defect ``2 pi - sum of the cells' angles`` at every hinge, shape (n_hinges,).

    Parameters
    ----------
    partition : Partition

    Returns
    -------
    defects : ndarray, shape (n_hinges,)
        0 (up to rounding) at interior hinges, where the cells close up around the hinge. At
        a hinge on the domain's boundary (``partition.hinges.interior`` False) the angles sum to
        the domain's own dihedral angle there, so the defect is ``2 pi`` minus that: ``pi`` on
        a flat boundary facet, ``3 pi / 2`` along an edge of a box.

    Raises
    ------
    InvalidInputError
        partition is not a Partition.

    Examples
    --------
    >>> from geomcore import Arrangement, Box, RiemannianComplex, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.5]), Box([0, 0], [1, 1]))
    >>> angle_defects(part).round(12).tolist()
    [0.0]
    """
    from geomcore.complexes import _check_partition

    _check_partition(partition)
    h = partition.hinges
    indptr = np.asarray(h.indptr, np.int64)
    nh = len(indptr) - 1
    owner = np.repeat(np.arange(nh), np.diff(indptr))
    total = np.bincount(owner, weights=np.asarray(h.angles, np.float64), minlength=nh)
    return 2 * np.pi - total
