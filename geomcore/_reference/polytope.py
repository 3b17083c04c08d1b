"""Brute-force exact reference for the H-polytope kernel.

This module is a test oracle. It is slow on purpose and deliberately uses
algorithms unrelated to the compiled kernel (which uses double description and
face-lattice recursion):

* vertices come from solving every ``d``-subset of rows exactly,
* boundedness comes from enumerating the candidate extreme rays of the
  recession cone ``{y : A y <= 0}``,
* facets and ridges come from comparing vertex sets,
* volumes and centroids come from a pulling triangulation measured with exact
  determinants.

All arithmetic runs in an exact field given by ``number``
(:class:`fractions.Fraction` by default; :class:`gmpy2.mpq`, which the
exact mode uses, and :class:`flint.fmpq` also work) and
only uses ``+ - * /``, comparisons and :func:`_to_number`; floats appear only
when the results are written out.
"""

from __future__ import annotations

import fractions
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "OK",
    "INFEASIBLE",
    "UNBOUNDED",
    "NO_INTERIOR",
    "RANK_DEFICIENT",
    "polytope_batch",
]

OK = 0
INFEASIBLE = 1
UNBOUNDED = 2
NO_INTERIOR = 3
RANK_DEFICIENT = 4


# ---------------------------------------------------------------------------
# Exact scalar helpers
# ---------------------------------------------------------------------------


def _to_number(x, number):
    """Return ``x`` (a finite float or an int) exactly as an element of ``number``.

    Every finite double is a dyadic rational, so going through
    :class:`fractions.Fraction` loses nothing; the field type is then built
    from numerator and denominator, which both ``Fraction`` and ``fmpq`` accept.
    """
    if isinstance(x, (int, np.integer)):
        ratio = fractions.Fraction(int(x))
    else:
        ratio = fractions.Fraction(float(x))
    return number(ratio.numerator, ratio.denominator)


def _dot(u, v, zero):
    """Return the exact inner product of two equal-length sequences."""
    total = zero
    for x, y in zip(u, v):
        total = total + x * y
    return total


def _is_zero_vector(u, zero):
    """Return True when every entry of ``u`` is exactly zero."""
    return all(x == zero for x in u)


# ---------------------------------------------------------------------------
# Exact linear algebra (plain Gauss-Jordan elimination)
# ---------------------------------------------------------------------------


def _reduced_row_echelon(rows, n_pivot_columns, zero):
    """Return the reduced row echelon form and its pivot columns.

    Parameters
    ----------
    rows : sequence of sequences
        Exact matrix; rows may be longer than ``n_pivot_columns`` (an augmented
        right-hand side is eliminated along but never used as a pivot).
    n_pivot_columns : int
        Only the first ``n_pivot_columns`` columns are searched for pivots.
    zero : number
        The zero of the field.

    Returns
    -------
    reduced : list of list
        The non-zero rows of the reduced matrix, pivots normalised to one.
    pivots : list of int
        Pivot column of each row of ``reduced``.
    """
    mat = [list(r) for r in rows]
    pivots = []
    top = 0
    for col in range(n_pivot_columns):
        if top == len(mat):
            break
        pivot_row = next((i for i in range(top, len(mat)) if mat[i][col] != zero), None)
        if pivot_row is None:
            continue
        mat[top], mat[pivot_row] = mat[pivot_row], mat[top]
        scale = mat[top][col]
        mat[top] = [x / scale for x in mat[top]]
        for i in range(len(mat)):
            factor = mat[i][col]
            if i != top and factor != zero:
                mat[i] = [x - factor * y for x, y in zip(mat[i], mat[top])]
        pivots.append(col)
        top += 1
    return mat[:top], pivots


def _rank(rows, n_columns, zero):
    """Return the exact rank of a matrix given by its rows."""
    return len(_reduced_row_echelon(rows, n_columns, zero)[1])


def _solution_of_square_system(rows, rhs, zero):
    """Return the unique solution of ``rows x = rhs``, or None if singular."""
    d = len(rows)
    augmented = [list(r) + [c] for r, c in zip(rows, rhs)]
    reduced, pivots = _reduced_row_echelon(augmented, d, zero)
    if len(pivots) < d:
        return None
    return tuple(row[d] for row in reduced)


