"""Max-affine (argmax) partitions and Voronoi diagrams (SPEC 2.4) as a partition source.

The cells are output-sensitive: each cell is computed by the exact polytope kernel from a few
*candidate* rows (its Delaunay neighbours for a Voronoi diagram, its neighbours on the upper hull
of the lifted functions for a max-affine model) plus the domain's rows, all cells in one batch
call; every cell is then *verified* (no other function reaches the cell's own value at any of its
vertices, up to a margin far above rounding), and a cell that fails is recomputed with the rows
it missed. Qhull only proposes; the kernel decides.
"""

import itertools
from fractions import Fraction

import numpy as np
from scipy.spatial import ConvexHull, Delaunay, QhullError, cKDTree

from geomcore._validation import as_float_matrix, as_halfspaces
from geomcore.errors import DegenerateInputError, InvalidInputError
from geomcore.partitions._dispatch import register
from geomcore.partitions._model import (
    Hinges,
    Partition,
    _check_volume,
    _csr_positions,
    _domain_halfspaces,
    _group_hinges,
    _no_hinges,
    _walls_from_pairs,
)
from geomcore.polytope import PolytopeBatch, _status_error, polytopes

__all__ = ["MaxAffine", "Voronoi", "max_affine_partition"]

#: relative margin of the vertex test: a function within NEAR * (magnitude of the values) of a
#: cell's own value at one of its vertices is a row of that cell (or a member of a hinge there);
#: about 1e5 units of rounding, far above the rounding of the rows and of well-conditioned vertices
NEAR = 1e-11

#: below this many functions every cell gets every other function's row (no Qhull)
ALL_PAIRS = 48


