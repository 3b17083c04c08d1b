# The H-polytope kernel: exact combinatorics and floating-point geometry of {x : A x <= b}.
#
# Algorithm
# ---------
# 1. Double description on the homogenised cone {(x, t) : a_i . x - b_i t <= 0, t >= 0}. Its
#    extreme rays with t > 0 are the vertices, rays with t = 0 are recession directions. We start
#    from the simplicial cone of t >= 0 and d independent rows, then add the row that the current
#    rays violate most ("max cutoff", with lazily refreshed scores); rows that every ray
#    satisfies strictly are redundant for good and are never added, which is what makes cells
#    with many redundant rows (ReLU cells) cheap. When many rays are degenerate (on more than d
#    rows: cross-polytopes, concurrent hyperplanes) max cutoff lets the cone explode, so the
#    lowest open row goes first instead (cdd's lexmin). Rays are adjacent when no third ray's zero
#    set contains their common zero set (the combinatorial test, exact given exact zero sets);
#    edges between simple rays are found through a hash of their (d-1)-row subsets. A new ray is
#    recomputed from its zero set by a pivoted QR nullspace, so errors do not accumulate from one
#    row to the next, and oriented by a fact: it lies strictly inside a row through one parent
#    and not the other (decided exactly when the float value is within its bound). Rows nearly
#    parallel at the rounding level give a rough ray whose every sign is then exact. The number
#    of rays never exceeds McMullen's upper bound for the rows added so far; a corrupt cone
#    (which once made the double description run for minutes) stops with STATUS_NUMERICAL.
#    Vertices are finally re-solved from their d defining rows by LU with twice-precise residual
#    refinement until it converges; a vertex where it does not sets volume_error to inf.
# 2. Sign decisions. A ray r is the nullspace of d rows H_B, so sign(h . r) equals
#    sign(det [H_B; h]) times sign(det [H_B; r]). When |h . r| is within the float error bound
#    (a multiple of the basis' condition estimate times machine epsilon) the first determinant is
#    settled exactly by _exact.det_sign_exact on the input doubles, so every zero set, incidence,
#    facet and ridge is exact.
# 3. Facets are the rows whose vertex sets are inclusion-maximal (first of equal rows); ridges are
#    the inclusion-maximal intersections of two facets. Volumes and centroids come from the cone
#    decomposition vol_k(F) = (1/k) sum_G h_G(v) vol_{k-1}(G) over the facets G of a face F that
#    miss a pulled vertex v, memoised on the face lattice (faces keyed by the set of facets that
#    contain them), which is exact for non-simple polytopes and costs one visit per face; simplex
#    faces and simple polytopes take shortcuts that skip the maximality search. Each height is
#    measured from a vertex of the sub-face (n . (w - v)), never from an offset far from the
#    cell, and a first-order error bound is carried along (volume_error). The measure stage
#    (measure_stage) is shared with polytope_measures, for combinatorics computed elsewhere.
#
# Memory: every workhorse is nogil and frees what it allocates on every path; failures come
# back as status codes (_polytope.pxd), never as exceptions.

from libc.math cimport sqrt, fabs, atan2, fma, INFINITY, NAN, M_PI
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.stdint cimport uint64_t
from libc.string cimport memcpy, memset

import numpy as np
cimport numpy as cnp

from geomcore._kernels._types cimport float64_t, index_t, word_t
from geomcore._kernels._exact cimport det_sign_exact

cnp.import_array()

from cpython.exc cimport PyErr_CheckSignals

cdef Py_ssize_t CHUNK = 256      # polytopes between two checks for KeyboardInterrupt

cdef extern from *:
    """
    #include <stdint.h>
    /* SWAR popcount: as fast as the builtin without requiring -mpopcnt */
    static inline int gc_popcount(uint64_t x) {
        x = x - ((x >> 1) & 0x5555555555555555ULL);
        x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
        x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
        return (int)((x * 0x0101010101010101ULL) >> 56);
    }
    """
    int gc_popcount(word_t x) noexcept nogil
    int gc_ctz "__builtin_ctzll"(unsigned long long x) noexcept nogil

cdef double EPS = 2.220446049250313e-16


# ---------------------------------------------------------------------------------------------
# bitsets

cdef inline void bit_set(word_t* s, Py_ssize_t i) noexcept nogil:
    s[i >> 6] |= (<word_t>1) << (i & 63)

cdef inline bint bit_get(const word_t* s, Py_ssize_t i) noexcept nogil:
    return (s[i >> 6] >> (i & 63)) & 1

cdef inline bint is_subset(const word_t* a, const word_t* b, Py_ssize_t w) noexcept nogil:
    # a is a subset of b
    cdef Py_ssize_t k
    for k in range(w):
        if a[k] & ~b[k]:
            return False
    return True

cdef inline bint is_equal(const word_t* a, const word_t* b, Py_ssize_t w) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(w):
        if a[k] != b[k]:
            return False
    return True

cdef inline int popcount(const word_t* a, Py_ssize_t w) noexcept nogil:
    cdef int c = 0
    cdef Py_ssize_t k
    for k in range(w):
        c += gc_popcount(a[k])
    return c


# ---------------------------------------------------------------------------------------------
# small dense linear algebra

cdef inline double dot(const double* a, const double* b, Py_ssize_t n) noexcept nogil:
    cdef double s = 0.0
    cdef Py_ssize_t i
    for i in range(n):
        s += a[i] * b[i]
    return s


cdef inline void project_out(const double* Q, Py_ssize_t nq, double* u, Py_ssize_t d) noexcept nogil:
    # u -= Q^T Q u for the nq orthonormal rows of Q (twice, for orthogonality in floats)
    cdef Py_ssize_t i, c, rep
    cdef double t
    for rep in range(2):
        for i in range(nq):
            t = dot(&Q[i * d], u, d)
            for c in range(d):
                u[c] -= t * Q[i * d + c]


cdef double scaled_norm(const double* a, Py_ssize_t n, double extra) noexcept nogil:
    # sqrt(|a|^2 + extra^2) without overflow or underflow for entries near the double limits
    cdef double big = fabs(extra), t = 0.0
    cdef Py_ssize_t i
    for i in range(n):
        big = fabs(a[i]) if fabs(a[i]) > big else big
    if big == 0.0:
        return 0.0
    for i in range(n):
        t += (a[i] / big) * (a[i] / big)
    t += (extra / big) * (extra / big)
    return big * sqrt(t)


cdef double angle_between(const double* u, const double* v, Py_ssize_t d) noexcept nogil:
    # Angle between unit vectors as 2 atan2(|u - v|, |u + v|): accurate also for nearly
    # parallel vectors, where arccos(u . v) loses everything below 1e-8 radians.
    cdef double dm = 0.0, dp = 0.0
    cdef Py_ssize_t i
    for i in range(d):
        dm += (u[i] - v[i]) * (u[i] - v[i])
        dp += (u[i] + v[i]) * (u[i] + v[i])
    return 2.0 * atan2(sqrt(dm), sqrt(dp))


cdef int lu_factor(double* LU, Py_ssize_t n, int* perm) noexcept nogil:
    # LU with partial pivoting in place (row-major n-by-n): unit L below the diagonal, U on and
    # above. perm (may be NULL) receives the row order. Returns the sign of the row permutation,
    # or 0 when a pivot vanishes.
    cdef Py_ssize_t i, j, k, piv
    cdef double best, f, t
    cdef int sign = 1, ti
    if perm != NULL:
        for i in range(n):
            perm[i] = <int>i
    for k in range(n):
        piv = k
        best = fabs(LU[k * n + k])
        for i in range(k + 1, n):
            if fabs(LU[i * n + k]) > best:
                best = fabs(LU[i * n + k])
                piv = i
        if best == 0.0:
            return 0
        if piv != k:
            for j in range(n):
                t = LU[k * n + j]
                LU[k * n + j] = LU[piv * n + j]
                LU[piv * n + j] = t
            if perm != NULL:
                ti = perm[k]
                perm[k] = perm[piv]
                perm[piv] = ti
            sign = -sign
        for i in range(k + 1, n):
            f = LU[i * n + k] / LU[k * n + k]
            LU[i * n + k] = f
            for j in range(k + 1, n):
                LU[i * n + j] -= f * LU[k * n + j]
    return sign


cdef double det_lu(double* M, Py_ssize_t n) noexcept nogil:
    # Determinant by LU with partial pivoting; destroys M (row-major n-by-n).
    cdef double det = lu_factor(M, n, NULL)
    cdef Py_ssize_t k
    for k in range(n):
        det *= M[k * n + k]
    return det


cdef int pivoted_qr(const double* X, Py_ssize_t stride, const int* cols, Py_ssize_t n_cols,
                    Py_ssize_t dim, Py_ssize_t n_pick, int* picked, double* null,
                    double* cond, double* scratch, double rank_tol=1e-12) noexcept nogil:
    # Householder QR with column pivoting of the dim-by-n_cols matrix whose columns are the rows
    # X[cols[i] * stride : + dim]. Picks n_pick independent columns (their cols[] values go to
    # picked). If null is not NULL, n_pick must be dim - 1 and null receives the unit vector
    # orthogonal to the picked columns. cond receives |R_00| / |R_kk| for the last pick.
    # Returns 0, or -1 when fewer than n_pick columns are independent (a pivot at most rank_tol
    # times the first one). scratch holds (n_cols + n_pick) * dim doubles and n_cols ints (qr_scratch_size).
    cdef double* W = scratch
    cdef double* V = scratch + n_cols * dim
    cdef int* order = <int*>(scratch + (n_cols + n_pick) * dim)
    cdef Py_ssize_t s, c, i, best_c
    cdef double best, nrm, alpha, beta, f, r00 = 0.0, rkk = 0.0
    cdef int tmp
    for c in range(n_cols):
        order[c] = c
        memcpy(&W[c * dim], &X[cols[c] * stride], dim * sizeof(double))
    for s in range(n_pick):
        best = -1.0
        best_c = s
        for c in range(s, n_cols):
            nrm = 0.0
            for i in range(s, dim):
                nrm += W[order[c] * dim + i] * W[order[c] * dim + i]
            if nrm > best:
                best = nrm
                best_c = c
        if best_c != s:
            tmp = order[s]
            order[s] = order[best_c]
            order[best_c] = tmp
        nrm = sqrt(best) if best > 0.0 else 0.0
        if s == 0:
            r00 = nrm
        if nrm <= rank_tol * r00 or nrm == 0.0:
            return -1
        rkk = nrm
        picked[s] = cols[order[s]]
        # Householder vector v = x - alpha e_s, alpha = -sign(x_s) |x|
        c = order[s]
        alpha = -nrm if W[c * dim + s] >= 0.0 else nrm
        for i in range(dim):
            V[s * dim + i] = W[c * dim + i] if i >= s else 0.0
        V[s * dim + s] -= alpha
        beta = dot(&V[s * dim], &V[s * dim], dim)
        beta = 2.0 / beta if beta > 0.0 else 0.0
        for i in range(s + 1, n_cols):
            f = beta * dot(&V[s * dim], &W[order[i] * dim], dim)
            for c in range(s, dim):
                W[order[i] * dim + c] -= f * V[s * dim + c]
    cond[0] = r00 / rkk
    if null != NULL:
        # null = H_0 H_1 ... H_{k-1} e_{dim-1}
        for i in range(dim):
            null[i] = 0.0
        null[dim - 1] = 1.0
        for s in range(n_pick - 1, -1, -1):
            beta = dot(&V[s * dim], &V[s * dim], dim)
            if beta > 0.0:
                f = 2.0 * dot(&V[s * dim], null, dim) / beta
                for i in range(dim):
                    null[i] -= f * V[s * dim + i]
        nrm = sqrt(dot(null, null, dim))
        for i in range(dim):
            null[i] /= nrm
    return 0


cdef inline size_t qr_scratch_size(Py_ssize_t n_cols, Py_ssize_t dim) noexcept nogil:
    # bytes of scratch for pivoted_qr with up to n_cols columns of length dim
    return ((n_cols + dim) * dim + n_cols + 1) * sizeof(double)


