"""Point contacts of a partition: its distinct vertices and, for each, every cell that contains it.

The nerve of a partition needs every set of cells with a common point. Walls and hinges give the
contacts of dimension ``ndim - 1`` and ``ndim - 2``; in three and more dimensions cells can also
meet in a single point (eight octants at the origin), and those contacts are read from the
vertices here.
"""

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

__all__ = ["vertex_cells"]

#: copies of one vertex computed in different cells agree to rounding; two copies closer than
#: MERGE * (extent of the partition) are one vertex
MERGE = 1e-9
#: a row value within BAND * (|a| |v| + |b|) of zero is decided exactly
BAND = 1e-9


def _canonical_rows(A, b):
    """Rows [a, b] scaled by a power of two (exact) so that the largest entry is in [0.5, 1),
    and with the first non-zero entry positive: equal keys mean the same hyperplane (up to
    orientation), decided exactly for rows that are copies of one another."""
    Ab = np.column_stack([A, b])
    big = np.abs(Ab).max(axis=1)
    _, e = np.frexp(np.where(big > 0, big, 1.0))
    Ab = np.ldexp(Ab, -e[:, None])
    first = np.argmax(Ab != 0, axis=1)
    sign = np.where(Ab[np.arange(len(Ab)), first] < 0, -1.0, 1.0)
    return np.ascontiguousarray(Ab * sign[:, None])


def _row_keys(rows):
    """Hashable keys of float rows (their exact bit patterns, -0.0 read as 0.0)."""
    rows = np.ascontiguousarray(rows + 0.0)
    return [r.tobytes() for r in rows]


def _exact_row_sign(A_tight, b_tight, a, c):
    """Exact sign of ``a . v - c`` at the vertex v where the rows (A_tight, b_tight) are tight
    (they span R^d): the sign of the homogeneous determinant times the orientation sign."""
    from itertools import combinations

    from geomcore._kernels._exact import det_sign

    d = len(a)
    for pick in combinations(range(len(A_tight)), d):
        orient = det_sign(np.ascontiguousarray(A_tight[list(pick)]))
        if orient != 0:
            break
    else:  # pragma: no cover - a vertex always has d independent tight rows
        raise RuntimeError("internal error: a vertex without d independent tight rows")
    pick = list(pick)
    M = np.zeros((d + 1, d + 1))
    M[:d, :d], M[:d, d] = A_tight[pick], -b_tight[pick]
    M[d, :d], M[d, d] = a, -c
    return det_sign(M) * orient