class MaxAffine:
    """Cells ``{x : A[k] . x + b[k] >= A[j] . x + b[j] for all j}`` of affine functions
    (multiclass linear models).

    Parameters
    ----------
    A : array_like of float, shape (n_functions, ndim)
    b : array_like of float, shape (n_functions,)
        No two functions may be identical.

    Notes
    -----
    Cell k is cut out by the rows ``(A[j] - A[k]) . x <= b[k] - b[j]``; the differences are
    rounded once, and the cells are exact for the rounded rows (so exact for the model itself
    when the differences are exact doubles, as for integers or small dyadic data). Which
    functions meet at a hinge is decided exactly on the model's own numbers.

    Examples
    --------
    >>> MaxAffine([[1, 0], [-1, 0]], [0, 0]).argmax([[0.5, 3.0], [-2.0, 0.0]]).tolist()
    [0, 1]
    """

    def __init__(self, A, b):
        A, b = as_halfspaces(A, b)
        rows = np.column_stack([A, b])
        _, first, counts = np.unique(rows, axis=0, return_index=True, return_counts=True)
        if (counts > 1).any():
            dup = rows[first[counts > 1][0]]
            same = np.flatnonzero((rows == dup).all(axis=1))
            raise DegenerateInputError(
                f"functions {same[0]} and {same[1]} are identical, so their cells would overlap; "
                "every row of [A, b] must be distinct"
            )
        self.A, self.b = A, b
        self.ndim = A.shape[1]
        self.n_functions = A.shape[0]
        self._lifted = None

    def argmax(self, X):
        """Index of the largest function at each point (the lowest index on ties)."""
        X = as_float_matrix(np.atleast_2d(X), "X", ncols=self.ndim)
        step = max(1, 2**22 // self.n_functions)
        out = np.empty(len(X), dtype=np.int64)
        for lo in range(0, len(X), step):
            out[lo:lo + step] = np.argmax(X[lo:lo + step] @ self.A.T + self.b, axis=1)
        return out

    def labels_of(self, X):
        """The labels of the cells containing the points (the source protocol)."""
        return self.argmax(X)

    # --- what the output-sensitive construction asks of a model -------------------------------

    def _exact_row(self, k):
        """Function k as exact rationals ``[A[k], b[k]]``."""
        return [Fraction(float(v)) for v in self.A[k]] + [Fraction(float(self.b[k]))]

    def _candidates(self, dom_A, dom_b):
        """(indptr, indices) of each function's candidate neighbours, and which cells need the
        domain's rows (all of them here)."""
        n, d = self.n_functions, self.ndim
        need_dom = np.ones(n, dtype=bool)
        if n <= ALL_PAIRS:
            return (*_all_pairs(n), need_dom)
        # the cells are the normal cones of the upper hull of the points (A_k, b_k) in R^{d+1}
        lifted = np.column_stack([self.A, self.b])
        hull = _qhull(ConvexHull, lifted)
        if hull is None:
            return (*_all_pairs(n), need_dom)
        upper = hull.equations[:, d] > 0
        simplices = hull.simplices[upper]
        ptr, idx = _pairs_of_simplices(simplices, n)
        # a function below the upper hull has no cell: propose the largest function at its
        # power site and that one's neighbours (the rounds of verification settle the rest)
        below = np.flatnonzero(np.diff(ptr) == 0)
        if len(below):
            top = self._power_tree.query(np.column_stack([0.5 * self.A[below],
                                                          np.zeros(len(below))]))[1]
            ext_ptr, ext_idx = _csr_rows(ptr, idx, top)
            owners = np.r_[np.repeat(below, np.diff(ext_ptr)), below]
            ptr, idx = _csr_union(ptr, idx, owners, np.r_[ext_idx, top], n)
        return ptr, idx, need_dom

    @property
    def _power_tree(self):
        """KD-tree of the power sites ``(A_j / 2, sqrt(W - w_j))``, ``w_j = b_j + |A_j|^2 / 4``,
        ``W = max w``: the squared distance from ``(v, 0)`` to point j is
        ``|v|^2 + W - f_j(v)``, so the nearest is the largest function."""
        if self._lifted is None:
            w = self.b + 0.25 * np.einsum("ij,ij->i", self.A, self.A)
            self._lifted = cKDTree(np.column_stack([0.5 * self.A, np.sqrt(w.max() - w)]))
        return self._lifted

    def _near(self, V, own):
        """CSR (indptr, indices) of the functions within the margin of function own[p] at
        vertex V[p] (own included) where own[p] is within the margin of the largest there;
        elsewhere those within the margin of the largest (KD-tree queries of the power
        sites, see ``_power_tree``)."""
        tree = self._power_tree
        Q = np.column_stack([V, np.zeros(len(V))])
        Z_own = tree.data[own]
        d2_own = np.einsum("ij,ij->i", Q - Z_own, Q - Z_own)
        scale = np.abs(self.A).max() * np.abs(V).sum(axis=1) + np.abs(self.b).max()
        tol = NEAR * scale + 1e-14 * (np.einsum("ij,ij->i", Q, Q)
                                      + np.einsum("ij,ij->i", Z_own, Z_own))
        return _nearest_within(tree, Q, d2_own, tol, self.n_functions, self.ndim + 2)

    def __repr__(self):
        return f"{type(self).__name__}(n_functions={self.n_functions}, ndim={self.ndim})"


class Voronoi(MaxAffine):
    """Nearest-site (1-NN) cells of points: the max-affine cells of ``2 p_k . x - |p_k|^2``.

    Parameters
    ----------
    points : array_like of float, shape (n_sites, ndim)
        Distinct sites (identical sites raise :class:`DegenerateInputError`: their cells would
        coincide). Sites may lie outside the domain; those whose cell misses it get no cell.

    Notes
    -----
    ``locate`` and ``labels_of`` answer with the nearest site (a KD-tree query).

    Examples
    --------
    >>> Voronoi([[0, 0], [2, 0]]).argmax([[0.9, 5.0], [1.1, -5.0]]).tolist()
    [0, 1]
    >>> part = partition(Voronoi([[0.25, 0.5], [0.75, 0.5]]), Box([0, 0], [1, 1]))
    >>> part.volumes.tolist(), part.walls.cells.tolist(), part.walls.areas.tolist()
    ([0.5, 0.5], [[0, 1]], [1.0])

    Four sites on a circle: the four cells meet at its centre, one hinge of four right angles.

    >>> part = partition(Voronoi([[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]]),
    ...                  Box([0, 0], [1, 1]))
    >>> part.hinges.indices.tolist(), (part.hinges.angles / np.pi).tolist()
    ([0, 1, 2, 3], [0.5, 0.5, 0.5, 0.5])
    """

    def __init__(self, points):
        points = as_float_matrix(points, "points")
        if points.shape[0] == 0:
            raise InvalidInputError("points must hold at least one site")
        super().__init__(2.0 * points, -np.einsum("ij,ij->i", points, points))
        self.points = points
        self._kdtree = None

    @property
    def _tree(self):
        if self._kdtree is None:
            self._kdtree = cKDTree(self.points)
        return self._kdtree

    def argmax(self, X):
        """Index of the nearest site to each point (a KD-tree query)."""
        X = as_float_matrix(np.atleast_2d(X), "X", ncols=self.ndim)
        return self._tree.query(X)[1].astype(np.int64)

    def _exact_row(self, k):
        p = [Fraction(float(v)) for v in self.points[k]]
        return [2 * v for v in p] + [-sum(v * v for v in p)]

    def _candidates(self, dom_A, dom_b):
        """Delaunay neighbours; the cells that need the domain's rows are those of hull sites,
        sites Qhull left out, and sites with a circumcentre not well inside the domain."""
        n, d = self.points.shape
        if n <= max(d + 1, 2):
            return (*_all_pairs(n), np.ones(n, dtype=bool))
        if d == 1:                        # the previous and the next site on the line
            order = np.argsort(self.points[:, 0], kind="stable")
            i = np.r_[order[:-1], order[1:]]
            j = np.r_[order[1:], order[:-1]]
            ptr, idx = _csr_union(np.zeros(n + 1, np.int64), np.zeros(0, np.int64), i, j, n)
            return ptr, idx, np.ones(n, dtype=bool)
        tri = _qhull(Delaunay, self.points)
        if tri is None:
            return (*_all_pairs(n), np.ones(n, dtype=bool))
        S = tri.simplices
        ptr, idx = (np.asarray(a, dtype=np.int64) for a in tri.vertex_neighbor_vertices)
        need = np.zeros(n, dtype=bool)
        need[tri.convex_hull.ravel()] = True
        # circumcentres: 2 (p_k - p_0) . c' = |p_k - p_0|^2 with c = p_0 + c'
        P0 = self.points[S[:, 0]]
        M = self.points[S[:, 1:]] - P0[:, None, :]
        rhs = 0.5 * np.einsum("skj,skj->sk", M, M)
        scale = np.prod(np.linalg.norm(M, axis=2), axis=1)
        flat = ~(np.abs(np.linalg.det(M)) > 1e-10 * scale)
        M[flat] = np.eye(d)
        c = P0 + np.linalg.solve(M, rhs[:, :, None])[:, :, 0]
        slack = c @ dom_A.T - dom_b
        tol = 1e-9 * (np.abs(c).sum(axis=1)[:, None] * np.abs(dom_A).max(axis=1) + np.abs(dom_b))
        outside = flat | (slack > -tol).any(axis=1)
        need[S[outside].ravel()] = True
        if len(tri.coplanar):            # sites Qhull left out: the neighbours of the nearest
            missing, near = tri.coplanar[:, 0], tri.coplanar[:, 2]
            extra_ptr, extra_idx = _csr_rows(ptr, idx, near)
            extra_idx = np.r_[extra_idx, near]
            owners = np.r_[np.repeat(missing, np.diff(extra_ptr)), missing]
            ptr, idx = _csr_union(ptr, idx, owners, extra_idx, n)
            need[missing] = True
        return ptr, idx, need

    def _near(self, V, own):
        """The sites within the margin of the distance to site own[p] at vertex V[p] where own
        is within the margin of the nearest, else those within the margin of the nearest
        (KD-tree queries of d + 2 neighbours, more where those are all as near)."""
        n, d = self.points.shape
        p_own = self.points[own]
        d2_own = np.einsum("ij,ij->i", V - p_own, V - p_own)
        tol = NEAR * (np.einsum("ij,ij->i", V, V) + np.einsum("ij,ij->i", p_own, p_own))
        return _nearest_within(self._tree, V, d2_own, tol, n, d + 2)


def _nearest_within(tree, Q, d2_own, tol, n, k):
    """CSR of the tree's points within ``tol`` of ``d2_own`` (squared distances) of each query,
    or within ``tol`` of the nearest where that is nearer than ``d2_own - tol``; k nearest
    first, twice as many where those are all within."""
    k = min(n, k)
    todo = np.arange(len(Q))
    rows, cols = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    limit = None
    while len(todo):
        dist, nbr = tree.query(Q[todo], k=k)
        dist, nbr = dist.reshape(len(todo), k), nbr.reshape(len(todo), k)
        if limit is None:     # own's distance, or the nearest one's where own is beaten
            limit = np.minimum(d2_own, np.square(dist[:, 0]) + tol) + tol
        within = np.square(dist) <= limit[todo, None]
        more = within[:, -1] & (k < n)
        r, c = np.nonzero(within & ~more[:, None])
        rows.append(todo[r])
        cols.append(nbr[r, c])
        todo = todo[more]
        k = min(n, 2 * k)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    if len(rows) > 1 and (np.diff(rows) < 0).any():
        order = np.argsort(rows, kind="stable")
        rows, cols = rows[order], cols[order]
    return np.r_[0, np.cumsum(np.bincount(rows, minlength=len(Q)))].astype(np.int64), \
        cols.astype(np.int64)


def _qhull(kind, points):
    """scipy's Qhull structure of the points, joggled if they are degenerate, or None."""
    for options in (None, "QJ"):
        try:
            return kind(points) if options is None else kind(points, qhull_options=options)
        except (QhullError, ValueError):
            continue
    return None


def _all_pairs(n):
    """CSR of every other function for each of n."""
    idx = np.tile(np.arange(n, dtype=np.int64), n).reshape(n, n)
    return np.arange(n + 1, dtype=np.int64) * (n - 1), idx[~np.eye(n, dtype=bool)]


def _pairs_of_simplices(S, n):
    """CSR of the distinct (i, j), i != j, that share a simplex (rows of S)."""
    a, b = np.triu_indices(S.shape[1], 1)
    i = np.r_[S[:, a].ravel(), S[:, b].ravel()]
    j = np.r_[S[:, b].ravel(), S[:, a].ravel()]
    key = np.unique(i.astype(np.int64) * n + j)
    i, j = key // n, key % n
    return np.r_[0, np.cumsum(np.bincount(i, minlength=n))].astype(np.int64), j.astype(np.int64)


def _csr_rows(ptr, idx, rows):
    """The CSR restricted to `rows` (in that order)."""
    pos, new_ptr = _csr_positions(ptr, rows)
    return new_ptr, idx[pos]


def _csr_union(ptr, idx, owners, extra, n):
    """CSR over n rows holding row r's entries plus the `extra` entries of owner r, each once,
    the original entries first in their order, the new ones after in increasing order
    (entries may be negative: domain rows)."""
    shift = -min(int(idx.min(initial=0)), int(extra.min(initial=0)))
    width = n + shift + 1
    own0 = np.repeat(np.arange(n), np.diff(ptr))
    key0 = own0 * width + idx + shift
    new = np.unique(owners.astype(np.int64) * width + extra + shift)
    new = new[~np.isin(new, key0)]
    owner = np.r_[own0, new // width]
    entry = np.r_[idx, new % width - shift]
    order = np.argsort(owner, kind="stable")
    return np.r_[0, np.cumsum(np.bincount(owner, minlength=n))].astype(np.int64), \
        entry[order].astype(np.int64)


# --- the batch of cells, kept and reordered without recomputing ----------------------------------

_PER_CELL = ("status", "n_exact_calls", "volume", "centroid")
_PER_FACET = ("facet_areas", "facet_normals", "facet_centroids")
_PER_RIDGE = ("ridges", "ridge_volumes", "dihedral_angles")
_PER_VERTEX_CSR = ("incidence", "near")


def _take(part, cells):
    """Cells `cells` (positions) of a part (raw, A, b, src, ptr), in that order."""
    raw, A, b, src, ptr = part
    out = {k: raw[k][cells] for k in _PER_CELL}
    vpos, out["vertex_offsets"] = _csr_positions(raw["vertex_offsets"], cells)
    fpos, out["facet_offsets"] = _csr_positions(raw["facet_offsets"], cells)
    rpos, out["ridge_offsets"] = _csr_positions(raw["ridge_offsets"], cells)
    rows, new_ptr = _csr_positions(ptr, cells)
    out["vertices"] = raw["vertices"][vpos]
    for name in _PER_VERTEX_CSR:
        pos, out[name + "_indptr"] = _csr_positions(raw[name + "_indptr"], vpos)
        out[name + "_indices"] = raw[name + "_indices"][pos]
    n_f = np.diff(out["facet_offsets"])
    out["facet_index"] = raw["facet_index"][fpos] + np.repeat(new_ptr[:-1] - ptr[cells], n_f)
    for k in _PER_FACET:
        out[k] = raw[k][fpos]
    for k in _PER_RIDGE:
        out[k] = raw[k][rpos]
    return out, A[rows], b[rows], src[rows], new_ptr


def _concat(parts):
    """One part from consecutive parts."""
    raw = {}
    for k in _PER_CELL + ("vertices",) + _PER_FACET + _PER_RIDGE:
        raw[k] = np.concatenate([p[0][k] for p in parts])
    for k in ("vertex_offsets", "facet_offsets", "ridge_offsets") + tuple(
            n + "_indptr" for n in _PER_VERTEX_CSR):
        pieces, base = [np.zeros(1, np.int64)], 0
        for p in parts:
            pieces.append(p[0][k][1:] + base)
            base += p[0][k][-1]
        raw[k] = np.concatenate(pieces)
    for name in _PER_VERTEX_CSR:
        raw[name + "_indices"] = np.concatenate([p[0][name + "_indices"] for p in parts])
    starts = np.cumsum([0] + [len(p[1]) for p in parts])
    raw["facet_index"] = np.concatenate([p[0]["facet_index"] + s for p, s in zip(parts, starts)])
    pieces, base = [np.zeros(1, np.int64)], 0
    for p in parts:
        pieces.append(p[4][1:] + base)
        base += p[4][-1]
    return (raw, np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts]),
            np.concatenate([p[3] for p in parts]), np.concatenate(pieces))


