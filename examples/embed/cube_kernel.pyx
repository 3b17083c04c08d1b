# A downstream extension that calls geomcore's polytope kernel from C, without the GIL.
# tests/test_cimport.py builds it against the installed geomcore; see the README.
from geomcore._kernels._polytope cimport PolytopeResult, polytope_compute, polytope_free


def box_volume_and_vertex_count(double[:, ::1] A, double[::1] b):
    """Volume and vertex count of {x : A x <= b}, computed in C by geomcore's kernel."""
    cdef PolytopeResult res
    cdef int status
    with nogil:
        status = polytope_compute(&A[0, 0], &b[0], A.shape[0], A.shape[1], &res)
    try:
        if status != 0:
            raise ValueError(f"polytope status {status}")
        return res.volume, res.n_vertices
    finally:
        polytope_free(&res)
