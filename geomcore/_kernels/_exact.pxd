# Exact sign of a determinant of doubles, for other kernels to cimport.
#
#   from geomcore._kernels._exact cimport det_sign_exact
#
# det_sign_exact(M, n, &status) returns -1, 0 or +1, the exact sign of det(M) for the n-by-n
# row-major matrix M of finite doubles (read as the exact rationals they are). status is set
# to 0 on success, 1 when more than MAX_PRIMES primes would be needed (the entries span too
# many binary orders of magnitude), 2 when memory could not be allocated; the return value is
# then 0 and must not be used.

cdef int det_sign_exact(const double* M, Py_ssize_t n, int* status) noexcept nogil
