"""Partitions of axis-aligned trees and tree ensembles (SPEC 2.3): box arithmetic, exactly.

Every cell is a box, so the whole enumeration is comparisons of doubles, which are exact: the
domain box is pushed down each tree in turn (a box straddling a threshold is cut in two), and
the cells of an ensemble are the boxes that reach one leaf of every tree. Walls and hinges come
from one vectorised join of box faces grouped by the flat they lie in (:func:`_box_join`).
"""


from functools import partial

import numpy as np

from geomcore._kernels._trees import refine_by_tree as _kernel_refine_by_tree
from geomcore._memory import check_fits
from geomcore._progress import report
from geomcore.errors import DegenerateInputError, InvalidInputError
from geomcore.partitions._dispatch import register

__all__ = ["TreeEnsemble", "tree_partition"]

#: "kernel" (Cython) or "reference" (numpy, geomcore._reference.trees); the tests run both
_implementation = "kernel"


def _refine_by_tree(lo, hi, feature, threshold, left, right):
    if _implementation == "kernel":
        return _kernel_refine_by_tree(lo, hi, feature, threshold, left, right)
    from geomcore._reference.trees import refine_by_tree

    return refine_by_tree(lo, hi, feature, threshold, left, right)

# scikit-learn estimators whose trees see every feature and whose leaves are what `apply` returns
_SINGLE = ("DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier",
           "ExtraTreeRegressor")
_ENSEMBLE = ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
             "ExtraTreesRegressor", "GradientBoostingClassifier", "GradientBoostingRegressor")


def is_tree_model(model):
    """True for the scikit-learn tree estimators geomcore reads (fitted or not)."""
    return type(model).__name__ in _SINGLE + _ENSEMBLE or isinstance(model, TreeEnsemble)


class TreeEnsemble:
    """The split structure of a fitted scikit-learn tree or tree ensemble.

    Parameters
    ----------
    estimator : fitted DecisionTree*, ExtraTree*, RandomForest*, ExtraTrees* or
        GradientBoosting* estimator.

    Attributes
    ----------
    ndim, n_trees : int
        Gradient boosting has ``n_stages * n_trees_per_stage`` trees, stage-major, as
        ``estimator.apply(X).reshape(len(X), -1)`` orders them.
    estimator : the scikit-learn estimator.

    Notes
    -----
    A point goes left at a node when ``x[feature] <= threshold`` in float64. scikit-learn's
    own ``apply`` first rounds ``X`` to float32, so the two can differ only for points within
    float32 rounding (about 6e-8 relative) of a threshold.
    """

    def __init__(self, estimator):
        name = type(estimator).__name__
        if name not in _SINGLE + _ENSEMBLE:
            raise InvalidInputError(
                f"estimator must be a scikit-learn decision tree, extra tree, random forest, "
                f"extra trees or gradient boosting model; got {name}")
        if name in _SINGLE:
            if not hasattr(estimator, "tree_"):
                raise InvalidInputError(f"the {name} is not fitted; call fit first")
            trees = [estimator.tree_]
        else:
            if not hasattr(estimator, "estimators_"):
                raise InvalidInputError(f"the {name} is not fitted; call fit first")
            trees = [t.tree_ for t in np.asarray(estimator.estimators_, dtype=object).ravel()]
        self.estimator = estimator
        self.ndim = int(estimator.n_features_in_)
        self.n_trees = len(trees)
        # per tree: feature, threshold, left, right; leaves have left == right == -1
        self._nodes = [(t.feature.astype(np.int64), t.threshold.astype(np.float64),
                        t.children_left.astype(np.int64), t.children_right.astype(np.int64))
                       for t in trees]
        for feature, threshold, left, _ in self._nodes:
            inner = left >= 0
            if not np.isfinite(threshold[inner]).all():
                raise InvalidInputError("estimator has a non-finite split threshold")

    def leaves(self, X):
        """Leaf node id of every point in every tree, int64 (n_points, n_trees)."""
        X = np.asarray(X, dtype=np.float64)
        out = np.empty((X.shape[0], self.n_trees), dtype=np.int64)
        rows = np.arange(X.shape[0])
        for t, (feature, threshold, left, right) in enumerate(self._nodes):
            node = np.zeros(X.shape[0], dtype=np.int64)
            while True:
                inner = left[node] >= 0
                if not inner.any():
                    break
                r, n = rows[inner], node[inner]
                go_left = X[r, feature[n]] <= threshold[n]
                node[r] = np.where(go_left, left[n], right[n])
            out[:, t] = node
        return out

    def labels_of(self, X):
        """The labels of the cells containing the points (the source protocol)."""
        return self.leaves(X)

    def __repr__(self):
        return f"TreeEnsemble({type(self.estimator).__name__}, n_trees={self.n_trees})"