cdef inline double dot2(const double* a, const double* x, Py_ssize_t n, double c) noexcept nogil:
    # c + a . x in twice the working precision (Ogita, Rump and Oishi's Dot2 with fma), rounded
    # once at the end: the residual of a nearly solved system without cancellation.
    cdef double s = c, err = 0.0, p, q, t, z
    cdef Py_ssize_t i
    for i in range(n):
        p = a[i] * x[i]
        q = fma(a[i], x[i], -p)
        t = s + p
        z = t - s
        err += ((s - (t - z)) + (p - z)) + q
        s = t
    return s + err


cdef void lu_solve(const double* LU, const int* perm, Py_ssize_t d, const double* rhs,
                   double* out) noexcept nogil:
    # Solve with the factors of lu_factor: out = U^-1 L^-1 P rhs.
    cdef Py_ssize_t i, j
    cdef double t
    for i in range(d):
        t = rhs[perm[i]]
        for j in range(i):
            t -= LU[i * d + j] * out[j]
        out[i] = t
    for i in range(d - 1, -1, -1):
        t = out[i]
        for j in range(i + 1, d):
            t -= LU[i * d + j] * out[j]
        out[i] = t / LU[i * d + i]


cdef int solve_rows(const double* A, const double* b, const int* rows, const int* pick,
                    Py_ssize_t d, double* x, double* work, int* perm) noexcept nogil:
    # Solve A[rows[pick[k]]] x = b[rows[pick[k]]], k < d, by LU with partial pivoting and
    # refinement with a twice-precise residual until the correction is at the rounding level
    # (at most 8 steps), so vertices come out (nearly) correctly rounded. work holds
    # d * d + 3 d doubles, perm d ints. Returns 0, 1 when the refinement did not converge (the
    # rows are too close to dependent for floats: the vertex may be far off), -1 if a pivot
    # vanishes.
    cdef Py_ssize_t i, j, it
    cdef double big, step
    cdef double* LU = work
    cdef double* rhs = work + d * d
    cdef double* dx = rhs + d
    for i in range(d):
        rhs[i] = b[rows[pick[i]]]
        for j in range(d):
            LU[i * d + j] = A[rows[pick[i]] * d + j]
    if lu_factor(LU, d, perm) == 0:
        return -1
    lu_solve(LU, perm, d, rhs, x)
    for it in range(8):
        for i in range(d):
            rhs[i] = -dot2(&A[rows[pick[i]] * d], x, d, -b[rows[pick[i]]])
        lu_solve(LU, perm, d, rhs, dx)
        big = 0.0
        step = 0.0
        for i in range(d):
            x[i] += dx[i]
            big = fabs(x[i]) if fabs(x[i]) > big else big
            step = fabs(dx[i]) if fabs(dx[i]) > step else step
        if step <= 2.0 * EPS * big:
            return 0
    return 1


# ---------------------------------------------------------------------------------------------
# double description

cdef struct DD:
    Py_ssize_t d, D, n_rows, W    # D = d + 1; n_rows includes the t >= 0 row (last)
    double* Hn                    # (n_rows, D) rows scaled to unit norm
    double* Hx                    # (n_rows, D) the exact input rows (a_i, -b_i)
    Py_ssize_t n, cap             # rays in use and allocated
    double* x                     # (cap, D) unit rays
    word_t* z                     # (cap, W) zero sets over rows
    int* basis                    # (cap, d) rows whose nullspace is the ray
    double* tol                   # (cap,) float sign threshold for the ray
    signed char* orient           # (cap,) sign of det [H_basis; ray]
    double* sval                  # (cap,) scratch: row . ray
    signed char* cls              # (cap,) scratch: exact sign of row . ray
    int* rowbuf                   # (n_rows,) scratch
    double* mat                   # (D * D,) scratch
    Py_ssize_t n_exact
    Py_ssize_t n_created          # rays the last dd_add_row appended (at the end)
    int status
    # zero sets index rows by the order in which they were added, so that the few rows a
    # cell really uses (ReLU cells: tens of hundreds) fill the first words; Wa words are live
    double* qr                    # scratch of pivoted_qr
    word_t* common                # (W,) scratch
    double* hint                  # (D,) scratch
    int* zcount                   # (cap,) scratch: zero-set sizes
    int* slot_row                 # (n_rows,) row of each slot
    int* row_slot                 # (n_rows,) slot of each row, -1 before it is added
    Py_ssize_t n_slots, Wa


cdef inline bint grow(void** p, size_t nbytes) noexcept nogil:
    # realloc in place of *p; False (and *p untouched, still owned) when out of memory
    cdef void* q = realloc(p[0], nbytes)
    if q == NULL:
        return False
    p[0] = q
    return True


cdef int dd_reserve(DD* dd, Py_ssize_t need) noexcept nogil:
    # Room for `need` rays in every per-ray array; -1 when out of memory.
    cdef Py_ssize_t cap = dd.cap
    if need <= cap:
        return 0
    while cap < need:
        cap = cap * 2 if cap > 0 else 64
    if not (grow(<void**>&dd.x, cap * dd.D * sizeof(double))
            and grow(<void**>&dd.z, cap * dd.W * sizeof(word_t))
            and grow(<void**>&dd.basis, cap * dd.d * sizeof(int))
            and grow(<void**>&dd.tol, cap * sizeof(double))
            and grow(<void**>&dd.orient, cap * sizeof(signed char))
            and grow(<void**>&dd.sval, cap * sizeof(double))
            and grow(<void**>&dd.cls, cap * sizeof(signed char))
            and grow(<void**>&dd.zcount, cap * sizeof(int))):
        return -1
    dd.cap = cap
    return 0


cdef inline Py_ssize_t dd_slot(DD* dd, Py_ssize_t row) noexcept nogil:
    # The zero-set bit of a row, assigned when the row is first added.
    if dd.row_slot[row] < 0:
        dd.row_slot[row] = <int>dd.n_slots
        dd.slot_row[dd.n_slots] = <int>row
        dd.n_slots += 1
        dd.Wa = (dd.n_slots + 63) // 64
    return dd.row_slot[row]


cdef int dd_exact_side(DD* dd, Py_ssize_t slot, Py_ssize_t g, int* orient) noexcept nogil:
    # The exact orientation of ray `slot` (its basis is set): the ray lies strictly inside row g
    # (Hx[g] . ray < 0), so sign det [H_B; ray] = -sign det [H_B; Hx[g]]. Returns a status.
    cdef Py_ssize_t D = dd.D, d = dd.d, k
    cdef int status = 0, sg
    for k in range(d):
        memcpy(&dd.mat[k * D], &dd.Hx[dd.basis[slot * d + k] * D], D * sizeof(double))
    memcpy(&dd.mat[d * D], &dd.Hx[g * D], D * sizeof(double))
    sg = det_sign_exact(dd.mat, D, &status)
    dd.n_exact += 1
    if status != 0:
        return STATUS_MEMORY if status == 2 else STATUS_PRECISION
    if sg == 0:
        # g through the ray's basis: the basis is not exactly independent
        return STATUS_NUMERICAL
    orient[0] = -sg
    return 0


cdef int dd_make_ray(DD* dd, Py_ssize_t slot, const word_t* zset, const double* hint,
                     Py_ssize_t g) noexcept nogil:
    # Fill ray `slot` as the nullspace of the rows in zset. Its orientation is a fact: the
    # exact ray lies strictly inside row g (a row through one parent but not the other, or the
    # initial row it leaves), so the float ray is flipped to make Hn[g] . ray negative, and
    # when that value is within rounding the orientation is settled exactly (dd_exact_side).
    # (Orienting by the parents' combination, the hint, is wrong once the parents are rough.)
    cdef Py_ssize_t D = dd.D, d = dd.d, i, k, n_z = 0
    cdef double cond = 1.0, s, sr
    cdef double* r = &dd.x[slot * D]
    cdef int rc, sign = 0, status = 0
    for i in range(dd.n_slots):
        if bit_get(zset, i):
            dd.rowbuf[n_z] = dd.slot_row[i]
            n_z += 1
    rc = pivoted_qr(dd.Hn, D, dd.rowbuf, n_z, D, d, &dd.basis[slot * d], r, &cond, dd.qr)
    if rc == -1:
        # The exact zero set has rank d, but in floats it looks smaller: rows nearly parallel
        # (two lines crossing at an angle of 1e-12, a ReLU cell's pulled-back neurons when one
        # earlier neuron is active). Take d rows with the largest non-zero pivots as the basis
        # and their float nullspace as the ray, orient it exactly and send every later sign of
        # this ray to exact arithmetic: the combinatorics stay exact, only this ray's
        # coordinates are rough (the vertices are re-solved from the basis at the end).
        rc = pivoted_qr(dd.Hn, D, dd.rowbuf, n_z, D, d, &dd.basis[slot * d], r, &cond, dd.qr,
                        0.0)
        if rc != 0:
            if n_z != d:
                return STATUS_NUMERICAL
            # a simple ray: its d rows are the basis (exactly independent, as the ray is
            # extreme), and the parents' combination is the best float direction there is
            for k in range(d):
                dd.basis[slot * d + k] = dd.rowbuf[k]
            s = sqrt(dot(hint, hint, D))
            for i in range(D):
                r[i] = hint[i] / s
        rc = dd_exact_side(dd, slot, g, &sign)
        if rc != 0:
            return rc
        # flip the float ray to the exact side (its own exact orientation decides)
        for k in range(d):
            memcpy(&dd.mat[k * D], &dd.Hx[dd.basis[slot * d + k] * D], D * sizeof(double))
        memcpy(&dd.mat[d * D], r, D * sizeof(double))
        rc = det_sign_exact(dd.mat, D, &status)
        if status != 0:
            return STATUS_MEMORY if status == 2 else STATUS_PRECISION
        if rc == -sign:
            for i in range(D):
                r[i] = -r[i]
        memcpy(&dd.z[slot * dd.W], zset, dd.W * sizeof(word_t))
        dd.tol[slot] = INFINITY
        dd.orient[slot] = <signed char>sign
        return 0
    if rc != 0:
        return STATUS_MEMORY
    memcpy(&dd.z[slot * dd.W], zset, dd.W * sizeof(word_t))
    # float error of row . ray is about cond * eps per unit; be generous, exact calls are cheap
    dd.tol[slot] = 1e3 * D * EPS * (cond if cond > 1.0 else 1.0)
    sr = dot(&dd.Hn[g * D], r, D)
    if sr > dd.tol[slot]:
        for i in range(D):
            r[i] = -r[i]
    elif sr >= -dd.tol[slot]:
        # too close to row g to tell in floats: the exact side, and r's float orientation
        rc = dd_exact_side(dd, slot, g, &sign)
        if rc != 0:
            return rc
    for k in range(d):
        memcpy(&dd.mat[k * D], &dd.Hn[dd.basis[slot * d + k] * D], D * sizeof(double))
    memcpy(&dd.mat[d * D], r, D * sizeof(double))
    s = det_lu(dd.mat, D)
    if sign != 0 and (s > 0.0) != (sign > 0):
        for i in range(D):
            r[i] = -r[i]
    dd.orient[slot] = <signed char>(sign if sign != 0 else (1 if s > 0.0 else -1))
    return 0


cdef int dd_sign(DD* dd, Py_ssize_t ray, Py_ssize_t row, double s) noexcept nogil:
    # Exact sign of Hx[row] . ray, given its float value s.
    cdef Py_ssize_t D = dd.D, d = dd.d, k
    cdef int st = 0, sg
    if s > dd.tol[ray]:
        return 1
    if s < -dd.tol[ray]:
        return -1
    for k in range(d):
        memcpy(&dd.mat[k * D], &dd.Hx[dd.basis[ray * d + k] * D], D * sizeof(double))
    memcpy(&dd.mat[d * D], &dd.Hx[row * D], D * sizeof(double))
    sg = det_sign_exact(dd.mat, D, &st)
    dd.n_exact += 1
    if st != 0:
        dd.status = STATUS_PRECISION if st == 1 else STATUS_MEMORY
        return 0
    return sg * dd.orient[ray]


