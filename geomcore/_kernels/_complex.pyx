# cython: language_level=3
"""Combinatorial kernels of the cell complex (geomcore/partitions/_complex.py).

The complex stores, per vertex, the set of sources (domain rows, neurons, hyperplanes) it lies
on as a bitset of uint64 words, and per cell its vertices and its facet sources (CSR). Every
decision here is a set operation on those bitsets, so it is exact: the only geometric input is
the sign of each vertex for the source being inserted, which the caller decides exactly.

Two facts of convex polytopes carry the kernels (P a polytope, F(v) the facets through v):
* vertices u, w of P span an edge iff no other vertex r of P has F(u) & F(w) <= F(r);
* facets f, g of P meet in a ridge iff no third facet contains every vertex on both.
"""

import numpy as np

cimport numpy as cnp
from libc.stdlib cimport free, malloc

ctypedef unsigned long long word_t

cnp.import_array()


cdef inline bint bit_get(const word_t* s, Py_ssize_t i) noexcept nogil:
    return (s[i >> 6] >> (i & 63)) & 1


cdef inline int popcount_and3(const word_t* a, const word_t* b, const word_t* c,
                              Py_ssize_t w) noexcept nogil:
    cdef int n = 0
    cdef Py_ssize_t k
    for k in range(w):
        n += __builtin_popcountll(a[k] & b[k] & c[k])
    return n


cdef extern from *:
    int __builtin_popcountll(unsigned long long) nogil


cdef inline bint and3_subset(const word_t* a, const word_t* b, const word_t* c,
                             const word_t* r, Py_ssize_t w) noexcept nogil:
    """(a & b & c) <= r"""
    cdef Py_ssize_t k
    for k in range(w):
        if (a[k] & b[k] & c[k]) & ~r[k]:
            return False
    return True


def _grown(a, cap):
    """A copy of the int64 array a with room for cap entries."""
    out = np.empty(cap, dtype=np.int64)
    out[:a.shape[0]] = a
    return out