def refine_boxes(model, dom_lo, dom_hi, progress=False, max_cells=None):
    """The cells of a tree ensemble in a box: lo, hi (n, d) and leaf labels (n, n_trees),
    sorted by labels (tree 0 most significant)."""
    lo, hi = dom_lo[None].copy(), dom_hi[None].copy()
    history = []                                    # per tree: (parent box, leaf id)
    for t, nodes in enumerate(model._nodes):
        lo, hi, parent, leaf = _refine_by_tree(lo, hi, *nodes)
        history.append((parent, leaf))
        if max_cells is not None and len(lo) > max_cells:
            raise DegenerateInputError(
                f"the partition exceeds max_cells={max_cells} after {t + 1} of "
                f"{model.n_trees} trees ({len(lo)} cells)")
        check_fits(len(lo), f"after {t + 1} of {model.n_trees} trees", bytes_per_cell=6_000)
        if progress:
            report(t + 1, model.n_trees, "tree", len(lo))
    # each cell's leaf in every tree, read back through the parents; one contiguous row per
    # tree (a lexsort key each), returned transposed as the (n_cells, n_trees) labels
    columns = np.empty((model.n_trees, len(lo)), dtype=np.int64)
    at = np.arange(len(lo))
    for t in range(model.n_trees - 1, -1, -1):
        parent, leaf = history[t]
        columns[t] = leaf[at]
        at = parent[at]
    order = np.lexsort(columns[::-1])
    return lo[order], hi[order], columns[:, order].T


# ---------------------------------------------------------------------------------------------
# faces: walls and hinges of a box partition


def _ranks(lo, hi):
    """Each coordinate replaced by its rank among all box coordinates on its axis (int64),
    and per axis the sorted distinct coordinates (rank -> value).

    Comparisons of ranks are comparisons of the doubles, so every decision below is exact;
    integer ranks also make compound sort keys (flat, position) cheap.
    """
    rlo, rhi = np.empty(lo.shape, np.int64), np.empty(hi.shape, np.int64)
    values = []
    for k in range(lo.shape[1]):
        axis_values, inverse = np.unique(np.concatenate([lo[:, k], hi[:, k]]),
                                         return_inverse=True)
        rlo[:, k], rhi[:, k] = inverse[:len(lo)], inverse[len(lo):]
        values.append(axis_values)
    return rlo, rhi, values


