"""Partitions of a bounded domain into convex cells: exact enumeration and the wall table.

Sources: hyperplane :class:`Arrangement` (SPEC 2.1), :class:`MaxAffine` and :class:`Voronoi`
(SPEC 2.4) here, networks in ``_network_partition``, trees in ``_tree_partition`` and user
cells in ``_cell_list``, in a :class:`Box` or polytope domain. Arrangement cells are found by
splitting: every cell a hyperplane may cut is recomputed as two polytopes in one batch call of
the exact kernel, and the sides without interior vanish, so which cells exist is decided exactly.
Max-affine cells are all computed in one batch call. All bookkeeping is vectorised over CSR
arrays; there is no Python work per cell.
"""

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from geomcore._memory import check_fits
from geomcore._progress import report
from geomcore._validation import as_float_matrix, as_float_vector, as_halfspaces
from geomcore.errors import DegenerateInputError, InvalidInputError
from geomcore.polytope import Polytope, polytopes

__all__ = ["Box", "Arrangement", "MaxAffine", "Voronoi", "Walls", "Hinges", "Partition",
           "partition"]


# ---------------------------------------------------------------------------------------------
# domains and sources


class Box:
    """The axis box ``[lo, hi]`` (the default domain kind).

    Parameters
    ----------
    lo, hi : array_like of float, shape (ndim,)
        Corners, with ``lo < hi`` in every coordinate.

    Examples
    --------
    >>> Box([0, 0], [1, 2]).volume
    2.0
    """

    def __init__(self, lo, hi):
        lo = as_float_vector(lo, "lo")
        hi = as_float_vector(hi, "hi", size=lo.size)
        if lo.size == 0:
            raise InvalidInputError("lo and hi must have at least one coordinate")
        if not (lo < hi).all():
            k = int(np.argmin(hi - lo))
            raise DegenerateInputError(
                f"Box needs lo < hi in every coordinate; got lo[{k}]={lo[k]} >= hi[{k}]={hi[k]}"
            )
        self.lo, self.hi = lo, hi
        self.ndim = lo.size

    @property
    def volume(self):
        return float(np.prod(self.hi - self.lo))

    def halfspaces(self):
        """``(A, b)`` of the box: rows ``x_k <= hi_k`` then ``-x_k <= -lo_k``."""
        eye = np.eye(self.ndim)
        return np.vstack([eye, -eye]), np.r_[self.hi, -self.lo]

    def __repr__(self):
        return f"Box(lo={self.lo.tolist()}, hi={self.hi.tolist()})"


def _domain_halfspaces(domain, ndim):
    """(A, b, volume) of a Box or Polytope domain of dimension ndim."""
    if isinstance(domain, Box):
        A, b = domain.halfspaces()
        volume = domain.volume
    elif isinstance(domain, Polytope):
        A, b, volume = np.asarray(domain.A), np.asarray(domain.b), domain.volume
    else:
        raise InvalidInputError(
            f"domain must be a geomcore.Box or geomcore.Polytope; got {type(domain).__name__}"
        )
    if A.shape[1] != ndim:
        raise InvalidInputError(f"domain must have ndim={ndim} like the model; got ndim={A.shape[1]}")
    return np.ascontiguousarray(A, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64), volume


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


def _proportional(u, v):
    """Exactly whether the rows u and v (doubles) are non-zero multiples of each other."""
    u = [Fraction(float(x)) for x in u]
    v = [Fraction(float(x)) for x in v]
    k = next(i for i, x in enumerate(u) if x != 0)
    if v[k] == 0:
        return False
    ratio = v[k] / u[k]
    return all(y == ratio * x for x, y in zip(u, v))


# ---------------------------------------------------------------------------------------------
# the partition


