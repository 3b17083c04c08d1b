# The H-polytope kernel, for other kernels and packages to cimport.
#
#   from geomcore._kernels._polytope cimport PolytopeResult, polytope_compute, polytope_free
#
# polytope_compute(A, b, m, d, &res) reads the row-major m-by-d matrix A and the m offsets b of
# the halfspaces A x <= b (finite doubles), fills res and returns res.status. On STATUS_OK every
# pointer in res is owned by res and released by polytope_free(&res); on any other status they
# are NULL. Sign decisions are exact (see geomcore/_kernels/_polytope.pyx). With measures=False
# (default True) the face lattice is skipped and every measure is NaN.

from geomcore._kernels._types cimport float64_t, index_t

cdef enum:
    STATUS_OK = 0
    STATUS_INFEASIBLE = 1       # no point satisfies every row
    STATUS_UNBOUNDED = 2        # non-empty and unbounded
    STATUS_NO_INTERIOR = 3      # non-empty but lower-dimensional
    STATUS_RANK_DEFICIENT = 4   # rank(A) < d: unbounded unless empty
    STATUS_PRECISION = 5        # an exact decision ran out of primes
    STATUS_MEMORY = 6           # an allocation failed
    STATUS_NUMERICAL = 7        # floating point broke down (e.g. a cell tiny against its offset)
    STATUS_INCONSISTENT = 8     # polytope_measure: the given incidence is not a d-polytope's

cdef struct PolytopeResult:
    int status
    Py_ssize_t ndim
    Py_ssize_t n_vertices
    Py_ssize_t n_facets
    Py_ssize_t n_ridges
    Py_ssize_t n_incidences
    float64_t* vertices          # (n_vertices, ndim), rows in lexicographic order
    index_t* incidence_indptr    # (n_vertices + 1,)
    index_t* incidence_indices   # (n_incidences,) facet positions, sorted per vertex
    index_t* facet_index         # (n_facets,) input rows, increasing
    float64_t volume
    float64_t* centroid          # (ndim,)
    float64_t* facet_areas       # (n_facets,)
    float64_t* facet_normals     # (n_facets, ndim) unit, outward
    float64_t* facet_centroids   # (n_facets, ndim)
    index_t* ridges              # (n_ridges, 2) facet positions, rows sorted, lexicographic
    float64_t* ridge_volumes     # (n_ridges,)
    float64_t* dihedral_angles   # (n_ridges,) interior, radians
    Py_ssize_t n_exact_calls     # sign decisions settled in exact arithmetic
    float64_t volume_error       # first-order bound on |volume - exact volume| (see _polytope.pyx);
                                 # inf when a vertex could not be solved accurately in floats

cdef int polytope_compute(const float64_t* A, const float64_t* b, Py_ssize_t m, Py_ssize_t d,
                          PolytopeResult* res, bint measures=*) noexcept nogil
cdef void polytope_free(PolytopeResult* res) noexcept nogil

# polytope_measure(V, nv, d, indptr, indices, normals, offsets, nf, &res): the measure stage alone
# (the same code polytope_compute runs after its double description), for combinatorics computed
# elsewhere: nv vertices V (row-major, any order), the CSR incidence indptr[0..nv] / indices of
# facet positions 0..nf-1 (indptr[0] need not be 0), nf outward normals (any length) with
# normals[f] . x <= offsets[f]. Fills res as polytope_compute does (vertices sorted
# lexicographically, facet_index = 0..nf-1, n_exact_calls 0) and returns res.status.
cdef int polytope_measure(const float64_t* vertices, Py_ssize_t nv, Py_ssize_t d,
                          const index_t* indptr, const index_t* indices,
                          const float64_t* normals, const float64_t* offsets, Py_ssize_t nf,
                          PolytopeResult* res) noexcept nogil