# --- construction ------------------------------------------------------------------------------

def _rows(model, cells, src_ptr, src_idx, dom_A, dom_b):
    """Stacked rows of `cells`: function j as ``(A[j] - A[k]) . x <= b[k] - b[j]``, domain
    row r (source -1 - r) as given; returns A, b, the source of each row, offsets."""
    pos, ptr = _csr_positions(src_ptr, cells)
    s = src_idx[pos]
    own = np.repeat(cells, np.diff(ptr))
    A = np.empty((len(s), model.ndim))
    b = np.empty(len(s))
    site = s >= 0
    j, k = s[site], own[site]
    A[site] = model.A[j] - model.A[k]
    b[site] = model.b[k] - model.b[j]
    r = -1 - s[~site]
    A[~site] = dom_A[r]
    b[~site] = dom_b[r]
    return A, b, s, ptr


def _row_keys(K, base):
    """Rows of non-negative ints below `base` as sortable scalars (one int64 when they fit)."""
    if float(base) ** K.shape[1] < 2.0**62:
        flat = np.zeros(len(K), dtype=np.int64)
        for col in range(K.shape[1]):
            flat = flat * base + K[:, col]
        return flat
    return np.ascontiguousarray(K, dtype=np.int64).view(np.dtype((np.void, 8 * K.shape[1]))).ravel()