@dataclass(frozen=True)
class Hinges:
    """(ndim-2)-dimensional faces where three or more cells meet (CSR over hinges).

    Attributes
    ----------
    indptr : ndarray of int64, shape (n_hinges + 1,)
    indices : ndarray of int64, shape (nnz,)
        The cells around each hinge, increasing.
    angles : ndarray, shape (nnz,)
        Each cell's interior dihedral angle at the hinge, aligned with ``indices``.
    volumes : ndarray, shape (n_hinges,)
        (ndim-2)-volumes; 1.0 in 2-D.
    interior : ndarray of bool, shape (n_hinges,)
        False for hinges on the domain's boundary.
    """

    indptr: np.ndarray
    indices: np.ndarray
    angles: np.ndarray
    volumes: np.ndarray
    interior: np.ndarray

    def __len__(self):
        return self.volumes.shape[0]


@dataclass(frozen=True)
class Walls:
    """(ndim-1)-dimensional intersections of two cells.

    Attributes
    ----------
    cells : ndarray of int64, shape (n_walls, 2)
        With ``cells[:, 0] < cells[:, 1]``, rows in lexicographic order.
    areas : ndarray, shape (n_walls,)
    normals : ndarray, shape (n_walls, ndim)
        Unit, pointing from ``cells[:, 0]`` into ``cells[:, 1]``.
    centroids : ndarray, shape (n_walls, ndim)
    """

    cells: np.ndarray
    areas: np.ndarray
    normals: np.ndarray
    centroids: np.ndarray

    def __len__(self):
        return self.cells.shape[0]


class Partition:
    """Cells of a model's partition of a bounded domain, with their walls.

    Built by :func:`partition`. Arrangement cells are ordered by their labels read as binary
    numbers with hyperplane 0 the lowest bit (SPEC section 14: 00, 10, 01, 11); max-affine and
    Voronoi cells by function or site index.

    Attributes
    ----------
    ndim, n_cells : int
    domain : Box or Polytope
    labels : ndarray
        Arrangements: bool (n_cells, n_hyperplanes) sign vectors (bit j: ``A[j] . x > b[j]``
        inside the cell). Networks: bool (n_cells, n_neurons) activation patterns. Trees: int
        (n_cells, n_trees) leaf node ids, as the estimator's ``apply`` gives them. MaxAffine
        and Voronoi: int (n_cells,), the function or site index. Cell lists: int (n_cells,),
        the index in the list.
    volumes : ndarray, shape (n_cells,)
    centroids : ndarray, shape (n_cells, ndim)
    walls : Walls
    hinges : Hinges
        In an arrangement cells meet face to face, so every angle is below pi.
    boundary_areas : ndarray, shape (n_cells,)
        (ndim-1)-volume of each cell's intersection with the domain's boundary.
    exact_volumes : list of fractions.Fraction, or None
        The volumes in rational arithmetic, with ``partition(..., exact=True)``.
    classes : ndarray of int64, shape (n_cells,), or None
        With ``regions="decision"``: each cell's predicted class (its linear region cut by the
        argmax of the outputs); cells are then ordered by pattern, then class.
    """

    def __init__(self, model, domain, labels, batch, walls, hinges, boundary_areas, classes=None,
                 volumes=None, centroids=None):
        self.model = model
        self.classes = classes
        self.domain = domain
        self.ndim = model.ndim
        self.labels = labels
        self.n_cells = labels.shape[0]
        # batch: the cells' PolytopeBatch, or a function making it when first needed (tree
        # cells are boxes, measured without the kernel)
        self._batch_or_maker = batch
        self.volumes = batch.volume if volumes is None else volumes
        self.centroids = batch.centroid if centroids is None else centroids
        self.walls, self.hinges, self.boundary_areas = walls, hinges, boundary_areas
        self.exact_volumes = None

    def _measure_exactly(self):
        """Recompute every cell in rational arithmetic (partition(..., exact=True))."""
        floating = self._batch
        exact = polytopes(floating._A, floating._b, floating.row_offsets, exact=True)
        if not np.array_equal(np.diff(exact.vertex_offsets), np.diff(floating.vertex_offsets)):
            raise RuntimeError("internal error: the exact and floating cells differ in vertices")
        self._batch_or_maker = exact
        self.volumes, self.centroids = exact.volume, exact.centroid
        self.exact_volumes = [Fraction(int(v.numerator), int(v.denominator))
                              for v in exact._raw["exact_volume"]]

    @property
    def _batch(self):
        if callable(self._batch_or_maker):
            self._batch_or_maker = self._batch_or_maker()
        return self._batch_or_maker

    def cell(self, i):
        """Cell ``i`` as a :class:`Polytope`."""
        return self._batch[i]

    def locate(self, X):
        """Index of the cell containing each point, int (n_points,); -1 outside the domain.

        A point on a hyperplane gets the cell on its ``A x <= b`` side when that cell exists.
        """
        X = as_float_matrix(np.atleast_2d(X), "X", ncols=self.ndim)
        dom_A, dom_b, _ = _domain_halfspaces(self.domain, self.ndim)
        inside = (X @ dom_A.T <= dom_b + 1e-12 * (1 + np.abs(dom_b))).all(axis=1)
        if isinstance(self.model, Arrangement):
            found = _find_labels(self.labels, self.model.signs(X))
        elif hasattr(self.model, "leaves"):
            found = _find_labels(self.labels, self.model.leaves(X))
        elif hasattr(self.model, "containing"):
            found = self.model.containing(X)
        elif self.classes is not None:
            n_classes = int(self.classes.max()) + 1 if self.n_cells else 1
            found = _find_labels(_with_class_bits(self.labels, self.classes, n_classes),
                                 _with_class_bits(self.model.patterns(X), self.model.classes(X),
                                                  n_classes))
        elif hasattr(self.model, "patterns"):
            found = _find_labels(self.labels, self.model.patterns(X))
        else:
            cell_of = np.full(self.model.n_functions, -1, dtype=np.int64)
            cell_of[self.labels] = np.arange(self.n_cells)
            found = cell_of[self.model.argmax(X)]
        found[~inside] = -1
        return found

    def __repr__(self):
        return f"Partition(n_cells={self.n_cells}, n_walls={len(self.walls)}, ndim={self.ndim})"


