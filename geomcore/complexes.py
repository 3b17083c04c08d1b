"""Simplicial complexes on the cells of a partition (SPEC section 5).

:func:`nerve` gives a simplex for every set of cells with a common point; :func:`adjacency_complex`
keeps only the simplices whose cells meet in faces of the generic dimension. Both return a
:class:`SimplicialComplex`: sorted simplices, oriented boundary matrices and exact Betti numbers.
Everything is built by array operations over the partition's wall, hinge and vertex tables.
"""

import numbers
from itertools import combinations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from geomcore.errors import InvalidInputError

__all__ = ["SimplicialComplex", "nerve", "adjacency_complex"]

#: the prime field of the exact ranks (a Mersenne prime: products of two residues fit in 62 bits)
PRIME = 2**31 - 1


# ---------------------------------------------------------------------------------------------
# sorted rows of cell indices


def _keys(rows, n):
    """Keys of int rows with entries in [0, n) whose order is the rows' lexicographic order:
    int64 mixed-radix numbers when n ** width fits, else big-endian bytes (void scalars)."""
    rows = np.asarray(rows, dtype=np.int64)
    width = rows.shape[1]
    if width == 0:
        return np.zeros(len(rows), np.int64)
    if max(n, 2) ** width < 2**62:
        key = rows[:, 0].copy()
        for j in range(1, width):
            key *= n
            key += rows[:, j]
        return key
    big = np.ascontiguousarray(rows.astype(">i8"))
    return big.view(np.dtype((np.void, 8 * width))).ravel()


def _unique_rows(rows, n):
    """The distinct rows, in lexicographic order."""
    if len(rows) == 0:
        return rows.reshape(0, rows.shape[1])
    _, first = np.unique(_keys(rows, n), return_index=True)
    return rows[first]


def _lookup(table_keys, rows, n):
    """Position of each row among the sorted rows with keys table_keys, or -1 if absent."""
    if len(rows) == 0:
        return np.zeros(0, np.int64)
    keys = _keys(rows, n)
    if len(table_keys) == 0:
        return np.full(len(rows), -1, np.int64)
    pos = np.searchsorted(table_keys, keys)
    pos = np.minimum(pos, len(table_keys) - 1)
    return np.where(table_keys[pos] == keys, pos, -1).astype(np.int64)


def _subsets(ptr, idx, size, weights=None):
    """Every ``size``-subset of every set of a CSR table (each set increasing), as rows, and
    the weight of its set when weights (one per set) are given. One vectorised step per set
    size."""
    lengths = np.diff(ptr)
    out, wout = [np.zeros((0, size), np.int64)], [np.zeros(0)]
    for s in np.unique(lengths[lengths >= size]):
        sets = np.flatnonzero(lengths == s)
        members = idx[ptr[sets][:, None] + np.arange(s)]
        comb = np.array(list(combinations(range(int(s)), size)), dtype=np.int64).reshape(-1, size)
        out.append(members[:, comb].reshape(-1, size))
        if weights is not None:
            wout.append(np.repeat(weights[sets], len(comb)))
    rows = np.concatenate(out).astype(np.int64)
    return (rows, np.concatenate(wout)) if weights is not None else rows


def _check_degree(k, max_dim, name="k", top=None):
    top = max_dim if top is None else top
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) or not 0 <= k <= top:
        raise InvalidInputError(
            f"{name} must be an integer degree in 0..{top} (the complex has max_dim={max_dim}); "
            f"got {k!r}")
    return int(k)


def _check_max_dim(max_dim):
    if max_dim is None:
        return None
    if isinstance(max_dim, (bool, np.bool_)) or not isinstance(max_dim, numbers.Integral) \
            or max_dim < 0:
        raise InvalidInputError(f"max_dim must be a non-negative int or None; got {max_dim!r}")
    return int(max_dim)


# ---------------------------------------------------------------------------------------------
# the complex


