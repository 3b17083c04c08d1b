"""From a finished :class:`~geomcore.partitions._complex.CellComplex` to a :class:`Partition`.

The combinatorics are read off the complex (exact): a wall is a facet vertex set shared by two
cells, a boundary facet one that only one cell has, a hinge a ridge vertex set shared by three
or more cells. The measures (volumes, areas, normals, centroids, ridge volumes, angles) come from
the kernel's measure stage (``polytope_measures``) on the complex's own vertices and incidences,
so the numbers and the combinatorics always describe the same cells.
"""

from functools import partial
from itertools import pairwise
from types import SimpleNamespace

import numpy as np

from geomcore._kernels._polytope import polytope_measures
from geomcore.partitions._model import (
    Hinges,
    Partition,
    Walls,
    _check_volume,
    _no_hinges,
)
from geomcore.polytope import polytopes

__all__ = ["complex_partition"]

_CHUNK = 4096


def facet_rows(cx, owner, sources, incidence=None):
    """Outward rows ``n . x <= c`` of facets (cell owner[i], source sources[i]) of the complex:
    domain rows as given, a neuron's row as pulled back through the cell's pattern, oriented
    by the cell's side (label bit). For the complex's own facets of a deep 2-D network (pass
    its `incidence`), the edge's two vertices give the row instead: the same line, without a
    pulled-back map per cell."""
    d, n_dom = cx.d, cx.n_dom
    normals = np.empty((len(owner), d))
    offsets = np.empty(len(owner))
    dom = sources < n_dom
    normals[dom], offsets[dom] = cx.dom_A[sources[dom]], cx.dom_b[sources[dom]]
    hid = np.flatnonzero(~dom)
    if incidence is not None and d == 2 and len(cx.sources.weights) > 1:
        normals[hid], offsets[hid] = _edge_rows(cx, incidence, hid)
        return normals, offsets
    labels = cx.labels
    # chunks of whole cells (owner is sorted), so that each cell's maps are built once
    bounds = np.searchsorted(owner[hid], np.arange(0, owner[-1] + _CHUNK + 1 if len(owner) else 1,
                                                   _CHUNK))
    for lo, hi in pairwise(bounds):
        if lo == hi:
            continue
        part = hid[lo:hi]
        g = sources[part] - n_dom
        cells, at = np.unique(owner[part], return_inverse=True)
        r = cx.sources.rows_of(labels[cells], at.ravel(), g)
        side = np.where(labels[owner[part], g], -1.0, 1.0)        # active side: -z <= 0
        normals[part] = side[:, None] * r[:, :d]
        offsets[part] = -side * r[:, d]
    return normals, offsets


def _edge_rows(cx, incidence, facets):
    """Outward rows of 2-D facets (stacked facet indices) from their two vertices."""
    inc_ptr, inc_idx = incidence
    cv_ptr, cv_idx, cf_ptr = cx.cv_ptr, cx.cv_idx, cx.cf_ptr
    n = cx.n_cells
    owner_v = np.repeat(np.arange(n), np.diff(cv_ptr))
    occ = np.repeat(np.arange(len(cv_idx)), np.diff(inc_ptr))
    facet = cf_ptr[owner_v[occ]] + inc_idx
    order = np.argsort(facet, kind="stable")
    ends = cv_idx[occ[order]].reshape(-1, 2)               # every 2-D facet has two vertices
    X = cx.X
    a, b = X[ends[:, 0]], X[ends[:, 1]]
    normal = np.column_stack([b[:, 1] - a[:, 1], a[:, 0] - b[:, 0]])
    normal /= np.linalg.norm(normal, axis=1)[:, None]
    # outward: the cell's vertex mean lies on the inner side
    owner_f = np.repeat(np.arange(n), np.diff(cf_ptr))
    mean = np.column_stack([np.bincount(owner_v, X[cv_idx, k], minlength=n)
                            for k in range(2)]) / np.diff(cv_ptr)[:, None]
    flip = np.einsum("ij,ij->i", normal, mean[owner_f] - a) > 0
    normal[flip] *= -1
    return normal[facets], np.einsum("ij,ij->i", normal, a)[facets]