cdef int dd_emit(DD* dd, Py_ssize_t p, Py_ssize_t q, word_t* common, Py_ssize_t sj,
                 Py_ssize_t* n_new) noexcept nogil:
    # Append the ray where the edge from p (violating) to q (feasible) crosses the new row.
    cdef Py_ssize_t k, D = dd.D, g
    cdef word_t w
    cdef int rc
    if dd_reserve(dd, n_new[0] + 1) != 0:
        return STATUS_MEMORY
    for k in range(dd.Wa, dd.W):
        common[k] = 0
    for k in range(D):
        dd.hint[k] = fabs(dd.sval[p]) * dd.x[q * D + k] + fabs(dd.sval[q]) * dd.x[p * D + k]
    bit_set(common, sj)
    # a row through one parent and not the other: the new ray lies strictly inside it
    g = -1
    for k in range(dd.Wa):
        w = dd.z[p * dd.W + k] ^ dd.z[q * dd.W + k]
        if w:
            g = dd.slot_row[64 * k + gc_ctz(w)]
            break
    if g < 0:
        return STATUS_NUMERICAL
    rc = dd_make_ray(dd, n_new[0], common, dd.hint, g)
    if rc != STATUS_OK:
        return rc
    n_new[0] += 1
    return STATUS_OK


cdef int dd_try_pair(DD* dd, Py_ssize_t p, Py_ssize_t q, Py_ssize_t sj,
                     Py_ssize_t* n_new) noexcept nogil:
    # Emit the new ray of p and q if they are adjacent (the combinatorial test).
    cdef Py_ssize_t W = dd.W, Wa = dd.Wa, k, o, n_old = dd.n
    cdef word_t* common = dd.common
    cdef int nc
    cdef bint adjacent
    for k in range(Wa):
        common[k] = dd.z[p * W + k] & dd.z[q * W + k]
    nc = popcount(common, Wa)
    if nc < dd.d - 1:
        return STATUS_OK
    # A simple ray (exactly d zero rows, which then are independent) shares a (d-1)-row common
    # set only along an edge, whose two ends are p and q: adjacent with no search.
    adjacent = nc == dd.d - 1 and (dd.zcount[p] == dd.d or dd.zcount[q] == dd.d)
    if not adjacent:
        adjacent = True
        for o in range(n_old):
            if o != p and o != q and dd.zcount[o] >= nc and is_subset(common, &dd.z[o * W], Wa):
                adjacent = False
                break
    if not adjacent:
        return STATUS_OK
    return dd_emit(dd, p, q, common, sj, n_new)


cdef int dd_new_rays(DD* dd, Py_ssize_t j, Py_ssize_t sj, Py_ssize_t n_pos, Py_ssize_t n_neg,
                     Py_ssize_t* n_new) noexcept nogil:
    # The rays on the new row: one per edge of the cone from a violating ray p to a feasible ray
    # q. Edges between simple rays are found through a hash table of the feasible simple rays'
    # (d-1)-row subsets, so generic cells cost O(n d) per row instead of O(n_pos n_neg); pairs
    # with a degenerate ray go through the combinatorial test.
    cdef Py_ssize_t W = dd.W, Wa = dd.Wa, d = dd.d, n_old = dd.n
    cdef Py_ssize_t p, q, k, b, cap = 16, n_keys = 0, n_deg = 0, slot
    cdef word_t* keys = NULL
    cdef int* owner = NULL
    cdef int* degenerate = NULL
    cdef word_t* key = dd.common
    cdef word_t w
    cdef int rc = STATUS_OK
    cdef size_t h
    if n_pos <= 16 * d:
        # few violating rays (most rows late in the run): the pairwise test is cheaper than
        # indexing every feasible ray's edges
        for p in range(n_old):
            if dd.cls[p] <= 0:
                continue
            for q in range(n_old):
                if rc != STATUS_OK:
                    break
                if dd.cls[q] < 0:
                    rc = dd_try_pair(dd, p, q, sj, n_new)
        return rc
    for q in range(n_old):
        if dd.cls[q] < 0 and dd.zcount[q] == d:
            n_keys += d
    while cap < 2 * n_keys + 2:
        cap *= 2
    keys = <word_t*>malloc(cap * Wa * sizeof(word_t))
    owner = <int*>malloc(cap * sizeof(int))
    degenerate = <int*>malloc((n_neg + 1) * sizeof(int))
    if keys == NULL or owner == NULL or degenerate == NULL:
        free(keys); free(owner); free(degenerate)
        return STATUS_MEMORY
    for slot in range(cap):
        owner[slot] = -1
    for q in range(n_old):
        if dd.cls[q] >= 0:
            continue
        if dd.zcount[q] != d:
            degenerate[n_deg] = <int>q
            n_deg += 1
            continue
        for k in range(Wa):
            w = dd.z[q * W + k]
            while w:
                b = 64 * k + gc_ctz(w)
                w &= w - 1
                memcpy(key, &dd.z[q * W], Wa * sizeof(word_t))
                key[b >> 6] &= ~((<word_t>1) << (b & 63))
                h = hash_words(key, Wa) & <size_t>(cap - 1)
                while owner[h] >= 0:
                    h = (h + 1) & <size_t>(cap - 1)
                owner[h] = <int>q
                memcpy(&keys[h * Wa], key, Wa * sizeof(word_t))
    for p in range(n_old):
        if rc != STATUS_OK:
            break
        if dd.cls[p] <= 0:
            continue
        if dd.zcount[p] == d:
            for k in range(Wa):
                w = dd.z[p * W + k]
                while w and rc == STATUS_OK:
                    b = 64 * k + gc_ctz(w)
                    w &= w - 1
                    memcpy(key, &dd.z[p * W], Wa * sizeof(word_t))
                    key[b >> 6] &= ~((<word_t>1) << (b & 63))
                    h = hash_words(key, Wa) & <size_t>(cap - 1)
                    while owner[h] >= 0 and rc == STATUS_OK:
                        if is_equal(&keys[h * Wa], key, Wa):
                            rc = dd_emit(dd, p, owner[h], key, sj, n_new)
                            memcpy(key, &dd.z[p * W], Wa * sizeof(word_t))
                            key[b >> 6] &= ~((<word_t>1) << (b & 63))
                        h = (h + 1) & <size_t>(cap - 1)
            for k in range(n_deg):
                if rc != STATUS_OK:
                    break
                rc = dd_try_pair(dd, p, degenerate[k], sj, n_new)
        else:
            for q in range(n_old):
                if rc != STATUS_OK:
                    break
                if dd.cls[q] < 0:
                    rc = dd_try_pair(dd, p, q, sj, n_new)
    free(keys); free(owner); free(degenerate)
    return rc


cdef double binomial(double n, double k) noexcept nogil:
    # C(n, k) in floating point (0 when n < k), exact for the small values that matter here
    cdef double r = 1.0
    cdef int i
    if k < 0 or n < k:
        return 0.0
    for i in range(<int>k):
        r = r * (n - i) / (i + 1)
    return r


cdef double upper_bound_vertices(Py_ssize_t n, Py_ssize_t d) noexcept nogil:
    # The most vertices a d-polytope with n facets can have (the upper bound theorem, dual
    # form): C(n - ceil(d/2), floor(d/2)) + C(n - floor(d/2) - 1, ceil(d/2) - 1); rounded up
    # generously (float binomials).
    cdef Py_ssize_t lo = d // 2, hi = d - d // 2
    if d <= 0:
        return 1.0
    if n <= d + 1:
        return <double>(d + 1)
    return 1.0 + 1.001 * (binomial(n - hi, lo) + binomial(n - lo - 1, hi - 1))


cdef int dd_add_row(DD* dd, Py_ssize_t j) noexcept nogil:
    # Intersect the current cone with Hx[j] . y <= 0.
    cdef Py_ssize_t D = dd.D, W = dd.W, n_old = dd.n, n_new, r, p, q, o, k, Wa
    cdef Py_ssize_t n_pos = 0, n_neg = 0, sj = dd_slot(dd, j)
    cdef int* zcount = dd.zcount
    cdef int rc
    Wa = dd.Wa
    for r in range(n_old):
        zcount[r] = popcount(&dd.z[r * W], Wa)
    for r in range(n_old):
        dd.sval[r] = dot(&dd.Hn[j * D], &dd.x[r * D], D)
        dd.cls[r] = <signed char>dd_sign(dd, r, j, dd.sval[r])
        if dd.status != STATUS_OK:
            return dd.status
        if dd.cls[r] > 0:
            n_pos += 1
        elif dd.cls[r] < 0:
            n_neg += 1
    n_new = n_old
    if n_pos > 0:
        rc = dd_new_rays(dd, j, sj, n_pos, n_neg, &n_new)
        if rc != STATUS_OK:
            return rc
    # keep the rays on the feasible side, mark those on the new row, append the new rays
    o = 0
    for r in range(n_new):
        if r < n_old and dd.cls[r] > 0:
            continue
        if r < n_old and dd.cls[r] == 0:
            bit_set(&dd.z[r * W], sj)
        if o != r:
            memcpy(&dd.x[o * D], &dd.x[r * D], D * sizeof(double))
            memcpy(&dd.z[o * W], &dd.z[r * W], W * sizeof(word_t))
            memcpy(&dd.basis[o * dd.d], &dd.basis[r * dd.d], dd.d * sizeof(int))
            dd.tol[o] = dd.tol[r]
            dd.orient[o] = dd.orient[r]
        o += 1
    dd.n = o
    dd.n_created = n_new - n_old
    # A pointed cone in R^D with n_slots facets has at most as many extreme rays as a
    # (D-1)-polytope with n_slots facets has vertices (McMullen's upper bound). More rays than
    # that means the cone is corrupt (a wrongly oriented ray makes the double description
    # explode: the 5-D network cell that ran for minutes); stop and let the exact path decide.
    if <double>dd.n > upper_bound_vertices(dd.n_slots, D - 1):
        return STATUS_NUMERICAL
    return STATUS_OK