class SimplicialComplex:
    """A simplicial complex on vertices ``0..n_vertices-1`` (the cells of a partition).

    Parameters
    ----------
    simplices : sequence of array_like of int
        ``simplices[k]`` of shape ``(n_k, k + 1)``: the k-simplices, each row strictly
        increasing, rows in lexicographic order, closed under taking faces.
        ``simplices[0]`` must be ``0..n_vertices-1`` as a column.
    degenerate : sequence of array_like of bool, optional
        Per degree, the simplices whose cells meet in a set of lower dimension than generic
        (see :func:`nerve`); default none.

    Attributes
    ----------
    max_dim : int
        The largest degree held (some degrees may be empty).
    truncated : bool
        True when the complex was cut at ``max_dim`` and simplices of higher degree exist (a
        nerve or adjacency complex of a partition with a contact of more than
        ``max_dim + 1`` cells): then :meth:`betti_numbers` certifies degrees below
        ``max_dim`` only.
    n_vertices : int
    f_vector : tuple of int
        ``(n_0, ..., n_max_dim)``.

    See Also
    --------
    nerve, adjacency_complex, SimplicialComplex.from_simplices

    Examples
    --------
    The boundary of a triangle: one component, one hole.

    >>> cx = SimplicialComplex.from_simplices([[0, 1], [1, 2], [0, 2]])
    >>> cx.f_vector, cx.betti_numbers()
    ((3, 3), (1, 1))
    >>> cx.boundary_matrix(1).toarray().tolist()
    [[-1, -1, 0], [1, 0, -1], [0, 1, 1]]
    """

    def __init__(self, simplices, *, degenerate=None):
        if isinstance(simplices, np.ndarray) or not len(simplices):
            raise InvalidInputError(
                "simplices must be a non-empty sequence of per-degree arrays (n_k, k + 1); got "
                f"{type(simplices).__name__}")
        rows = []
        for k, s in enumerate(simplices):
            arr = np.asarray(s)
            if arr.size == 0:
                arr = arr.reshape(0, k + 1)
            if arr.ndim != 2 or arr.shape[1] != k + 1 or not (
                    np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
                raise InvalidInputError(
                    f"simplices[{k}] must be an int array of shape (n_{k}, {k + 1}); got shape "
                    f"{arr.shape} and dtype {arr.dtype}")
            arr = np.ascontiguousarray(arr, dtype=np.int64)
            if k and len(arr) and (np.diff(arr, axis=1) <= 0).any():
                bad = int(np.flatnonzero((np.diff(arr, axis=1) <= 0).any(axis=1))[0])
                raise InvalidInputError(
                    f"simplices[{k}] rows must be strictly increasing; row {bad} is "
                    f"{arr[bad].tolist()}")
            rows.append(arr)
        n = len(rows[0])
        if not np.array_equal(rows[0][:, 0], np.arange(n)):
            raise InvalidInputError("simplices[0] must be the column 0..n_vertices-1")
        for k, arr in enumerate(rows[1:], 1):
            if len(arr) and (arr.min() < 0 or arr.max() >= n):
                raise InvalidInputError(
                    f"simplices[{k}] must hold vertex indices in 0..{n - 1}; got "
                    f"{arr.min()}..{arr.max()}")
            keys = _keys(arr, n)
            if len(keys) > 1 and not (keys[1:] > keys[:-1]).all():
                raise InvalidInputError(
                    f"simplices[{k}] rows must be distinct and in lexicographic order")
        self._init(rows, degenerate)
        for k in range(1, self.max_dim + 1):
            faces = self._faces(k)
            if (faces < 0).any():
                q, i = np.argwhere(faces < 0)[0]
                raise InvalidInputError(
                    f"simplices must be closed under faces: the face {np.delete(rows[k][q], i).tolist()}"
                    f" of {rows[k][q].tolist()} is not in simplices[{k - 1}]")

    def _init(self, rows, degenerate=None):
        self._rows = rows
        self.n_vertices = len(rows[0])
        self.max_dim = len(rows) - 1
        self._table_keys = [_keys(r, self.n_vertices) for r in rows]
        self._face_cache, self._boundary_cache = {}, {}
        if degenerate is None:
            self._degenerate = [np.zeros(len(r), bool) for r in rows]
        else:
            if len(degenerate) != len(rows):
                raise InvalidInputError(
                    f"degenerate must have one mask per degree ({len(rows)}); got {len(degenerate)}")
            self._degenerate = []
            for k, (mask, r) in enumerate(zip(degenerate, rows)):
                mask = np.asarray(mask, dtype=bool).ravel()
                if mask.shape != (len(r),):
                    raise InvalidInputError(
                        f"degenerate[{k}] must have shape ({len(r)},); got {mask.shape}")
                self._degenerate.append(mask)
        self.kind = None
        self.truncated = False
        self._partition = None
        self._measures = None

    @classmethod
    def _trusted(cls, rows, degenerate=None):
        self = cls.__new__(cls)
        self._init(rows, degenerate)
        return self

    @classmethod
    def from_simplices(cls, simplices, *, n_vertices=None, max_dim=None):
        """The smallest complex containing the given simplices (all their faces added).

        Parameters
        ----------
        simplices : sequence of sequences of int, or array_like of int, shape (n, k + 1)
            Vertex sets, in any order, of any sizes.
        n_vertices : int, optional
            Default: one more than the largest index.
        max_dim : int, optional
            Keep faces up to this degree (default: the largest simplex given).

        Returns
        -------
        SimplicialComplex

        Examples
        --------
        >>> SimplicialComplex.from_simplices([[0, 1, 2, 3]], max_dim=2).f_vector
        (4, 6, 4)
        """
        if isinstance(simplices, np.ndarray) and simplices.ndim == 2:
            sets = [np.asarray(simplices, dtype=np.int64)]
        else:
            sets = [np.asarray(sorted({int(v) for v in s}), dtype=np.int64)
                    for s in simplices]
            sizes = sorted({len(s) for s in sets})
            sets = [np.array([s for s in sets if len(s) == m], dtype=np.int64).reshape(-1, m)
                    for m in sizes]
        sets = [np.sort(s, axis=1) for s in sets if s.size]
        top = max((s.shape[1] for s in sets), default=1) - 1
        largest = max((int(s.max()) for s in sets), default=-1)
        if any(s.min() < 0 for s in sets):
            raise InvalidInputError("simplices must hold non-negative vertex indices")
        n = largest + 1 if n_vertices is None else int(n_vertices)
        if n <= largest:
            raise InvalidInputError(f"n_vertices must exceed the largest index {largest}; got {n}")
        md = top if max_dim is None else _check_max_dim(max_dim)
        # one CSR table of all sets, grouped by size
        flat = np.concatenate([s.ravel() for s in sets]) if sets else np.zeros(0, np.int64)
        sizes = np.concatenate([np.full(len(s), s.shape[1]) for s in sets]) if sets else \
            np.zeros(0, np.int64)
        ptr = np.r_[0, np.cumsum(sizes)].astype(np.int64)
        rows = [np.arange(n, dtype=np.int64)[:, None]]
        for k in range(1, md + 1):
            rows.append(_unique_rows(_subsets(ptr, flat, k + 1), n))
        return cls._trusted(rows)

    # -- simplices ---------------------------------------------------------------------------

    def simplices(self, k):
        """The k-simplices, int64 (n_k, k + 1): rows increasing, in lexicographic order."""
        return self._rows[_check_degree(k, self.max_dim)]

    @property
    def f_vector(self):
        return tuple(len(r) for r in self._rows)

    def degenerate(self, k):
        """bool (n_k,): simplices whose cells meet in a set whose dimension is not the generic
        ``ndim - k`` (lower for ``k <= 2``; always for ``k > ndim``), so they carry no
        ``(ndim - k)``-volume. All False for a complex built from simplices alone."""
        return self._degenerate[_check_degree(k, self.max_dim)]

    def _faces(self, k):
        """(n_k, k + 1): index in simplices(k - 1) of the face without vertex i (-1 if absent)."""
        if k == 1 and 1 not in self._face_cache:        # the vertices are 0..n-1 themselves
            self._face_cache[1] = np.ascontiguousarray(self._rows[1][:, ::-1])
        if k not in self._face_cache:
            rows = self._rows[k]
            cols = [np.delete(np.arange(k + 1), i) for i in range(k + 1)]
            faces = np.empty((len(rows), k + 1), np.int64)
            for i, c in enumerate(cols):
                faces[:, i] = _lookup(self._table_keys[k - 1], rows[:, c], self.n_vertices)
            self._face_cache[k] = faces
        return self._face_cache[k]

    def boundary_matrix(self, k):
        """The oriented boundary map from k-chains to (k-1)-chains (SPEC 5).

        ``d[v0..vk] = sum_i (-1)^i [v0..^vi..vk]``, so ``B_k @ B_{k+1} == 0``.

        Parameters
        ----------
        k : int
            In ``0..max_dim + 1``; ``B_0`` (shape ``(0, n_0)``) and ``B_{max_dim+1}``
            (shape ``(n_max_dim, 0)``) are empty.

        Returns
        -------
        scipy.sparse.csr_array of int64, shape (n_{k-1}, n_k)

        Examples
        --------
        >>> cx = SimplicialComplex.from_simplices([[0, 1, 2]])
        >>> cx.boundary_matrix(2).toarray().ravel().tolist()
        [1, -1, 1]
        """
        k = _check_degree(k, self.max_dim, top=self.max_dim + 1)
        if k not in self._boundary_cache:
            if k == 0:
                B = sparse.csr_array((0, len(self._rows[0])), dtype=np.int64)
            elif k == self.max_dim + 1:
                B = sparse.csr_array((len(self._rows[-1]), 0), dtype=np.int64)
            else:
                faces = self._faces(k)
                n_k = len(faces)
                signs = np.where(np.arange(k + 1) % 2 == 0, 1, -1)
                # column j holds the faces of simplex j: CSC as it stands, then one O(nnz)
                # conversion (which also sorts the indices)
                B = sparse.csc_array(
                    (np.tile(signs, n_k), faces.ravel(), np.arange(0, n_k * (k + 1) + 1, k + 1)),
                    shape=(len(self._rows[k - 1]), n_k)).tocsr()
            self._boundary_cache[k] = B
        return self._boundary_cache[k]

    # -- homology ----------------------------------------------------------------------------

    def betti_numbers(self, *, skeleton=False):
        """Exact Betti numbers of the complex, in the degrees it certifies.

        ``b_k = n_k - rank B_k - rank B_{k+1}``. ``H_k`` depends only on the simplices of
        degree ``k + 1`` and below, so a nerve or adjacency complex cut at ``max_dim`` below
        its full dimension (``truncated``) certifies ``b_0 .. b_{max_dim - 1}`` only: its top
        degree would also count the cycles that the left-out higher simplices fill (four cells
        around a point give a tetrahedron whose 2-skeleton is a sphere, ``b_2 = 1``). Such a
        complex returns ``max_dim`` numbers; a complete one (``truncated`` False: built with
        ``max_dim=None``, or no simplex above ``max_dim`` exists, or from explicit simplices)
        returns all ``max_dim + 1``.

        Parameters
        ----------
        skeleton : bool, optional
            True: the homology of the complex as held, every degree ``0 .. max_dim`` with
            ``B_{max_dim+1} = 0`` (the top degree of a truncated complex included). Default
            False.

        Returns
        -------
        tuple of int
            ``(b_0, ..., b_top)``, ``top = max_dim - 1`` for a truncated complex (unless
            ``skeleton``), else ``max_dim``.

        Notes
        -----
        Ranks are exact over the prime field ``Z/p``, ``p = 2**31 - 1`` (equal to the rational
        ranks unless the homology has p-torsion): ``rank B_1`` from the connected components
        of the 1-skeleton, higher ranks by sparse column reduction (the persistent-homology
        "low" pivot rule, columns that are pivots of the degree above skipped). Never a
        floating-point rank.

        Examples
        --------
        A complex given by its simplices is complete: the hollow tetrahedron is a sphere.

        >>> SimplicialComplex.from_simplices([[0, 1, 2, 3]], max_dim=2).betti_numbers()
        (1, 0, 1)

        Two crossing lines: four cells around one point. The default nerve (``max_dim=2``)
        leaves out the tetrahedron, so it certifies ``b_0, b_1`` only.

        >>> from geomcore import Arrangement, Box, partition
        >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.5]), Box([0, 0], [1, 1]))
        >>> cx = nerve(part)
        >>> cx.truncated, cx.betti_numbers(), cx.betti_numbers(skeleton=True)
        (True, (1, 0), (1, 0, 1))
        >>> nerve(part, max_dim=None).betti_numbers()
        (1, 0, 0, 0)
        """
        md = self.max_dim
        ranks = [0] * (md + 2)
        cleared = None
        for k in range(md, 1, -1):
            faces = self._faces(k)
            skip = np.zeros(len(faces), bool)
            if cleared is not None:
                skip[list(cleared)] = True
            ranks[k], cleared = _rank_mod_p(faces, skip)
        if md >= 1:
            edges = self._rows[1]
            n0 = self.n_vertices
            g = sparse.coo_array((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n0, n0))
            n_comp = csgraph.connected_components(g, directed=False)[0] if n0 else 0
            ranks[1] = n0 - n_comp
        f = self.f_vector
        top = md if skeleton or not self.truncated else md - 1
        return tuple(int(f[k] - ranks[k] - ranks[k + 1]) for k in range(top + 1))

    def __repr__(self):
        kind = f"{self.kind}, " if self.kind else ""
        return f"SimplicialComplex({kind}f_vector={self.f_vector})"


def _rank_mod_p(faces, skip):
    """Rank over Z/PRIME of the boundary matrix whose column j has the entries (-1)^i in rows
    faces[j, i], and the set of pivot rows. Columns flagged in skip are known to reduce to
    zero (clearing)."""
    p = PRIME
    k1 = faces.shape[1]
    signs = [1 if i % 2 == 0 else p - 1 for i in range(k1)]
    pivots = {}
    for j in np.flatnonzero(~skip).tolist():
        col = dict(zip(faces[j].tolist(), signs))
        while col:
            low = max(col)
            piv = pivots.get(low)
            if piv is None:
                inv = pow(col[low], p - 2, p)
                pivots[low] = {r: v * inv % p for r, v in col.items()}
                break
            f = col[low]
            for r, v in piv.items():
                nv = (col.get(r, 0) - f * v) % p
                if nv:
                    col[r] = nv
                else:
                    col.pop(r, None)
    return len(pivots), set(pivots)


# ---------------------------------------------------------------------------------------------
# contacts of a partition


def _hinge_table(partition):
    h = partition.hinges
    return (np.asarray(h.indptr, np.int64), np.asarray(h.indices, np.int64),
            np.asarray(h.volumes, np.float64))


def _contact_sets(partition):
    """CSR (ptr, idx) of sets of cells with a common point whose subsets make the nerve:
    every cell alone, every wall, every hinge and, in 3 and more dimensions, every vertex."""
    n, d = partition.n_cells, partition.ndim
    walls = np.asarray(partition.walls.cells, np.int64).reshape(-1, 2)
    hptr, hidx, _ = _hinge_table(partition)
    parts_ptr = [np.arange(n + 1, dtype=np.int64), 2 * np.arange(len(walls) + 1), hptr]
    parts_idx = [np.arange(n, dtype=np.int64), walls.ravel(), hidx]
    if d >= 3:
        from geomcore._contacts import vertex_cells

        _, vptr, vidx = vertex_cells(partition)
        parts_ptr.append(vptr)
        parts_idx.append(vidx)
    ptr, idx, base = [np.zeros(1, np.int64)], [], 0
    for p, i in zip(parts_ptr, parts_idx):
        ptr.append(np.asarray(p[1:], np.int64) + base)
        idx.append(np.asarray(i, np.int64))
        base += len(i)
    return np.concatenate(ptr), np.concatenate(idx)


def _measures(partition, rows, k):
    """(ndim - k)-volume of the intersection of each k-simplex's cells where it has the generic
    dimension ndim - k (0 elsewhere), and whether it has it. NaN volume where the partition's
    tables do not decide it (3 <= k < ndim)."""
    n, d = partition.n_cells, partition.ndim
    m = len(rows)
    if k == 0:
        return np.asarray(partition.volumes, np.float64)[rows[:, 0]], np.ones(m, bool)
    if k > d:
        return np.zeros(m), np.zeros(m, bool)
    if k == 1:
        walls = np.asarray(partition.walls.cells, np.int64).reshape(-1, 2)
        wkeys = _keys(walls, n)
        if len(wkeys) > 1 and (wkeys[1:] > wkeys[:-1]).all():    # stored in order
            order = np.arange(len(wkeys))
        else:
            order = np.argsort(wkeys, kind="stable")
        pos = _lookup(wkeys[order], rows, n)
        ok = pos >= 0
        vol = np.zeros(m)
        vol[ok] = np.asarray(partition.walls.areas, np.float64)[order[pos[ok]]]
        return vol, ok
    hptr, hidx, hvol = _hinge_table(partition)
    sub, w = _subsets(hptr, hidx, k + 1, weights=hvol)
    if len(sub):
        skeys, inv = np.unique(_keys(sub, n), return_inverse=True)
        total = np.bincount(inv.ravel(), weights=w)
        pos = _lookup(skeys, rows, n)
    else:
        pos, total = np.full(m, -1, np.int64), np.zeros(0)
    in_hinge = pos >= 0
    if k == 2:
        vol = np.zeros(m)
        vol[in_hinge] = total[pos[in_hinge]]
        return vol, in_hinge
    # k >= 3: inside a hinge, the intersection is (ndim-2)-dimensional, above ndim - k
    if k == d:
        return np.where(in_hinge, 0.0, 1.0), ~in_hinge
    return np.where(in_hinge, 0.0, np.nan), ~in_hinge


def _box_bounds(partition):
    """(lo, hi), each (n_cells, ndim), when every cell is an axis-aligned box (every facet row
    has one non-zero entry: trees, axis-parallel arrangements, in a Box domain), else None."""
    batch = getattr(partition, "_batch", None)
    if batch is None or not len(batch.facet_index):
        return None
    n, d = partition.n_cells, partition.ndim
    rows = np.asarray(batch.facet_index, np.int64)
    A, b = np.asarray(batch._A)[rows], np.asarray(batch._b)[rows]
    nz = A != 0
    if not (nz.sum(axis=1) == 1).all():
        return None
    axis = np.argmax(nz, axis=1)
    a = A[np.arange(len(A)), axis]
    t = b / a
    owner = np.repeat(np.arange(n), np.diff(batch.facet_offsets))
    lo, hi = np.full((n, d), -np.inf), np.full((n, d), np.inf)
    np.maximum.at(lo, (owner[a < 0], axis[a < 0]), t[a < 0])
    np.minimum.at(hi, (owner[a > 0], axis[a > 0]), t[a > 0])
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        return None
    return lo, hi


def _touch(lo, hi, a, b):
    """Whether boxes a and b (index arrays) share a point: exact float comparisons."""
    return (np.maximum(lo[a], lo[b]) <= np.minimum(hi[a], hi[b])).all(axis=1)


def _box_cliques(partition, lo, hi, max_dim):
    """Simplices of the nerve of a box partition. Boxes have Helly number 2 (closed boxes that
    pairwise meet have a common point), so the nerve is the clique complex of the contact
    graph. The boxes touching a cell are found from it through the walls (the cells around any
    point are connected through walls containing it), keeping those that pass the exact box
    test; cliques grow one vertex at a time among higher neighbours."""
    n = partition.n_cells
    walls = np.asarray(partition.walls.cells, np.int64).reshape(-1, 2)
    adj = sparse.csr_array((np.ones(2 * len(walls), bool),
                            (np.r_[walls[:, 0], walls[:, 1]], np.r_[walls[:, 1], walls[:, 0]])),
                           shape=(n, n))
    aptr, aidx = adj.indptr.astype(np.int64), adj.indices.astype(np.int64)
    found = np.unique(np.r_[np.arange(n) * n + np.arange(n), walls[:, 0] * n + walls[:, 1],
                            walls[:, 1] * n + walls[:, 0]])
    frontier = found
    while frontier.size:
        a, c = frontier // n, frontier % n
        lengths = aptr[c + 1] - aptr[c]
        pos = np.repeat(aptr[c] - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + \
            np.arange(lengths.sum())
        cand = np.unique(np.repeat(a, lengths) * n + aidx[pos])
        cand = cand[~np.isin(cand, found, assume_unique=True)]
        cand = cand[_touch(lo, hi, cand // n, cand % n)]
        found = np.union1d(found, cand)
        frontier = cand
    a, b = found // n, found % n
    keep = a < b
    edges = np.column_stack([a[keep], b[keep]])            # sorted: found is sorted
    ekeys = found[keep]
    up_ptr = np.r_[0, np.cumsum(np.bincount(edges[:, 0], minlength=n))].astype(np.int64)
    up_idx = edges[:, 1]
    rows = [np.arange(n, dtype=np.int64)[:, None]]
    cur, k = edges, 1
    while max_dim is None or k <= max_dim:
        if k > 1 and not len(cur):
            cur = np.zeros((0, k + 1), np.int64)
        elif k > 1:
            last = cur[:, -1]
            lengths = up_ptr[last + 1] - up_ptr[last]
            pos = np.repeat(up_ptr[last] - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + \
                np.arange(lengths.sum())
            new = up_idx[pos]
            base = np.repeat(cur, lengths, axis=0)
            ok = np.ones(len(new), bool)
            for j in range(base.shape[1] - 1):
                keys = base[:, j] * n + new
                hit = np.searchsorted(ekeys, keys)
                ok &= ekeys[np.minimum(hit, len(ekeys) - 1)] == keys
            cur = np.column_stack([base[ok], new[ok]])
        if max_dim is None and not len(cur):
            break
        rows.append(cur.astype(np.int64))
        k += 1
    return rows


def _box_measures(partition, lo, hi, rows, k):
    """(ndim - k)-volume of the box intersection of each k-simplex's cells where its dimension
    is ndim - k, and whether it is (exact comparisons)."""
    if k == 0:
        return np.asarray(partition.volumes, np.float64)[rows[:, 0]], np.ones(len(rows), bool)
    ext = hi[rows].min(axis=1) - lo[rows].max(axis=1)
    dim = (ext > 0).sum(axis=1)
    generic = dim == partition.ndim - k
    vol = np.where(generic, np.prod(np.where(ext > 0, ext, 1.0), axis=1), 0.0)
    return vol, generic


def _check_partition(partition):
    for attr in ("n_cells", "ndim", "walls", "hinges", "volumes"):
        if not hasattr(partition, attr):
            raise InvalidInputError(
                f"partition must be a geomcore.Partition (from geomcore.partition); got "
                f"{type(partition).__name__} without .{attr}")


def nerve(partition, *, max_dim=2):
    """The nerve of a partition: a simplex for every set of cells with a common point (SPEC 5).

    Parameters
    ----------
    partition : Partition
    max_dim : int or None, optional
        Largest simplex degree kept (default 2). None keeps every degree: the full nerve,
        contractible for a convex domain (Betti numbers ``(1, 0, ..., 0)``). A nerve cut below
        its largest contact is marked ``truncated``: its skeleton can have a top Betti number
        (four cells around a point give a tetrahedron, whose 2-skeleton is a sphere), so
        ``betti_numbers()`` reports the degrees below ``max_dim`` only.

    Returns
    -------
    SimplicialComplex
        On the cells; ``degenerate(k)`` marks the simplices whose cells meet in a set of
        dimension other than ``ndim - k`` (the diagonal pair at a crossing of two lines).

    Notes
    -----
    The simplices are the subsets of the partition's contact sets: its walls, its hinges (every
    cell around a (d-2)-face) and, for ``ndim >= 3``, every vertex's cells
    (:func:`geomcore._contacts.vertex_cells`). In two dimensions walls and hinges are every
    contact: at a point of a plane partition either two cells meet along a wall or three or
    more meet at a hinge. Walls and hinges come with the partition, decided exactly; vertices
    are merged across cells up to rounding and their T-junction cells decided exactly.

    Degeneracy: an edge is generic when it is a wall, a triangle when its cells lie around one
    hinge; for ``k == ndim >= 3`` a simplex is generic when its cells meet in a point (they
    do not all lie around one hinge); above ``ndim`` every simplex is degenerate. For
    ``3 <= k < ndim`` the partition's tables do not decide the dimension: such simplices are
    marked degenerate only when their cells lie around a hinge.

    Partitions into axis-aligned boxes (trees, axis-parallel arrangements in a box) take an
    exact shortcut: boxes have Helly number 2, so the nerve is the clique complex of the pairs
    of touching boxes, found through the walls with exact box tests; the intersection of a
    simplex's boxes is a box, whose dimension and volume give degeneracy and masses in every
    degree. This also finds the contacts of non-face-to-face boxes at points that are a vertex
    of no cell (x <= 0 split by z = 0, x >= 0 split by y = 0: four boxes meet at the origin
    only). For other partitions in three or more dimensions such a contact (which needs cells
    that do not meet face to face) would not be found.

    Cost: one sort of all subsets of the contact sets; C(s, k + 1) rows for a contact of s
    cells (n lines through one point give C(2n, 3) triangles).

    Examples
    --------
    >>> from geomcore import Arrangement, Box, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.5]), Box([0, 0], [1, 1]))
    >>> cx = nerve(part, max_dim=3)
    >>> cx.f_vector, cx.betti_numbers()
    ((4, 6, 4, 1), (1, 0, 0, 0))
    >>> cx.simplices(1)[cx.degenerate(1)].tolist()
    [[0, 3], [1, 2]]
    """
    _check_partition(partition)
    md = _check_max_dim(max_dim)
    n = partition.n_cells
    boxes = _box_bounds(partition)
    truncated = False
    if boxes is not None:
        # one degree more than kept, to know whether the cut leaves simplices out
        rows = _box_cliques(partition, *boxes, None if md is None else md + 1)
        if md is not None:
            truncated = len(rows) > md + 1 and len(rows[md + 1]) > 0
            rows = rows[:md + 1]
        measures = [_box_measures(partition, *boxes, r, k) for k, r in enumerate(rows)]
    else:
        ptr, idx = _contact_sets(partition)
        top = int(np.diff(ptr).max()) - 1 if len(ptr) > 1 else 0     # the largest contact
        if md is None:
            md = top
        truncated = top > md
        rows = [np.arange(n, dtype=np.int64)[:, None]]
        for k in range(1, md + 1):
            rows.append(_unique_rows(_subsets(ptr, idx, k + 1), n))
        measures = [_measures(partition, r, k) for k, r in enumerate(rows)]
    cx = SimplicialComplex._trusted(rows, [~generic for _, generic in measures])
    cx.kind, cx._partition, cx._measures = "nerve", partition, measures
    cx.truncated = truncated
    return cx


def adjacency_complex(partition, *, max_dim=2):
    """The adjacency complex: cells, walls, and higher simplices only where cells meet in faces
    of the generic dimension (SPEC 5).

    A k-simplex is kept when its cells meet in a set of dimension ``ndim - k`` and every face
    of it is kept: the wall graph, plus a triangle for three pairwise wall-adjacent cells
    around one hinge, plus (``ndim >= 3``) a tetrahedron for four such cells meeting in a
    point with all four triangles present, and so on.

    Parameters
    ----------
    partition : Partition
    max_dim : int or None, optional
        Largest degree (default 2; None: all).

    Returns
    -------
    SimplicialComplex

    Notes
    -----
    Unlike the nerve, this complex can have spurious holes: two crossing lines give four cells
    in a 4-cycle of walls and no triangle (the diagonal pairs share only the crossing point),
    so Betti numbers (1, 1) where the domain is contractible. Every simplex is generic
    (``degenerate(k)`` is all False), so its masses need no floor.

    Examples
    --------
    >>> from geomcore import Arrangement, Box, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.5]), Box([0, 0], [1, 1]))
    >>> cx = adjacency_complex(part)
    >>> cx.f_vector, cx.betti_numbers()
    ((4, 4, 0), (1, 1, 0))
    """
    _check_partition(partition)
    md = _check_max_dim(max_dim)
    full = nerve(partition, max_dim=md)
    rows = [full.simplices(0)]
    measures = [full._measures[0]]
    keep_prev = np.ones(partition.n_cells, bool)
    for k in range(1, full.max_dim + 1):
        keep = ~full.degenerate(k)
        if k >= 2:
            keep &= keep_prev[full._faces(k)].all(axis=1)
        rows.append(full.simplices(k)[keep])
        measures.append(tuple(m[keep] for m in full._measures[k]))
        keep_prev = keep
    if md is None:
        while len(rows) > 1 and len(rows[-1]) == 0:
            rows.pop()
            measures.pop()
    cx = SimplicialComplex._trusted(rows)
    cx.kind, cx._partition, cx._measures = "adjacency", partition, measures
    # its simplices are generic, so none lies above ndim; cut below that, whether a higher one
    # exists is decided conservatively by the nerve's (a superset)
    cx.truncated = bool(full.truncated and full.max_dim < partition.ndim)
    return cx
