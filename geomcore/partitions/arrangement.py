"""Hyperplane arrangements (SPEC 2.1) as a partition source."""

import math
from fractions import Fraction

import numpy as np

from geomcore._memory import check_fits
from geomcore._progress import report
from geomcore._validation import as_float_matrix, as_halfspaces
from geomcore.errors import DegenerateInputError
from geomcore.partitions._model import (
    Partition,
    _check_volume,
    _csr_positions,
    _domain_halfspaces,
    _find_labels,
    _group_hinges,
    _no_hinges,
    Walls,
)
from geomcore.partitions._dispatch import register
from geomcore.polytope import polytopes

__all__ = ["Arrangement"]


class Arrangement:
    """Hyperplanes ``A[j] . x = b[j]``; a cell is a full-dimensional set of fixed signs.

    Sign bit ``j`` of a point is 1 where ``A[j] . x > b[j]``. Duplicated, parallel and concurrent
    hyperplanes are allowed, as are hyperplanes that miss the domain.

    Parameters
    ----------
    A : array_like of float, shape (n_hyperplanes, ndim)
        Normals; no row may be zero.
    b : array_like of float, shape (n_hyperplanes,)

    Examples
    --------
    >>> arr = Arrangement([[1, 0], [0, 1]], [0.5, 0.5])
    >>> arr.signs([[0.7, 0.2]]).tolist()
    [[True, False]]
    """

    def __init__(self, A, b):
        A, b = as_halfspaces(A, b)
        zero = np.flatnonzero(~A.any(axis=1))
        if zero.size:
            raise DegenerateInputError(
                f"A[{zero[0]}] is zero: 0 . x = b is not a hyperplane; every row of A must be non-zero"
            )
        self.A, self.b = A, b
        self.ndim = A.shape[1]
        self.n_hyperplanes = A.shape[0]

    def signs(self, X):
        """Sign vectors, bool (n_points, n_hyperplanes): True where ``A[j] . x > b[j]``."""
        X = as_float_matrix(np.atleast_2d(X), "X", ncols=self.ndim)
        return X @ self.A.T > self.b

    def labels_of(self, X):
        """The labels of the cells containing the points (the source protocol)."""
        return self.signs(X)

    def coincident_groups(self):
        """For each hyperplane, the smallest index of a hyperplane equal to it as a set (decided
        exactly: the rows ``(a, b)`` are proportional), int (n_hyperplanes,)."""
        rows = np.column_stack([self.A, self.b])
        # canonical float form: unit norm, first non-zero entry positive; equal sets are then
        # equal up to rounding, and candidates are confirmed in exact arithmetic
        first = np.argmax(rows != 0, axis=1)
        sign = np.sign(rows[np.arange(len(rows)), first])
        canon = rows * (sign / np.linalg.norm(rows, axis=1))[:, None]
        order = np.lexsort(np.round(canon, 9).T[::-1])
        group = np.arange(len(rows))
        for pos in range(1, len(order)):
            i, j = order[pos - 1], order[pos]
            if np.allclose(canon[i], canon[j], rtol=0, atol=1e-9) and _proportional(rows[i], rows[j]):
                group[j] = group[i]
        # resolve chains to the smallest index of each group
        roots = {}
        for j in order:
            roots.setdefault(group[j], []).append(j)
        out = np.arange(len(rows))
        for members in roots.values():
            out[members] = min(members)
        return out

    def __repr__(self):
        return f"Arrangement(n_hyperplanes={self.n_hyperplanes}, ndim={self.ndim})"



def _proportional(u, v):
    """Exactly whether the rows u and v (doubles) are non-zero multiples of each other."""
    u = [Fraction(float(x)) for x in u]
    v = [Fraction(float(x)) for x in v]
    k = next(i for i, x in enumerate(u) if x != 0)
    if v[k] == 0:
        return False
    ratio = v[k] / u[k]
    return all(y == ratio * x for x, y in zip(u, v))