def _nullspace_generator(rows, n_columns, zero, one):
    """Return a vector spanning the nullspace of ``rows`` if it is a line, else None."""
    reduced, pivots = _reduced_row_echelon(rows, n_columns, zero)
    free = [c for c in range(n_columns) if c not in pivots]
    if len(free) != 1:
        return None
    (free_col,) = free
    vector = [zero] * n_columns
    vector[free_col] = one
    for row, col in zip(reduced, pivots):
        vector[col] = zero - row[free_col]
    return tuple(vector)


def _determinant(rows, zero, one):
    """Return the exact determinant of a square matrix (one for a 0x0 matrix)."""
    mat = [list(r) for r in rows]
    n = len(mat)
    det = one
    for col in range(n):
        pivot_row = next((i for i in range(col, n) if mat[i][col] != zero), None)
        if pivot_row is None:
            return zero
        if pivot_row != col:
            mat[col], mat[pivot_row] = mat[pivot_row], mat[col]
            det = zero - det
        pivot = mat[col][col]
        det = det * pivot
        for i in range(col + 1, n):
            factor = mat[i][col] / pivot
            if factor != zero:
                mat[i] = [x - factor * y for x, y in zip(mat[i], mat[col])]
    return det


# ---------------------------------------------------------------------------
# Combinatorics of one polytope
# ---------------------------------------------------------------------------


def _distinct_hyperplane_rows(rows, rhs, candidates, zero):
    """Return the first row index of each distinct hyperplane ``a.x = b``.

    Rows that are non-zero multiples of each other (including ``x <= 1`` and
    ``-x <= -1``) bound the same hyperplane; solving with more than one of them
    only repeats work, so vertex and ray enumeration skip the copies.
    """
    seen = set()
    kept = []
    for j in candidates:
        lead = next(x for x in rows[j] if x != zero)
        key = tuple(x / lead for x in rows[j]) + (rhs[j] / lead,)
        if key not in seen:
            seen.add(key)
            kept.append(j)
    return kept


def _satisfies_rows(point, rows, rhs, row_ids, zero):
    """Return True when ``point`` satisfies every listed row exactly."""
    return all(_dot(rows[j], point, zero) <= rhs[j] for j in row_ids)


def _sorted_feasible_vertices(rows, rhs, nonzero_rows, d, zero):
    """Return the exact vertices of ``{A x <= b}``, sorted lexicographically.

    Brute force: each non-singular ``d``-subset of rows defines a candidate
    point, which is a vertex exactly when it satisfies every row.
    """
    hyperplanes = _distinct_hyperplane_rows(rows, rhs, nonzero_rows, zero)
    seen = set()
    vertices = []
    for subset in itertools.combinations(hyperplanes, d):
        point = _solution_of_square_system(
            [rows[j] for j in subset], [rhs[j] for j in subset], zero
        )
        if point is None or point in seen:
            continue
        seen.add(point)
        if _satisfies_rows(point, rows, rhs, nonzero_rows, zero):
            vertices.append(point)
    return sorted(vertices)


def _has_recession_ray(rows, nonzero_rows, d, zero, one):
    """Return True when the recession cone ``{y : A y <= 0}`` is not ``{0}``.

    Only called when ``rank A = d``, so the cone is pointed and, if non-trivial,
    has an extreme ray: a line cut out by ``d - 1`` independent rows along
    which ``+y`` or ``-y`` satisfies every row.
    """
    # Right-hand sides play no part in the cone, so rows are deduplicated as
    # hyperplanes through the origin.
    hyperplanes = _distinct_hyperplane_rows(rows, [zero] * len(rows), nonzero_rows, zero)
    directions = set()
    for subset in itertools.combinations(hyperplanes, d - 1):
        line = _nullspace_generator([rows[j] for j in subset], d, zero, one)
        if line is None or line in directions:
            continue
        directions.add(line)
        slopes = [_dot(rows[j], line, zero) for j in nonzero_rows]
        if all(s <= zero for s in slopes) or all(s >= zero for s in slopes):
            return True
    return False