def _groups(keys):
    """(one member of each group of equal keys, the group of each key)."""
    order = np.argsort(keys)
    ordered = keys[order]
    start = np.r_[True, ordered[1:] != ordered[:-1]] if len(keys) else np.zeros(0, bool)
    inverse = np.empty(len(keys), dtype=np.int64)
    inverse[order] = np.cumsum(start) - 1
    return order[start], inverse


def _verify(model, raw, cells, src, ptr, has_dom, dom_A, dom_b):
    """Check every computed cell against every function at its vertices.

    A simple vertex (on ndim facets) is identified by its key: the cell's own function and
    its facets' sources, which every cell through it shares; one query per key finds the
    functions within the margin there. The vertex is *regular* when they (and the domain
    rows through it) are all in its key. Irregular vertices keep their near sets (sites as
    they are, domain row r as n + r) in ``raw["near_*"]`` for the hinges, and any function
    there that the cell has no row for is returned as a source to add, as are the domain
    rows for a cell computed without them that is unbounded or reaches the boundary."""
    n, d = model.n_functions, model.ndim
    m_d = len(dom_b)
    status = raw["status"]
    V = raw["vertices"]
    n_v = len(V)
    owner = np.repeat(np.arange(len(cells)), np.diff(raw["vertex_offsets"]))
    own = cells[owner]
    code = np.where(src >= 0, src, n - 1 - src)
    iptr, iidx = raw["incidence_indptr"], raw["incidence_indices"]
    degree = np.diff(iptr)
    inc_code = code[raw["facet_index"][raw["facet_offsets"][np.repeat(owner, degree)] + iidx]]
    # the domain's rows at each vertex
    slack = V @ dom_A.T - dom_b
    tol = NEAR * (np.abs(V) @ np.abs(dom_A).T + np.abs(dom_b))
    vr, dr = np.nonzero(np.abs(slack) <= tol)
    out_dom = (slack > -tol).any(axis=1)
    # one query per simple vertex key, one per non-simple vertex
    simple = degree == d
    sv, nsv = np.flatnonzero(simple), np.flatnonzero(~simple)
    K = np.empty((len(sv), d + 1), dtype=np.int64)
    K[:, 0] = own[sv]
    K[:, 1:] = inc_code[iptr[sv][:, None] + np.arange(d)]
    K.sort(axis=1)
    first, inverse = _groups(_row_keys(K, n + m_d + 1))
    n_rep = len(first)
    query_v = np.r_[sv[first], nsv]
    q_ptr, q_idx = model._near(V[query_v], own[query_v])
    query_of = np.empty(n_v, dtype=np.int64)
    query_of[sv] = inverse
    query_of[nsv] = n_rep + np.arange(len(nsv))
    q_owner = np.repeat(np.arange(len(query_v)), np.diff(q_ptr))
    in_key = np.zeros(len(q_idx), dtype=bool)
    ks = q_owner < n_rep
    in_key[ks] = (K[first][q_owner[ks]] == q_idx[ks, None]).any(axis=1)
    irregular = (np.bincount(q_owner[~in_key], minlength=len(query_v)) > 0)[query_of]
    irregular[nsv] = True
    slot = np.full(n_v, -1, dtype=np.int64)
    slot[sv] = np.arange(len(sv))
    dom_in_key = (slot[vr] >= 0) & (K[np.maximum(slot[vr], 0)] == (n + dr)[:, None]).any(axis=1)
    irregular[vr[~dom_in_key]] = True
    # near sets of the irregular vertices
    iv = np.flatnonzero(irregular)
    pos, sub_ptr = _csr_positions(q_ptr, query_of[iv])
    keep_dom = irregular[vr]
    ent_v = np.r_[np.repeat(iv, np.diff(sub_ptr)), vr[keep_dom]]
    ent_c = np.r_[q_idx[pos], n + dr[keep_dom]]
    order = np.argsort(ent_v, kind="stable")
    ent_v, ent_c = ent_v[order], ent_c[order]
    raw["near_indptr"] = np.r_[0, np.cumsum(np.bincount(ent_v, minlength=n_v))].astype(np.int64)
    raw["near_indices"] = ent_c.astype(np.int64)
    # functions at an irregular vertex that the cell has no row for
    site = ent_c < n
    cell_of_entry = owner[ent_v[site]]
    key = cell_of_entry * (n + 1) + ent_c[site]
    row_owner = np.repeat(np.arange(len(cells)), np.diff(ptr))
    have = np.r_[row_owner[src >= 0] * (n + 1) + src[src >= 0],
                 np.arange(len(cells)) * (n + 1) + cells]
    have.sort()
    at = np.minimum(np.searchsorted(have, key), len(have) - 1)
    lack = have[at] != key
    miss_cell, miss_fn = cell_of_entry[lack], ent_c[site][lack]
    # domain rows for cells without them that are unbounded or reach the boundary
    bad = status != 0
    hard = bad & has_dom[cells] & ~np.isin(status, (1, 3))
    if hard.any():
        i = int(np.flatnonzero(hard)[0])
        raise _status_error(int(status[i]), None, d)
    reach = np.zeros(len(cells), dtype=bool)
    reach[owner[out_dom]] = True
    dom_cells = np.flatnonzero(~has_dom[cells] & (bad | reach))
    add_cell = np.r_[miss_cell, np.repeat(dom_cells, m_d)]
    add_src = np.r_[miss_fn, np.tile(-1 - np.arange(m_d), len(dom_cells))]
    return add_cell, add_src