def _csr_gather(ptr, rows):
    """Positions ptr[r]:ptr[r+1] for every r in rows, concatenated, and the owner of each."""
    lengths = ptr[rows + 1] - ptr[rows]
    owner = np.repeat(np.arange(len(rows)), lengths)
    starts = np.repeat(ptr[rows] - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return starts + np.arange(lengths.sum()), owner


def vertex_cells(part):
    """The distinct vertices of a partition and the cells containing each.

    Parameters
    ----------
    part : Partition

    Returns
    -------
    points : ndarray of float, shape (n_vertices, ndim)
        The distinct vertices of all cells, in lexicographic order.
    indptr : ndarray of int64, shape (n_vertices + 1,)
    indices : ndarray of int64, shape (nnz,)
        ``indices[indptr[v]:indptr[v + 1]]`` are the cells containing vertex v, increasing:
        the cells it is a vertex of, and the cells in whose facets or lower faces it lies
        (T-junctions of tree partitions).

    Notes
    -----
    1. Every cell's vertices are stacked and copies of one vertex in different cells are merged
       when they are within ``1e-9`` of the partition's extent of each other (a k-d tree finds
       the pairs, connected components merge them). The copies cannot be required to coincide
       exactly: cells built from separately rounded rows (Voronoi bisectors, network rows pulled
       back through different activation patterns) meet only up to rounding, and an exact test
       would see spurious gaps between them.
    2. A vertex can also lie inside a face of a cell it is not a vertex of. Such cells are
       searched among the wall neighbours of the cells found so far (the cells around a point
       are connected through walls that contain it), round by round. A candidate is rejected
       when its bounding box or one of its rows clearly excludes the point (by more than
       ``1e-9 (|a| |v| + |b|)``); rows within that band are decided exactly: a row that is a
       copy of one of the vertex's own tight rows (bit for bit, up to orientation and a power
       of two) passes through it; any other sign comes from the exact sign of a
       ``(ndim + 1)``-determinant of d independent tight rows and the candidate row.

    Cost: one k-d tree over the stacked vertices, then vectorised row tests over (vertex,
    candidate cell) pairs; exact determinants only for rows within the band that are not
    copies.

    Examples
    --------
    >>> from geomcore import Arrangement, Box, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.5]), Box([0, 0], [1, 1]))
    >>> points, indptr, indices = vertex_cells(part)
    >>> len(points), points[4].tolist(), indices[indptr[4]:indptr[5]].tolist()
    (9, [0.5, 0.5], [0, 1, 2, 3])
    """
    batch = part._batch
    n, d = part.n_cells, part.ndim
    V = np.asarray(batch.vertices, dtype=np.float64)
    vptr = np.asarray(batch.vertex_offsets, dtype=np.int64)
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(vptr))
    if len(V) == 0:
        return np.zeros((0, d)), np.zeros(1, np.int64), np.zeros(0, np.int64)

    # 1. merge the copies of each vertex
    extent = float((V.max(axis=0) - V.min(axis=0)).max())
    tol = MERGE * extent + 64 * np.finfo(float).eps * float(np.abs(V).max())
    pairs = cKDTree(V).query_pairs(tol, output_type="ndarray")
    graph = sparse.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                             shape=(len(V), len(V)))
    n_v, label = csgraph.connected_components(graph, directed=False)
    # order the vertices lexicographically by their mean coordinates
    counts = np.bincount(label, minlength=n_v)
    mean = np.stack([np.bincount(label, weights=V[:, k], minlength=n_v) for k in range(d)],
                    axis=1) / counts[:, None]
    order = np.lexsort(mean.T[::-1])
    rank = np.empty(n_v, np.int64)
    rank[order] = np.arange(n_v)
    label = rank[label]
    points = mean[order]
    # a representative copy per vertex (the first) for the exact tests
    rep = np.full(n_v, len(V), np.int64)
    np.minimum.at(rep, label, np.arange(len(V)))

    # cells having each vertex as a vertex: unique (vertex, cell) pairs
    key = np.unique(label * n + owner)

    # 2. cells containing a vertex inside one of their faces, searched through the walls
    walls = np.asarray(part.walls.cells, dtype=np.int64).reshape(-1, 2)
    if len(walls) and n > 1:
        adj = sparse.csr_array((np.ones(2 * len(walls), bool),
                                (np.r_[walls[:, 0], walls[:, 1]], np.r_[walls[:, 1], walls[:, 0]])),
                               shape=(n, n))
        adj_ptr, adj_idx = adj.indptr.astype(np.int64), adj.indices.astype(np.int64)
        lo = np.full((n, d), np.inf)
        hi = np.full((n, d), -np.inf)
        np.minimum.at(lo, owner, V)
        np.maximum.at(hi, owner, V)
        canon = _canonical_rows(batch._A, batch._b)
        canon_keys = canon + 0.0                # rows' bit patterns, -0.0 read as 0.0
        fptr = np.asarray(batch.facet_offsets, dtype=np.int64)
        findex = np.asarray(batch.facet_index, dtype=np.int64)
        tested = key.copy()
        frontier = key
        while frontier.size:
            fv, fc = frontier // n, frontier % n
            pos, which = _csr_gather(adj_ptr, fc)
            cand = np.unique(fv[which] * n + adj_idx[pos])
            cand = cand[~np.isin(cand, tested, assume_unique=True)]
            if not cand.size:
                break
            tested = np.union1d(tested, cand)
            cv, cc = cand // n, cand % n
            p = points[cv]
            inbox = ((p >= lo[cc] - tol) & (p <= hi[cc] + tol)).all(axis=1)
            cand, cv, cc, p = cand[inbox], cv[inbox], cc[inbox], p[inbox]
            if not cand.size:
                break
            found = _contains(batch, fptr, findex, canon_keys, V, vptr, owner, rep, label,
                              points, cv, cc)
            frontier = cand[found]
            key = np.union1d(key, frontier)

    cells = key % n
    indptr = np.r_[0, np.cumsum(np.bincount(key // n, minlength=n_v))].astype(np.int64)
    return points, indptr, cells.astype(np.int64)


def _contains(batch, fptr, findex, canon_keys, V, vptr, owner, rep, label, points, cv, cc):
    """Whether each vertex cv[q] lies in cell cc[q] (bool per pair), float with a wide band and
    exact decisions inside it."""
    A, b = batch._A, batch._b
    pos, which = _csr_gather(fptr, cc)
    rows = findex[pos]
    x = points[cv][which]
    s = np.einsum("ij,ij->i", A[rows], x) - b[rows]
    band = BAND * (np.einsum("ij,ij->i", np.abs(A[rows]), np.abs(x)) + np.abs(b[rows]))
    out = np.zeros(len(cv), bool)
    np.logical_or.at(out, which, s > band)                 # clearly outside
    inside = ~out
    near = np.flatnonzero((np.abs(s) <= band) & inside[which])
    if not near.size:
        return inside
    # rows in the band: copies of the vertex's tight rows pass through it; others exactly
    inc_ptr = np.asarray(batch.incidence_indptr, dtype=np.int64)
    inc_idx = np.asarray(batch.incidence_indices, dtype=np.int64)
    copies_of = {}
    by_label = np.argsort(label, kind="stable")
    label_ptr = np.r_[0, np.cumsum(np.bincount(label, minlength=len(points)))]
    for r in near:
        q = which[r]
        if not inside[q]:
            continue
        vtx = int(cv[q])
        if vtx not in copies_of:
            copies = by_label[label_ptr[vtx]:label_ptr[vtx + 1]]
            tight = []
            for c in copies:
                local = inc_idx[inc_ptr[c]:inc_ptr[c + 1]]
                tight.append(findex[fptr[owner[c]] + local])
            tight_rows = np.concatenate(tight)
            first = findex[fptr[owner[rep[vtx]]] + inc_idx[inc_ptr[rep[vtx]]:inc_ptr[rep[vtx] + 1]]]
            copies_of[vtx] = (set(_row_keys(canon_keys[tight_rows])), first)
        keys, first = copies_of[vtx]
        row = rows[r]
        if canon_keys[row].tobytes() in keys:
            continue
        if _exact_row_sign(A[first], b[first], A[row], b[row]) > 0:
            inside[q] = False
    return inside
