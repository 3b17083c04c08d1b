"""Partitions given as a list of user cells (SPEC 2.5), validated and measured.

User cells need not meet face to face (a big cell may touch two small ones). The cells are
therefore measured through the arrangement of all their facet hyperplanes inside the domain:
every arrangement cell lies in exactly one user cell, so the arrangement's exact walls and
hinges, grouped by user cell, are the user partition's walls (partial ones included) and
hinges (a user cell's angle is the sum of its pieces' angles: pi at a T-junction). The cost is
that of the arrangement, so this suits partitions of up to a few thousand facet hyperplanes.
"""

import numpy as np

from geomcore.errors import InvalidInputError
from geomcore.partitions._dispatch import register

__all__ = ["CellList", "cell_list_partition"]


class CellList:
    """A list of :class:`~geomcore.Polytope` cells as a partition source.

    Attributes
    ----------
    cells : list of Polytope
    ndim : int
    """

    def __init__(self, cells):
        from geomcore.polytope import Polytope

        cells = list(cells)
        if not cells:
            raise InvalidInputError("cells must be a non-empty list of Polytope; got an empty list")
        for i, c in enumerate(cells):
            if not isinstance(c, Polytope):
                raise InvalidInputError(
                    f"cells[{i}] must be a geomcore.Polytope; got {type(c).__name__}")
        ndims = {c.ndim for c in cells}
        if len(ndims) > 1:
            raise InvalidInputError(f"cells must all have the same ndim; got {sorted(ndims)}")
        self.cells = cells
        self.ndim = cells[0].ndim
        self.A = np.vstack([c.A for c in cells])
        self.b = np.concatenate([c.b for c in cells])
        self.offsets = np.r_[0, np.cumsum([len(c.b) for c in cells])].astype(np.int64)

    def containing(self, X, *, tol=1e-9):
        """Index of the cell containing each point (the one it is deepest inside), -1 when no
        cell contains it within ``tol`` (relative to the row norms)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        norms = np.linalg.norm(self.A, axis=1)
        slack = (X @ self.A.T - self.b) / norms               # > 0 outside the row
        worst = np.maximum.reduceat(slack, self.offsets[:-1], axis=1)
        best = np.argmin(worst, axis=1)
        return np.where(worst[np.arange(len(X)), best] <= tol, best, -1).astype(np.int64)

    def labels_of(self, X):
        """The labels of the cells containing the points (the source protocol)."""
        return self.containing(X)

    def __repr__(self):
        return f"CellList(n_cells={len(self.cells)}, ndim={self.ndim})"


def cell_list_partition(model, domain, progress=False, max_cells=None):
    """The :class:`~geomcore.Partition` of a list of cells, after checking that they partition
    the domain (inside it, interiors disjoint, volumes summing to its volume)."""
    from geomcore.partitions import Arrangement, partition
    from geomcore.partitions._model import Hinges, Partition, Walls, _domain_halfspaces
    from geomcore.polytope import polytopes

    d = model.ndim
    dom_A, dom_b, dom_volume = _domain_halfspaces(domain, d)
    if dom_A.shape[1] != d:
        raise InvalidInputError(f"domain has ndim={dom_A.shape[1]} but the cells have ndim={d}")
    batch = polytopes(model.A, model.b, model.offsets)
    n = len(model.cells)
    # inside the domain: every vertex satisfies the domain's rows
    scale = np.abs(dom_b) + np.abs(batch.vertices) @ np.abs(dom_A).T + 1e-300
    outside = (batch.vertices @ dom_A.T - dom_b) / scale > 1e-9
    if outside.any():
        v = int(np.argwhere(outside)[0, 0])
        i = int(np.searchsorted(batch.vertex_offsets, v, "right") - 1)
        raise InvalidInputError(
            f"cells[{i}] is not inside the domain: its vertex {batch.vertices[v].tolist()} is "
            f"outside")
    # the arrangement of every facet hyperplane but the domain's own, each once (neighbours
    # share their facet hyperplanes; equal sets are found exactly)
    inner = ~_on_domain_facet(model.A, model.b, dom_A, dom_b)
    A, b = model.A[inner], model.b[inner]
    first = Arrangement(A, b).coincident_groups() == np.arange(len(b)) if len(b) else []
    A, b = A[first], b[first]
    if len(b) == 0:                  # no facet inside the domain: a hyperplane missing it
        A, b = dom_A[:1], dom_b[:1] + np.abs(dom_b[:1]) + 1.0
    fine = partition(Arrangement(A, b), domain, progress=progress, max_cells=max_cells)
    owner = model.containing(fine.centroids)
    if (owner < 0).any():
        k = int(np.flatnonzero(owner < 0)[0])
        raise InvalidInputError(
            f"cells do not cover the domain: the point {fine.centroids[k].tolist()} is in no cell")
    covered = np.bincount(owner, fine.volumes, minlength=n)
    bad = ~np.isclose(covered, batch.volume, rtol=1e-9, atol=1e-12 * dom_volume)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidInputError(
            f"cells overlap: cells[{i}] has volume {batch.volume[i]:.6g} but only "
            f"{covered[i]:.6g} of it is not inside an earlier cell")
    walls = _grouped_walls(fine.walls, owner)
    boundary = np.bincount(owner, fine.boundary_areas, minlength=n)
    hinges = _grouped_hinges(fine.hinges, owner, Hinges)
    return Partition(model, domain, np.arange(n, dtype=np.int64), batch, Walls(*walls), hinges,
                     boundary)


def _on_domain_facet(A, b, dom_A, dom_b):
    """Rows whose hyperplane is one of the domain's facet hyperplanes (they cut nothing):
    ``[a, b] / |a|`` equal to a domain row's, up to sign and rounding."""
    unit = np.column_stack([A, b]) / np.linalg.norm(A, axis=1)[:, None]
    dom_unit = np.column_stack([dom_A, dom_b]) / np.linalg.norm(dom_A, axis=1)[:, None]
    gap = np.minimum(np.abs(unit[:, None] - dom_unit[None]).max(axis=2),
                     np.abs(unit[:, None] + dom_unit[None]).max(axis=2))
    return (gap < 1e-13).any(axis=1)