def max_affine_partition(model, domain, *, max_cells=None):
    """The partition of a max-affine model or Voronoi diagram on a domain (output-sensitive).

    Parameters
    ----------
    model : MaxAffine or Voronoi
    domain : Box or Polytope
    max_cells : int, optional
        Error when the model has more functions.

    Returns
    -------
    Partition
        Labels int (n_cells,): the function (site) index of each cell, increasing.

    Notes
    -----
    1. Candidates: Delaunay neighbours (Voronoi) or upper-hull neighbours of the lifted points
       ``(A_k, b_k)`` (max-affine; every pair below 48 functions), from scipy's Qhull,
       joggled on degenerate input.
    2. One batch kernel call over all cells, each from its candidate rows (and the domain's
       rows where a Voronoi cell may reach the boundary).
    3. Verification: at every vertex of cell k, the functions within a relative margin of
       ``f_k`` (a KD-tree query for Voronoi, blocked products otherwise); any that cell k
       has no row for is added and the cell recomputed, until none is missing. A cell from a
       subset of its rows contains the true cell, and equals it when every other row holds at
       all its vertices, so the cells are exact for the rounded rows as long as the computed
       vertices are within the margin (about 1e5 rounding units) of the exact ones.
    4. Walls: a cell's facet on ``f_k = f_j``, taken from the lower cell. Hinges: the cells'
       ridges grouped by the set of functions (and domain rows) through them; extra members
       at a degenerate (cospherical) vertex are decided in exact rational arithmetic.

    Cost: Qhull, one kernel call over about ``n (2 d + rows of the domain)`` rows, one
    KD-tree query per cell vertex. For a max-affine model with many functions in high
    dimension the upper hull itself grows like ``n^(ceil(d/2))`` and the vertex check is a
    dense ``n_vertices x n`` product.
    """
    n, d = model.n_functions, model.ndim
    dom_A, dom_b, dom_volume = _domain_halfspaces(domain, d)
    if max_cells is not None and n > max_cells:
        raise DegenerateInputError(
            f"the partition may have up to {n} cells, above max_cells={max_cells}")
    m_d = len(dom_b)
    nb_ptr, nb_idx, need_dom = model._candidates(dom_A, dom_b)
    # domain rows first: a function row that coincides with a domain row is then no facet
    dom_owner = np.repeat(np.flatnonzero(need_dom), m_d)
    dom_src = np.tile(-1 - np.arange(m_d), int(need_dom.sum()))
    src_ptr, src_idx = _csr_union_front(dom_owner, dom_src, nb_ptr, nb_idx, n)
    has_dom = need_dom.copy()
    parts, where = [], np.zeros((n, 2), dtype=np.int64)
    pending = np.arange(n)
    for _ in range(256):
        A, b, src, ptr = _rows(model, pending, src_ptr, src_idx, dom_A, dom_b)
        # polygons are measured below from their vertices, cheaper than the face lattice
        batch = polytopes(A, b, ptr, errors="ignore", measures=d != 2)
        raw = dict(batch._raw)
        add_cell, add_src = _verify(model, raw, pending, src, ptr, has_dom, dom_A, dom_b)
        where[pending] = np.column_stack([np.full(len(pending), len(parts)),
                                          np.arange(len(pending))])
        parts.append((raw, A, b, src, ptr))
        if not len(add_cell):
            break
        cells = pending[add_cell]
        has_dom[cells[add_src < 0]] = True
        src_ptr, src_idx = _csr_union(src_ptr, src_idx, cells, add_src, n)
        pending = np.unique(cells)
    else:
        raise RuntimeError("internal error: the cells did not settle after 256 rounds")
    # the final version of each cell, kept where it has interior, in function order
    if len(parts) > 1:
        starts = np.cumsum([0] + [len(p[4]) - 1 for p in parts])
        whole = _concat(parts)
        pos = starts[where[:, 0]] + where[:, 1]
    else:
        whole, pos = parts[0], np.arange(n)
    status = whole[0]["status"][pos]
    labels = np.flatnonzero(status == 0)
    raw, A, b, src, ptr = _take(whole, pos[labels]) if len(labels) < len(whole[4]) - 1 or \
        len(parts) > 1 else whole
    if d == 2:
        raw = _measure_polygons(dict(raw))
    batch = PolytopeBatch(raw, A, b, ptr)
    _check_volume(batch, dom_volume)
    walls, boundary = _walls(labels, batch, src, n)
    hinges = _hinges(model, raw, labels, src, dom_A, dom_b)
    return Partition(model, domain, labels, batch, walls, hinges, boundary)