def _walls_of(model, labels, batch, row_source):
    """Walls and boundary areas of an arrangement's cells from their facets."""
    n = labels.shape[0]
    owner = np.repeat(np.arange(n), np.diff(batch.facet_offsets))
    source = row_source[batch.facet_index]
    boundary = np.bincount(owner[source < 0], weights=batch.facet_areas[source < 0], minlength=n)
    on_plane = source >= 0
    cells, planes = owner[on_plane], source[on_plane]
    # the cell across a facet on hyperplane j differs in the signs of every hyperplane equal
    # to H_j as a set
    group = model.coincident_groups()
    flip = group[:, None] == group[None, :]                    # (m, m)
    neighbour_labels = labels[cells] ^ flip[planes]
    neighbours = _find_labels(labels, neighbour_labels)
    if (neighbours < 0).any():
        raise RuntimeError("internal error: a facet on a hyperplane has no cell across it")
    facets = np.flatnonzero(on_plane)[cells < neighbours]
    pairs = np.column_stack([cells, neighbours])[cells < neighbours]
    order = np.lexsort(pairs.T[::-1])
    walls = Walls(
        cells=pairs[order],
        areas=batch.facet_areas[facets[order]],
        normals=batch.facet_normals[facets[order]],
        centroids=batch.facet_centroids[facets[order]],
    )
    return walls, boundary


def _flat_members(rows, pair_rows):
    """For each pair of rows (i, j) of `rows` (homogeneous [a, -b]), a bool mask of the rows
    whose hyperplane contains the flat H_i & H_j: those in the span of rows i and j. A float
    test with a wide margin, then exact rank checks (3x3 determinants) for the near cases."""
    from geomcore._kernels._exact import det_sign

    unit = rows / np.linalg.norm(rows, axis=1)[:, None]
    u = unit[pair_rows[:, 0]]
    v = unit[pair_rows[:, 1]] - np.einsum("pk,pk->p", unit[pair_rows[:, 1]], u)[:, None] * u
    v /= np.linalg.norm(v, axis=1)[:, None]
    # squared distance of every unit row from the plane span(u, v); its rounding error is
    # about 1e-16, so 1e-12 (a distance of 1e-6) keeps every true member among the candidates
    members = np.empty((len(pair_rows), len(rows)), dtype=bool)
    for lo in range(0, len(pair_rows), 4096):              # bounded memory
        cu, cv = u[lo:lo + 4096] @ unit.T, v[lo:lo + 4096] @ unit.T
        members[lo:lo + 4096] = 1.0 - cu**2 - cv**2 < 1e-12
    members[np.arange(len(pair_rows)), pair_rows[:, 0]] = True
    members[np.arange(len(pair_rows)), pair_rows[:, 1]] = True
    # confirm the near ones exactly: row h is in the span iff every 3x3 minor on two columns
    # where rows i and j are independent, plus one more column, vanishes
    for p, h in zip(*np.nonzero(members)):
        i, j = pair_rows[p]
        if h in (i, j):
            continue
        M = rows[[i, j, h]]
        cols = next((a, c) for a in range(M.shape[1]) for c in range(a + 1, M.shape[1])
                    if det_sign(M[:2, [a, c]]) != 0)
        members[p, h] = all(det_sign(M[:, [cols[0], cols[1], k]]) == 0
                            for k in range(M.shape[1]) if k not in cols)
    return members