def _incident_vertex_sets(rows, rhs, row_ids, vertices, zero):
    """Return ``{row: frozenset of vertex positions with a_j . v == b_j}``."""
    return {
        j: frozenset(i for i, v in enumerate(vertices) if _dot(rows[j], v, zero) == rhs[j])
        for j in row_ids
    }


def _facet_rows(row_sets, n_vertices):
    """Return the rows that define facets, in increasing row order.

    A row is a facet when its vertex set is a non-empty proper subset of the
    vertices that no other row's vertex set strictly contains; among rows with
    the same vertex set, only the lowest row counts.
    """
    candidates = [j for j in sorted(row_sets) if 0 < len(row_sets[j]) < n_vertices]
    facets = []
    for j in candidates:
        mine = row_sets[j]
        dominated = any(mine < row_sets[k] for k in candidates)
        duplicate = any(row_sets[k] == mine for k in candidates if k < j)
        if not dominated and not duplicate:
            facets.append(j)
    return facets


def _ridge_pairs(facet_sets, d):
    """Return the sorted facet-position pairs ``(a, b)`` sharing a ridge.

    ``F_a & F_b`` is a ridge exactly when it is non-empty and inclusion-maximal
    among the intersections of ``F_a`` with the other facets.
    """
    if d < 2:
        return []
    pairs = []
    n = len(facet_sets)
    for a in range(n):
        cuts = [facet_sets[a] & facet_sets[c] for c in range(n)]
        for b in range(a + 1, n):
            common = cuts[b]
            if common and not any(common < cuts[c] for c in range(n) if c != a):
                pairs.append((a, b))
    return pairs


# ---------------------------------------------------------------------------
# Geometry: pulling triangulation measured with exact determinants
# ---------------------------------------------------------------------------


def _maximal_proper_subfaces(face, facet_sets):
    """Return the facets of ``face`` as vertex sets, in a deterministic order.

    They are the inclusion-maximal non-empty proper intersections of ``face``
    with the polytope's facets.
    """
    cuts = {face & f for f in facet_sets}
    cuts = [c for c in cuts if c and c != face]
    maximal = [c for c in cuts if not any(c < other for other in cuts)]
    return sorted(maximal, key=sorted)


def _pulling_triangulation(face, dim, facet_sets, cache):
    """Return simplices (tuples of vertex positions) triangulating ``face``.

    The face is coned from its first vertex over the triangulations of its
    sub-faces that miss that vertex. The apex depends only on the face, so
    results are cached per vertex set and reused between faces.
    """
    if face in cache:
        return cache[face]
    if len(face) == dim + 1:
        simplices = [tuple(sorted(face))]
    else:
        apex = min(face)
        simplices = [
            (apex,) + simplex
            for sub in _maximal_proper_subfaces(face, facet_sets)
            if apex not in sub
            for simplex in _pulling_triangulation(sub, dim - 1, facet_sets, cache)
        ]
    cache[face] = simplices
    return simplices


@dataclass
class _FaceMeasure:
    """Exact measure of a ``dim``-face embedded in ``R^d``.

    The face's ``dim``-volume is ``projected * sqrt(gram_ratio)``: every
    simplex lies in the same ``dim``-flat, so its Gram-determinant volume is
    the same constant multiple of its volume projected onto a fixed set of
    coordinates. Summing the exact projected volumes keeps the total exact and
    leaves a single square root, taken when converting to float.
    """

    projected: object
    gram_ratio: object
    centroid: tuple

    def squared_volume(self):
        """Return the exact square of the face's ``dim``-volume."""
        return self.gram_ratio * self.projected * self.projected

    def float_volume(self):
        """Return the ``dim``-volume as a float with one final square root."""
        return math.sqrt(float(self.squared_volume()))