cdef int dd_run(DD* dd, const double* An, Py_ssize_t mr) noexcept nogil:
    # Double description over the mr usable rows plus the t >= 0 row (index mr).
    cdef Py_ssize_t d = dd.d, D = dd.D, W = dd.W, i, k, j, r, best
    cdef int* picked = <int*>malloc((d + 1) * sizeof(int))
    cdef int* cols = <int*>malloc((mr + 1) * sizeof(int))
    cdef char* done = <char*>calloc(mr + 1, sizeof(char))
    cdef word_t* zset = <word_t*>malloc(W * sizeof(word_t))
    cdef double* hint = <double*>malloc(D * sizeof(double))
    cdef double cond, s, bestv
    cdef double* vmax = NULL
    cdef char* unsure = NULL
    cdef int* fresh = NULL            # step at which a row's score was last refreshed
    cdef int step = 1
    cdef Py_ssize_t n_degenerate
    cdef bint lowest_first
    cdef Py_ssize_t first = 0
    cdef int rc = STATUS_OK
    if picked == NULL or cols == NULL or done == NULL or zset == NULL or hint == NULL:
        rc = STATUS_MEMORY
    if rc == STATUS_OK:
        for i in range(mr):
            cols[i] = <int>i
        # initial cone: t >= 0 and d rows with independent normals
        k = pivoted_qr(An, d, cols, mr, d, d, picked, NULL, &cond, dd.qr) if mr >= d else -1
        if k == -2:
            rc = STATUS_MEMORY
        elif k != 0:
            rc = STATUS_RANK_DEFICIENT
    if rc == STATUS_OK:
        picked[d] = <int>mr
        for i in range(D):
            dd_slot(dd, picked[i])
        if dd_reserve(dd, D) != 0:
            rc = STATUS_MEMORY
    if rc == STATUS_OK:
        for k in range(D):
            memset(zset, 0, W * sizeof(word_t))
            for i in range(D):
                if i != k:
                    bit_set(zset, dd.row_slot[picked[i]])
            for i in range(D):
                hint[i] = -dd.Hn[picked[k] * D + i]
            rc = dd_make_ray(dd, k, zset, hint, picked[k])
            if rc != STATUS_OK:
                break
            done[picked[k]] = 1
        dd.n = D
    if rc == STATUS_OK:
        vmax = <double*>malloc((mr + 1) * sizeof(double))
        unsure = <char*>calloc(mr + 1, sizeof(char))
        fresh = <int*>calloc(mr + 1, sizeof(int))
        if vmax == NULL or unsure == NULL or fresh == NULL:
            rc = STATUS_MEMORY
        else:
            for j in range(mr + 1):
                vmax[j] = -INFINITY
            first = 0
    while rc == STATUS_OK:
        # Score the rows against the rays created since the last step: vmax is the largest
        # violation by any ray so far (a stale but cheap ordering key), unsure marks rows that
        # some ray does not satisfy strictly. A row every ray so far satisfies strictly is
        # redundant for good, since later rays are positive combinations of these.
        # At steps 1, 2, 4, 8, ... rescore every open row against the current rays only, so
        # rows made redundant by the cuts so far (most of a ReLU cell's) leave early instead
        # of being scored against every later ray.
        if step & (step - 1) == 0:
            first = 0
            for j in range(mr + 1):
                if not done[j]:
                    vmax[j] = -INFINITY
                    unsure[j] = 0
        for j in range(mr + 1):
            if done[j]:
                continue
            for r in range(first, dd.n):
                s = dot(&dd.Hn[j * D], &dd.x[r * D], D)
                if s > vmax[j]:
                    vmax[j] = s
                if s >= -dd.tol[r]:
                    unsure[j] = 1
        # Lazy greedy: take the row with the largest score, refresh its score against the
        # current rays only (removed rays may have inflated it), and keep it if it still leads.
        # Max cutoff shrinks cells with many redundant rows fastest (ReLU cells), but on
        # degenerate input (many rays on more than d rows: cross polytopes, concurrent
        # hyperplanes) it lets the intermediate cone explode; there the lowest row first, as
        # cdd's lexmin, stays small.
        n_degenerate = 0
        for r in range(dd.n):
            if popcount(&dd.z[r * dd.W], dd.Wa) > d:
                n_degenerate += 1
        lowest_first = 4 * n_degenerate > dd.n
        while True:
            best = -1
            bestv = -INFINITY
            for j in range(mr + 1):
                if done[j]:
                    continue
                if not unsure[j]:
                    done[j] = 2
                elif vmax[j] > bestv:
                    bestv = vmax[j]
                    best = j
                    if lowest_first:
                        break
            if best < 0 or fresh[best] == step:
                break
            fresh[best] = step
            vmax[best] = -INFINITY
            unsure[best] = 0
            for r in range(dd.n):
                s = dot(&dd.Hn[best * D], &dd.x[r * D], D)
                if s > vmax[best]:
                    vmax[best] = s
                if s >= -dd.tol[r]:
                    unsure[best] = 1
        if best < 0:
            break
        step += 1
        rc = dd_add_row(dd, best)
        done[best] = 1
        first = dd.n - dd.n_created
    free(vmax); free(unsure); free(fresh)
    free(picked); free(cols); free(done); free(zset); free(hint)
    return rc


# ---------------------------------------------------------------------------------------------
# faces: volumes and centroids by the cone decomposition, memoised on the face lattice

cdef struct Faces:
    Py_ssize_t d, nv, nf, Wf
    bint simple             # every vertex on exactly d facets
    const double* verts     # (nv, d)
    const word_t* inc       # (nv, Wf) facets through each vertex
    const double* normals   # (nf, d) unit outward
    const double* offsets   # (nf,) normals . x <= offsets
    # open-addressing memo keyed by the set of facets containing the face
    Py_ssize_t cap, used
    word_t* keys            # (cap, Wf)
    char* filled            # (cap,)
    double* vol             # (cap,)
    double* err             # (cap,) first-order bound on the volume's error
    double delta            # bound on the vertices' errors (Euclidean)
    double* cen             # (cap, d)
    # one scratch block per face dimension: the recursion holds at most one face per dimension
    void** level_buf        # (d + 1,)
    size_t* level_cap       # (d + 1,)


cdef inline size_t hash_words(const word_t* w, Py_ssize_t n) noexcept nogil:
    # FNV-style mixing of the words, then murmur3's fmix64 so that keys differing only in a
    # few low bits (zero sets, facet sets) spread over the whole table
    cdef uint64_t h = 1469598103934665603ULL
    cdef Py_ssize_t k
    for k in range(n):
        h = (h ^ w[k]) * 1099511628211ULL
    h ^= h >> 33
    h *= 0xff51afd7ed558ccdULL
    h ^= h >> 33
    h *= 0xc4ceb9fe1a85ec53ULL
    h ^= h >> 33
    return <size_t>h


cdef Py_ssize_t memo_find(Faces* f, const word_t* key) noexcept nogil:
    # Slot of key, or of the empty slot where it belongs.
    cdef size_t i = hash_words(key, f.Wf) & <size_t>(f.cap - 1)
    while f.filled[i] and not is_equal(&f.keys[i * f.Wf], key, f.Wf):
        i = (i + 1) & <size_t>(f.cap - 1)
    return <Py_ssize_t>i


cdef int memo_grow(Faces* f) noexcept nogil:
    cdef Py_ssize_t old_cap = f.cap, i, slot
    cdef word_t* old_keys = f.keys
    cdef char* old_filled = f.filled
    cdef double* old_vol = f.vol
    cdef double* old_err = f.err
    cdef double* old_cen = f.cen
    if old_cap > 0:
        f.cap = old_cap * 2
    else:
        # a first guess from the polytope's size, so small cells clear a small table
        f.cap = 16
        while f.cap < 2 * (f.nv + f.nf):
            f.cap *= 2
    f.keys = <word_t*>malloc(f.cap * f.Wf * sizeof(word_t))
    f.filled = <char*>calloc(f.cap, sizeof(char))
    f.vol = <double*>malloc(f.cap * sizeof(double))
    f.err = <double*>malloc(f.cap * sizeof(double))
    f.cen = <double*>malloc(f.cap * f.d * sizeof(double))
    if f.keys == NULL or f.filled == NULL or f.vol == NULL or f.cen == NULL or f.err == NULL:
        return -1
    for i in range(old_cap):
        if old_filled[i]:
            slot = memo_find(f, &old_keys[i * f.Wf])
            f.filled[slot] = 1
            memcpy(&f.keys[slot * f.Wf], &old_keys[i * f.Wf], f.Wf * sizeof(word_t))
            f.vol[slot] = old_vol[i]
            f.err[slot] = old_err[i]
            memcpy(&f.cen[slot * f.d], &old_cen[i * f.d], f.d * sizeof(double))
    free(old_keys); free(old_filled); free(old_vol); free(old_cen); free(old_err)
    return 0


cdef char* level_scratch(Faces* f, Py_ssize_t k, size_t nbytes) noexcept nogil:
    # The scratch block of dimension k, grown to at least nbytes; NULL when out of memory.
    cdef void* p
    if f.level_cap[k] < nbytes:
        p = realloc(f.level_buf[k], nbytes)
        if p == NULL:
            return NULL
        f.level_buf[k] = p
        f.level_cap[k] = nbytes
    return <char*>f.level_buf[k]


cdef inline size_t round8(size_t n) noexcept nogil:
    return (n + 7) & ~(<size_t>7)


cdef Py_ssize_t face_vertices(Faces* f, const word_t* closure, int* out) noexcept nogil:
    # Vertices lying on every facet of closure.
    cdef Py_ssize_t u, n = 0
    for u in range(f.nv):
        if is_subset(closure, &f.inc[u * f.Wf], f.Wf):
            out[n] = <int>u
            n += 1
    return n