def _hinges_of(model, domain, labels, batch, row_source):
    """Hinges of an arrangement partition. A cell's ridge lies on the flat H_a & H_b of its two
    facets; the hinge is that flat's face with fixed signs on every hyperplane not containing
    it, so cells sharing (rows through the flat, those signs) meet there."""
    d, m = model.ndim, model.n_hyperplanes
    if d < 2 or len(batch.ridges) == 0:
        return _no_hinges()
    dom_A, dom_b, _ = _domain_halfspaces(domain, d)
    # every row that can carry a facet: the hyperplanes, then the domain's rows (source -1 - k)
    rows = np.vstack([np.column_stack([model.A, -model.b]), np.column_stack([dom_A, -dom_b])])
    row_of_source = lambda src: np.where(src >= 0, src, m - 1 - src)
    owner = np.repeat(np.arange(len(labels)), np.diff(batch.ridge_offsets))
    first_facet = batch.facet_offsets[owner]
    fa = row_of_source(row_source[batch.facet_index[first_facet + batch.ridges[:, 0]]])
    fb = row_of_source(row_source[batch.facet_index[first_facet + batch.ridges[:, 1]]])
    pairs = np.sort(np.column_stack([fa, fb]), axis=1)
    flats, flat_of = np.unique(pairs, axis=0, return_inverse=True)
    members = _flat_members(rows, flats)[flat_of.ravel()]      # (n_ridges, m + n_dom)
    return _group_hinges(batch, owner, members, labels[owner] & ~members[:, :m], m)



def _with_extra_row(A, b, src, ptr, cells, extra_A, extra_b, extra_src):
    """Stacked halfspaces of each listed cell followed by one extra row (per cell)."""
    pos, new_ptr = _csr_positions(ptr, cells)
    lengths = np.diff(new_ptr)
    out_ptr = np.r_[0, np.cumsum(lengths + 1)].astype(np.int64)
    total = out_ptr[-1]
    is_extra = np.zeros(total, dtype=bool)
    is_extra[out_ptr[1:] - 1] = True
    out_A = np.empty((total, A.shape[1]))
    out_b = np.empty(total)
    out_src = np.empty(total, dtype=np.int64)
    out_A[~is_extra], out_b[~is_extra], out_src[~is_extra] = A[pos], b[pos], src[pos]
    out_A[is_extra], out_b[is_extra], out_src[is_extra] = extra_A, extra_b, extra_src
    return out_A, out_b, out_src, out_ptr


class _Cells:
    """The cells of a partition under construction: halfspaces (CSR, facet rows only, with the
    source of each row), vertices (CSR) and labels (bool bits)."""

    @classmethod
    def of_domain(cls, dom_A, dom_b, n_bits):
        self = cls()
        self.A, self.b = dom_A, dom_b
        self.src = -1 - np.arange(len(dom_b), dtype=np.int64)   # domain row r as -1 - r
        self.ptr = np.array([0, len(dom_b)], dtype=np.int64)
        self.labels = np.zeros((1, n_bits), dtype=bool)
        first = polytopes(dom_A, dom_b, self.ptr, measures=False)
        self.V, self.vptr = first.vertices, first.vertex_offsets
        return self

    @property
    def n(self):
        return len(self.labels)

    def split(self, rows_a, rows_b, bit, source):
        """Split every cell i by the hyperplane rows_a[i] . x = rows_b[i] (one per cell);
        label bit `bit` is 1 on the side rows_a . x > rows_b. Rows that vanish leave the cell
        whole (bit 1 when 0 > rows_b). The cut cells are recomputed exactly, both sides in one
        batch call; the sides without interior vanish. Afterwards `parent` maps each cell to
        the one it came from, for per-cell data the caller carries along."""
        V, vptr = self.V, self.vptr
        owner = np.repeat(np.arange(self.n), np.diff(vptr))
        s = np.einsum("ij,ij->i", V, rows_a[owner]) - rows_b[owner]
        margin = 1e-9 * (np.einsum("ij,ij->i", np.abs(V), np.abs(rows_a[owner]))
                         + np.abs(rows_b[owner]))
        # vertices clearly on one side (margin far above rounding) keep the cell whole
        below = np.maximum.reduceat(s + margin, vptr[:-1]) < 0
        above = np.minimum.reduceat(s - margin, vptr[:-1]) > 0
        flat = ~rows_a.any(axis=1)
        below[flat], above[flat] = rows_b[flat] >= 0, rows_b[flat] < 0
        cut = np.flatnonzero(~below & ~above)
        self.labels[above, bit] = True
        self.parent = np.arange(self.n)
        if not cut.size:
            return
        both = np.repeat(cut, 2)
        side = np.tile([1.0, -1.0], cut.size)                # the <= side first (bit 0)
        cA, cb, csrc, cptr = _with_extra_row(self.A, self.b, self.src, self.ptr, both,
                                             side[:, None] * rows_a[both], side * rows_b[both],
                                             np.full(both.size, source))
        children = polytopes(cA, cb, cptr, measures=False, errors="ignore")
        if (children.status > 3).any():
            bad = int(children.status[children.status > 3][0])
            raise DegenerateInputError(f"a cell split by source {source} failed (status {bad})")
        keep = np.flatnonzero(children.status == 0)
        # the surviving sides, reduced to their facet rows
        fpos, fptr = _csr_positions(children.facet_offsets, keep)
        rows = children.facet_index[fpos]
        child_labels = self.labels[both[keep]].copy()
        child_labels[:, bit] = side[keep] < 0
        whole = np.flatnonzero(~np.isin(np.arange(self.n), cut))
        wpos, wptr = _csr_positions(self.ptr, whole)
        self.A = np.vstack([self.A[wpos], cA[rows]])
        self.b = np.r_[self.b[wpos], cb[rows]]
        self.src = np.r_[self.src[wpos], csrc[rows]]
        self.ptr = np.r_[wptr, wptr[-1] + fptr[1:]].astype(np.int64)
        self.labels = np.vstack([self.labels[whole], child_labels])
        self.parent = np.r_[whole, both[keep]]          # the cell each new cell came from
        wvpos, wvptr = _csr_positions(vptr, whole)
        cvpos, cvptr = _csr_positions(children.vertex_offsets, keep)
        self.V = np.vstack([V[wvpos], children.vertices[cvpos]])
        self.vptr = np.r_[wvptr, wvptr[-1] + cvptr[1:]].astype(np.int64)

    def take(self, order):
        """Reorder the cells."""
        pos, self.ptr = _csr_positions(self.ptr, order)
        self.A, self.b, self.src = self.A[pos], self.b[pos], self.src[pos]
        self.labels = self.labels[order]
        vpos, self.vptr = _csr_positions(self.vptr, order)
        self.V = self.V[vpos]


