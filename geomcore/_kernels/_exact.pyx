# Exact determinant signs for matrices of doubles, without big integers.
#
# A double is m * 2**e with an integer m of at most 53 bits, so after scaling each row by a power
# of two (which keeps the sign of the determinant) the matrix is an integer matrix. Its
# determinant is bounded by Hadamard's inequality; we compute it modulo enough 62-bit primes that
# their product exceeds twice that bound, and read the sign from the mixed-radix (Garner)
# digits, comparing them with those of (P - 1) / 2. Everything is 64-bit modular arithmetic, so
# it runs without the GIL and needs no bignum library.

from libc.math cimport frexp, log2, sqrt, ceil, fabs
from libc.stdint cimport uint64_t, int64_t
from libc.stdlib cimport malloc, free

import numpy as np

cdef extern from *:
    """
    #include <stdint.h>
    static inline uint64_t gc_mulmod(uint64_t a, uint64_t b, uint64_t p) {
        return (uint64_t)(((unsigned __int128)a * b) % p);
    }
    """
    uint64_t gc_mulmod(uint64_t a, uint64_t b, uint64_t p) noexcept nogil

cdef extern from "_primes.h":
    const uint64_t* _primes "GC_PRIMES"

cdef enum:
    MAX_PRIMES = 512


cdef inline uint64_t _powmod(uint64_t a, uint64_t e, uint64_t p) noexcept nogil:
    cdef uint64_t r = 1
    a %= p
    while e:
        if e & 1:
            r = gc_mulmod(r, a, p)
        a = gc_mulmod(a, a, p)
        e >>= 1
    return r


