"""Exact reference for the H-polytope kernel (and its exact fallback).

This module is a test oracle. It is slow on purpose and deliberately uses
algorithms unrelated to the compiled kernel (which uses double description and
face-lattice recursion):

* vertices come from solving every ``d``-subset of rows exactly,
* boundedness comes from enumerating the candidate extreme rays of the
  recession cone ``{y : A y <= 0}``,
* (above ``_BRUTE_FORCE_LIMIT`` subsets, or with ``vertex_search="dd"``, both
  come from an exact double description in integer arithmetic instead: the
  exact fallback of :mod:`geomcore.polytope` on larger inputs; the tests
  check it against brute force),
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

#: above this many d-subsets of distinct hyperplanes the vertex search switches from brute force
#: to exact double description (vertex_search="auto")
_BRUTE_FORCE_LIMIT = 5000


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


# ---------------------------------------------------------------------------
# Exact double description (the fallback's vertex search for larger inputs)
# ---------------------------------------------------------------------------


def _integer_row(values):
    """The row scaled by the lcm of its denominators: Python ints, same halfspace."""
    dens = [fractions.Fraction(int(x.numerator), int(x.denominator)) for x in values]
    scale = math.lcm(*[q.denominator for q in dens]) if dens else 1
    return [int(q * scale) for q in dens]


def _normalised(ray):
    """The integer ray divided by the gcd of its entries."""
    g = math.gcd(*ray)
    return tuple(x // g for x in ray) if g > 1 else tuple(ray)


def _dd_rays(H, D):
    """Extreme rays of the pointed cone ``{y : H y <= 0}`` (integer rows of length D, rank D).

    Double description in exact integer arithmetic: start from the simplicial cone of D
    independent rows, add the other rows one by one, and join each violating ray to each
    satisfying ray it is adjacent to (their common zero set lies in no third ray's zero set).
    Returns a list of (ray, zero-set bitmask over H's rows).
    """
    # D independent rows, by exact elimination
    basis, echelon = [], []
    for j, row in enumerate(H):
        v = [fractions.Fraction(x) for x in row]
        for piv, e in echelon:
            if v[piv]:
                f = v[piv] / e[piv]
                v = [x - f * y for x, y in zip(v, e)]
        piv = next((c for c in range(D) if v[c]), None)
        if piv is not None:
            echelon.append((piv, v))
            basis.append(j)
            if len(basis) == D:
                break
    if len(basis) < D:
        raise ValueError("the cone is not pointed")
    # rays of {y : H_B y <= 0}: y_k = -H_B^{-1} e_k, scaled to integers
    M = [[fractions.Fraction(x) for x in H[j]] + [fractions.Fraction(int(i == k)) for k in range(D)]
         for i, j in enumerate(basis)]
    reduced, _ = _reduced_row_echelon(M, D, fractions.Fraction(0))
    inverse = [row[D:] for row in reduced]              # rows of H_B^{-1}
    rays = []
    for k in range(D):
        col = [-inverse[i][k] for i in range(D)]
        den = math.lcm(*[x.denominator for x in col])
        ray = _normalised([int(x * den) for x in col])
        zero = 0
        for i, j in enumerate(basis):
            if i != k:
                zero |= 1 << j
        rays.append((ray, zero))
    used = set(basis)
    for j in range(len(H)):
        if j in used:
            continue
        h = H[j]
        values = [sum(a * y for a, y in zip(h, ray)) for ray, _ in rays]
        pos = [i for i, s in enumerate(values) if s > 0]
        if not pos:
            rays = [(ray, z | (1 << j)) if s == 0 else (ray, z)
                    for (ray, z), s in zip(rays, values)]
            continue
        neg = [i for i, s in enumerate(values) if s < 0]
        new = []
        for p in pos:
            zp = rays[p][1]
            for q in neg:
                common = zp & rays[q][1]
                if common.bit_count() < D - 2:
                    continue
                if any(o != p and o != q and common & rays[o][1] == common
                       for o in range(len(rays))):
                    continue
                sp, sq = values[p], values[q]
                ray = _normalised([sp * b - sq * a for a, b in zip(rays[p][0], rays[q][0])])
                new.append((ray, common | (1 << j)))
        rays = [(ray, z | (1 << j)) if s == 0 else (ray, z)
                for (ray, z), s in zip(rays, values) if s <= 0] + new
    return rays


def _dd_vertices(rows, rhs, nonzero_rows, d, zero):
    """Return (sorted exact vertices, has a recession direction) of ``{A x <= b}`` with
    rank A = d, by exact double description on the homogenised cone
    ``{(x, t) : a . x - b t <= 0, t >= 0}``: rays with t > 0 are the vertices, t = 0 the
    recession directions."""
    H = [_integer_row(list(rows[j]) + [zero - rhs[j]]) for j in nonzero_rows]
    H.append([0] * d + [-1])
    rays = _dd_rays(H, d + 1)
    number = type(zero)
    vertices = sorted({tuple(number(x, ray[d]) for x in ray[:d]) for ray, _ in rays if ray[d] > 0})
    return vertices, any(ray[d] == 0 for ray, _ in rays)


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


def _analyse_polytope(rows, rhs, d, number, vertex_search="auto", exact_measure_limit=None):
    """Return the :class:`_PolytopeResult` of ``{x : rows x <= rhs}``."""
    zero = _to_number(0, number)
    one = _to_number(1, number)
    m = len(rows)

    nonzero = [j for j in range(m) if not _is_zero_vector(rows[j], zero)]
    # A zero row 0.x <= b is vacuous when b >= 0 and unsatisfiable otherwise.
    if any(rhs[j] < zero for j in range(m) if _is_zero_vector(rows[j], zero)):
        return _PolytopeResult(INFEASIBLE)
    if m == 0 or _rank(rows, d, zero) < d:
        # Rank below d: unbounded unless empty. Emptiness is decided exactly: fixing the
        # coordinates that complete the rows' rank to d (x_j = 0) keeps a point of every
        # non-empty set (move it along the nullspace of A), and makes the set pointed.
        extra_rows, extra_rhs, basis = [], [], [rows[j] for j in nonzero]
        rank = _rank(basis, d, zero)
        for c in range(d):
            unit = tuple(one if i == c else zero for i in range(d))
            if rank < d and _rank(basis + [unit], d, zero) > rank:
                basis.append(unit)
                rank += 1
                minus = tuple(zero - x for x in unit)
                extra_rows += [unit, minus]
                extra_rhs += [zero, zero]
        full_rows = [rows[j] for j in nonzero] + extra_rows
        full_rhs = [rhs[j] for j in nonzero] + extra_rhs
        vertices, _ = _dd_vertices(full_rows, full_rhs, range(len(full_rows)), d, zero)
        return _PolytopeResult(RANK_DEFICIENT if vertices else INFEASIBLE)

    # With rank d the set is pointed, so it is non-empty iff it has a vertex. Brute force over
    # the d-subsets of rows for small inputs (the test oracle), else exact double description.
    n_planes = len(_distinct_hyperplane_rows(rows, rhs, nonzero, zero))
    if vertex_search == "brute" or (vertex_search == "auto"
                                    and math.comb(n_planes, d) <= _BRUTE_FORCE_LIMIT):
        vertices = _sorted_feasible_vertices(rows, rhs, nonzero, d, zero)
        if not vertices:
            return _PolytopeResult(INFEASIBLE)
        if _has_recession_ray(rows, nonzero, d, zero, one):
            return _PolytopeResult(UNBOUNDED)
    else:
        vertices, unbounded = _dd_vertices(rows, rhs, nonzero, d, zero)
        if not vertices:
            return _PolytopeResult(INFEASIBLE)
        if unbounded:
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

    if exact_measure_limit is not None and len(vertices) > exact_measure_limit:
        # combinatorics only: the caller measures in floating point (volume None, NaNs)
        nan = math.nan
        return _PolytopeResult(
            status=OK, vertices=vertices, facets=facets, incidence=incidence, ridges=ridges,
            volume=None, centroid=(nan,) * d, facet_areas=[nan] * len(facets),
            facet_normals=[_unit_normal(rows[j], zero) for j in facets],
            facet_centroids=[(nan,) * d] * len(facets), ridge_volumes=[nan] * len(ridges),
            dihedral_angles=[_dihedral_angle(rows[facets[a]], rows[facets[b]], zero)
                             for a, b in ridges])
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


def polytope_batch(A, b, offsets, *, number=fractions.Fraction, vertex_search="auto",
                   exact_measure_limit=None):
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
    vertex_search : {"auto", "brute", "dd"}, optional
        How the vertices are found: "brute" solves every d-subset of rows,
        "dd" runs an exact double description in integer arithmetic, "auto"
        (default) takes brute force up to ``_BRUTE_FORCE_LIMIT`` subsets.
    exact_measure_limit : int, optional
        Measure exactly only polytopes with at most this many vertices; larger
        ones get the combinatorics, exact vertices and dihedral angles, NaN
        measures and ``exact_volume`` None. Default None (always measure).

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
        (rank of ``A`` below ``d`` and non-empty, so unbounded; an empty set is
        INFEASIBLE whatever the rank). A
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
    is ``pi - arccos(n_a . n_b)``. Brute force costs ``C(M_i, d)`` solves and the
    exact double description grows with the vertex count; both are slow, for
    small inputs and as the kernel's exact fallback.
    """
    A, b, offsets = _validated_inputs(A, b, offsets)
    d = A.shape[1]
    n = offsets.size - 1

    results = []
    for i in range(n):
        lo, hi = int(offsets[i]), int(offsets[i + 1])
        rows = [tuple(_to_number(x, number) for x in A[r]) for r in range(lo, hi)]
        rhs = [_to_number(x, number) for x in b[lo:hi]]
        results.append(_analyse_polytope(rows, rhs, d, number, vertex_search,
                                         exact_measure_limit))

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
            [float(r.volume) if r.status == OK and r.volume is not None else math.nan
             for r in results],
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