def _measure_polygons(raw):
    """Areas, centroids, edge lengths and midpoints of convex polygons from their vertices
    and exact vertex-edge incidences: the fan of triangles from the mean of each polygon's
    vertices (an interior point) over its edges."""
    V = raw["vertices"]
    v_owner = np.repeat(np.arange(len(raw["status"])), np.diff(raw["vertex_offsets"]))
    degree = np.diff(raw["incidence_indptr"])
    facet = raw["facet_offsets"][np.repeat(v_owner, degree)] + raw["incidence_indices"]
    vert = np.repeat(np.arange(len(V)), degree)
    order = np.argsort(facet, kind="stable")
    n_f = len(raw["facet_index"])
    if not np.array_equal(np.bincount(facet, minlength=n_f), np.full(n_f, 2)):
        raise RuntimeError("internal error: a polygon edge without exactly two vertices")
    ends = vert[order].reshape(n_f, 2)
    a, c = V[ends[:, 0]], V[ends[:, 1]]
    raw["facet_areas"] = np.linalg.norm(c - a, axis=1)
    raw["facet_centroids"] = 0.5 * (a + c)
    n_cells = len(raw["status"])
    count = np.maximum(np.diff(raw["vertex_offsets"]), 1)
    mean = np.stack([np.bincount(v_owner, weights=V[:, k], minlength=n_cells)
                     for k in range(2)], axis=1) / count[:, None]
    f_owner = np.repeat(np.arange(n_cells), np.diff(raw["facet_offsets"]))
    p = mean[f_owner]
    u, w = a - p, c - p
    tri = 0.5 * np.abs(u[:, 0] * w[:, 1] - u[:, 1] * w[:, 0])
    volume = np.bincount(f_owner, weights=tri, minlength=n_cells)
    moment = np.stack([np.bincount(f_owner, weights=tri * (p + a + c)[:, k] / 3,
                                   minlength=n_cells) for k in range(2)], axis=1)
    ok = raw["status"] == 0
    raw["volume"] = np.where(ok, volume, np.nan)
    centroid = np.where((volume > 0)[:, None],
                        moment / np.where(volume > 0, volume, 1)[:, None], mean)
    raw["centroid"] = np.where(ok[:, None], centroid, np.nan)
    raw["ridge_volumes"] = np.ones(len(raw["ridges"]))
    return raw


def _csr_union_front(owner0, src0, ptr, idx, n):
    """CSR over n rows: (owner0, src0) entries first, then the rows of (ptr, idx)."""
    owner = np.r_[owner0, np.repeat(np.arange(n), np.diff(ptr))]
    entry = np.r_[src0, idx]
    order = np.argsort(owner, kind="stable")
    return np.r_[0, np.cumsum(np.bincount(owner, minlength=n))].astype(np.int64), \
        entry[order].astype(np.int64)