def _face_measure(face, dim, points, facet_sets, cache, number):
    """Return the :class:`_FaceMeasure` (volume and centroid) of a face."""
    zero = _to_number(0, number)
    one = _to_number(1, number)
    simplices = _pulling_triangulation(face, dim, facet_sets, cache)
    d = len(points[0])

    first = simplices[0]
    edges = [[x - y for x, y in zip(points[p], points[first[0]])] for p in first[1:]]
    # Coordinates on which the face's flat projects bijectively: the pivot
    # columns of any simplex's edge matrix.
    columns = _reduced_row_echelon(edges, d, zero)[1]
    gram = [[_dot(u, v, zero) for v in edges] for u in edges]
    first_minor = _determinant([[e[c] for c in columns] for e in edges], zero, one)
    gram_ratio = _determinant(gram, zero, one) / (first_minor * first_minor)

    total = zero
    moment = [zero] * d
    for simplex in simplices:
        base = points[simplex[0]]
        minor = _determinant(
            [[points[p][c] - base[c] for c in columns] for p in simplex[1:]], zero, one
        )
        if minor == zero:
            raise RuntimeError("pulling triangulation produced a degenerate simplex")
        weight = minor if minor > zero else zero - minor
        total = total + weight
        for k in range(d):
            vertex_sum = zero
            for p in simplex:
                vertex_sum = vertex_sum + points[p][k]
            moment[k] = moment[k] + weight * vertex_sum
    vertex_count = _to_number(dim + 1, number)
    centroid = tuple(m / (total * vertex_count) for m in moment)
    projected = total / _to_number(math.factorial(dim), number)
    return _FaceMeasure(projected, gram_ratio, centroid)


def _unit_normal(row, zero):
    """Return ``a / |a|`` as floats, each entry rounded from an exact square."""
    norm_squared = _dot(row, row, zero)
    return [
        math.copysign(math.sqrt(float(x * x / norm_squared)), float(x)) for x in row
    ]


def _dihedral_angle(row_a, row_b, zero):
    """Return the interior dihedral angle between two facets with outward normals.

    The angle between the normals is ``atan2(|a x b|, a . b)`` with
    ``|a x b|^2 = |a|^2 |b|^2 - (a . b)^2`` formed exactly, so nearly parallel
    facets keep their tiny angle (an arccos of the rounded cosine would not).
    """
    dot = _dot(row_a, row_b, zero)
    cross_squared = _dot(row_a, row_a, zero) * _dot(row_b, row_b, zero) - dot * dot
    between = math.atan2(math.sqrt(float(cross_squared)), float(dot))
    return math.pi - between


# ---------------------------------------------------------------------------
# One polytope
# ---------------------------------------------------------------------------


@dataclass
class _PolytopeResult:
    """Everything the batch output needs from one polytope."""

    status: int
    vertices: list = field(default_factory=list)
    facets: list = field(default_factory=list)
    incidence: list = field(default_factory=list)
    ridges: list = field(default_factory=list)
    volume: object = None
    centroid: tuple = ()
    facet_areas: list = field(default_factory=list)
    facet_normals: list = field(default_factory=list)
    facet_centroids: list = field(default_factory=list)
    ridge_volumes: list = field(default_factory=list)
    dihedral_angles: list = field(default_factory=list)