def _with_class_bits(labels, classes, n_classes):
    """Labels with a one-hot class appended: the key of a decision region."""
    return np.hstack([labels, np.eye(max(n_classes, int(classes.max(initial=0)) + 1),
                                     dtype=bool)[classes]])


def _label_keys(labels):
    """Rows of a label matrix as sortable void scalars (bool rows as packed bits, hyperplane 0
    first; int rows as their bytes)."""
    if labels.dtype != bool:
        rows = np.ascontiguousarray(labels, dtype=np.int64)
        return rows.view(np.dtype((np.void, 8 * rows.shape[1]))).ravel()
    packed = np.packbits(labels, axis=1, bitorder="little")
    packed = np.ascontiguousarray(packed)
    return packed.view(np.dtype((np.void, packed.shape[1]))).ravel()


def _find_labels(labels, queries):
    """Index of each query row among the rows of labels (all distinct), or -1."""
    keys, wanted = _label_keys(labels), _label_keys(queries)
    order = np.argsort(keys)
    pos = np.searchsorted(keys[order], wanted)
    pos = np.minimum(pos, len(keys) - 1)
    hit = keys[order][pos] == wanted
    return np.where(hit, order[pos], -1).astype(np.int64)


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


def _group_hinges(batch, owner, members, extra, n_model):
    """Hinges from the ridges of the cells: ridges with equal (members, extra) rows are one
    hinge (members: the sources through the ridge's flat, model sources first, then domain
    rows; extra: what stays constant around it); only faces of three or more cells count."""
    keys = _label_keys(np.hstack([members, extra]))
    _, hinge_of, counts = np.unique(keys, return_inverse=True, return_counts=True)
    hinge_of = hinge_of.ravel()
    big = counts[hinge_of] >= 3
    if not big.any():
        return _no_hinges()
    order = np.lexsort((owner[big], hinge_of[big]))
    ids, cells = hinge_of[big][order], owner[big][order]
    starts = np.r_[0, np.flatnonzero(np.diff(ids)) + 1]
    interior = ~members[big][order][starts, n_model:].any(axis=1)
    return Hinges(np.r_[starts, len(ids)].astype(np.int64), cells.astype(np.int64),
                  batch.dihedral_angles[big][order], batch.ridge_volumes[big][order][starts],
                  interior)