def polished_vertices(cx, inc_ptr, inc_idx, normals, offsets):
    """The vertices re-solved from the facet rows through them (in one cell containing each),
    by batched QR: more accurate than the interpolated coordinates the complex carries. A
    polished vertex is kept only when it lies within the vertex's proven error radius."""
    d = cx.d
    X = cx.X.copy()
    occ_of_vertex = np.full(len(X), -1)
    occ_of_vertex[cx.cv_idx[::-1]] = np.arange(len(cx.cv_idx))[::-1]     # first occurrence
    used = np.flatnonzero(occ_of_vertex >= 0)
    occ = occ_of_vertex[used]
    owner = np.repeat(np.arange(cx.n_cells), np.diff(cx.cv_ptr))[occ]
    count = inc_ptr[occ + 1] - inc_ptr[occ]
    for k in np.unique(count):
        if k < d:
            continue
        sel = np.flatnonzero(count == k)
        pos = inc_ptr[occ[sel]][:, None] + np.arange(k)
        rows = cx.cf_ptr[owner[sel]][:, None] + inc_idx[pos]            # (n, k) facet rows
        N, c = normals[rows], offsets[rows]
        scale = np.linalg.norm(N, axis=2)
        N, c = N / scale[:, :, None], c / scale
        if k == d:
            x = np.linalg.solve(N, c[:, :, None])[:, :, 0]
        else:
            Q, R = np.linalg.qr(N)
            x = np.linalg.solve(R, np.matmul(Q.transpose(0, 2, 1), c[:, :, None]))[:, :, 0]
        v = used[sel]
        ok = np.isfinite(x).all(axis=1) & (np.abs(x - X[v]).max(axis=1) <= cx.R[v] + 1e-300)
        X[v[ok]] = x[ok]
    return X