def _analyse_polytope(rows, rhs, d, number):
    """Return the :class:`_PolytopeResult` of ``{x : rows x <= rhs}``."""
    zero = _to_number(0, number)
    one = _to_number(1, number)
    m = len(rows)

    # Rank first: a rank-deficient system is reported even when it is empty.
    if m == 0 or _rank(rows, d, zero) < d:
        return _PolytopeResult(RANK_DEFICIENT)
    nonzero = [j for j in range(m) if not _is_zero_vector(rows[j], zero)]
    # A zero row 0.x <= b is vacuous when b >= 0 and unsatisfiable otherwise.
    if any(rhs[j] < zero for j in range(m) if _is_zero_vector(rows[j], zero)):
        return _PolytopeResult(INFEASIBLE)

    # With rank d the set is pointed, so it is non-empty iff it has a vertex.
    vertices = _sorted_feasible_vertices(rows, rhs, nonzero, d, zero)
    if not vertices:
        return _PolytopeResult(INFEASIBLE)
    if _has_recession_ray(rows, nonzero, d, zero, one):
        return _PolytopeResult(UNBOUNDED)

    # A bounded non-empty set is full-dimensional iff no row is an implicit
    # equality, i.e. no row is tight at every vertex.
    row_sets = _incident_vertex_sets(rows, rhs, nonzero, vertices, zero)
    if any(len(s) == len(vertices) for s in row_sets.values()):
        return _PolytopeResult(NO_INTERIOR)

    facets = _facet_rows(row_sets, len(vertices))
    facet_sets = [row_sets[j] for j in facets]
    incidence = [
        [pos for pos, s in enumerate(facet_sets) if i in s] for i in range(len(vertices))
    ]
    ridges = _ridge_pairs(facet_sets, d)

    cache = {}
    body = _face_measure(frozenset(range(len(vertices))), d, vertices, facet_sets, cache, number)
    facet_measures = [
        _face_measure(s, d - 1, vertices, facet_sets, cache, number) for s in facet_sets
    ]
    ridge_measures = [
        _face_measure(facet_sets[a] & facet_sets[b], d - 2, vertices, facet_sets, cache, number)
        for a, b in ridges
    ]

    return _PolytopeResult(
        status=OK,
        vertices=vertices,
        facets=facets,
        incidence=incidence,
        ridges=ridges,
        # For dim == d the projection is the identity, so ``projected`` is
        # already the exact d-volume.
        volume=body.projected,
        centroid=body.centroid,
        facet_areas=[fm.float_volume() for fm in facet_measures],
        facet_normals=[_unit_normal(rows[j], zero) for j in facets],
        facet_centroids=[fm.centroid for fm in facet_measures],
        ridge_volumes=[rm.float_volume() for rm in ridge_measures],
        dihedral_angles=[
            _dihedral_angle(rows[facets[a]], rows[facets[b]], zero) for a, b in ridges
        ],
    )


# ---------------------------------------------------------------------------
# Batch driver
# ---------------------------------------------------------------------------


def _validated_inputs(A, b, offsets):
    """Return ``A, b, offsets`` as checked float64/int64 arrays."""
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    offsets = np.asarray(offsets)
    if A.ndim != 2 or A.shape[1] < 1:
        raise ValueError(f"A must have shape (M, d) with d >= 1, got {A.shape}")
    if b.shape != (A.shape[0],):
        raise ValueError(f"b must have shape ({A.shape[0]},), got {b.shape}")
    if offsets.ndim != 1 or offsets.size < 1 or not np.issubdtype(offsets.dtype, np.integer):
        raise ValueError("offsets must be a non-empty 1-d integer array")
    offsets = offsets.astype(np.int64)
    if np.any(np.diff(offsets) < 0) or offsets[0] < 0 or offsets[-1] > A.shape[0]:
        raise ValueError("offsets must be non-decreasing and lie within [0, M]")
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
        raise ValueError("A and b must be finite")
    return A, b, offsets


def _float_rows(values, width):
    """Return a list of exact or float rows as a float64 array of shape (n, width)."""
    array = np.array([[float(x) for x in row] for row in values], dtype=np.float64)
    return array.reshape(len(values), width)


def _offsets_from_counts(counts):
    """Return the CSR offsets (n+1,) int64 of a list of counts."""
    return np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(np.int64)