cdef inline size_t face_facets_scratch_size(Faces* f, Py_ssize_t n_fv) noexcept nogil:
    return round8((f.nf + 1) * ((n_fv + 63) // 64) * sizeof(word_t)) \
        + round8((f.nf + 1) * sizeof(int)) + round8((f.Wf + 1) * sizeof(word_t))


cdef Py_ssize_t simplex_facets(Faces* f, const word_t* closure, const int* fv, Py_ssize_t n_fv,
                               int* facet_of, word_t* closures, word_t* members) noexcept nogil:
    # The facets of a face with n_fv = k + 1 vertices (a simplex): drop one vertex each. Every
    # face of a simplex face is a face of the polytope, so no candidate search is needed.
    cdef Py_ssize_t Wl = (n_fv + 63) // 64, Wf = f.Wf, s, i, k, c
    for s in range(n_fv):
        memset(&members[s * Wl], 0, Wl * sizeof(word_t))
        for k in range(Wf):
            closures[s * Wf + k] = ~(<word_t>0)
        for i in range(n_fv):
            if i != s:
                bit_set(&members[s * Wl], i)
                for k in range(Wf):
                    closures[s * Wf + k] &= f.inc[fv[i] * Wf + k]
        # a facet through the sub-face but not through the face cuts it out
        facet_of[s] = -1
        for k in range(Wf):
            if closures[s * Wf + k] & ~closure[k]:
                c = 0
                while not ((closures[s * Wf + k] & ~closure[k]) >> c) & 1:
                    c += 1
                facet_of[s] = <int>(64 * k + c)
                break
        if facet_of[s] < 0:
            return -2
    return n_fv


cdef Py_ssize_t face_facets(Faces* f, const word_t* closure, const int* fv, Py_ssize_t n_fv,
                            int* facet_of, word_t* closures, word_t* members,
                            char* scratch) noexcept nogil:
    # The facets of the face with vertices fv: the inclusion-maximal sets fv & facet c over the
    # facets c not containing the face (first c among equal sets). For each: a facet c that cuts
    # it out, its closure (the facets containing it, Wf words) and its members (a bitset over
    # positions in fv, (n_fv + 63) // 64 words). scratch holds face_facets_scratch_size bytes.
    cdef Py_ssize_t Wl = (n_fv + 63) // 64, Wf = f.Wf, c, i, a, b, k, n_c = 0, n_out = 0
    cdef word_t* sets = <word_t*>scratch
    cdef int* cand = <int*>(scratch + round8((f.nf + 1) * Wl * sizeof(word_t)))
    cdef word_t* touched = <word_t*>(<char*>cand + round8((f.nf + 1) * sizeof(int)))
    cdef bint keep, empty
    memset(touched, 0, Wf * sizeof(word_t))
    # only the facets through some vertex of the face can cut a sub-face out of it
    for i in range(n_fv):
        for k in range(Wf):
            touched[k] |= f.inc[fv[i] * Wf + k]
    for c in range(f.nf):
        if bit_get(closure, c) or not bit_get(touched, c):
            continue
        memset(&sets[n_c * Wl], 0, Wl * sizeof(word_t))
        empty = True
        for i in range(n_fv):
            if bit_get(&f.inc[fv[i] * Wf], c):
                bit_set(&sets[n_c * Wl], i)
                empty = False
        if not empty:
            cand[n_c] = <int>c
            n_c += 1
    if f.simple:
        # In a simple polytope each facet c through a vertex v of the face, but not through the
        # face, cuts out the face's facet through v: every candidate is maximal, no two are
        # equal, and the sub-face's closure is the face's plus c.
        for a in range(n_c):
            facet_of[a] = cand[a]
            memcpy(&members[a * Wl], &sets[a * Wl], Wl * sizeof(word_t))
            memcpy(&closures[a * Wf], closure, Wf * sizeof(word_t))
            bit_set(&closures[a * Wf], cand[a])
        return n_c
    for a in range(n_c):
        keep = True
        for b in range(n_c):
            if b != a and is_subset(&sets[a * Wl], &sets[b * Wl], Wl):
                if b < a or not is_equal(&sets[a * Wl], &sets[b * Wl], Wl):
                    keep = False
                    break
        if not keep:
            continue
        facet_of[n_out] = cand[a]
        memcpy(&members[n_out * Wl], &sets[a * Wl], Wl * sizeof(word_t))
        for k in range(Wf):
            closures[n_out * Wf + k] = ~(<word_t>0)
        for i in range(n_fv):
            if bit_get(&sets[a * Wl], i):
                for k in range(Wf):
                    closures[n_out * Wf + k] &= f.inc[fv[i] * Wf + k]
        n_out += 1
    return n_out


cdef double face_error(Faces* f, const word_t* closure, Py_ssize_t k, double vol) noexcept nogil:
    # The error bound of a measured face: 0 for a vertex, the vertices' error for an edge
    # (not memoised), the memo for the rest.
    if k == 0:
        return 0.0
    if k == 1:
        return 2.0 * f.delta + 4.0 * EPS * vol
    return f.err[memo_find(f, closure)]


cdef int face_measure(Faces* f, const word_t* closure, Py_ssize_t k, const int* fv,
                      Py_ssize_t n_fv, const double* Q, double* vol, double* cen) noexcept nogil:
    # Returns 0, -1 when out of memory, -2 when the face data are inconsistent (a numerical
    # breakdown upstream).
    # k-volume and centroid of the k-face whose containing facets are `closure`, whose vertices
    # are fv, and whose normal space (the span of the closure's normals) has the orthonormal
    # basis Q, d - k rows. Pulls the vertex fv[0]: the face is the union of the cones from it
    # over the facets G of the face that miss it, each of volume h_G vol_{k-1}(G) / k.
    cdef Py_ssize_t d = f.d, Wf = f.Wf, Wl = (n_fv + 63) // 64, nq = d - k
    cdef Py_ssize_t slot, n_sub, i, s, c, n_child
    cdef int* facet_of = NULL
    cdef word_t* closures = NULL
    cdef word_t* members = NULL
    cdef int* child = NULL
    cdef double* Qc = NULL
    cdef double* sub_cen = NULL
    cdef double sub_vol, h, nu, cone, err = 0.0, err_h, wv
    cdef const double* v
    cdef const double* w
    cdef int rc = 0
    cdef size_t sz_q, sz_c, sz_cl, sz_m, sz_f, sz_ch
    cdef char* buf
    if n_fv <= 0:
        return -2
    v = &f.verts[fv[0] * d]
    if k == 0:
        vol[0] = 1.0
        memcpy(cen, v, d * sizeof(double))
        return 0
    if k == 1:
        # an edge: its length straight from the two vertices, with no cancellation
        vol[0] = 0.0
        for i in range(d):
            vol[0] += (f.verts[fv[1] * d + i] - v[i]) ** 2
            cen[i] = 0.5 * (f.verts[fv[1] * d + i] + v[i])
        vol[0] = sqrt(vol[0])
        return 0 if n_fv == 2 else -2
    slot = memo_find(f, closure)
    if f.filled[slot]:
        vol[0] = f.vol[slot]
        memcpy(cen, &f.cen[slot * d], d * sizeof(double))
        return 0
    # carve the locals out of this dimension's scratch block
    sz_q = round8((nq + 1) * d * sizeof(double))
    sz_c = round8(d * sizeof(double))
    sz_cl = round8((f.nf + 1) * Wf * sizeof(word_t))
    sz_m = round8((f.nf + 1) * Wl * sizeof(word_t))
    sz_f = round8((f.nf + 1) * sizeof(int))
    sz_ch = round8(n_fv * sizeof(int))
    buf = level_scratch(f, k, sz_q + sz_c + sz_cl + sz_m + sz_f + sz_ch
                        + face_facets_scratch_size(f, n_fv))
    if buf == NULL:
        return -1
    Qc = <double*>buf
    sub_cen = <double*>(buf + sz_q)
    closures = <word_t*>(buf + sz_q + sz_c)
    members = <word_t*>(buf + sz_q + sz_c + sz_cl)
    facet_of = <int*>(buf + sz_q + sz_c + sz_cl + sz_m)
    child = <int*>(buf + sz_q + sz_c + sz_cl + sz_m + sz_f)
    if n_fv == k + 1:
        n_sub = simplex_facets(f, closure, fv, n_fv, facet_of, closures, members)
    else:
        n_sub = face_facets(f, closure, fv, n_fv, facet_of, closures, members,
                            buf + sz_q + sz_c + sz_cl + sz_m + sz_f + sz_ch)
    if rc == 0:
        vol[0] = 0.0
        for i in range(d):
            cen[i] = 0.0
        memcpy(Qc, Q, nq * d * sizeof(double))
        for s in range(n_sub):
            if bit_get(&members[s * Wl], 0):
                continue
            # The sub-face's normal space adds n_c minus its part in ours, for any facet c
            # through the sub-face but not the face; that unit vector is also the sub-face's
            # outward normal inside this face, so it gives the height. Take the c with the
            # largest remainder: nearly parallel facets would lose digits to cancellation.
            nu = -1.0
            c = facet_of[s]
            for i in range(f.nf):
                if not bit_get(&closures[s * Wf], i) or bit_get(closure, i):
                    continue
                memcpy(&Qc[nq * d], &f.normals[i * d], d * sizeof(double))
                project_out(Q, nq, &Qc[nq * d], d)
                h = dot(&Qc[nq * d], &Qc[nq * d], d)
                if h > nu:
                    nu = h
                    c = i
            memcpy(&Qc[nq * d], &f.normals[c * d], d * sizeof(double))
            project_out(Q, nq, &Qc[nq * d], d)
            nu = sqrt(dot(&Qc[nq * d], &Qc[nq * d], d))
            # the height of v over the sub-face, measured from a vertex w of the sub-face:
            # n . (w - v) rather than offset - n . v, so that a face far from the origin loses
            # nothing to cancellation (a sliver of width 1e-16 at distance 1 keeps its digits)
            i = 0
            while not bit_get(&members[s * Wl], i):
                i += 1
            w = &f.verts[fv[i] * d]
            h = 0.0
            wv = 0.0
            for i in range(d):
                h += Qc[nq * d + i] * (w[i] - v[i])
                wv += (w[i] - v[i]) * (w[i] - v[i])
            h /= nu
            # its error: both vertices' errors, and the rounding of the projected normal
            # (relative eps / nu: nearly parallel facets) and of the dot product
            err_h = 2.0 * f.delta + 4.0 * d * EPS * sqrt(wv) * (1.0 + 1.0 / nu)
            slot = memo_find(f, &closures[s * Wf])
            if k > 1 and f.filled[slot]:
                sub_vol = f.vol[slot]
                memcpy(sub_cen, &f.cen[slot * d], d * sizeof(double))
            else:
                for i in range(d):
                    Qc[nq * d + i] /= nu
                n_child = 0
                for i in range(n_fv):
                    if bit_get(&members[s * Wl], i):
                        child[n_child] = fv[i]
                        n_child += 1
                rc = face_measure(f, &closures[s * Wf], k - 1, child, n_child, Qc, &sub_vol,
                                  sub_cen)
                if rc != 0:
                    break
            cone = h * sub_vol / k
            vol[0] += cone
            err += (err_h * sub_vol + fabs(h) * face_error(f, &closures[s * Wf], k - 1, sub_vol)) \
                / k + 4.0 * k * EPS * fabs(cone)
            for i in range(d):
                cen[i] += cone * (v[i] + (<double>k / (k + 1)) * (sub_cen[i] - v[i]))
    if rc == 0:
        if vol[0] > 0.0:
            for i in range(d):
                cen[i] /= vol[0]
        else:
            memcpy(cen, v, d * sizeof(double))
        if 2 * (f.used + 1) > f.cap and memo_grow(f) != 0:
            rc = -1
    if rc == 0:
        slot = memo_find(f, closure)
        f.filled[slot] = 1
        memcpy(&f.keys[slot * Wf], closure, Wf * sizeof(word_t))
        f.vol[slot] = vol[0]
        f.err[slot] = err
        memcpy(&f.cen[slot * d], cen, d * sizeof(double))
        f.used += 1
    return rc


cdef int face_measure_top(Faces* f, const word_t* closure, Py_ssize_t k, int* fv, double* Q,
                          double* vol, double* cen, double* err=NULL) noexcept nogil:
    # face_measure for a face known only by its closure (the polytope, a facet, a ridge):
    # finds its vertices and an orthonormal basis of its normal space first. fv (nv ints) and
    # Q (d * d doubles) are scratch.
    cdef Py_ssize_t d = f.d, nq, c, c2, best_c
    cdef double t, best
    cdef int rc
    cdef Py_ssize_t n_fv = face_vertices(f, closure, fv)
    # Gram-Schmidt with pivoting: each step takes the normal of the closure with the largest
    # part outside the span so far, so that nearly parallel facets (lines crossing at 1e-15)
    # still give their exact normal space, and exactly dependent ones (remainder at rounding
    # level) come last
    for nq in range(d - k):
        best = 0.0
        best_c = -1
        for c in range(f.nf):
            if not bit_get(closure, c):
                continue
            memcpy(&Q[nq * d], &f.normals[c * d], d * sizeof(double))
            project_out(Q, nq, &Q[nq * d], d)
            t = dot(&Q[nq * d], &Q[nq * d], d)
            if t > best:
                best = t
                best_c = c
        if best_c < 0:
            return -2
        memcpy(&Q[nq * d], &f.normals[best_c * d], d * sizeof(double))
        project_out(Q, nq, &Q[nq * d], d)
        t = sqrt(dot(&Q[nq * d], &Q[nq * d], d))
        for c2 in range(d):
            Q[nq * d + c2] /= t
    rc = face_measure(f, closure, k, fv, n_fv, Q, vol, cen)
    if rc == 0 and err != NULL:
        err[0] = face_error(f, closure, k, vol[0])
    return rc


# ---------------------------------------------------------------------------------------------
# one polytope

cdef bint lex_less(const double* a, const double* b, Py_ssize_t d) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(d):
        if a[i] != b[i]:
            return a[i] < b[i]
    return False


cdef void lex_argsort(const double* X, Py_ssize_t n, Py_ssize_t d, int* idx, int* tmp) noexcept nogil:
    # Stable bottom-up merge sort of the rows of X; idx receives the order.
    cdef Py_ssize_t width = 1, lo, mid, hi, i, j, k
    for i in range(n):
        idx[i] = <int>i
    while width < n:
        lo = 0
        while lo < n:
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i = lo
            j = mid
            k = lo
            while i < mid and j < hi:
                if lex_less(&X[idx[j] * d], &X[idx[i] * d], d):
                    tmp[k] = idx[j]
                    j += 1
                else:
                    tmp[k] = idx[i]
                    i += 1
                k += 1
            while i < mid:
                tmp[k] = idx[i]
                i += 1
                k += 1
            while j < hi:
                tmp[k] = idx[j]
                j += 1
                k += 1
            lo += 2 * width
        memcpy(idx, tmp, n * sizeof(int))
        width *= 2


cdef void polytope_free(PolytopeResult* res) noexcept nogil:
    free(res.vertices); free(res.incidence_indptr); free(res.incidence_indices)
    free(res.facet_index); free(res.centroid); free(res.facet_areas); free(res.facet_normals)
    free(res.facet_centroids); free(res.ridges); free(res.ridge_volumes); free(res.dihedral_angles)
    res.vertices = NULL; res.incidence_indptr = NULL; res.incidence_indices = NULL
    res.facet_index = NULL; res.centroid = NULL; res.facet_areas = NULL; res.facet_normals = NULL
    res.facet_centroids = NULL; res.ridges = NULL; res.ridge_volumes = NULL
    res.dihedral_angles = NULL


cdef int measure_stage(PolytopeResult* res, const word_t* inc, Py_ssize_t Wf, const double* foff,
                       bint measures) noexcept nogil:
    # The measure stage shared by polytope_compute and polytope_measures: from the vertices
    # (res.vertices, res.n_vertices rows), the unit outward facet normals (res.facet_normals,
    # res.n_facets rows) with offsets foff, the facets through each vertex (inc, nv rows of Wf
    # words) and res.incidence_indptr, allocate and fill res.volume, centroid, facet_areas,
    # facet_centroids, ridges, n_ridges, ridge_volumes and dihedral_angles. With measures=False
    # the volumes and centroids are NaN (ridges and angles are still found).
    # Returns 0, -1 when out of memory, -2 when the face data are inconsistent.
    cdef Py_ssize_t d = res.ndim, nv = res.n_vertices, nf = res.n_facets, nr = 0, cap_r
    cdef Py_ssize_t i, k, s, n_fv, n_sub
    cdef Faces fc
    cdef word_t* key = NULL
    cdef word_t* closures = NULL
    cdef int* fv = NULL
    cdef int* facet_of = NULL
    cdef word_t* members = NULL
    cdef char* scratch = NULL
    cdef double* Qbuf = NULL
    cdef double* fnorm = NULL
    cdef index_t* ridge_buf = NULL
    cdef index_t* grown
    cdef int rc = 0
    cdef double t
    memset(&fc, 0, sizeof(Faces))
    fc.d = d
    fc.nv = nv
    fc.nf = nf
    fc.Wf = Wf
    fc.verts = res.vertices
    fc.inc = inc
    fc.simple = True
    for i in range(nv):
        if res.incidence_indptr[i + 1] - res.incidence_indptr[i] != d:
            fc.simple = False
            break
    fc.normals = res.facet_normals
    fc.offsets = foff
    res.centroid = <double*>malloc(d * sizeof(double))
    res.facet_areas = <double*>malloc((nf + 1) * sizeof(double))
    res.facet_centroids = <double*>malloc((nf * d + 1) * sizeof(double))
    key = <word_t*>calloc(Wf + 1, sizeof(word_t))
    closures = <word_t*>malloc((nf + 1) * Wf * sizeof(word_t))
    fv = <int*>malloc((nv + 1) * sizeof(int))
    facet_of = <int*>malloc((nf + 1) * sizeof(int))
    members = <word_t*>malloc((nf + 1) * ((nv + 63) // 64) * sizeof(word_t))
    Qbuf = <double*>malloc(d * d * sizeof(double))
    fnorm = <double*>malloc(d * sizeof(double))
    fc.level_buf = <void**>calloc(d + 1, sizeof(void*))
    fc.level_cap = <size_t*>calloc(d + 1, sizeof(size_t))
    if res.centroid == NULL or res.facet_areas == NULL or res.facet_centroids == NULL \
            or key == NULL or closures == NULL or fv == NULL or facet_of == NULL \
            or members == NULL or Qbuf == NULL or fnorm == NULL or fc.level_buf == NULL \
            or fc.level_cap == NULL or memo_grow(&fc) != 0:
        rc = -1
    if rc == 0 and not measures:
        # combinatorics only: the measures are NaN
        res.volume = NAN
        res.volume_error = NAN
        for k in range(d):
            res.centroid[k] = NAN
        for s in range(nf * d):
            res.facet_centroids[s] = NAN
        for s in range(nf):
            res.facet_areas[s] = NAN
    if rc == 0 and measures:
        # vertices re-solved with a twice-precise residual are within a few units in the
        # last place of their largest coordinate (for well-conditioned vertices)
        t = 0.0
        for i in range(nv * d):
            t = fabs(res.vertices[i]) if fabs(res.vertices[i]) > t else t
        fc.delta = 4.0 * sqrt(<double>d) * EPS * t
        rc = face_measure_top(&fc, key, d, fv, Qbuf, &res.volume, res.centroid,
                              &res.volume_error)
    if rc == 0 and measures:
        for s in range(nf):
            memset(key, 0, Wf * sizeof(word_t))
            bit_set(key, s)
            rc = face_measure_top(&fc, key, d - 1, fv, Qbuf, &res.facet_areas[s],
                                  &res.facet_centroids[s * d])
            if rc != 0:
                break
    if rc == 0 and d >= 2:
        # ridges: the facets of each facet, paired with the other facet through them
        cap_r = 4 * nf + 4
        ridge_buf = <index_t*>malloc(cap_r * 2 * sizeof(index_t))
        if ridge_buf == NULL:
            rc = -1
        for s in range(nf):
            if rc != 0:
                break
            memset(key, 0, Wf * sizeof(word_t))
            bit_set(key, s)
            n_fv = face_vertices(&fc, key, fv)
            scratch = level_scratch(&fc, d, face_facets_scratch_size(&fc, n_fv))
            n_sub = -1 if scratch == NULL else face_facets(&fc, key, fv, n_fv, facet_of, closures,
                                                           members, scratch)
            if n_sub < 0:
                rc = <int>n_sub
                break
            for i in range(n_sub):
                if facet_of[i] <= s:
                    continue
                if nr == cap_r:
                    grown = <index_t*>realloc(ridge_buf, 2 * cap_r * 2 * sizeof(index_t))
                    if grown == NULL:
                        rc = -1
                        break
                    ridge_buf = grown
                    cap_r *= 2
                ridge_buf[2 * nr] = s
                ridge_buf[2 * nr + 1] = facet_of[i]
                nr += 1
    if rc == 0:
        res.n_ridges = nr
        res.ridges = ridge_buf
        ridge_buf = NULL
        res.ridge_volumes = <double*>malloc((nr + 1) * sizeof(double))
        res.dihedral_angles = <double*>malloc((nr + 1) * sizeof(double))
        if res.ridge_volumes == NULL or res.dihedral_angles == NULL:
            rc = -1
    if rc == 0:
        for i in range(nr):
            memset(key, 0, Wf * sizeof(word_t))
            bit_set(key, res.ridges[2 * i])
            bit_set(key, res.ridges[2 * i + 1])
            if not measures:
                res.ridge_volumes[i] = NAN
            else:
                rc = face_measure_top(&fc, key, d - 2, fv, Qbuf, &res.ridge_volumes[i], fnorm)
                if rc != 0:
                    break
            res.dihedral_angles[i] = M_PI - angle_between(
                &res.facet_normals[res.ridges[2 * i] * d],
                &res.facet_normals[res.ridges[2 * i + 1] * d], d)
    free(key); free(closures); free(fv); free(facet_of); free(members); free(Qbuf); free(fnorm)
    free(ridge_buf)
    free(fc.keys); free(fc.filled); free(fc.vol); free(fc.cen); free(fc.err)
    if fc.level_buf != NULL:
        for k in range(d + 1):
            free(fc.level_buf[k])
    free(fc.level_buf); free(fc.level_cap)
    return rc


cdef int polytope_compute(const float64_t* A, const float64_t* b, Py_ssize_t m, Py_ssize_t d,
                          PolytopeResult* res, bint measures=True) noexcept nogil:
    cdef Py_ssize_t D = d + 1, i, k, j, r, mr = 0, nv = 0, nf = 0, nr = 0, Wv = 0, Wf = 0, n_inc
    cdef double nrm, anrm, val
    cdef DD dd
    cdef int* rows = NULL          # input row of each usable row
    cdef double* An = NULL         # (mr, d) unit normals of usable rows
    cdef double* beta = NULL       # (mr,) offsets of the unit normals
    cdef word_t* vsets = NULL      # (mr, Wv) vertices on each usable row
    cdef int* facet_row = NULL     # usable row of each facet
    cdef int* vray = NULL          # ray of each vertex
    cdef double* V = NULL          # (nv, d) vertices before sorting
    cdef int* order = NULL
    cdef int* tmp = NULL
    cdef word_t* inc = NULL        # (nv, Wf) facets through each vertex, sorted vertex order
    cdef double* foff = NULL
    cdef Py_ssize_t n_rough = 0
    cdef bint keep
    cdef word_t w
    cdef int rc
    cdef Py_ssize_t s
    memset(res, 0, sizeof(PolytopeResult))
    memset(&dd, 0, sizeof(DD))
    res.ndim = d
    res.status = STATUS_OK

    # usable rows: a zero row is redundant when b >= 0 and infeasible when b < 0
    rows = <int*>malloc((m + 1) * sizeof(int))
    An = <double*>malloc((m + 1) * d * sizeof(double))
    beta = <double*>malloc((m + 1) * sizeof(double))
    dd.Hn = <double*>malloc((m + 1) * D * sizeof(double))
    dd.Hx = <double*>malloc((m + 1) * D * sizeof(double))
    if rows == NULL or An == NULL or beta == NULL or dd.Hn == NULL or dd.Hx == NULL:
        res.status = STATUS_MEMORY
    if res.status == STATUS_OK:
        for i in range(m):
            anrm = scaled_norm(&A[i * d], d, 0.0)
            if anrm == 0.0:
                if b[i] < 0.0:
                    res.status = STATUS_INFEASIBLE
                    break
                continue
            rows[mr] = <int>i
            for k in range(d):
                An[mr * d + k] = A[i * d + k] / anrm
                dd.Hx[mr * D + k] = A[i * d + k]
            beta[mr] = b[i] / anrm
            dd.Hx[mr * D + d] = -b[i]
            nrm = scaled_norm(&A[i * d], d, b[i])
            for k in range(D):
                dd.Hn[mr * D + k] = dd.Hx[mr * D + k] / nrm
            mr += 1
    if res.status == STATUS_OK:
        # the row t >= 0, i.e. -t <= 0
        for k in range(D):
            dd.Hx[mr * D + k] = 0.0
            dd.Hn[mr * D + k] = 0.0
        dd.Hx[mr * D + d] = -1.0
        dd.Hn[mr * D + d] = -1.0
        dd.d = d
        dd.D = D
        dd.n_rows = mr + 1
        dd.W = (mr + 1 + 63) // 64
        dd.rowbuf = <int*>malloc((mr + 1) * sizeof(int))
        dd.mat = <double*>malloc((D * D + 3 * D) * sizeof(double))
        dd.slot_row = <int*>malloc((mr + 1) * sizeof(int))
        dd.row_slot = <int*>malloc((mr + 1) * sizeof(int))
        dd.qr = <double*>malloc(qr_scratch_size(mr + 1, D))
        dd.common = <word_t*>malloc(dd.W * sizeof(word_t))
        dd.hint = <double*>malloc(D * sizeof(double))
        if dd.rowbuf == NULL or dd.mat == NULL or dd.slot_row == NULL or dd.row_slot == NULL \
                or dd.qr == NULL or dd.common == NULL or dd.hint == NULL:
            res.status = STATUS_MEMORY
        else:
            for i in range(mr + 1):
                dd.row_slot[i] = -1
    if res.status == STATUS_OK:
        res.status = dd_run(&dd, An, mr)
        res.n_exact_calls = dd.n_exact
    if res.status == STATUS_OK:
        # vertices are the rays off the t = 0 row; any ray on it is a recession direction
        vray = <int*>malloc((dd.n + 1) * sizeof(int))
        if vray == NULL:
            res.status = STATUS_MEMORY
    if res.status == STATUS_OK:
        k = 0
        for r in range(dd.n):
            if bit_get(&dd.z[r * dd.W], dd.row_slot[mr]):
                k += 1
            else:
                vray[nv] = <int>r
                nv += 1
        if nv == 0:
            res.status = STATUS_INFEASIBLE
        elif k > 0:
            res.status = STATUS_UNBOUNDED
    if res.status == STATUS_OK:
        Wv = (nv + 63) // 64
        vsets = <word_t*>calloc(mr * Wv + 1, sizeof(word_t))
        facet_row = <int*>malloc((mr + 1) * sizeof(int))
        if vsets == NULL or facet_row == NULL:
            res.status = STATUS_MEMORY
    if res.status == STATUS_OK:
        for i in range(nv):
            for k in range(dd.Wa):
                w = dd.z[vray[i] * dd.W + k]
                while w:
                    j = dd.slot_row[64 * k + gc_ctz(w)]
                    w &= w - 1
                    if j < mr:
                        bit_set(&vsets[j * Wv], i)
        # a row through every vertex is an implicit equation: no interior
        for j in range(mr):
            if popcount(&vsets[j * Wv], Wv) == nv:
                res.status = STATUS_NO_INTERIOR
                break
    if res.status == STATUS_OK:
        # facets: rows with inclusion-maximal vertex sets, the first of equal ones
        for j in range(mr):
            if popcount(&vsets[j * Wv], Wv) == 0:
                continue
            keep = True
            for k in range(mr):
                if k != j and is_subset(&vsets[j * Wv], &vsets[k * Wv], Wv):
                    if k < j or not is_equal(&vsets[j * Wv], &vsets[k * Wv], Wv):
                        keep = False
                        break
            if keep:
                facet_row[nf] = <int>j
                nf += 1
        Wf = (nf + 63) // 64
        V = <double*>malloc(nv * d * sizeof(double))
        order = <int*>malloc(nv * sizeof(int))
        tmp = <int*>malloc(nv * sizeof(int))
        inc = <word_t*>calloc(nv * Wf + 1, sizeof(word_t))
        res.vertices = <double*>malloc(nv * d * sizeof(double))
        res.facet_index = <index_t*>malloc(nf * sizeof(index_t))
        res.facet_normals = <double*>malloc(nf * d * sizeof(double))
        res.incidence_indptr = <index_t*>malloc((nv + 1) * sizeof(index_t))
        foff = <double*>malloc(nf * sizeof(double))
        if V == NULL or order == NULL or tmp == NULL or inc == NULL or res.vertices == NULL \
                or res.facet_index == NULL or res.facet_normals == NULL \
                or res.incidence_indptr == NULL or foff == NULL:
            res.status = STATUS_MEMORY
    if res.status == STATUS_OK:
        for i in range(nv):
            # polish: solve the d rows that define the vertex directly in x-space, by LU on the
            # input rows; more accurate than dividing the unit homogeneous ray by its t
            r = vray[i]
            rc = solve_rows(A, b, rows, &dd.basis[r * d], d, &V[i * d], dd.mat, dd.rowbuf)
            if rc != 0:
                n_rough += 1
            if rc == -1:
                for k in range(d):
                    V[i * d + k] = dd.x[r * D + k] / dd.x[r * D + d]
            for k in range(d):
                V[i * d + k] += 0.0      # -0.0 becomes 0.0
        lex_argsort(V, nv, d, order, tmp)
        n_inc = 0
        for i in range(nv):
            memcpy(&res.vertices[i * d], &V[order[i] * d], d * sizeof(double))
            res.incidence_indptr[i] = n_inc
            for s in range(nf):
                if bit_get(&vsets[facet_row[s] * Wv], order[i]):
                    bit_set(&inc[i * Wf], s)
                    n_inc += 1
        res.incidence_indptr[nv] = n_inc
        res.incidence_indices = <index_t*>malloc((n_inc + 1) * sizeof(index_t))
        if res.incidence_indices == NULL:
            res.status = STATUS_MEMORY
    if res.status == STATUS_OK:
        k = 0
        for i in range(nv):
            for s in range(nf):
                if bit_get(&inc[i * Wf], s):
                    res.incidence_indices[k] = s
                    k += 1
        for s in range(nf):
            j = facet_row[s]
            res.facet_index[s] = rows[j]
            memcpy(&res.facet_normals[s * d], &An[j * d], d * sizeof(double))
            foff[s] = beta[j]
        res.n_vertices = nv
        res.n_facets = nf
        res.n_incidences = n_inc
    if res.status == STATUS_OK:
        rc = measure_stage(res, inc, Wf, foff, measures)
        if rc != 0:
            res.status = STATUS_MEMORY if rc == -1 else STATUS_NUMERICAL
        elif n_rough > 0:
            # a vertex whose rows are too close to dependent for floats: its coordinates (and
            # so the measures) carry no bound; the caller recomputes it exactly
            res.volume_error = INFINITY
    if res.status != STATUS_OK:
        polytope_free(res)
        res.n_vertices = 0
        res.n_facets = 0
        res.n_ridges = 0
        res.n_incidences = 0
    free(rows); free(An); free(beta); free(vsets); free(facet_row); free(vray); free(V)
    free(order); free(tmp); free(inc); free(foff)
    free(dd.Hn); free(dd.Hx); free(dd.x); free(dd.z); free(dd.basis); free(dd.tol)
    free(dd.orient); free(dd.sval); free(dd.cls); free(dd.rowbuf); free(dd.mat)
    free(dd.slot_row); free(dd.row_slot); free(dd.qr); free(dd.common); free(dd.hint)
    free(dd.zcount)
    return res.status


cdef int polytope_measure(const float64_t* vertices, Py_ssize_t nv, Py_ssize_t d,
                          const index_t* indptr, const index_t* indices,
                          const float64_t* normals, const float64_t* offsets, Py_ssize_t nf,
                          PolytopeResult* res) noexcept nogil:
    # The measures of one polytope from its combinatorics (see _polytope.pxd). indptr and
    # indices are the CSR incidence over the nv vertex rows (indptr[0] need not be 0), with
    # facet positions 0..nf-1. The vertices are sorted lexicographically first, so that the
    # measures do not depend on their order; res.vertices holds them in that order.
    cdef Py_ssize_t i, k, s, Wf = (nf + 63) // 64, n_inc = 0, cnt
    cdef int* order = NULL
    cdef int* tmp = NULL
    cdef word_t* inc = NULL
    cdef double* foff = NULL
    cdef double nrm
    cdef int rc
    memset(res, 0, sizeof(PolytopeResult))
    res.ndim = d
    res.status = STATUS_OK
    if nv < d + 1 or nf < d + 1 or d < 1:
        res.status = STATUS_INCONSISTENT
        return res.status
    order = <int*>malloc(nv * sizeof(int))
    tmp = <int*>malloc(nv * sizeof(int))
    inc = <word_t*>calloc(nv * Wf + 1, sizeof(word_t))
    foff = <double*>malloc(nf * sizeof(double))
    res.vertices = <double*>malloc(nv * d * sizeof(double))
    res.facet_index = <index_t*>malloc(nf * sizeof(index_t))
    res.facet_normals = <double*>malloc(nf * d * sizeof(double))
    res.incidence_indptr = <index_t*>malloc((nv + 1) * sizeof(index_t))
    if order == NULL or tmp == NULL or inc == NULL or foff == NULL or res.vertices == NULL \
            or res.facet_index == NULL or res.facet_normals == NULL \
            or res.incidence_indptr == NULL:
        res.status = STATUS_MEMORY
    if res.status == STATUS_OK:
        for s in range(nf):
            res.facet_index[s] = s
            nrm = scaled_norm(&normals[s * d], d, 0.0)
            if nrm == 0.0:
                res.status = STATUS_INCONSISTENT
                break
            for k in range(d):
                res.facet_normals[s * d + k] = normals[s * d + k] / nrm
            foff[s] = offsets[s] / nrm
    if res.status == STATUS_OK:
        lex_argsort(vertices, nv, d, order, tmp)
        for i in range(nv):
            memcpy(&res.vertices[i * d], &vertices[order[i] * d], d * sizeof(double))
            for k in range(d):
                res.vertices[i * d + k] += 0.0      # -0.0 becomes 0.0
            res.incidence_indptr[i] = n_inc
            for k in range(indptr[order[i]], indptr[order[i] + 1]):
                if indices[k] < 0 or indices[k] >= nf:
                    res.status = STATUS_INCONSISTENT
                    break
                if not bit_get(&inc[i * Wf], indices[k]):
                    bit_set(&inc[i * Wf], indices[k])
                    n_inc += 1
            if res.status != STATUS_OK:
                break
            # a vertex lies on at least d facets
            if n_inc - res.incidence_indptr[i] < d:
                res.status = STATUS_INCONSISTENT
                break
        res.incidence_indptr[nv] = n_inc
    if res.status == STATUS_OK:
        # a facet holds at least d vertices and misses at least one
        for s in range(nf):
            cnt = 0
            for i in range(nv):
                cnt += bit_get(&inc[i * Wf], s)
            if cnt < d or cnt == nv:
                res.status = STATUS_INCONSISTENT
                break
    if res.status == STATUS_OK:
        res.incidence_indices = <index_t*>malloc((n_inc + 1) * sizeof(index_t))
        if res.incidence_indices == NULL:
            res.status = STATUS_MEMORY
    if res.status == STATUS_OK:
        k = 0
        for i in range(nv):
            for s in range(nf):
                if bit_get(&inc[i * Wf], s):
                    res.incidence_indices[k] = s
                    k += 1
        res.n_vertices = nv
        res.n_facets = nf
        res.n_incidences = n_inc
        rc = measure_stage(res, inc, Wf, foff, True)
        if rc != 0:
            res.status = STATUS_MEMORY if rc == -1 else STATUS_INCONSISTENT
    if res.status != STATUS_OK:
        polytope_free(res)
        res.n_vertices = 0
        res.n_facets = 0
        res.n_ridges = 0
        res.n_incidences = 0
    free(order); free(tmp); free(inc); free(foff)
    return res.status


# ---------------------------------------------------------------------------------------------
# entry point

cdef void copy_results(PolytopeResult* res, Py_ssize_t n, Py_ssize_t d, const index_t* off,
                       dict out):
    # Stack the per-polytope results into the preallocated arrays of `out`, without the GIL.
    cdef index_t[::1] status = out["status"], n_exact = out["n_exact_calls"]
    cdef index_t[::1] vertex_offsets = out["vertex_offsets"], facet_offsets = out["facet_offsets"]
    cdef index_t[::1] ridge_offsets = out["ridge_offsets"], indptr = out["incidence_indptr"]
    cdef index_t[::1] indices = out["incidence_indices"], facet_index = out["facet_index"]
    cdef index_t[:, ::1] ridges = out["ridges"]
    cdef double[::1] volume = out["volume"], facet_areas = out["facet_areas"]
    cdef double[::1] ridge_volumes = out["ridge_volumes"], dihedral = out["dihedral_angles"]
    cdef double[::1] volume_error = out["volume_error"]
    cdef double[:, ::1] vertices = out["vertices"], centroid = out["centroid"]
    cdef double[:, ::1] facet_normals = out["facet_normals"], facet_centroids = out["facet_centroids"]
    cdef Py_ssize_t i, k, pv = 0, pf = 0, pr = 0, pi = 0
    cdef PolytopeResult* r
    with nogil:
        indptr[0] = 0
        for i in range(n):
            r = &res[i]
            status[i] = r.status
            n_exact[i] = r.n_exact_calls
            if r.status == STATUS_OK:
                volume[i] = r.volume
                volume_error[i] = r.volume_error
                for k in range(d):
                    centroid[i, k] = r.centroid[k]
                if r.n_vertices:
                    memcpy(&vertices[pv, 0], r.vertices, r.n_vertices * d * sizeof(double))
                    for k in range(r.n_vertices):
                        indptr[pv + k + 1] = pi + r.incidence_indptr[k + 1]
                if r.n_incidences:
                    memcpy(&indices[pi], r.incidence_indices, r.n_incidences * sizeof(index_t))
                if r.n_facets:
                    for k in range(r.n_facets):
                        facet_index[pf + k] = off[i] + r.facet_index[k]
                    memcpy(&facet_areas[pf], r.facet_areas, r.n_facets * sizeof(double))
                    memcpy(&facet_normals[pf, 0], r.facet_normals, r.n_facets * d * sizeof(double))
                    memcpy(&facet_centroids[pf, 0], r.facet_centroids, r.n_facets * d * sizeof(double))
                if r.n_ridges:
                    memcpy(&ridges[pr, 0], r.ridges, 2 * r.n_ridges * sizeof(index_t))
                    memcpy(&ridge_volumes[pr], r.ridge_volumes, r.n_ridges * sizeof(double))
                    memcpy(&dihedral[pr], r.dihedral_angles, r.n_ridges * sizeof(double))
            pv += r.n_vertices
            pf += r.n_facets
            pr += r.n_ridges
            pi += r.n_incidences
            vertex_offsets[i + 1] = pv
            facet_offsets[i + 1] = pf
            ridge_offsets[i + 1] = pr


def polytope_batch(A, b, offsets, *, measures=True):
    """Geometry of many H-polytopes in one call; see geomcore.polytope for the fields.

    Validates nothing: A is C-contiguous float64 (M, d), b float64 (M,), offsets int64 (n + 1,)
    increasing from 0 to M, every value finite. measures=False skips the face lattice: volumes,
    centroids, facet areas and centroids and ridge volumes are NaN.
    """
    cdef const double[:, ::1] A_ = A
    cdef const double[::1] b_ = b
    cdef const index_t[::1] off = offsets
    cdef Py_ssize_t n = off.shape[0] - 1, d = A_.shape[1], i, nv = 0, nf = 0, nr = 0, ni = 0
    cdef Py_ssize_t start, stop
    cdef PolytopeResult* res = <PolytopeResult*>calloc(n + 1, sizeof(PolytopeResult))
    cdef bint do_measures = measures
    cdef const double* Ap = &A_[0, 0] if A_.shape[0] > 0 else NULL
    cdef const double* bp = &b_[0] if b_.shape[0] > 0 else NULL
    if res == NULL:
        raise MemoryError
    try:
        # in chunks without the GIL, checking for Ctrl-C in between
        for start in range(0, n, CHUNK):
            stop = min(start + CHUNK, n)
            with nogil:
                for i in range(start, stop):
                    polytope_compute(Ap + off[i] * d if Ap != NULL else NULL,
                                     bp + off[i] if bp != NULL else NULL,
                                     off[i + 1] - off[i], d, &res[i], do_measures)
            PyErr_CheckSignals()
        for i in range(n):
            nv += res[i].n_vertices
            nf += res[i].n_facets
            nr += res[i].n_ridges
            ni += res[i].n_incidences
        out = {
            "status": np.empty(n, np.int64),
            "n_exact_calls": np.empty(n, np.int64),
            "vertices": np.empty((nv, d)),
            "vertex_offsets": np.zeros(n + 1, np.int64),
            "incidence_indptr": np.zeros(nv + 1, np.int64),
            "incidence_indices": np.empty(ni, np.int64),
            "facet_index": np.empty(nf, np.int64),
            "facet_offsets": np.zeros(n + 1, np.int64),
            "volume": np.full(n, np.nan),
            "volume_error": np.zeros(n),
            "centroid": np.full((n, d), np.nan),
            "facet_areas": np.empty(nf),
            "facet_normals": np.empty((nf, d)),
            "facet_centroids": np.empty((nf, d)),
            "ridges": np.empty((nr, 2), np.int64),
            "ridge_offsets": np.zeros(n + 1, np.int64),
            "ridge_volumes": np.empty(nr),
            "dihedral_angles": np.empty(nr),
        }
        copy_results(res, n, d, &off[0], out)
        return out
    finally:
        for i in range(n):
            polytope_free(&res[i])
        free(res)


def type_sizes():
    """Byte sizes of the C types in _types.pxd, for the test against numpy's dtypes."""
    return {"float64_t": sizeof(float64_t), "index_t": sizeof(index_t), "word_t": sizeof(word_t)}



def _measure_inputs(vertices, vertex_offsets, incidence_indptr, incidence_indices, normals,
                    offsets, facet_offsets):
    # Check and convert the arguments of polytope_measures; raises InvalidInputError naming the
    # argument. Everything the nogil loop indexes with is checked here.
    from geomcore.errors import InvalidInputError

    def ints(x, name):
        a = np.asarray(x)
        if a.ndim != 1 or not (a.dtype.kind in "iu" or a.size == 0):
            raise InvalidInputError(f"{name} must be a 1-D integer array; got shape {a.shape}, "
                                    f"dtype {a.dtype}")
        return np.ascontiguousarray(a, dtype=np.int64)

    def reals(x, name, ndim):
        a = np.asarray(x)
        if a.ndim != ndim or not (a.dtype.kind in "fiu" or a.size == 0):
            raise InvalidInputError(f"{name} must be a {ndim}-D float array; got shape {a.shape}, "
                                    f"dtype {a.dtype}")
        a = np.ascontiguousarray(a, dtype=np.float64)
        if not np.isfinite(a).all():
            raise InvalidInputError(f"{name} must be finite; it holds NaN or inf")
        return a

    def csr_offsets(a, name, total, n=None):
        if a.size < 1 or a[0] != 0 or a[-1] != total or (np.diff(a) < 0).any():
            raise InvalidInputError(f"{name} must rise from 0 to {total}; got {a[:5]}...")
        if n is not None and a.size != n + 1:
            raise InvalidInputError(f"{name} must have {n + 1} entries like vertex_offsets; "
                                    f"got {a.size}")

    V = reals(vertices, "vertices", 2)
    N = reals(normals, "normals", 2)
    c = reals(offsets, "offsets", 1)
    voff = ints(vertex_offsets, "vertex_offsets")
    foff = ints(facet_offsets, "facet_offsets")
    ptr = ints(incidence_indptr, "incidence_indptr")
    ind = ints(incidence_indices, "incidence_indices")
    if N.shape[1] != V.shape[1]:
        raise InvalidInputError(f"normals must have ndim={V.shape[1]} columns like vertices; "
                                f"got {N.shape[1]}")
    if c.shape[0] != N.shape[0]:
        raise InvalidInputError(f"offsets must have one entry per row of normals "
                                f"({N.shape[0]}); got {c.shape[0]}")
    csr_offsets(voff, "vertex_offsets", V.shape[0])
    csr_offsets(foff, "facet_offsets", N.shape[0], voff.size - 1)
    csr_offsets(ptr, "incidence_indptr", ind.size, V.shape[0])
    n_facets = np.diff(foff)
    owner = np.repeat(np.repeat(np.arange(voff.size - 1), np.diff(voff)), np.diff(ptr))
    if ind.size and ((ind < 0) | (ind >= n_facets[owner])).any():
        raise InvalidInputError("incidence_indices must be facet positions local to each "
                                "polytope, 0 <= j < facet_offsets[i+1] - facet_offsets[i]")
    return V, voff, ptr, ind, N, c, foff


def polytope_measures(vertices, vertex_offsets, incidence_indptr, incidence_indices, normals,
                      offsets, facet_offsets):
    """Measures of many polytopes from combinatorics computed elsewhere (the measure stage of
    polytope_batch, on the same code path).

    Polytope i has the vertices ``vertices[vertex_offsets[i]:vertex_offsets[i+1]]`` (float
    (nv, d), any order) and the facets ``normals[facet_offsets[i]:facet_offsets[i+1]]`` (outward,
    any non-zero length) with ``normals[f] . x <= offsets[f]``; ``incidence_indptr`` (total
    vertices + 1, stacked globally) and ``incidence_indices`` give for each vertex row the
    positions, local to its polytope (0 .. n_facets_i - 1), of the facets through it. The
    incidence must be exact: every vertex on at least d facets, every facet with at least d
    vertices and not all. Raises InvalidInputError for arrays of the wrong shape, non-finite
    values or out-of-range indices.

    Returns a dict: status (n,) int64 (0 ok, 6 out of memory, 8 the incidence is not that of a
    d-polytope; then NaN measures and no ridges), volume (n,), centroid (n, d), facet_areas,
    facet_normals (unit), facet_centroids (stacked like normals), ridges (n_ridges, 2) local
    facet positions, ridge_offsets (n + 1,), ridge_volumes, dihedral_angles. The measures do not
    depend on the order of the vertices (they are sorted lexicographically inside).
    """
    V, voff, ptr, ind, N, c, foff = _measure_inputs(
        vertices, vertex_offsets, incidence_indptr, incidence_indices, normals, offsets,
        facet_offsets)
    cdef const double[:, ::1] V_ = V
    cdef const double[:, ::1] N_ = N
    cdef const double[::1] c_ = c
    cdef const index_t[::1] vo = voff, fo = foff, ip = ptr, ix = ind
    cdef Py_ssize_t n = vo.shape[0] - 1, d = V_.shape[1], i, nr = 0, nf = N_.shape[0]
    cdef Py_ssize_t start, stop
    cdef const double* Vp = &V_[0, 0] if V_.shape[0] > 0 else NULL
    cdef const double* Np = &N_[0, 0] if N_.shape[0] > 0 else NULL
    cdef const double* cp = &c_[0] if c_.shape[0] > 0 else NULL
    cdef const index_t* ixp = &ix[0] if ix.shape[0] > 0 else NULL
    cdef PolytopeResult* res = <PolytopeResult*>calloc(n + 1, sizeof(PolytopeResult))
    if res == NULL:
        raise MemoryError
    try:
        for start in range(0, n, CHUNK):
            stop = min(start + CHUNK, n)
            with nogil:
                for i in range(start, stop):
                    polytope_measure(Vp + vo[i] * d if Vp != NULL else NULL, vo[i + 1] - vo[i], d,
                                     &ip[vo[i]], ixp, Np + fo[i] * d if Np != NULL else NULL,
                                     cp + fo[i] if cp != NULL else NULL, fo[i + 1] - fo[i],
                                     &res[i])
            PyErr_CheckSignals()
        for i in range(n):
            nr += res[i].n_ridges
        out = {
            "status": np.empty(n, np.int64),
            "volume": np.full(n, np.nan),
            "volume_error": np.zeros(n),
            "centroid": np.full((n, d), np.nan),
            "facet_areas": np.full(nf, np.nan),
            "facet_normals": np.full((nf, d), np.nan),
            "facet_centroids": np.full((nf, d), np.nan),
            "ridges": np.empty((nr, 2), np.int64),
            "ridge_offsets": np.zeros(n + 1, np.int64),
            "ridge_volumes": np.empty(nr),
            "dihedral_angles": np.empty(nr),
        }
        copy_results_measures(res, n, d, &fo[0], out)
        return out
    finally:
        for i in range(n):
            polytope_free(&res[i])
        free(res)


cdef void copy_results_measures(PolytopeResult* res, Py_ssize_t n, Py_ssize_t d,
                                const index_t* foff, dict out):
    # Stack the measures of polytope_measures; facet rows sit at the caller's facet_offsets
    # (also for a polytope with a non-OK status, whose rows stay NaN).
    cdef index_t[::1] status = out["status"], ridge_offsets = out["ridge_offsets"]
    cdef index_t[:, ::1] ridges = out["ridges"]
    cdef double[::1] volume = out["volume"], facet_areas = out["facet_areas"]
    cdef double[::1] ridge_volumes = out["ridge_volumes"], dihedral = out["dihedral_angles"]
    cdef double[::1] volume_error = out["volume_error"]
    cdef double[:, ::1] centroid = out["centroid"]
    cdef double[:, ::1] facet_normals = out["facet_normals"], facet_centroids = out["facet_centroids"]
    cdef Py_ssize_t i, k, pf, pr = 0
    cdef PolytopeResult* r
    with nogil:
        for i in range(n):
            r = &res[i]
            status[i] = r.status
            pf = foff[i]
            if r.status == STATUS_OK:
                volume[i] = r.volume
                volume_error[i] = r.volume_error
                for k in range(d):
                    centroid[i, k] = r.centroid[k]
                if r.n_facets:
                    memcpy(&facet_areas[pf], r.facet_areas, r.n_facets * sizeof(double))
                    memcpy(&facet_normals[pf, 0], r.facet_normals, r.n_facets * d * sizeof(double))
                    memcpy(&facet_centroids[pf, 0], r.facet_centroids,
                           r.n_facets * d * sizeof(double))
                if r.n_ridges:
                    memcpy(&ridges[pr, 0], r.ridges, 2 * r.n_ridges * sizeof(index_t))
                    memcpy(&ridge_volumes[pr], r.ridge_volumes, r.n_ridges * sizeof(double))
                    memcpy(&dihedral[pr], r.dihedral_angles, r.n_ridges * sizeof(double))
            pr += r.n_ridges
            ridge_offsets[i + 1] = pr
