"""The partition data model: domains (:class:`Box`), the :class:`Partition` with its
:class:`Walls` and :class:`Hinges` tables, and the label and table helpers every source shares."""

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from geomcore._validation import as_float_matrix, as_float_vector
from geomcore.errors import DegenerateInputError, InvalidInputError
from geomcore.polytope import Polytope, polytopes

__all__ = ["Box", "Hinges", "Partition", "Walls"]


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
        labels = self.model.labels_of(X)          # the source protocol
        if self.classes is not None and self.labels.ndim == 2:   # decision regions: pattern, class
            n_classes = int(self.classes.max()) + 1 if self.n_cells else 1
            found = _find_labels(_with_class_bits(self.labels, self.classes, n_classes),
                                 _with_class_bits(labels, self.model.classes(X), n_classes))
        elif self.labels.ndim == 2:
            found = _find_labels(self.labels, labels)
        else:                                      # one int label per cell
            cell_of = np.full(int(self.labels.max(initial=-1)) + 2, -1, dtype=np.int64)
            cell_of[self.labels] = np.arange(self.n_cells)
            found = np.where((labels >= 0) & (labels < len(cell_of) - 1),
                             cell_of[np.clip(labels, 0, len(cell_of) - 1)], -1)
        found[~inside] = -1
        return found

    def to_networkx(self):
        """The cell graph as a ``networkx.Graph``: nodes are cells (volume, centroid, label),
        edges are walls (area, normal, centroid). Needs networkx."""
        from geomcore.export import to_networkx

        return to_networkx(self)

    def save_npz(self, path):
        """Write the partition's arrays to ``path`` (``.npz``; read back by
        :func:`geomcore.load_npz`)."""
        from geomcore.export import save_npz

        save_npz(self, path)

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
    if labels.ndim == 2 and labels.shape[1] == 0:        # no bits: one cell, or none
        return np.full(len(queries), 0 if len(labels) else -1, dtype=np.int64)
    keys, wanted = _label_keys(labels), _label_keys(queries)
    order = np.argsort(keys)
    pos = np.searchsorted(keys[order], wanted)
    pos = np.minimum(pos, len(keys) - 1)
    hit = keys[order][pos] == wanted
    return np.where(hit, order[pos], -1).astype(np.int64)


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


def _csr_positions(ptr, cells):
    """Positions in a CSR array of the rows of `cells`, and the new row pointer."""
    lengths = ptr[cells + 1] - ptr[cells]
    new_ptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    positions = np.arange(new_ptr[-1]) - np.repeat(new_ptr[:-1] - ptr[cells], lengths)
    return positions.astype(np.int64), new_ptr



def _walls_from_pairs(batch, facets, cells, neighbours):
    """The wall table from facets (stacked facet indices) of `cells` facing `neighbours`: each
    wall once, from its lower cell, whose outward facet normal points into the other."""
    keep = cells < neighbours
    pairs = np.column_stack([cells, neighbours])[keep]
    facets = facets[keep]
    order = np.lexsort(pairs.T[::-1])
    return Walls(pairs[order], batch.facet_areas[facets[order]],
                 batch.facet_normals[facets[order]], batch.facet_centroids[facets[order]])



def _check_volume(batch, dom_volume):
    total = float(batch.volume.sum())
    if not math.isclose(total, dom_volume, rel_tol=1e-8):
        raise RuntimeError(f"internal error: cell volumes sum to {total}, domain has {dom_volume}")