def _box_join(group_p, lo_p, hi_p, group_e, lo_e, hi_e):
    """Pairs (p, e) with equal group whose rank boxes overlap with positive length in every
    column (all inputs int64).

    A sweep on column 0: the e boxes are bucketed by length there (powers of two) and sorted
    by (group, lo); in a bucket whose boxes are shorter than L, p meets those whose lo lies
    below its hi and less than L below its lo. Bucketing keeps one long box from widening
    every search. Returns index arrays into the p and e tables.
    """
    n_free = lo_p.shape[1]
    none = np.zeros(0, np.int64)
    if len(group_p) == 0 or len(group_e) == 0:
        return none, none
    if n_free == 0:                                  # groups are points: equal group suffices
        order = np.argsort(group_e, kind="stable")
        start = np.searchsorted(group_e[order], group_p, "left")
        end = np.searchsorted(group_e[order], group_p, "right")
        return _expand(start, end, order)
    if n_free >= 2:
        return _grid_join(group_p, lo_p, hi_p, group_e, lo_e, hi_e)
    span = int(max(hi_p[:, 0].max(), hi_e[:, 0].max())) + 2
    length_class = np.floor(np.log2(np.maximum(hi_e[:, 0] - lo_e[:, 0], 1))).astype(np.int64)
    ps, es = [], []
    for k in np.unique(length_class):
        members = np.flatnonzero(length_class == k)
        keys = group_e[members] * span + lo_e[members, 0]
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        longest = 2 ** (int(k) + 1)
        lower = np.maximum(group_p * span + lo_p[:, 0] - longest, group_p * span - 1)
        start = np.searchsorted(keys, lower, "right")
        end = np.searchsorted(keys, group_p * span + hi_p[:, 0], "left")
        # expand the candidate pairs a few million at a time, keeping only overlaps
        counts = np.maximum(end - start, 0)
        bounds = np.searchsorted(np.cumsum(counts), np.arange(1, counts.sum() // 4_000_000 + 1)
                                 * 4_000_000)
        for chunk in np.split(np.arange(len(group_p)), bounds):
            p, e = _expand(start[chunk], end[chunk], members[order])
            p = chunk[p]
            keep = (np.minimum(hi_p[p], hi_e[e]) > np.maximum(lo_p[p], lo_e[e])).all(axis=1)
            ps.append(p[keep]), es.append(e[keep])
    return np.concatenate(ps), np.concatenate(es)


def _grid_join(group_p, lo_p, hi_p, group_e, lo_e, hi_e):
    """:func:`_box_join` for two or more columns, on a grid hash of columns 0 and 1.

    The e boxes are bucketed by their length class (k0, k1) in those columns (lengths in
    [2^k, 2^(k+1)) ranks) and hashed by the grid cell of their lower corner, cells 2^k wide.
    Within one group the e boxes are disjoint, so a grid cell holds at most one lower corner of
    a class (every such box contains the cell's far corner), and a p box meets the boxes whose
    corners lie in the cells of its window: one contiguous run of sorted keys per window row.
    Candidates are therefore about the true overlaps plus the window's border.
    """
    top = int(max(hi_p[:, :2].max(), hi_e[:, :2].max())) + 2
    length = np.maximum(hi_e[:, :2] - lo_e[:, :2], 1)
    kind = np.floor(np.log2(length)).astype(np.int64)
    n_groups = int(max(group_p.max(), group_e.max())) + 1
    ps, es = [], []
    for k0, k1 in np.unique(kind, axis=0):
        members = np.flatnonzero((kind[:, 0] == k0) & (kind[:, 1] == k1))
        rows_per_group = (top >> k0) + 2
        cols = (top >> k1) + 2
        if n_groups * rows_per_group * cols >= 2**62:   # keys would overflow: plain sweep
            p, e = _box_join(group_p, lo_p[:, :1], hi_p[:, :1], group_e[members],
                             lo_e[members][:, :1], hi_e[members][:, :1])
            e = members[e]
        else:
            corner0, corner1 = lo_e[members, 0] >> k0, lo_e[members, 1] >> k1
            keys = (group_e[members] * rows_per_group + corner0) * cols + corner1
            order = np.argsort(keys, kind="stable")
            keys = keys[order]
            # window of lower corners that can reach p: lo > p.lo - 2^(k+1), lo < p.hi
            r_lo = np.maximum((lo_p[:, 0] - 2 ** (k0 + 1) + 1) >> k0, 0)
            r_hi = (hi_p[:, 0] - 1) >> k0
            c_lo = np.maximum((lo_p[:, 1] - 2 ** (k1 + 1) + 1) >> k1, 0)
            c_hi = (hi_p[:, 1] - 1) >> k1
            n_rows = np.maximum(r_hi - r_lo + 1, 0)
            q = np.repeat(np.arange(len(group_p)), n_rows)
            row = np.repeat(r_lo - np.cumsum(n_rows) + n_rows, n_rows) + np.arange(n_rows.sum())
            base = (group_p[q] * rows_per_group + row) * cols
            start = np.searchsorted(keys, base + c_lo[q], "left")
            end = np.searchsorted(keys, base + c_hi[q], "right")
            p, e = _expand(start, end, members[order])
            p = q[p]
        keep = (np.minimum(hi_p[p], hi_e[e]) > np.maximum(lo_p[p], lo_e[e])).all(axis=1)
        ps.append(p[keep]), es.append(e[keep])
    return np.concatenate(ps), np.concatenate(es)


def _expand(start, end, order):
    """All pairs (p, order[k]) for start[p] <= k < end[p]."""
    counts = np.maximum(end - start, 0)
    p = np.repeat(np.arange(len(start)), counts)
    k = np.repeat(start - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    return p, order[k]


def box_walls(lo, hi, dom_lo, dom_hi, ranks):
    """Walls of a box partition: cells (n_walls, 2), areas, normals, centroids, and the
    boundary area of every cell. A wall is the overlap of a facet x_f = v of one box with a
    facet x_f = v of another from the other side (partial walls included). ranks:
    ``_ranks(lo, hi)``, shared with :func:`box_hinges`."""
    n, d = lo.shape
    rlo, rhi, _ = ranks
    top = rhi.max(axis=0)                             # rank of the domain's upper face
    pairs, areas, normals, centroids = [], [], [], []
    for f in range(d):
        free = [g for g in range(d) if g != f]
        below = np.flatnonzero(rhi[:, f] < top[f])     # cells whose upper facet is inside
        above = np.flatnonzero(rlo[:, f] > 0)
        p, e = _box_join(rhi[below, f], rlo[below][:, free], rhi[below][:, free],
                         rlo[above, f], rlo[above][:, free], rhi[above][:, free])
        i, j = below[p], above[e]
        wall_lo = np.maximum(lo[i], lo[j])
        wall_hi = np.minimum(hi[i], hi[j])
        centre = (wall_lo + wall_hi) / 2
        centre[:, f] = hi[i, f]
        normal = np.zeros((len(i), d))
        normal[:, f] = np.where(i < j, 1.0, -1.0)      # from the lower index into the other
        pairs.append(np.column_stack([np.minimum(i, j), np.maximum(i, j)]))
        areas.append((wall_hi - wall_lo)[:, free].prod(axis=1))
        normals.append(normal)
        centroids.append(centre)
    pairs = np.concatenate(pairs)
    order = np.lexsort(pairs.T[::-1])
    widths = hi - lo
    boundary = np.zeros(n)
    for f in range(d):
        face = np.prod(np.delete(widths, f, axis=1), axis=1)
        boundary += face * ((lo[:, f] == dom_lo[f]).astype(float) + (hi[:, f] == dom_hi[f]))
    return (pairs[order].astype(np.int64), np.concatenate(areas)[order],
            np.concatenate(normals)[order], np.concatenate(centroids)[order], boundary)


def box_hinges(lo, hi, ranks):
    """Hinges of a box partition (a :class:`~geomcore.Hinges`); ranks: ``_ranks(lo, hi)``.

    A hinge lies in a flat ``x_f = v, x_g = w`` (f < g). Around it the four quadrants
    (below/above in f, below/above in g) are each tiled by boxes: a box with a corner edge on
    the flat covers one quadrant (angle pi/2), a box with the flat inside a facet covers two
    (pi), and a box with the flat inside covers all four (and leaves no hinge). The hinges are
    the non-empty intersections of one tile per quadrant (on the domain boundary only the
    quadrants inside the domain count) met by three or more distinct cells.
    """
    n, d = lo.shape
    if d < 2 or n == 0:
        return _empty_hinges()
    rlo, rhi, values = ranks
    top = rhi.max(axis=0)
    found = []                                # (cells (h, 4), angles (h, 4), volume, interior)
    for f in range(d):
        for g in range(f + 1, d):
            free = [k for k in range(d) if k not in (f, g)]
            cells, quarter, p_lo, p_hi, interior = _hinges_in_flats(rlo, rhi, top, f, g, free)
            # (d-2)-volume of a piece: its rank box read back as coordinates
            volume = np.ones(len(cells))
            for c, k in enumerate(free):
                volume *= values[k][p_hi[:, c]] - values[k][p_lo[:, c]]
            found.append((cells, quarter, volume, interior))
    return _hinges_csr(*[np.concatenate(column) for column in zip(*found)])


def _hinges_in_flats(rlo, rhi, top, f, g, free):
    """Hinge pieces in the flats x_f = v, x_g = w (ranks): cells (h, 4) per quadrant (-1 where
    the quadrant lies outside the domain), angles (h, 4), piece rank boxes, interior flags."""
    n = len(rlo)
    cells = np.arange(n)
    # tiles: (cell, v, w, quadrant a in f (0: the box lies below x_f = v), quadrant b in g)
    tiles = [(cells, vf, vg, np.full(n, a), np.full(n, b))
             for a, vf in ((0, rhi[:, f]), (1, rlo[:, f]))
             for b, vg in ((0, rhi[:, g]), (1, rlo[:, g]))]
    span = int(top.max()) + 2
    flat_keys = np.unique(np.concatenate([t[1] * span + t[2] for t in tiles]))
    # boxes with a flat inside a facet: the facet x_f = v with w strictly inside the box's
    # g-range cover quadrants (a, 0) and (a, 1); likewise with f and g swapped
    for axis, other in ((f, g), (g, f)):
        for side, v in ((0, rhi[:, axis]), (1, rlo[:, axis])):
            c, w = _flats_through_facets(flat_keys, span, axis == f, v, rlo[:, other],
                                         rhi[:, other])
            for q in (0, 1):
                if axis == f:
                    tiles.append((c, v[c], w, np.full(len(c), side), np.full(len(c), q)))
                else:
                    tiles.append((c, w, v[c], np.full(len(c), q), np.full(len(c), side)))
    cell, vf, vg, qa, qb = [np.concatenate(column) for column in zip(*tiles)]
    # quadrants outside the domain do not exist
    inside = ((vf > 0) | (qa == 1)) & ((vf < top[f]) | (qa == 0)) \
        & ((vg > 0) | (qb == 1)) & ((vg < top[g]) | (qb == 0))
    cell, vf, vg, qa, qb = cell[inside], vf[inside], vg[inside], qa[inside], qb[inside]
    flat = vf * span + vg
    quadrant = 2 * qa + qb
    flat_ids, flat = np.unique(flat, return_inverse=True)
    present = np.zeros((len(flat_ids), 4), bool)
    present[flat, quadrant] = True
    n_quadrants = present.sum(axis=1)
    first_quadrant = np.argmax(present, axis=1)
    # join the tiles of quadrants 0, 1, 2, 3 in turn (skipping quadrants a flat lacks)
    k = len(free)
    piece_flat, piece_cells = np.zeros(0, np.int64), np.zeros((0, 4), np.int64)
    piece_lo, piece_hi = np.zeros((0, k), np.int64), np.zeros((0, k), np.int64)
    for q in range(4):
        mine = quadrant == q
        t_flat, t_cell = flat[mine], cell[mine]
        t_lo, t_hi = rlo[t_cell][:, free], rhi[t_cell][:, free]
        starts = first_quadrant[t_flat] == q
        new_cells = np.full((starts.sum(), 4), -1, np.int64)
        new_cells[:, q] = t_cell[starts]
        join = ~starts
        p, e = _box_join(piece_flat, piece_lo, piece_hi, t_flat[join], t_lo[join], t_hi[join])
        joined_cells = piece_cells[p]
        joined_cells[:, q] = t_cell[join][e]
        piece_flat = np.concatenate([piece_flat[p], t_flat[starts]])
        piece_cells = np.concatenate([joined_cells, new_cells])
        piece_lo = np.concatenate([np.maximum(piece_lo[p], t_lo[join][e]), t_lo[starts]])
        piece_hi = np.concatenate([np.minimum(piece_hi[p], t_hi[join][e]), t_hi[starts]])
    # a piece must have met every quadrant of its flat
    complete = (piece_cells >= 0).sum(axis=1) == n_quadrants[piece_flat]
    piece_cells, piece_flat = piece_cells[complete], piece_flat[complete]
    angles = np.where(piece_cells >= 0, np.pi / 2, 0.0)
    return (piece_cells, angles, piece_lo[complete], piece_hi[complete],
            n_quadrants[piece_flat] == 4)


def _flats_through_facets(flat_keys, span, axis_first, v, lo_other, hi_other):
    """(cell, w) for every flat whose coordinate on the facet's axis is the facet's v and whose
    other coordinate w satisfies lo_other < w < hi_other: a contiguous run of sorted keys.
    flat_keys encode (value in f) * span + (value in g); axis_first says the facet's axis is f."""
    vf, vg = np.divmod(flat_keys, span)
    key_v, key_w = (vf, vg) if axis_first else (vg, vf)
    keys = np.sort(key_v * span + key_w)
    start = np.searchsorted(keys, v * span + lo_other, "right")
    end = np.searchsorted(keys, v * span + hi_other, "left")
    cells, at = _expand(start, end, np.arange(len(keys)))
    return cells, keys[at] % span


def _hinges_csr(cells, quarter, volumes, interior):
    """Hinges as CSR from per-piece quadrant cells: a cell covering two quadrants is one
    entry with angle pi; only pieces of three or more distinct cells are hinges."""
    from geomcore.partitions._model import Hinges

    if len(cells) == 0:
        return _empty_hinges()
    order = np.argsort(cells, axis=1)
    cells = np.take_along_axis(cells, order, axis=1)
    quarter = np.take_along_axis(quarter, order, axis=1)
    valid = cells >= 0
    repeat = np.zeros_like(valid)
    repeat[:, 1:] = cells[:, 1:] == cells[:, :-1]
    first = valid & ~repeat
    # add each repeated entry's angle to the entry of its first occurrence
    angle = quarter.copy()
    for k in range(1, 4):
        dup = repeat[:, k]
        run_start = np.where(dup, _run_start(repeat, k), k)
        np.add.at(angle, (np.flatnonzero(dup), run_start[dup]), quarter[dup, k])
    n_distinct = first.sum(axis=1)
    hinge = n_distinct >= 3
    cells, angle, first = cells[hinge], angle[hinge], first[hinge]
    volumes, interior = volumes[hinge], interior[hinge]
    rows = np.lexsort(np.where(first, cells, np.iinfo(np.int64).max).T[::-1])
    cells, angle, first = cells[rows], angle[rows], first[rows]
    counts = first.sum(axis=1)
    return Hinges(np.r_[0, np.cumsum(counts)].astype(np.int64), cells[first].astype(np.int64),
                  angle[first], volumes[rows], interior[rows])


def _run_start(repeat, k):
    """For column k of a row-sorted table, the column where its run of equal values starts."""
    start = np.full(repeat.shape[0], k)
    for j in range(k, 0, -1):
        still = repeat[:, j] & (start == j)
        start[still] = j - 1
    return start


def _empty_hinges():
    from geomcore.partitions._model import Hinges

    return Hinges(np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0),
                  np.zeros(0, bool))


def tree_partition(model, domain, progress=False, max_cells=None):
    """The :class:`~geomcore.Partition` of a tree ensemble in a :class:`~geomcore.Box`."""
    from geomcore.partitions._model import Box, Partition, Walls

    if not isinstance(model, TreeEnsemble):
        model = TreeEnsemble(model)
    if not isinstance(domain, Box):
        raise InvalidInputError(
            f"domain must be a Box for a tree model (its cells are boxes); got "
            f"{type(domain).__name__}")
    if domain.ndim != model.ndim:
        raise InvalidInputError(
            f"domain has ndim={domain.ndim} but the estimator was fitted on "
            f"{model.ndim} features")
    lo, hi, labels = refine_boxes(model, domain.lo, domain.hi, progress, max_cells)
    ranks = _ranks(lo, hi)
    pairs, areas, normals, centres, boundary = box_walls(lo, hi, domain.lo, domain.hi, ranks)
    hinges = box_hinges(lo, hi, ranks)

    part = Partition(model, domain, labels, partial(_box_polytopes, lo, hi),
                     Walls(pairs, areas, normals, centres),
                     hinges, boundary, volumes=(hi - lo).prod(axis=1), centroids=(lo + hi) / 2)
    part._boxes = (lo, hi)            # the cells' bounds, for exact box moments (splines)
    return part


def _box_polytopes(lo, hi):
    """The boxes as H-polytopes (rows x <= hi, -x <= -lo), for Partition.cell and the
    complexes; a module function, so that partitions pickle."""
    from geomcore.polytope import polytopes

    n, d = lo.shape
    A = np.tile(np.vstack([np.eye(d), -np.eye(d)]), (n, 1))
    b = np.column_stack([hi, -lo]).ravel()
    return polytopes(A, b, np.arange(0, 2 * d * n + 1, 2 * d))


def _build(model, domain, *, regions, progress, max_cells):
    return tree_partition(model, domain, progress, max_cells)


register("trees", is_tree_model, lambda m: m if isinstance(m, TreeEnsemble) else TreeEnsemble(m),
         _build)
