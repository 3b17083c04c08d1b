# cython: language_level=3
"""Dense simplex walks over one cell's rows, for data_cells' facet discovery.

The same steps as geomcore._datacells_geometry._Walker.maximise (the NumPy reference), in C:
per pivot one pass over the rows (ratio test) and O(d^2) for the reduced costs and the
Sherman-Morrison update of the basis inverse. The API layer refactors the inverse when asked
(status REFACTOR) and validates nothing here.
"""

from libc.math cimport sqrt, fabs, INFINITY

import numpy as np

__all__ = ["walk_row"]

cdef enum:
    UNDECIDED = 0
    FACET = 1
    REDUNDANT = -1
    REFACTOR = 2


cdef bint _certify(const double[:, ::1] A, const double[::1] c, const double[::1] slack,
                   const double[:, ::1] Binv, const double[::1] v, const double[::1] gap,
                   const unsigned char[::1] inB, Py_ssize_t k, Py_ssize_t pos,
                   double[::1] y) noexcept nogil:
    """Ray from c towards v + Binv w, w = eps (2 e_pos - 1): is row k hit strictly first?"""
    cdef Py_ssize_t m = A.shape[0], d = A.shape[1], r, s, q
    cdef double mn = INFINITY, eps, acc, h, t, t1 = INFINITY, t2 = INFINITY
    cdef Py_ssize_t first = -1
    for q in range(m):
        if not inB[q] and gap[q] < mn:
            mn = gap[q]
    if mn == INFINITY:
        mn = 1.0
    eps = 1e-3 * (mn if mn > 1e-12 else 1e-12)
    for r in range(d):
        acc = 0.0
        for s in range(d):
            acc += Binv[r, s]
        y[r] = v[r] + eps * (2.0 * Binv[r, pos] - acc) - c[r]
    for q in range(m):
        h = 0.0
        for r in range(d):
            h += A[q, r] * y[r]
        if h > 0:
            t = slack[q] / h
            if t < t1:
                t2 = t1
                t1 = t
                first = q
            elif t < t2:
                t2 = t
    return first == k and t1 < t2 * (1.0 - 1e-9)


def walk_row(const double[:, ::1] A, const double[::1] c, const double[::1] slack,
             signed char[::1] status, double[:, ::1] Binv, long long[::1] B, double[::1] v,
             double[::1] gap, Py_ssize_t j, Py_ssize_t max_pivots, double tol,
             Py_ssize_t since):
    """Walk towards max a_j.x from the vertex (B, Binv, v, gap), updated in place.

    Returns (code, pivots, since): code 1 (row j entered and was certified), -1 (optimal
    below b_j - tol: redundant), 0 (undecided), 2 (the basis inverse needs refactoring:
    recompute Binv, v, gap from B and call again).
    """
    cdef Py_ssize_t m = A.shape[0], d = A.shape[1]
    cdef Py_ssize_t i, r, s, q, k, istar, old, pivots = 0
    cdef double lam_i, best, amax, norm, score, rmax, t, tk, t2, den, rate_old
    cdef int code = UNDECIDED
    cdef bint simple, return_now
    lam_np = np.empty(d)
    e_np = np.empty(d)
    rate_np = np.empty(m)
    w_np = np.empty(d)
    wB_np = np.empty(d)
    Bi_np = np.empty(d)
    y_np = np.empty(d)
    inB_np = np.zeros(m, np.uint8)
    cdef double[::1] lam = lam_np, e = e_np, rate = rate_np, w = w_np, wB = wB_np
    cdef double[::1] Bi = Bi_np, y = y_np
    cdef unsigned char[::1] inB = inB_np
    for i in range(d):
        inB[B[i]] = 1
    with nogil:
        if inB[j]:
            for i in range(d):
                if B[i] == j:
                    if _certify(A, c, slack, Binv, v, gap, inB, j, i, y):
                        status[j] = FACET
                    break
            code = FACET if status[j] == FACET else UNDECIDED
            return_now = True
        else:
            return_now = False
        while not return_now and pivots < max_pivots:
            # reduced costs lam = a_j Binv; edge i has direction -Binv[:, i]
            istar = -1
            best = INFINITY
            amax = 0.0
            for i in range(d):
                lam_i = 0.0
                norm = 0.0
                for r in range(d):
                    lam_i += A[j, r] * Binv[r, i]
                    norm += Binv[r, i] * Binv[r, i]
                lam[i] = lam_i
                if fabs(lam_i) > amax:
                    amax = fabs(lam_i)
                score = lam_i / (sqrt(norm) if norm > 0 else 1e-300)
                if score < best:
                    best = score
                    istar = i
            if lam[istar] >= -1e-12 * amax:
                code = REDUNDANT if gap[j] > tol else UNDECIDED
                break
            for r in range(d):
                e[r] = -Binv[r, istar]
            rmax = 0.0
            for q in range(m):
                t = 0.0
                for r in range(d):
                    t += A[q, r] * e[r]
                rate[q] = t
                if fabs(t) > rmax:
                    rmax = fabs(t)
            rate_old = rate[B[istar]]
            tk = INFINITY
            t2 = INFINITY
            k = -1
            for q in range(m):
                if inB[q] or not rate[q] > 1e-12 * rmax:
                    continue
                t = gap[q] / rate[q]
                if t < tk:
                    t2 = tk
                    tk = t
                    k = q
                elif t < t2:
                    t2 = t
            if k < 0:
                code = UNDECIDED
                break
            simple = tk > 0 and t2 > tk * (1 + 1e-6)
            if tk < 0:
                tk = 0.0
            pivots += 1
            since += 1
            old = B[istar]
            B[istar] = k
            inB[old] = 0
            inB[k] = 1
            den = 1.0
            for r in range(d):
                w[r] = A[k, r] - A[old, r]
                Bi[r] = Binv[r, istar]
                den += w[r] * Bi[r]
            if since > 40 or fabs(den) < 1e-8:
                code = REFACTOR
                break
            for s in range(d):
                t = 0.0
                for r in range(d):
                    t += w[r] * Binv[r, s]
                wB[s] = t / den
            for r in range(d):
                for s in range(d):
                    Binv[r, s] -= Bi[r] * wB[s]
                v[r] += tk * e[r]
            for q in range(m):
                if inB[q]:
                    gap[q] = 0.0
                elif q == old:
                    gap[q] -= tk * rate_old
                else:
                    gap[q] -= tk * rate[q]
            if simple and status[k] == UNDECIDED:
                if _certify(A, c, slack, Binv, v, gap, inB, k, istar, y):
                    status[k] = FACET
            if k == j:
                code = FACET if status[j] == FACET else UNDECIDED
                break
    return code, pivots, since