def _walls(labels, batch, src, n):
    """Walls: cell k's facet on f_k = f_j is its wall with j (from the lower of the two);
    a facet on a domain row, or facing a function without a cell, is boundary."""
    n_cells = len(labels)
    owner = np.repeat(np.arange(n_cells), np.diff(batch.facet_offsets))
    source = src[batch.facet_index]
    cell_of = np.full(n + 1, -1, dtype=np.int64)
    cell_of[labels] = np.arange(n_cells)
    neighbour = cell_of[np.where(source >= 0, source, n)]
    on = neighbour >= 0
    boundary = np.bincount(owner[~on], weights=batch.facet_areas[~on], minlength=n_cells)
    return _walls_from_pairs(batch, np.flatnonzero(on), owner[on], neighbour[on]), boundary


def _ridge_vertex(raw, ridge_owner, fa, fb, cells=None):
    """A vertex (stacked index) of each ridge: one that lies on both of its facets (`cells`,
    bool per cell: those the ridges belong to, to look at their vertices only)."""
    iptr, iidx = raw["incidence_indptr"], raw["incidence_indices"]
    n_f = np.diff(raw["facet_offsets"])
    F = int(n_f.max()) + 1
    v_owner = np.repeat(np.arange(len(n_f)), np.diff(raw["vertex_offsets"]))
    degree = np.diff(iptr)
    keys, verts = [], []
    for q in np.unique(degree):
        if q < 2:
            continue
        vs = np.flatnonzero(degree == q)
        if cells is not None:
            vs = vs[cells[v_owner[vs]]]
        inc = np.sort(iidx[iptr[vs][:, None] + np.arange(q)], axis=1)
        a, c = np.triu_indices(q, 1)
        keys.append(((v_owner[vs][:, None] * F + inc[:, a]) * F + inc[:, c]).ravel())
        verts.append(np.repeat(vs, len(a)))
    keys, verts = np.concatenate(keys), np.concatenate(verts)
    order = np.argsort(keys, kind="stable")
    keys, verts = keys[order], verts[order]
    lo, hi = np.minimum(fa, fb), np.maximum(fa, fb)
    want = (ridge_owner * F + lo) * F + hi
    at = np.searchsorted(keys, want)
    if (at >= len(keys)).any() or (keys[np.minimum(at, len(keys) - 1)] != want).any():
        raise RuntimeError("internal error: a ridge without a vertex on both its facets")
    return verts[at]


def _in_span(r1, r2, r3):
    """Whether the rational row r3 is a combination of r1 and r2 (independent)."""
    m = len(r1)
    for p, q in itertools.combinations(range(m), 2):
        det = r1[p] * r2[q] - r1[q] * r2[p]
        if det != 0:
            break
    alpha = (r3[p] * r2[q] - r3[q] * r2[p]) / det
    beta = (r1[p] * r3[q] - r1[q] * r3[p]) / det
    return all(alpha * x + beta * y == z for x, y, z in zip(r1, r2, r3))


def _hinges(model, raw, labels, src, dom_A, dom_b):
    """Hinges: the cells' ridges grouped by the set of sources through them.

    A ridge of cell k between its facets on sources s1, s2 lies on their flat; its members are
    k, s1, s2 and, only where a vertex of the ridge has more than ndim + 1 sources within the
    margin (a degenerate vertex), those of them whose exact rows pass through the flat."""
    d, n = model.ndim, model.n_functions
    m_d = len(dom_b)
    ridges = raw["ridges"]
    if d < 2 or len(ridges) == 0:
        return _no_hinges()
    n_cells = len(labels)
    ridge_owner = np.repeat(np.arange(n_cells), np.diff(raw["ridge_offsets"]))
    f0 = raw["facet_offsets"][ridge_owner]
    fa, fb = ridges[:, 0], ridges[:, 1]
    code = np.where(src >= 0, src, n - 1 - src)          # sites as they are, domain n + r
    fi = raw["facet_index"]
    own_of = labels[ridge_owner]
    sa, sb = code[fi[f0 + fa]], code[fi[f0 + fb]]
    members = np.sort(np.column_stack([own_of, sa, sb]), axis=1)
    nptr, nidx = raw["near_indptr"], raw["near_indices"]
    degenerate = np.diff(nptr) > 0
    # only ridges of cells with an irregular vertex can have more members
    v_owner = np.repeat(np.arange(n_cells), np.diff(raw["vertex_offsets"]))
    suspect = np.zeros(n_cells, dtype=bool)
    suspect[v_owner[degenerate]] = True
    slow = np.flatnonzero(suspect[ridge_owner])
    vert = np.zeros(len(ridge_owner), dtype=np.int64)
    if len(slow):
        vert[slow] = _ridge_vertex(raw, ridge_owner[slow], fa[slow], fb[slow], suspect)
        slow = slow[degenerate[vert[slow]]]
    extra = {}
    if len(slow):
        exact = {}

        def row(c, own):
            if c >= n:
                r = c - n
                return [Fraction(float(v)) for v in dom_A[r]] + [-Fraction(float(dom_b[r]))]
            for k in (c, own):
                if k not in exact:
                    exact[k] = model._exact_row(k)
            return [x - y for x, y in zip(exact[c], exact[own])]

        for q in slow:
            own, a, c = int(own_of[q]), int(sa[q]), int(sb[q])
            others = [int(h) for h in nidx[nptr[vert[q]]:nptr[vert[q] + 1]]
                      if int(h) not in (own, a, c)]
            if not others:
                continue
            r1, r2 = row(a, own), row(c, own)
            found = [h for h in others if _in_span(r1, r2, row(h, own))]
            if found:
                extra[q] = found
    width = 3 + max((len(v) for v in extra.values()), default=0)
    sentinel = n + m_d
    if width > 3:
        keys = np.full((len(members), width), sentinel, dtype=np.int64)
        keys[:, :3] = members
        for q, found in extra.items():
            keys[q, 3:3 + len(found)] = found
        keys.sort(axis=1)
    else:
        keys = members
    flat = _row_keys(keys, sentinel + 1)
    uniq, hinge_of = np.unique(flat, return_inverse=True)
    hinge_of = hinge_of.ravel()
    # one entry per (hinge, cell): rounded rows of cospherical sites can give a cell a sliver
    # facet along the hinge, so it meets the hinge in k ridges whose angles sum to its angle
    # there plus (k - 1) pi (the sliver's two sides)
    pair = hinge_of.astype(np.int64) * n_cells + ridge_owner
    pairs, pair_of, repeats = np.unique(pair, return_inverse=True, return_counts=True)
    angles = np.bincount(pair_of.ravel(), weights=raw["dihedral_angles"], minlength=len(pairs))
    angles -= (repeats - 1) * np.pi
    h_of_pair, cell_of_pair = pairs // n_cells, pairs % n_cells
    n_around = np.bincount(h_of_pair, minlength=len(uniq))
    big = n_around[h_of_pair] >= 3
    if not big.any():
        return _no_hinges()
    volumes = np.zeros(len(uniq))
    np.maximum.at(volumes, hinge_of, raw["ridge_volumes"])
    hinge_ids = np.unique(h_of_pair[big])
    renum = np.full(len(uniq), -1, dtype=np.int64)
    renum[hinge_ids] = np.arange(len(hinge_ids))
    hp = renum[h_of_pair[big]]
    indptr = np.r_[0, np.cumsum(np.bincount(hp, minlength=len(hinge_ids)))].astype(np.int64)
    keyrows = keys[np.unique(hinge_of, return_index=True)[1][hinge_ids]]
    interior = ~((keyrows >= n) & (keyrows < n + m_d)).any(axis=1)
    return Hinges(indptr, cell_of_pair[big].astype(np.int64), angles[big],
                  volumes[hinge_ids], interior)