def _zaslavsky_bound(m, d):
    """Most cells m hyperplanes can cut d-space into: sum_{i <= d} C(m, i)."""
    return sum(math.comb(m, i) for i in range(min(m, d) + 1))



def _arrangement_partition(model, domain, progress, max_cells):
    d, m = model.ndim, model.n_hyperplanes
    dom_A, dom_b, dom_volume = _domain_halfspaces(domain, d)

    cells = _Cells.of_domain(dom_A, dom_b, m)
    for j in range(m):
        cells.split(np.broadcast_to(model.A[j], (cells.n, d)), np.full(cells.n, model.b[j]), j, j)
        if max_cells is not None and cells.n > max_cells:
            raise DegenerateInputError(
                f"the partition exceeds max_cells={max_cells} after {j + 1} of {m} "
                f"hyperplanes ({cells.n} cells; up to {_zaslavsky_bound(m, d)} in all)"
            )
        check_fits(cells.n, f"after {j + 1} of {m} hyperplanes", _zaslavsky_bound(m, d))
        if progress:
            report(j + 1, m, "hyperplane", cells.n)
    # canonical order: labels as binary numbers, hyperplane 0 the lowest bit
    cells.take(np.lexsort(cells.labels.T) if m else np.arange(cells.n))
    labels, src = cells.labels, cells.src
    batch = polytopes(cells.A, cells.b, cells.ptr)
    _check_volume(batch, dom_volume)
    walls, boundary = _walls_of(model, labels, batch, src)
    hinges = _hinges_of(model, domain, labels, batch, src)
    return Partition(model, domain, labels, batch, walls, hinges, boundary)


def _build(model, domain, *, regions, progress, max_cells):
    return _arrangement_partition(model, domain, progress, max_cells)


register("arrangement", lambda m: isinstance(m, Arrangement), lambda m: m, _build)
