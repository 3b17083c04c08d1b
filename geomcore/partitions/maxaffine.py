"""Max-affine (argmax) partitions and Voronoi diagrams (SPEC 2.4) as a partition source."""

import numpy as np

from geomcore._validation import as_float_matrix, as_halfspaces
from geomcore.errors import DegenerateInputError, InvalidInputError
from geomcore.partitions._model import (
    Partition,
    _check_volume,
    _csr_positions,
    _domain_halfspaces,
    _group_hinges,
    _no_hinges,
    _walls_from_pairs,
)
from geomcore.partitions._dispatch import register
from geomcore.polytope import polytopes

__all__ = ["MaxAffine", "Voronoi"]


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
    rounded once, and the combinatorics are exact for the rounded rows (so exact for the model
    itself when the differences are exact doubles, as for integers or small dyadic data).

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

    def argmax(self, X):
        """Index of the largest function at each point (the lowest index on ties)."""
        X = as_float_matrix(np.atleast_2d(X), "X", ncols=self.ndim)
        return np.argmax(X @ self.A.T + self.b, axis=1)

    def labels_of(self, X):
        """The labels of the cells containing the points (the source protocol)."""
        return self.argmax(X)

    def __repr__(self):
        return f"{type(self).__name__}(n_functions={self.n_functions}, ndim={self.ndim})"


class Voronoi(MaxAffine):
    """Nearest-site (1-NN) cells of points: the max-affine cells of ``2 p_k . x - |p_k|^2``.

    Parameters
    ----------
    points : array_like of float, shape (n_sites, ndim)
        Distinct sites.

    Examples
    --------
    >>> Voronoi([[0, 0], [2, 0]]).argmax([[0.9, 5.0], [1.1, -5.0]]).tolist()
    [0, 1]
    """

    def __init__(self, points):
        points = as_float_matrix(points, "points")
        if points.shape[0] == 0:
            raise InvalidInputError("points must hold at least one site")
        super().__init__(2.0 * points, -np.einsum("ij,ij->i", points, points))
        self.points = points



def _max_affine_partition(model, domain, max_cells):
    """All cells of a max-affine model in one batch call; empty cells drop out exactly."""
    n, d = model.n_functions, model.ndim
    dom_A, dom_b, dom_volume = _domain_halfspaces(domain, d)
    if max_cells is not None and n > max_cells:
        raise DegenerateInputError(f"the partition may have up to {n} cells, above max_cells={max_cells}")
    k = np.repeat(np.arange(n), n - 1)
    j = np.concatenate([np.delete(np.arange(n), i) for i in range(n)]) if n > 1 else np.zeros(0, int)
    rows_A = model.A[j] - model.A[k]
    rows_b = model.b[k] - model.b[j]
    # each cell: its n - 1 comparisons, then the domain's rows (sources -1 - r)
    per = n - 1 + len(dom_b)
    A = np.empty((n * per, d))
    b = np.empty(n * per)
    src = np.empty(n * per, dtype=np.int64)
    mine = (np.arange(n * per) % per) < n - 1
    A[mine], b[mine], src[mine] = rows_A, rows_b, j
    A[~mine] = np.tile(dom_A, (n, 1))
    b[~mine] = np.tile(dom_b, n)
    src[~mine] = np.tile(-1 - np.arange(len(dom_b)), n)
    ptr = np.arange(0, n * per + 1, per, dtype=np.int64)
    probe = polytopes(A, b, ptr, measures=False, errors="ignore")
    if (probe.status > 3).any():
        bad = int(np.flatnonzero(probe.status > 3)[0])
        raise DegenerateInputError(f"the cell of function {bad} failed (status {probe.status[bad]})")
    labels = np.flatnonzero(probe.status == 0)
    pos, cptr = _csr_positions(ptr, labels)
    A, b, src = A[pos], b[pos], src[pos]
    batch = polytopes(A, b, cptr)
    _check_volume(batch, dom_volume)
    walls, boundary = _max_affine_walls(labels, batch, src, n)
    hinges = _max_affine_hinges(model, dom_A, dom_b, labels, batch, src)
    return Partition(model, domain, labels, batch, walls, hinges, boundary)



def _max_affine_walls(labels, batch, src, n):
    """Walls of a max-affine partition: cell k's facet on f_k = f_j is its wall with j."""
    n_cells = len(labels)
    owner = np.repeat(np.arange(n_cells), np.diff(batch.facet_offsets))
    source = src[batch.facet_index]
    boundary = np.bincount(owner[source < 0], weights=batch.facet_areas[source < 0],
                           minlength=n_cells)
    cell_of = np.full(n, -1, dtype=np.int64)
    cell_of[labels] = np.arange(n_cells)
    on = source >= 0
    cells, neighbours = owner[on], cell_of[source[on]]
    if (neighbours < 0).any():
        raise RuntimeError("internal error: a facet faces a function without a cell")
    return _walls_from_pairs(batch, np.flatnonzero(on), cells, neighbours), boundary


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


def _max_affine_hinges(model, dom_A, dom_b, labels, batch, src):
    """Hinges of a max-affine partition: the functions equal to f_k on a ridge's flat (and the
    domain rows through it) identify the hinge."""
    n = model.n_functions
    dom_rows = np.column_stack([dom_A, -dom_b])

    def candidates(cells):
        k = labels[cells]
        rel = np.concatenate([model.A[None] - model.A[k][:, None],
                              (model.b[None] - model.b[k][:, None])[:, :, None]], axis=2)
        return np.concatenate([rel, np.broadcast_to(dom_rows, (len(k),) + dom_rows.shape)], axis=1)

    def key_extra(cells, members):
        return np.zeros((len(cells), 0), dtype=bool)

    return _ridge_hinges(batch, src, n, candidates, key_extra, own_source=lambda c: labels[c])


def _build(model, domain, *, regions, progress, max_cells):
    return _max_affine_partition(model, domain, max_cells)


register("max-affine", lambda m: isinstance(m, MaxAffine), lambda m: m, _build)
