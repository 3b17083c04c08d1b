"""Plain-Python references for ``geomcore._kernels._complex`` (same names, same outputs).

Slow and obvious: sets of sources per vertex instead of bitsets, one loop per cell. The tests
run the partition engine on both (``tests/test_complex.py``)."""

import numpy as np

__all__ = ["cell_incidence", "ridge_vertices", "split_cells"]


def _sources(VB, v):
    """The set of sources through vertex v, from its bitset words."""
    bits = np.unpackbits(np.ascontiguousarray(VB[v]).view(np.uint8), bitorder="little")
    return set(np.flatnonzero(bits).tolist())


def split_cells(cv_ptr, cv_idx, cf_ptr, cf_idx, VB, sign, cut, d):
    edges, neg_f, pos_f = [], [], []
    for i, c in enumerate(cut):
        verts = [int(v) for v in cv_idx[cv_ptr[c]:cv_ptr[c + 1]]]
        facets = [int(f) for f in cf_idx[cf_ptr[c]:cf_ptr[c + 1]]]
        on = {v: _sources(VB, v) & set(facets) for v in verts}
        for u in verts:
            if sign[u] >= 0:
                continue
            for w in verts:
                if sign[w] <= 0:
                    continue
                common = on[u] & on[w]
                # an edge: d - 1 common facets, and no other vertex on all of them
                if len(common) >= d - 1 and not any(common <= on[r] for r in verts
                                                    if r not in (u, w)):
                    edges.append((i, u, w))
        neg_f.append([f for f in facets if any(sign[v] < 0 and f in on[v] for v in verts)])
        pos_f.append([f for f in facets if any(sign[v] > 0 and f in on[v] for v in verts)])
    e = np.array(edges, dtype=np.int64).reshape(-1, 3)

    def csr(lists):
        ptr = np.r_[0, np.cumsum([len(x) for x in lists])].astype(np.int64)
        return ptr, np.array([f for x in lists for f in x], dtype=np.int64)

    nptr, nfac = csr(neg_f)
    pptr, pfac = csr(pos_f)
    return e[:, 0].copy(), e[:, 1].copy(), e[:, 2].copy(), nptr, nfac, pptr, pfac


def cell_incidence(cv_ptr, cv_idx, cf_ptr, cf_idx, VB):
    ptr, idx = [0], []
    for c in range(len(cv_ptr) - 1):
        facets = [int(f) for f in cf_idx[cf_ptr[c]:cf_ptr[c + 1]]]
        for v in cv_idx[cv_ptr[c]:cv_ptr[c + 1]]:
            on = _sources(VB, int(v))
            idx.extend(p for p, f in enumerate(facets) if f in on)
            ptr.append(len(idx))
    return np.array(ptr, dtype=np.int64), np.array(idx, dtype=np.int64)


def ridge_vertices(cv_ptr, cv_idx, cf_ptr, cf_idx, VB, ridge_cell, ridge_f, ridge_g):
    ptr, out = [0], []
    for c, f, g in zip(ridge_cell, ridge_f, ridge_g):
        sf, sg = int(cf_idx[cf_ptr[c] + f]), int(cf_idx[cf_ptr[c] + g])
        for v in cv_idx[cv_ptr[c]:cv_ptr[c + 1]]:
            on = _sources(VB, int(v))
            if sf in on and sg in on:
                out.append(int(v))
        ptr.append(len(out))
    return np.array(ptr, dtype=np.int64), np.array(out, dtype=np.int64)