cdef inline uint64_t _invmod(uint64_t a, uint64_t p) noexcept nogil:
    # Inverse of a (0 < a < p) modulo the prime p, by the extended Euclidean algorithm.
    cdef int64_t t = 0, newt = 1, q, tmp
    cdef uint64_t r = p, newr = a, tmpr
    while newr != 0:
        q = <int64_t>(r // newr)
        tmp = t - q * newt
        t = newt
        newt = tmp
        tmpr = r - <uint64_t>q * newr
        r = newr
        newr = tmpr
    return <uint64_t>(t + <int64_t>p) if t < 0 else <uint64_t>t


cdef inline int _bit_length(uint64_t x) noexcept nogil:
    cdef int n = 0
    while x:
        x >>= 1
        n += 1
    return n


cdef inline uint64_t _residue(int64_t mant, int shift, uint64_t p) noexcept nogil:
    # (mant * 2**shift) mod p for a signed 53-bit mantissa and shift >= 0.
    cdef uint64_t r = (<uint64_t>(-mant) if mant < 0 else <uint64_t>mant) % p
    r = gc_mulmod(r, _powmod(2, <uint64_t>shift, p), p)
    if mant < 0 and r != 0:
        r = p - r
    return r


cdef uint64_t _det_mod(uint64_t* a, Py_ssize_t n, uint64_t p) noexcept nogil:
    # Determinant of the n-by-n matrix a (entries in [0, p)) modulo p; destroys a.
    cdef Py_ssize_t i, j, k, piv
    cdef uint64_t det = 1, inv, f, t
    for k in range(n):
        piv = -1
        for i in range(k, n):
            if a[i * n + k] != 0:
                piv = i
                break
        if piv < 0:
            return 0
        if piv != k:
            for j in range(n):
                t = a[k * n + j]
                a[k * n + j] = a[piv * n + j]
                a[piv * n + j] = t
            det = (p - det) % p
        det = gc_mulmod(det, a[k * n + k], p)
        inv = _invmod(a[k * n + k], p)
        for i in range(k + 1, n):
            if a[i * n + k] == 0:
                continue
            f = gc_mulmod(a[i * n + k], inv, p)
            for j in range(k, n):
                t = gc_mulmod(f, a[k * n + j], p)
                a[i * n + j] = a[i * n + j] - t if a[i * n + j] >= t else a[i * n + j] + (p - t)
    return det


cdef int det_sign_exact(const double* M, Py_ssize_t n, int* status) noexcept nogil:
    cdef Py_ssize_t i, j, q, k_primes
    cdef int e, emin, emax, top
    cdef int64_t mt
    cdef double f, bits = 2.0
    cdef int64_t* mant = NULL
    cdef int* expo = NULL
    cdef uint64_t* work = NULL
    cdef uint64_t* res = NULL
    cdef uint64_t* digit = NULL
    cdef uint64_t p, val, pprod
    cdef int sign = 0
    status[0] = 0
    if n == 0:
        return 1
    mant = <int64_t*>malloc(n * n * sizeof(int64_t))
    expo = <int*>malloc(n * n * sizeof(int))
    work = <uint64_t*>malloc(n * n * sizeof(uint64_t))
    res = <uint64_t*>malloc(MAX_PRIMES * sizeof(uint64_t))
    digit = <uint64_t*>malloc(MAX_PRIMES * sizeof(uint64_t))
    if mant == NULL or expo == NULL or work == NULL or res == NULL or digit == NULL:
        status[0] = 2
        free(mant); free(expo); free(work); free(res); free(digit)
        return 0
    # Integer form: entry (i, j) is mant * 2**expo with an odd mant, and expo >= 0 after shifting
    # row i by its smallest exponent. Small integers and dyadic inputs (boxes, grids) then need
    # few bits, so one prime usually suffices. A zero row makes the determinant zero.
    for i in range(n):
        emin = 1 << 20
        top = -(1 << 20)
        for j in range(n):
            f = frexp(M[i * n + j], &e)
            mt = <int64_t>(f * 9007199254740992.0)   # f * 2**53, exact
            e -= 53
            while mt != 0 and (mt & 1) == 0:
                mt //= 2
                e += 1
            mant[i * n + j] = mt
            expo[i * n + j] = e
            if mt != 0:
                emin = min(emin, e)
                top = max(top, e + _bit_length(<uint64_t>(-mt if mt < 0 else mt)))
        if top < emin:
            free(mant); free(expo); free(work); free(res); free(digit)
            return 0
        for j in range(n):
            expo[i * n + j] -= emin
        # every entry of the scaled row is below 2**(top - emin) in magnitude, so its Euclidean
        # norm is below 2**(top - emin + log2(n) / 2): Hadamard's bound, row by row
        bits += (top - emin) + 0.5 * log2(<double>n)
    k_primes = <Py_ssize_t>ceil(bits / 61.0)
    if k_primes > MAX_PRIMES:
        status[0] = 1
        free(mant); free(expo); free(work); free(res); free(digit)
        return 0
    for q in range(k_primes):
        p = _primes[q]
        for i in range(n * n):
            work[i] = _residue(mant[i], expo[i], p) if mant[i] != 0 else 0
        res[q] = _det_mod(work, n, p)
    # Garner: det mod P = sum_q digit[q] * p_0 ... p_{q-1}, digits in [0, p_q).
    for q in range(k_primes):
        p = _primes[q]
        val = 0
        for i in range(q - 1, -1, -1):
            val = (gc_mulmod(val, _primes[i] % p, p) + digit[i] % p) % p
        pprod = 1
        for i in range(q):
            pprod = gc_mulmod(pprod, _primes[i] % p, p)
        digit[q] = gc_mulmod((res[q] + p - val) % p, _invmod(pprod, p), p)
    # P is odd and (P - 1) / 2 has digits (p_q - 1) / 2; det >= 0 iff its residue <= (P - 1) / 2.
    sign = 0
    for q in range(k_primes - 1, -1, -1):
        if digit[q] != 0:
            sign = 1
            break
    if sign != 0:
        for q in range(k_primes - 1, -1, -1):
            if digit[q] != (_primes[q] - 1) // 2:
                sign = 1 if digit[q] < (_primes[q] - 1) // 2 else -1
                break
    free(mant); free(expo); free(work); free(res); free(digit)
    return sign


def primes():
    """The table of 62-bit primes the modular determinants use (for tests)."""
    return [int(_primes[i]) for i in range(MAX_PRIMES)]


def det_sign(M):
    """Exact sign (-1, 0 or 1) of ``det(M)`` for a square float64 matrix ``M``.

    The entries are read as the exact rationals that the doubles are.

    Examples
    --------
    >>> import numpy as np
    >>> det_sign(np.array([[1.0, 1e-30], [1.0, 1e-30]]))
    0
    >>> det_sign(np.array([[0.1, 0.3], [0.3, 0.9]]))   # 0.9 is not exactly 3 * 0.3
    1
    """
    cdef double[:, ::1] m = np.ascontiguousarray(M, dtype=np.float64)
    cdef int status = 0, s
    if m.shape[0] != m.shape[1]:
        raise ValueError(f"M must be square, got shape {tuple(M.shape)}")
    if not np.isfinite(M).all():
        raise ValueError("M must be finite")
    if m.shape[0] == 0:
        return 1
    with nogil:
        s = det_sign_exact(&m[0, 0], m.shape[0], &status)
    if status == 1:
        from geomcore.errors import PrecisionError
        raise PrecisionError("det_sign: the entries of M span too many binary orders of magnitude")
    if status == 2:
        raise MemoryError
    return s