def split_cells(const cnp.int64_t[::1] cv_ptr, const cnp.int64_t[::1] cv_idx,
                const cnp.int64_t[::1] cf_ptr, const cnp.int64_t[::1] cf_idx,
                const word_t[:, ::1] VB, const cnp.int8_t[::1] sign,
                const cnp.int64_t[::1] cut, Py_ssize_t d):
    """For each cut cell (vertices of both strict signs): its crossing edges and the facets of
    its two sides.

    Returns
    -------
    edge_cell, edge_u, edge_w : int64 (n_edges,)
        Edges ``u w`` of cut cell ``cut[edge_cell]`` with sign[u] < 0 < sign[w].
    neg_ptr, neg_facets, pos_ptr, pos_facets : CSR over the cut cells
        The facets (sources) of the cell that keep a (d-1)-dimensional part on the negative
        (positive) side: those through a vertex of strictly that sign.
    """
    cdef Py_ssize_t W = VB.shape[1], n_cut = cut.shape[0]
    cdef Py_ssize_t i, c, a, b, p, q, r, f, k, nv, nf, n_e = 0, n_nf = 0, n_pf = 0
    cdef Py_ssize_t cap_e = 16 + 4 * n_cut, cap_f = 16 + 2 * (cf_ptr[cf_ptr.shape[0] - 1])
    cdef cnp.int64_t u, w, v
    cdef bint edge, has
    cdef word_t* fmask = <word_t*>malloc(W * sizeof(word_t))
    edge_cell = np.empty(cap_e, dtype=np.int64)
    edge_u = np.empty(cap_e, dtype=np.int64)
    edge_w = np.empty(cap_e, dtype=np.int64)
    neg_facets = np.empty(cap_f, dtype=np.int64)
    pos_facets = np.empty(cap_f, dtype=np.int64)
    neg_ptr = np.zeros(n_cut + 1, dtype=np.int64)
    pos_ptr = np.zeros(n_cut + 1, dtype=np.int64)
    cdef cnp.int64_t[::1] ec = edge_cell, eu = edge_u, ew = edge_w
    cdef cnp.int64_t[::1] nfa = neg_facets, pfa = pos_facets, nptr = neg_ptr, pptr = pos_ptr
    try:
        for i in range(n_cut):
            c = cut[i]
            # the cell's facets as a bitset
            for k in range(W):
                fmask[k] = 0
            for p in range(cf_ptr[c], cf_ptr[c + 1]):
                f = cf_idx[p]
                fmask[f >> 6] |= (<word_t>1) << (f & 63)
            for a in range(cv_ptr[c], cv_ptr[c + 1]):
                u = cv_idx[a]
                if sign[u] >= 0:
                    continue
                for b in range(cv_ptr[c], cv_ptr[c + 1]):
                    w = cv_idx[b]
                    if sign[w] <= 0:
                        continue
                    if popcount_and3(&VB[u, 0], &VB[w, 0], fmask, W) < d - 1:
                        continue
                    edge = True
                    for r in range(cv_ptr[c], cv_ptr[c + 1]):
                        v = cv_idx[r]
                        if v != u and v != w and and3_subset(&VB[u, 0], &VB[w, 0], fmask,
                                                              &VB[v, 0], W):
                            edge = False
                            break
                    if edge:
                        if n_e == cap_e:
                            cap_e *= 2
                            edge_cell = _grown(edge_cell, cap_e)
                            edge_u = _grown(edge_u, cap_e)
                            edge_w = _grown(edge_w, cap_e)
                            ec = edge_cell
                            eu = edge_u
                            ew = edge_w
                        ec[n_e] = i
                        eu[n_e] = u
                        ew[n_e] = w
                        n_e += 1
            for p in range(cf_ptr[c], cf_ptr[c + 1]):
                f = cf_idx[p]
                for q in range(2):
                    has = False
                    for a in range(cv_ptr[c], cv_ptr[c + 1]):
                        u = cv_idx[a]
                        if (sign[u] < 0 if q == 0 else sign[u] > 0) and bit_get(&VB[u, 0], f):
                            has = True
                            break
                    if has and q == 0:
                        nfa[n_nf] = f
                        n_nf += 1
                    elif has:
                        pfa[n_pf] = f
                        n_pf += 1
            nptr[i + 1] = n_nf
            pptr[i + 1] = n_pf
    finally:
        free(fmask)
    return (edge_cell[:n_e], edge_u[:n_e], edge_w[:n_e], neg_ptr, neg_facets[:n_nf].copy(),
            pos_ptr, pos_facets[:n_pf].copy())