def _group_sets(ptr, members):
    """Group equal sets: CSR sets (ptr, members) -> (group id per set, n_groups).

    Sets are grouped by two random 64-bit hashes (sums of per-member keys, so order does not
    matter) and their size; then every set is compared, as a sorted row, with its group's
    first set, and only if some differ (a hash collision) are the sorted rows grouped
    directly. So the grouping is exact, and fast in the usual case."""
    n = len(ptr) - 1
    lengths = np.diff(ptr)
    owner = np.repeat(np.arange(n), lengths)
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    rng = np.random.default_rng(0x9E3779B9)
    top = int(members.max(initial=0)) + 1
    keys = rng.integers(0, 2**63, size=(2, top), dtype=np.int64).view(np.uint64)
    c1 = np.r_[np.uint64(0), np.cumsum(keys[0][members], dtype=np.uint64)]   # wraps mod 2^64
    c2 = np.r_[np.uint64(0), np.cumsum(keys[1][members], dtype=np.uint64)]
    h1, h2 = c1[ptr[1:]] - c1[ptr[:-1]], c2[ptr[1:]] - c2[ptr[:-1]]
    order = np.lexsort((h2, h1, lengths))
    new = np.r_[True, (np.diff(h1[order]) != 0) | (np.diff(h2[order]) != 0)
                | (np.diff(lengths[order]) != 0)]
    group = np.empty(n, dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    n_groups = int(new.sum())
    # verify: each set equals its group's first set, as sorted rows
    sorted_members = members[np.lexsort((members, owner))]
    first = order[new][group]                       # the representative of each set's group
    idx = np.arange(len(members)) - np.repeat(ptr[:-1], lengths)
    if not np.array_equal(sorted_members, sorted_members[ptr[first[owner]] + idx]):
        width = int(lengths.max())
        padded = np.full((n, width + 1), -1, dtype=np.int64)
        padded[:, 0] = lengths
        padded[owner, idx + 1] = sorted_members
        rows = np.ascontiguousarray(padded).view(np.dtype((np.void, 8 * (width + 1)))).ravel()
        _, group = np.unique(rows, return_inverse=True)
        group = group.ravel()
        n_groups = int(group.max(initial=-1)) + 1
    return group, n_groups


def complex_partition(cx, model, domain, dom_volume, classes=None):
    """The Partition of the complex's cells (in their current order)."""
    n, n_dom = cx.n_cells, cx.n_dom
    inc_ptr, inc_idx = cx.incidence()
    owner_f = np.repeat(np.arange(n), np.diff(cx.cf_ptr))
    normals, offsets = facet_rows(cx, owner_f, cx.cf_idx, (inc_ptr, inc_idx))
    X = polished_vertices(cx, inc_ptr, inc_idx, normals, offsets)
    m = polytope_measures(X[cx.cv_idx], cx.cv_ptr, inc_ptr, inc_idx, normals, offsets,
                          cx.cf_ptr)
    if (m["status"] != 0).any():
        bad = int(np.flatnonzero(m["status"] != 0)[0])
        raise RuntimeError(f"internal error: measuring cell {bad} failed (status "
                           f"{m['status'][bad]})")
    volumes, centroids = m["volume"], m["centroid"]
    _check_volume_sum(volumes, dom_volume)
    # walls: facet vertex sets shared by two cells
    owner_v = np.repeat(np.arange(n), np.diff(cx.cv_ptr))
    occ = np.repeat(np.arange(len(cx.cv_idx)), np.diff(inc_ptr))
    facet_of_occ = cx.cf_ptr[owner_v[occ]] + inc_idx
    order = np.argsort(facet_of_occ, kind="stable")
    fptr = np.r_[0, np.cumsum(np.bincount(facet_of_occ, minlength=len(cx.cf_idx)))]
    group, n_groups = _group_sets(fptr, cx.cv_idx[occ][order])
    size = np.bincount(group, minlength=n_groups)
    on_domain = cx.cf_idx < n_dom
    if (size > 2).any() or ((size[group] == 1) & ~on_domain).any():
        raise RuntimeError("internal error: a facet is not shared by exactly two cells or the "
                           "domain")
    boundary = np.bincount(owner_f[size[group] == 1], weights=m["facet_areas"][size[group] == 1],
                           minlength=n)
    two = np.flatnonzero(size[group] == 2)
    by_group = two[np.argsort(group[two], kind="stable")]
    first, second = by_group[0::2], by_group[1::2]
    c1, c2 = owner_f[first], owner_f[second]
    lower = np.where(c1 < c2, first, second)
    pairs = np.sort(np.column_stack([c1, c2]), axis=1)
    worder = np.lexsort(pairs.T[::-1])
    walls = Walls(pairs[worder], m["facet_areas"][lower[worder]],
                  m["facet_normals"][lower[worder]], m["facet_centroids"][lower[worder]])
    hinges = _hinges(cx, m)

    # cell(i) recomputes the cell from its facet rows when first asked (a partial, so that
    # the partition pickles)
    batch = partial(polytopes, normals, offsets, cx.cf_ptr)
    part = Partition(model, domain, cx.labels, batch, walls, hinges, boundary,
                     classes=classes, volumes=volumes, centroids=centroids)
    part._halfspaces = (normals, offsets, cx.cf_ptr, cx.cf_idx)
    return part


def _hinges(cx, m):
    """Hinges: ridge vertex sets shared by three or more cells, with each cell's angle. The
    ridges are the kernel's (found from the exact incidence); their vertex sets identify them
    across cells."""
    ridges = m["ridges"]
    if cx.d < 2 or len(ridges) == 0:
        return _no_hinges()
    r_cell = np.repeat(np.arange(cx.n_cells), np.diff(m["ridge_offsets"]))
    r_ptr, r_verts = cx.ridge_vertices(r_cell, ridges[:, 0].copy(), ridges[:, 1].copy())
    group, n_groups = _group_sets(r_ptr, r_verts)
    size = np.bincount(group, minlength=n_groups)
    big = np.flatnonzero(size[group] >= 3)
    if not big.size:
        return _no_hinges()
    # interior unless every vertex of the ridge lies on one domain row
    common = np.bitwise_and.reduceat(cx.VB[r_verts], r_ptr[:-1], axis=0)[big]
    dom_mask = np.zeros(cx.n_words, dtype=np.uint64)
    for r in range(cx.n_dom):
        dom_mask[r // 64] |= np.uint64(1) << np.uint64(r % 64)
    on_boundary = (common & dom_mask).any(axis=1)
    order = np.lexsort((r_cell[big], group[big]))
    g, cells = group[big][order], r_cell[big][order]
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    return Hinges(np.r_[starts, len(g)].astype(np.int64), cells.astype(np.int64),
                  m["dihedral_angles"][big][order], m["ridge_volumes"][big][order][starts],
                  ~on_boundary[order][starts])


def _check_volume_sum(volumes, dom_volume):
    _check_volume(SimpleNamespace(volume=volumes), dom_volume)
