# cython: language_level=3
"""Combinatorial kernels of the cell complex (geomcore/partitions/_complex.py).

The complex stores, per vertex, the set of sources (domain rows, neurons, hyperplanes) it lies
on as a bitset of uint64 words, and per cell its vertices and its facet sources (CSR). Every
decision here is a set operation on those bitsets, so it is exact: the only geometric input is
the sign of each vertex for the source being inserted, which the caller decides exactly.

Two facts of convex polytopes carry the kernels (P a polytope, F(v) the facets through v):
* vertices u, w of P span an edge iff no other vertex r of P has F(u) & F(w) <= F(r);
* the ridges of P follow from the incidence (found by the kernel's measure stage).
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


def cell_incidence(const cnp.int64_t[::1] cv_ptr, const cnp.int64_t[::1] cv_idx,
                   const cnp.int64_t[::1] cf_ptr, const cnp.int64_t[::1] cf_idx,
                   const word_t[:, ::1] VB):
    """The vertex-facet incidence of every cell: CSR over the stacked cell vertices (cv_idx
    positions), the positions within the cell's facet list of the facets through each vertex.
    (The ridges follow from it: the kernel's measure stage finds them.)"""
    cdef Py_ssize_t n = cv_ptr.shape[0] - 1
    cdef Py_ssize_t c, a, p, k, cnt
    cdef cnp.int64_t v
    inc_ptr = np.zeros(cv_idx.shape[0] + 1, dtype=np.int64)
    cdef cnp.int64_t[::1] iptr = inc_ptr
    # incidence: count, then fill
    with nogil:
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
    with nogil:
        for c in range(n):
            for a in range(cv_ptr[c], cv_ptr[c + 1]):
                v = cv_idx[a]
                k = iptr[a]
                for p in range(cf_ptr[c], cf_ptr[c + 1]):
                    if bit_get(&VB[v, 0], cf_idx[p]):
                        iidx[k] = p - cf_ptr[c]
                        k += 1
    return inc_ptr, inc_idx


def ridge_vertices(const cnp.int64_t[::1] cv_ptr, const cnp.int64_t[::1] cv_idx,
                   const cnp.int64_t[::1] cf_ptr, const cnp.int64_t[::1] cf_idx,
                   const word_t[:, ::1] VB, const cnp.int64_t[::1] ridge_cell,
                   const cnp.int64_t[::1] ridge_f, const cnp.int64_t[::1] ridge_g):
    """The vertices of each ridge (facets at positions f, g of its cell's facet list), CSR:
    (ridge_ptr, vertex ids)."""
    cdef Py_ssize_t n_r = ridge_cell.shape[0], r, a, c, total = 0
    cdef cnp.int64_t f, g, v
    ridge_ptr = np.zeros(n_r + 1, dtype=np.int64)
    cdef cnp.int64_t[::1] rptr = ridge_ptr
    for r in range(n_r):
        c = ridge_cell[r]
        f, g = cf_idx[cf_ptr[c] + ridge_f[r]], cf_idx[cf_ptr[c] + ridge_g[r]]
        for a in range(cv_ptr[c], cv_ptr[c + 1]):
            v = cv_idx[a]
            if bit_get(&VB[v, 0], f) and bit_get(&VB[v, 0], g):
                total += 1
        rptr[r + 1] = total
    out = np.empty(total, dtype=np.int64)
    cdef cnp.int64_t[::1] o = out
    total = 0
    for r in range(n_r):
        c = ridge_cell[r]
        f, g = cf_idx[cf_ptr[c] + ridge_f[r]], cf_idx[cf_ptr[c] + ridge_g[r]]
        for a in range(cv_ptr[c], cv_ptr[c + 1]):
            v = cv_idx[a]
            if bit_get(&VB[v, 0], f) and bit_get(&VB[v, 0], g):
                o[total] = v
                total += 1
    return ridge_ptr, out