def _no_hinges():
    return Hinges(np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0),
                  np.zeros(0, bool))


# ---------------------------------------------------------------------------------------------
# enumeration


def _csr_positions(ptr, cells):
    """Positions in a CSR array of the rows of `cells`, and the new row pointer."""
    lengths = ptr[cells + 1] - ptr[cells]
    new_ptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    positions = np.arange(new_ptr[-1]) - np.repeat(new_ptr[:-1] - ptr[cells], lengths)
    return positions.astype(np.int64), new_ptr


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


def partition(model, domain=None, *, regions="linear", exact="auto", progress=False,
              max_cells=None):
    """Every cell of the partition a model induces on a bounded domain, exactly.

    Parameters
    ----------
    model : Arrangement, ReLUNetwork, MaxAffine, Voronoi, torch or scikit-learn model, or list
        The partition source: a torch ``nn.Sequential`` or a fitted scikit-learn MLP is read
        through :meth:`ReLUNetwork.from_torch` / :meth:`ReLUNetwork.from_sklearn`; a fitted
        scikit-learn decision tree, extra tree, random forest, extra trees or gradient
        boosting model gives the common refinement of its leaves (labels: int (n_cells,
        n_trees) leaf ids as ``apply`` gives them, gradient boosting's trees stage-major); a
        list of :class:`Polytope` is checked to partition the domain (labels: list index).
    domain : Box or Polytope
        Required: these models define none. Trees need a Box.
    regions : {"linear", "decision"}
        "decision" (networks only) cuts every linear region by the argmax of the outputs (a
        single output is a binary logit: class 1 where it is positive) and sets
        ``Partition.classes``.
    exact : "auto" or bool
        Combinatorics are always exact; measures are floating point ("auto", False). True
        also computes every cell in rational arithmetic (brute force over the cells' facets,
        for small partitions): ``Partition.exact_volumes`` holds the volumes as
        ``fractions.Fraction`` (they sum to the domain's volume exactly), and ``volumes``,
        ``centroids`` and ``cell(i)`` are the correctly rounded rationals. Wall areas and
        angles stay floating point.
    progress : bool
        Print one line per hyperplane (arrangements), hidden layer (networks) or tree to
        stderr.
    max_cells : int, optional
        Stop with an error once the partition would exceed this many cells. Independently,
        :class:`~geomcore.TooLargeError` stops an enumeration whose cells would not fit in
        the available memory.

    Returns
    -------
    Partition

    Notes
    -----
    Hyperplane j splits the cells whose vertices it does not clearly avoid (a float test with a
    wide margin); each such cell is recomputed as its two sides by one batch call of the exact
    polytope kernel, keeping only sides with interior and only their facet rows. Cost: one
    kernel evaluation per (cut cell, side) pair. Memory before an enumeration is bounded by
    Zaslavsky's count ``sum_{i<=d} C(m, i)``, which ``max_cells`` errors quote.

    Examples
    --------
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.3, 0.6]), Box([0, 0], [1, 1]))
    >>> part.volumes.round(12).tolist()
    [0.18, 0.42, 0.12, 0.28]
    >>> part.walls.cells.tolist(), part.walls.areas.round(12).tolist()
    ([[0, 1], [0, 2], [1, 3], [2, 3]], [0.6, 0.3, 0.7, 0.4])

    Cells that do not meet face to face (a T-junction), given as a list:

    >>> import numpy as np
    >>> box = lambda lo, hi: Polytope(np.vstack([np.eye(2), -np.eye(2)]), np.r_[hi, -np.r_[lo]])
    >>> part = partition([box([0, 0], [0.5, 1]), box([0.5, 0], [1, 0.25]),
    ...                   box([0.5, 0.25], [1, 1])], Box([0, 0], [1, 1]))
    >>> part.walls.cells.tolist(), part.walls.areas.tolist()
    ([[0, 1], [0, 2], [1, 2]], [0.25, 0.75, 0.5])
    >>> (part.hinges.angles / np.pi).tolist()     # the whole box has a straight angle
    [1.0, 0.5, 0.5]
    """
    from geomcore._cell_list import CellList, cell_list_partition
    from geomcore._tree_partition import TreeEnsemble, is_tree_model, tree_partition
    from geomcore.networks import ReLUNetwork

    if isinstance(model, (list, tuple)):
        model = CellList(model)
    if hasattr(model, "coefs_") and hasattr(model, "intercepts_"):
        model = ReLUNetwork.from_sklearn(model)
    elif type(model).__module__.startswith("torch"):
        model = ReLUNetwork.from_torch(model)
    elif is_tree_model(model) and not isinstance(model, TreeEnsemble):
        model = TreeEnsemble(model)
    if not isinstance(model, (Arrangement, MaxAffine, ReLUNetwork, TreeEnsemble, CellList)):
        raise InvalidInputError(
            f"model must be a geomcore.Arrangement, MaxAffine, Voronoi or ReLUNetwork, a torch "
            f"or scikit-learn network, a scikit-learn tree model or a list of Polytope cells; "
            f"got {type(model).__name__}"
        )
    if regions not in ("linear", "decision"):
        raise InvalidInputError(f'regions must be "linear" or "decision"; got {regions!r}')
    if regions == "decision" and not isinstance(model, ReLUNetwork):
        raise InvalidInputError(
            f'regions="decision" needs a network; a {type(model).__name__} has no outputs to cut by')
    if exact not in ("auto", True, False):
        raise InvalidInputError(f'exact must be "auto", True or False; got {exact!r}')
    if domain is None:
        raise InvalidInputError(
            f"domain is required: a {type(model).__name__} defines no domain (pass a Box)")
    if max_cells is not None and (not isinstance(max_cells, (int, np.integer)) or max_cells < 1):
        raise InvalidInputError(f"max_cells must be a positive int; got {max_cells!r}")
    if isinstance(model, TreeEnsemble):
        part = tree_partition(model, domain, progress, max_cells)
    elif isinstance(model, CellList):
        part = cell_list_partition(model, domain, progress, max_cells)
    elif isinstance(model, MaxAffine):
        part = _max_affine_partition(model, domain, max_cells)
    elif isinstance(model, ReLUNetwork):
        from geomcore._network_partition import network_partition

        part = network_partition(model, domain, progress, max_cells, regions == "decision")
    else:
        part = _arrangement_partition(model, domain, progress, max_cells)
    if exact is True:
        part._measure_exactly()
    return part


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


def _walls_from_pairs(batch, facets, cells, neighbours):
    """The wall table from facets (stacked facet indices) of `cells` facing `neighbours`: each
    wall once, from its lower cell, whose outward facet normal points into the other."""
    keep = cells < neighbours
    pairs = np.column_stack([cells, neighbours])[keep]
    facets = facets[keep]
    order = np.lexsort(pairs.T[::-1])
    return Walls(pairs[order], batch.facet_areas[facets[order]],
                 batch.facet_normals[facets[order]], batch.facet_centroids[facets[order]])


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


def _check_volume(batch, dom_volume):
    total = float(batch.volume.sum())
    if not math.isclose(total, dom_volume, rel_tol=1e-8):
        raise RuntimeError(f"internal error: cell volumes sum to {total}, domain has {dom_volume}")