def polytope_batch(A, b, offsets, *, number=fractions.Fraction):
    """Compute the exact combinatorics and geometry of a batch of H-polytopes.

    Polytope ``i`` is ``{x : A[r] @ x <= b[r] for r in offsets[i]:offsets[i+1]}``.
    Reference (test-oracle) implementation: brute-force vertex enumeration
    over all ``d``-subsets of rows in exact arithmetic, vertex-set comparisons
    for facets and ridges, and an exact pulling triangulation for volumes.

    Parameters
    ----------
    A : array_like of float64, shape (M, d)
        Stacked constraint normals, ``d >= 1``.
    b : array_like of float64, shape (M,)
        Stacked right-hand sides.
    offsets : array_like of int64, shape (n + 1,)
        Row ranges of the polytopes.
    number : type, optional
        Exact field type, :class:`fractions.Fraction` (default) or
        :class:`flint.fmpq`; it must be constructible as ``number(p, q)`` from
        Python ints and support ``+ - * /`` and comparisons.

    Returns
    -------
    dict
        Numpy arrays stacked over the polytopes (float64 values, int64
        indices): ``status`` (n,); ``vertices`` (V, d) and ``vertex_offsets``;
        ``facet_index`` (F,) rows of the stacked ``A`` and ``facet_offsets``;
        ``incidence_indptr`` (V+1,) and ``incidence_indices``, a CSR map from
        each vertex to the sorted local positions of its facets; ``volume``
        (n,) and ``centroid`` (n, d); ``facet_areas`` (F,),
        ``facet_normals`` (F, d) and ``facet_centroids`` (F, d); ``ridges``
        (R, 2) local facet positions, ``ridge_offsets``, ``ridge_volumes``
        (R,) and ``dihedral_angles`` (R,). Also two Python lists of length n:
        ``exact_volume`` (a ``number``, or None when the status is not OK) and
        ``exact_vertices`` (lists of tuples of ``number``, in output order).

        Status codes: 0 OK, 1 INFEASIBLE, 2 UNBOUNDED (non-empty, unbounded),
        3 NO_INTERIOR (non-empty, bounded, lower-dimensional), 4 RANK_DEFICIENT
        (rank of ``A`` below ``d``; reported even when the set is empty). A
        polytope that is not OK contributes no rows to the stacked arrays and
        has ``nan`` volume and centroid.

    Raises
    ------
    ValueError
        If the shapes or offsets are inconsistent or ``A``/``b`` are not finite.

    Notes
    -----
    Canonical order: facets by increasing input row (among rows with the same
    vertex set only the lowest is a facet); vertices lexicographically by exact
    coordinates; ridges as sorted pairs ``(a, b)``, ``a < b``. For ``d == 1``
    facets are points (area 1, centroid the endpoint) and there are no ridges;
    for ``d == 2`` ridges are points of volume 1. The dihedral angle at a ridge
    is ``pi - arccos(n_a . n_b)``. The cost grows like ``C(M_i, d)``, so keep
    the inputs small.
    """
    A, b, offsets = _validated_inputs(A, b, offsets)
    d = A.shape[1]
    n = offsets.size - 1

    results = []
    for i in range(n):
        lo, hi = int(offsets[i]), int(offsets[i + 1])
        rows = [tuple(_to_number(x, number) for x in A[r]) for r in range(lo, hi)]
        rhs = [_to_number(x, number) for x in b[lo:hi]]
        results.append(_analyse_polytope(rows, rhs, d, number))

    nan_row = [math.nan] * d
    incidence = [facets for r in results for facets in r.incidence]
    return {
        "status": np.array([r.status for r in results], dtype=np.int64),
        "vertices": _float_rows([v for r in results for v in r.vertices], d),
        "vertex_offsets": _offsets_from_counts([len(r.vertices) for r in results]),
        "facet_index": np.array(
            [int(offsets[i]) + j for i, r in enumerate(results) for j in r.facets],
            dtype=np.int64,
        ),
        "facet_offsets": _offsets_from_counts([len(r.facets) for r in results]),
        "incidence_indptr": _offsets_from_counts([len(f) for f in incidence]),
        "incidence_indices": np.array([p for f in incidence for p in f], dtype=np.int64),
        "volume": np.array(
            [float(r.volume) if r.status == OK else math.nan for r in results],
            dtype=np.float64,
        ),
        "centroid": _float_rows(
            [r.centroid if r.status == OK else nan_row for r in results], d
        ),
        "facet_areas": np.array(
            [a for r in results for a in r.facet_areas], dtype=np.float64
        ),
        "facet_normals": _float_rows([u for r in results for u in r.facet_normals], d),
        "facet_centroids": _float_rows([c for r in results for c in r.facet_centroids], d),
        "ridges": np.array(
            [pair for r in results for pair in r.ridges], dtype=np.int64
        ).reshape(-1, 2),
        "ridge_offsets": _offsets_from_counts([len(r.ridges) for r in results]),
        "ridge_volumes": np.array(
            [v for r in results for v in r.ridge_volumes], dtype=np.float64
        ),
        "dihedral_angles": np.array(
            [t for r in results for t in r.dihedral_angles], dtype=np.float64
        ),
        "exact_volume": [r.volume if r.status == OK else None for r in results],
        "exact_vertices": [list(r.vertices) for r in results],
    }