def cell_faces(const cnp.int64_t[::1] cv_ptr, const cnp.int64_t[::1] cv_idx,
               const cnp.int64_t[::1] cf_ptr, const cnp.int64_t[::1] cf_idx,
               const word_t[:, ::1] VB, Py_ssize_t d):
    """The vertex-facet incidence of every cell and its ridges.

    Returns
    -------
    inc_ptr, inc_idx : CSR over the stacked cell vertices (cv_idx positions): the positions,
        within the cell's facet list, of the facets through each vertex.
    ridge_cell, ridge_f, ridge_g : int64 (n_ridges,)
        Cell and positions (f < g) in its facet list of each pair of facets meeting in a ridge.
    ridge_ptr, ridge_vertices : CSR over the ridges: the vertices (ids) of each ridge.
    """
    cdef Py_ssize_t n = cv_ptr.shape[0] - 1, W = VB.shape[1]
    cdef Py_ssize_t c, a, p, q, h, k, n_inc = 0, n_r = 0, n_rv = 0, cnt
    cdef Py_ssize_t cap_r = 16 + 4 * n, cap_rv = 16 + 8 * n
    cdef cnp.int64_t v, f, g, e
    cdef bint ridge, all_in
    inc_ptr = np.zeros(cv_idx.shape[0] + 1, dtype=np.int64)
    cdef Py_ssize_t total_inc = 0
    cdef cnp.int64_t[::1] iptr = inc_ptr
    # incidence: count, then fill
    for c in range(n):
        for a in range(cv_ptr[c], cv_ptr[c + 1]):
            v = cv_idx[a]
            cnt = 0
            for p in range(cf_ptr[c], cf_ptr[c + 1]):
                if bit_get(&VB[v, 0], cf_idx[p]):
                    cnt += 1
            iptr[a + 1] = iptr[a] + cnt
    inc_idx = np.empty(iptr[cv_idx.shape[0]], dtype=np.int64)
    cdef cnp.int64_t[::1] iidx = inc_idx
    for c in range(n):
        for a in range(cv_ptr[c], cv_ptr[c + 1]):
            v = cv_idx[a]
            k = iptr[a]
            for p in range(cf_ptr[c], cf_ptr[c + 1]):
                if bit_get(&VB[v, 0], cf_idx[p]):
                    iidx[k] = p - cf_ptr[c]
                    k += 1
    ridge_cell = np.empty(cap_r, dtype=np.int64)
    ridge_f = np.empty(cap_r, dtype=np.int64)
    ridge_g = np.empty(cap_r, dtype=np.int64)
    ridge_ptr = np.zeros(cap_r + 1, dtype=np.int64)
    ridge_vertices = np.empty(cap_rv, dtype=np.int64)
    cdef cnp.int64_t[::1] rc = ridge_cell, rf = ridge_f, rg = ridge_g, rptr = ridge_ptr
    cdef cnp.int64_t[::1] rv = ridge_vertices
    if d < 2:
        return inc_ptr, inc_idx, ridge_cell[:0], ridge_f[:0], ridge_g[:0], ridge_ptr[:1], \
            ridge_vertices[:0]
    for c in range(n):
        for p in range(cf_ptr[c], cf_ptr[c + 1]):
            f = cf_idx[p]
            for q in range(p + 1, cf_ptr[c + 1]):
                g = cf_idx[q]
                # the vertices on both facets; a ridge has at least d - 1 of them
                cnt = 0
                for a in range(cv_ptr[c], cv_ptr[c + 1]):
                    v = cv_idx[a]
                    if bit_get(&VB[v, 0], f) and bit_get(&VB[v, 0], g):
                        cnt += 1
                if cnt < d - 1 or cnt == 0:
                    continue
                ridge = True
                for h in range(cf_ptr[c], cf_ptr[c + 1]):
                    if h == p or h == q:
                        continue
                    e = cf_idx[h]
                    all_in = True
                    for a in range(cv_ptr[c], cv_ptr[c + 1]):
                        v = cv_idx[a]
                        if bit_get(&VB[v, 0], f) and bit_get(&VB[v, 0], g) \
                                and not bit_get(&VB[v, 0], e):
                            all_in = False
                            break
                    if all_in:
                        ridge = False
                        break
                if not ridge:
                    continue
                if n_r == cap_r:
                    cap_r *= 2
                    ridge_cell = _grown(ridge_cell, cap_r)
                    ridge_f = _grown(ridge_f, cap_r)
                    ridge_g = _grown(ridge_g, cap_r)
                    ridge_ptr = _grown(ridge_ptr, cap_r + 1)
                    rc = ridge_cell
                    rf = ridge_f
                    rg = ridge_g
                    rptr = ridge_ptr
                if n_rv + cnt > cap_rv:
                    cap_rv = 2 * cap_rv + cnt
                    ridge_vertices = _grown(ridge_vertices, cap_rv)
                    rv = ridge_vertices
                rc[n_r] = c
                rf[n_r] = p - cf_ptr[c]
                rg[n_r] = q - cf_ptr[c]
                for a in range(cv_ptr[c], cv_ptr[c + 1]):
                    v = cv_idx[a]
                    if bit_get(&VB[v, 0], f) and bit_get(&VB[v, 0], g):
                        rv[n_rv] = v
                        n_rv += 1
                n_r += 1
                rptr[n_r] = n_rv
    return (inc_ptr, inc_idx, ridge_cell[:n_r].copy(), ridge_f[:n_r].copy(),
            ridge_g[:n_r].copy(), ridge_ptr[:n_r + 1].copy(), ridge_vertices[:n_rv].copy())