def _grouped_walls(fine_walls, owner):
    """Arrangement walls between different user cells, summed per pair of user cells."""
    i, j = owner[fine_walls.cells[:, 0]], owner[fine_walls.cells[:, 1]]
    keep = i != j
    i, j = i[keep], j[keep]
    areas = fine_walls.areas[keep]
    normals = fine_walls.normals[keep] * np.where(i < j, 1.0, -1.0)[:, None]
    centroids = fine_walls.centroids[keep]
    pairs = np.column_stack([np.minimum(i, j), np.maximum(i, j)])
    keys, wall = np.unique(pairs, axis=0, return_inverse=True)
    wall = wall.ravel()
    total = np.bincount(wall, areas, minlength=len(keys))
    centre = np.column_stack([np.bincount(wall, areas * centroids[:, k], minlength=len(keys))
                              for k in range(centroids.shape[1])]) / total[:, None]
    normal = np.zeros((len(keys), normals.shape[1]))
    normal[wall] = normals
    return keys.astype(np.int64), total, normal, centre


def _grouped_hinges(fine, owner, Hinges):
    """Arrangement hinges met by three or more user cells, merged per set of user cells; a
    user cell's angle is the sum of its pieces' angles."""
    n_h = len(fine)
    if n_h == 0:
        return fine
    hinge = np.repeat(np.arange(n_h), np.diff(fine.indptr))
    cell = owner[fine.indices]
    # per (hinge, user cell): summed angle
    key = hinge * (owner.max() + 1) + cell
    uniq, at = np.unique(key, return_inverse=True)
    angle = np.bincount(at.ravel(), fine.angles)
    h, c = np.divmod(uniq, owner.max() + 1)
    count = np.bincount(h, minlength=n_h)
    big = count[h] >= 3
    h, c, angle = h[big], c[big], angle[big]
    if len(h) == 0:
        return Hinges(np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0),
                      np.zeros(0, bool))
    # hinges with the same set of user cells are pieces of one face: merge them
    starts = np.r_[0, np.flatnonzero(np.diff(h)) + 1]
    sizes = np.diff(np.r_[starts, len(h)])
    width = int(sizes.max())
    table = np.full((len(starts), width), -1, np.int64)
    column = np.arange(len(h)) - np.repeat(starts, sizes)
    table[np.repeat(np.arange(len(starts)), sizes), column] = c
    _, merged = np.unique(table, axis=0, return_inverse=True)
    merged = merged.ravel()
    first = np.unique(merged, return_index=True)[1]
    volumes = np.bincount(merged, fine.volumes[h[starts]])
    interior = np.bincount(merged, ~fine.interior[h[starts]]) == 0
    entries = np.repeat(starts[first], sizes[first]) + (np.arange(sizes[first].sum())
                                                       - np.repeat(np.cumsum(sizes[first])
                                                                   - sizes[first], sizes[first]))
    return Hinges(np.r_[0, np.cumsum(sizes[first])].astype(np.int64), c[entries].astype(np.int64),
                  angle[entries], volumes, interior)


def _build(model, domain, *, regions, progress, max_cells):
    return cell_list_partition(model, domain, progress, max_cells)


register("cells", lambda m: isinstance(m, (list, tuple, CellList)),
         lambda m: m if isinstance(m, CellList) else CellList(m), _build)