def _ridge_hinges(batch, src, n_model, candidates, key_extra, own_source=None):
    """Hinges of a face-to-face partition from its cells' ridges.

    The ridge of a cell between its facets from sources s1 and s2 lies on the flat of those two
    rows; the hinge is identified by every source whose row (in that cell's own terms) passes
    through the flat, decided by a float span test with a wide margin and exact 3x3
    determinants for the near cases, plus `key_extra` (what stays constant around the hinge).

    batch : the cells' PolytopeBatch; src : source of each stacked input row (model sources
    0..n_model-1, domain row r as -1 - r). candidates(cells) -> (p, n_model + n_domain, d + 1)
    homogeneous rows [a, -c] of a.x <= c for every source, in each cell's terms.
    key_extra(cells, members) -> bool (p, n_bits). own_source(cells) -> int (p,), optional: a
    source that lies on every flat of the cell (its own function, for max-affine cells).
    """
    from geomcore._kernels._exact import det_sign

    n_cells = len(batch.volume)
    if batch.ndim < 2 or len(batch.ridges) == 0:
        return _no_hinges()
    owner = np.repeat(np.arange(n_cells), np.diff(batch.ridge_offsets))
    first = batch.facet_offsets[owner]
    s = src[batch.facet_index[first[:, None] + batch.ridges]]           # (n_ridges, 2)
    col = np.where(s >= 0, s, n_model - 1 - s)                          # candidate columns
    members = None
    for lo in range(0, len(owner), 2048):
        sl = slice(lo, lo + 2048)
        cand = candidates(owner[sl])
        if members is None:
            members = np.zeros((len(owner), cand.shape[1]), dtype=bool)
        p = np.arange(cand.shape[0])
        r1, r2 = cand[p, col[sl, 0]], cand[p, col[sl, 1]]
        u = r1 / np.linalg.norm(r1, axis=1)[:, None]
        v = r2 - np.einsum("pk,pk->p", r2, u)[:, None] * u
        v /= np.linalg.norm(v, axis=1)[:, None]
        norms = np.sqrt(np.square(cand).sum(axis=2))
        unit = cand / np.where(norms > 0, norms, 1)[:, :, None]
        cu = np.matmul(unit, u[:, :, None])[:, :, 0]            # batched BLAS, not einsum
        cv = np.matmul(unit, v[:, :, None])[:, :, 0]
        # a source that vanishes on the whole cell passes through every one of its flats
        near = (1.0 - cu**2 - cv**2 < 1e-12) | (norms == 0)
        near[p, col[sl, 0]] = False
        near[p, col[sl, 1]] = False
        # confirm the near ones exactly: in the span iff every 3x3 minor on two independent
        # columns of the pair, plus one more column, vanishes
        for q, h in zip(*np.nonzero(near)):
            M = np.vstack([r1[q], r2[q], cand[q, h]])
            pick = next((a, c) for a in range(M.shape[1]) for c in range(a + 1, M.shape[1])
                        if det_sign(M[:2, [a, c]]) != 0)
            near[q, h] = all(det_sign(M[:, [pick[0], pick[1], k]]) == 0
                             for k in range(M.shape[1]) if k not in pick)
        near[p, col[sl, 0]] = True
        near[p, col[sl, 1]] = True
        if own_source is not None:
            near[p, own_source(owner[sl])] = True
        members[sl] = near
    return _group_hinges(batch, owner, members, key_extra(owner, members), n_model)


def _build(model, domain, *, regions, progress, max_cells):
    return max_affine_partition(model, domain, max_cells=max_cells)


register("max-affine", lambda m: isinstance(m, MaxAffine), lambda m: m, _build)
