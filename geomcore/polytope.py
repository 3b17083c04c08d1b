"""Bounded H-polytopes ``{x : A x <= b}``: exact combinatorics, floating-point geometry.

:class:`Polytope` is one polytope; :func:`polytopes` computes many in one kernel call and returns a
:class:`PolytopeBatch` whose fields are the per-polytope arrays stacked with CSR offsets.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse

from geomcore._kernels import _polytope
from geomcore._reference import polytope as _reference_polytope
from geomcore._validation import as_float_matrix, as_halfspaces, as_offsets, scaled_rows
from geomcore.errors import (
    DegenerateInputError,
    InfeasibleError,
    InvalidInputError,
    PrecisionError,
    UnboundedError,
)

__all__ = ["Polytope", "PolytopeBatch", "polytopes"]

# status codes shared by the kernel (_polytope.pxd) and the reference
OK, INFEASIBLE, UNBOUNDED, NO_INTERIOR, RANK_DEFICIENT, PRECISION, MEMORY, NUMERICAL = range(8)

#: "kernel" (the Cython kernel) or "reference" (the exact Python reference, same function name
#: and outputs); tests switch it to run every behavioural test on both
_implementation = "kernel"


def _exact_number():
    # gmpy2's mpq is the fastest exact rational for the scalar arithmetic of the exact path
    # (measured 1.5-2x python-flint's fmpq and 4-5x fractions.Fraction; see README).
    import gmpy2

    return gmpy2.mpq


_MEASURES = ("volume", "centroid", "facet_areas", "facet_centroids", "ridge_volumes")


def _n_workers(workers):
    if workers is None:
        return 1
    if isinstance(workers, (bool, np.bool_)) or not isinstance(workers, (int, np.integer)) \
            or workers == 0 or workers < -1:
        raise InvalidInputError(f"workers must be a positive int or -1 (all CPUs); got {workers!r}")
    if workers == -1:
        return os.cpu_count() or 1
    return int(workers)


def _stack_batches(parts, row_starts):
    """One raw batch from raw batches of consecutive polytopes (row_starts: first input row
    of each part), shifting the offsets and the stacked row indices."""
    out = {}
    for key in ("status", "n_exact_calls", "volume", "centroid", "vertices", "incidence_indices",
                "facet_areas", "facet_normals", "facet_centroids", "ridges", "ridge_volumes",
                "dihedral_angles", "exact_fallback", "volume_error"):
        if all(key in p for p in parts):
            out[key] = np.concatenate([p[key] for p in parts])
    out["facet_index"] = np.concatenate([p["facet_index"] + r0 for p, r0 in zip(parts, row_starts)])
    for key in ("vertex_offsets", "facet_offsets", "ridge_offsets", "incidence_indptr"):
        pieces, base = [np.zeros(1, np.int64)], 0
        for p in parts:
            pieces.append(p[key][1:] + base)
            base += p[key][-1]
        out[key] = np.concatenate(pieces)
    return out


def _slice_batch(raw, i0, i1, row0):
    """Polytopes i0:i1 of a raw batch as a raw batch of their own (rows from row0)."""
    v0, v1 = raw["vertex_offsets"][i0], raw["vertex_offsets"][i1]
    f0, f1 = raw["facet_offsets"][i0], raw["facet_offsets"][i1]
    r0, r1 = raw["ridge_offsets"][i0], raw["ridge_offsets"][i1]
    p0, p1 = raw["incidence_indptr"][v0], raw["incidence_indptr"][v1]
    out = {key: raw[key][i0:i1] for key in ("status", "n_exact_calls", "volume", "centroid",
                                              "exact_fallback", "volume_error") if key in raw}
    out.update(vertices=raw["vertices"][v0:v1], incidence_indices=raw["incidence_indices"][p0:p1],
               facet_index=raw["facet_index"][f0:f1] - row0)
    for key in ("facet_areas", "facet_normals", "facet_centroids"):
        out[key] = raw[key][f0:f1]
    for key in ("ridges", "ridge_volumes", "dihedral_angles"):
        out[key] = raw[key][r0:r1]
    for key, lo in (("vertex_offsets", v0), ("facet_offsets", f0), ("ridge_offsets", r0)):
        out[key] = raw[key][i0:i1 + 1] - lo
    out["incidence_indptr"] = raw["incidence_indptr"][v0:v1 + 1] - p0
    return out


#: The measures' contract: the kernel bounds the volume's error (volume_error, a first-order
#: running bound through the face lattice: vertex errors, the rounding of each height, of each
#: projected normal, relative eps / sin(angle) between nearly parallel facets, and of the sums).
#: A polytope whose bound exceeds this relative accuracy is measured in exact arithmetic when it
#: has at most _EXACT_MEASURE_VERTICES vertices; a larger one keeps its floating-point measures
#: and its volume_error says how far off they may be.
_MEASURE_RTOL = 1e-8

#: the exact fallback measures exactly (pulling triangulation in rationals) polytopes with at
#: most this many vertices, larger ones in floating point from their exact combinatorics
_EXACT_MEASURE_VERTICES = 24

#: kernel statuses that are not facts about the input: recomputed in exact arithmetic
_UNDECIDED = (RANK_DEFICIENT, PRECISION, NUMERICAL)


def _exact_fallback(raw, As, bs, offsets, measures):
    """Recompute in exact arithmetic (the reference path with gmpy2 rationals) the polytopes
    whose kernel status is not a fact about the input (rank decided in floats, precision, a
    numerical breakdown) or whose measures miss the stated accuracy."""
    raw["exact_fallback"] = np.zeros(raw["status"].size, dtype=bool)
    # undecided statuses, and vertices the floats could not solve accurately (volume_error inf)
    redo = np.isin(raw["status"], _UNDECIDED) | (raw["volume_error"] == np.inf)
    if measures:
        # inaccurate measures: exact measures for small polytopes; for larger ones the exact
        # path could only give the same floating-point measures, so volume_error says so
        small = np.diff(raw["vertex_offsets"]) <= _EXACT_MEASURE_VERTICES
        with np.errstate(invalid="ignore"):
            inaccurate = ~(raw["volume_error"] <= _MEASURE_RTOL * raw["volume"])
        redo |= (raw["status"] == OK) & small & inaccurate
    redo = np.flatnonzero(redo)
    if redo.size == 0:
        return raw
    parts, starts, prev = [], [], 0
    for i in redo:
        if i > prev:
            parts.append(_slice_batch(raw, prev, i, offsets[prev]))
            starts.append(offsets[prev])
        r0, r1 = offsets[i], offsets[i + 1]
        fixed = _reference_polytope.polytope_batch(
            As[r0:r1], bs[r0:r1], np.array([0, r1 - r0]), number=_exact_number(),
            exact_measure_limit=_EXACT_MEASURE_VERTICES)
        if fixed["status"][0] == OK and fixed["exact_volume"][0] is None:
            # too many vertices for exact measures: exact combinatorics, correctly rounded
            # vertices, the kernel's measure stage
            fi = fixed["facet_index"]
            meas = _polytope.polytope_measures(
                fixed["vertices"], fixed["vertex_offsets"], fixed["incidence_indptr"],
                fixed["incidence_indices"], As[r0:r1][fi], bs[r0:r1][fi], fixed["facet_offsets"])
            for key in ("volume", "centroid", "facet_areas", "facet_centroids", "ridge_volumes",
                        "volume_error"):
                fixed[key] = meas[key]
        else:
            fixed["volume_error"] = np.zeros(1)
        fixed["n_exact_calls"] = raw["n_exact_calls"][i:i + 1]
        fixed["exact_fallback"] = np.ones(1, dtype=bool)
        parts.append(fixed)
        starts.append(r0)
        prev = i + 1
    if prev < raw["status"].size:
        parts.append(_slice_batch(raw, prev, raw["status"].size, offsets[prev]))
        starts.append(offsets[prev])
    return _stack_batches(parts, starts)


def _kernel_batch(A, b, offsets, measures, workers):
    """The kernel on the whole batch, split over `workers` threads (it runs without the GIL)."""
    n = offsets.size - 1
    if workers <= 1 or n < 64 * workers:
        return _polytope.polytope_batch(A, b, offsets, measures=measures)
    cuts = np.linspace(0, n, workers + 1).astype(np.int64)

    def run(k):
        p0, p1 = cuts[k], cuts[k + 1]
        r0, r1 = offsets[p0], offsets[p1]
        return _polytope.polytope_batch(A[r0:r1], b[r0:r1], offsets[p0:p1 + 1] - r0,
                                        measures=measures)

    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(run, range(workers)))
    return _stack_batches(parts, offsets[cuts[:-1]])


def _compute(A, b, offsets, exact, measures=True, workers=1):
    As, bs = scaled_rows(A, b)
    if exact:
        raw = _reference_polytope.polytope_batch(As, bs, offsets, number=_exact_number())
    elif _implementation == "kernel":
        raw = _kernel_batch(As, bs, offsets, measures, workers)
        raw = _exact_fallback(raw, As, bs, offsets, measures)
    else:
        raw = _reference_polytope.polytope_batch(As, bs, offsets)
    if not measures:
        for key in _MEASURES:
            raw[key] = np.full_like(raw[key], np.nan)
    return raw


def _status_error(status, which, ndim):
    """The exception for a non-OK status of polytope `which` (None for a single polytope)."""
    where = "" if which is None else f" (polytope {which}: rows offsets[{which}]:offsets[{which + 1}])"
    if status == INFEASIBLE:
        return InfeasibleError(f"A x <= b must have a common point; the halfspaces{where} are infeasible")
    if status == UNBOUNDED:
        return UnboundedError(f"A x <= b must be bounded; the halfspaces{where} leave a recession direction")
    if status == NO_INTERIOR:
        return DegenerateInputError(
            f"A x <= b must have a non-empty interior; the polytope{where} is flat (lower-dimensional)"
        )
    if status == RANK_DEFICIENT:
        return UnboundedError(
            f"A must have rank ndim={ndim} to bound a polytope; the rows{where} span fewer "
            "directions, so the set is unbounded (or empty)"
        )
    if status == PRECISION:
        return PrecisionError(
            f"an exact sign decision{where} needed more than the supported number of primes; the "
            "entries of a row span too many binary orders of magnitude (try exact=True)"
        )
    if status == NUMERICAL:
        return PrecisionError(
            f"floating point broke down while computing the polytope{where}: it is too small or "
            "thin relative to its distance from the origin (translate it closer, or use exact=True)"
        )
    if status == MEMORY:
        return MemoryError(f"out of memory while computing the polytope{where}")
    return RuntimeError(f"unknown polytope status {status}{where}")


def _frozen(a):
    a = np.asarray(a)
    a.flags.writeable = False
    return a


class Polytope:
    """A bounded H-polytope ``{x : A x <= b}`` with non-empty interior, and its geometry.

    Everything is computed when the polytope is built: the non-redundant facets, the vertices and
    their facet incidence (decided exactly), the volume, centroid, facet areas, normals and
    centroids, the ridges with their volumes and interior dihedral angles.

    Parameters
    ----------
    A : array_like of float, shape (m, ndim)
        Outward normals of the halfspaces. Rows need not be unit, distinct or non-redundant;
        zero rows ``0 . x <= b`` are allowed (ignored if ``b >= 0``).
    b : array_like of float, shape (m,)
        Offsets.
    exact : bool, optional
        Compute vertices and volume in exact rational arithmetic (gmpy2) with a brute-force
        vertex search: slow, for small cases (about ``C(m, ndim) <= 10**4``). Then
        ``exact_vertices`` and ``exact_volume`` hold the rationals. Default False, where the
        combinatorics are still exact and the measures are floating point.
    measures : bool, optional
        Default True. False computes the combinatorics only (vertices, facets, incidence,
        ridges, normals, dihedral angles) and leaves volume, centroids, facet areas and ridge
        volumes NaN: it skips the face lattice, which dominates for polytopes with thousands
        of vertices.

    Attributes
    ----------
    ndim : int
    A, b : ndarray, shapes (n_facets, ndim), (n_facets,)
        The facet-defining rows of the input, in input order.
    facet_index : ndarray of int64, shape (n_facets,)
        Input row of each facet. Of duplicated rows only the first is a facet.
    vertices : ndarray, shape (n_vertices, ndim)
        In lexicographic order.
    incidence : scipy.sparse.csr_array of int8, shape (n_vertices, n_facets)
        1 where the vertex lies on the facet (exact).
    volume : float
    centroid : ndarray, shape (ndim,)
    facet_areas : ndarray, shape (n_facets,)
        (ndim-1)-volumes; 1.0 in 1-D (a point).
    facet_normals : ndarray, shape (n_facets, ndim)
        Unit outward normals.
    facet_centroids : ndarray, shape (n_facets, ndim)
    ridges : ndarray of int64, shape (n_ridges, 2)
        Facet pairs (positions in the facet list) meeting in an (ndim-2)-face; rows sorted.
    ridge_volumes : ndarray, shape (n_ridges,)
        (ndim-2)-volumes; 1.0 in 2-D (a point).
    dihedral_angles : ndarray, shape (n_ridges,)
        Interior angle at each ridge, ``pi - arccos(n_a . n_b)``, in (0, pi).
    n_exact_calls : int
        How many sign decisions fell within the floating-point error bound and were settled
        exactly.
    volume_error : float
        A first-order bound on ``|volume - exact volume|`` (0 when measured exactly, NaN with
        ``measures=False``); see Notes.
    exact_fallback : bool
        Whether the polytope was recomputed in exact arithmetic (see Notes).

    Raises
    ------
    InvalidInputError
        A or b of the wrong shape or dtype.
    DegenerateInputError
        NaN or infinite entries, or a polytope without interior (lower-dimensional).
    InfeasibleError
        No point satisfies every row.
    UnboundedError
        The polytope is unbounded, or A has rank below ndim.

    Notes
    -----
    Vertices come from the double description method on the homogenised cone, adding the most
    violated row first so that redundant rows cost one dot product per vertex. A sign
    decision (is this vertex on, above or below this row?) within its floating-point error
    bound is settled exactly from the input doubles by a modular determinant, so facets,
    incidence and ridges are exact, also at non-simple vertices. Volumes and centroids use the
    cone decomposition ``vol_k(F) = (1/k) sum_G h_G vol_{k-1}(G)`` over the face lattice.

    The contract. Exact: the status (infeasible, unbounded, no interior are facts about the
    input read as rationals), the facets, the vertex-facet incidence and the ridges. Floating
    point: the vertices (each re-solved from its defining rows with a twice-precise residual,
    within a few units in the last place when well-conditioned), the normals and angles, and
    the measures, which are taken relative to a vertex of each face (never from offsets far
    away) and carry ``volume_error``, a running first-order bound through the face lattice.
    When the float path cannot decide (rows nearly parallel at the rounding level, a rank
    decided in floats) or the bound exceeds ``1e-8 * volume``, the polytope is recomputed in
    exact rational arithmetic (``exact_fallback``): exactly measured with up to 24 vertices,
    larger ones from their exact combinatorics and correctly rounded vertices.

    Examples
    --------
    >>> import numpy as np
    >>> from geomcore import Polytope
    >>> cube = Polytope(np.vstack([np.eye(3), -np.eye(3)]), np.r_[np.ones(3), np.zeros(3)])
    >>> cube.volume, len(cube.vertices), len(cube.ridges)
    (1.0, 8, 12)
    >>> print(np.round(cube.dihedral_angles[:3], 6))
    [1.570796 1.570796 1.570796]

    A square pyramid: its apex lies on four facets, and a duplicated row is not a facet twice.

    >>> A = [[0, 0, -1], [0, 2, 1], [0, -2, 1], [2, 0, 1], [-2, 0, 1], [0, 0, -1]]
    >>> pyramid = Polytope(A, [0, 1, 1, 1, 1, 0])
    >>> pyramid.facet_index.tolist(), round(pyramid.volume, 12)
    ([0, 1, 2, 3, 4], 0.333333333333)
    >>> int(pyramid.incidence.sum(axis=1).max())
    4
    """

    def __init__(self, A, b, *, exact=False, measures=True):
        A, b = as_halfspaces(A, b)
        raw = _compute(A, b, np.array([0, A.shape[0]], dtype=np.int64), exact, measures)
        if raw["status"][0] != OK:
            raise _status_error(int(raw["status"][0]), None, A.shape[1])
        self._fill(raw, 0, A, b, 0)

    @classmethod
    def _from_batch(cls, raw, i, A, b, row0):
        """Polytope i of a raw batch; A, b are the stacked input, row0 its first row."""
        self = cls.__new__(cls)
        self._fill(raw, i, A, b, row0)
        return self

    def _fill(self, raw, i, A, b, row0):
        v0, v1 = raw["vertex_offsets"][i], raw["vertex_offsets"][i + 1]
        f0, f1 = raw["facet_offsets"][i], raw["facet_offsets"][i + 1]
        r0, r1 = raw["ridge_offsets"][i], raw["ridge_offsets"][i + 1]
        self.ndim = A.shape[1]
        self.facet_index = _frozen(raw["facet_index"][f0:f1] - row0)
        self.A = _frozen(A[raw["facet_index"][f0:f1]])
        self.b = _frozen(b[raw["facet_index"][f0:f1]])
        self.vertices = _frozen(raw["vertices"][v0:v1])
        indptr = raw["incidence_indptr"][v0:v1 + 1]
        indices = raw["incidence_indices"][indptr[0]:indptr[-1]]
        self.incidence = sparse.csr_array(
            (np.ones(indices.size, dtype=np.int8), indices, indptr - indptr[0]),
            shape=(v1 - v0, f1 - f0),
        )
        self.volume = float(raw["volume"][i])
        self.centroid = _frozen(raw["centroid"][i])
        self.facet_areas = _frozen(raw["facet_areas"][f0:f1])
        self.facet_normals = _frozen(raw["facet_normals"][f0:f1])
        self.facet_centroids = _frozen(raw["facet_centroids"][f0:f1])
        self.ridges = _frozen(raw["ridges"][r0:r1])
        self.ridge_volumes = _frozen(raw["ridge_volumes"][r0:r1])
        self.dihedral_angles = _frozen(raw["dihedral_angles"][r0:r1])
        self.n_exact_calls = int(raw["n_exact_calls"][i]) if "n_exact_calls" in raw else 0
        self.volume_error = float(raw["volume_error"][i]) if "volume_error" in raw else 0.0
        self.exact_fallback = bool(raw["exact_fallback"][i]) if "exact_fallback" in raw else False
        self.exact_volume = raw["exact_volume"][i] if "exact_volume" in raw else None
        self.exact_vertices = raw["exact_vertices"][i] if "exact_vertices" in raw else None

    @property
    def n_vertices(self):
        return self.vertices.shape[0]

    @property
    def n_facets(self):
        return self.facet_index.shape[0]

    @property
    def n_ridges(self):
        return self.ridges.shape[0]

    def contains(self, X, *, tol=1e-12):
        """Whether each point lies in the polytope (boundary included).

        Parameters
        ----------
        X : array_like of float, shape (n_points, ndim) or (ndim,)
        tol : float, optional
            A point counts as inside when ``n_f . x - c_f <= tol * scale`` for every facet, with
            ``n_f`` the unit normal and ``scale = max(1, max |vertex coordinate|)``, so that
            computed vertices and facet centroids test as inside. ``tol=0`` is the plain test.

        Returns
        -------
        ndarray of bool, shape (n_points,) (a bool for a single point)

        Examples
        --------
        >>> import numpy as np
        >>> from geomcore import Polytope
        >>> square = Polytope(np.vstack([np.eye(2), -np.eye(2)]), [1, 1, 0, 0])
        >>> square.contains([[0.5, 0.5], [1.0, 0.0], [1.5, 0.5]]).tolist()
        [True, True, False]
        """
        single = np.ndim(X) == 1
        X = as_float_matrix(np.atleast_2d(X), "X", ncols=self.ndim)
        norms = np.linalg.norm(self.A, axis=1)
        scale = max(1.0, float(np.abs(self.vertices).max()))
        slack = X @ (self.A / norms[:, None]).T - self.b / norms
        inside = np.all(slack <= tol * scale, axis=1)
        return bool(inside[0]) if single else inside

    def __repr__(self):
        return (
            f"Polytope(ndim={self.ndim}, n_facets={self.n_facets}, n_vertices={self.n_vertices}, "
            f"volume={self.volume:.6g})"
        )


class PolytopeBatch:
    """Many polytopes computed in one kernel call (see :func:`polytopes`).

    Per-polytope fields are stacked: polytope ``i`` owns ``vertices[vertex_offsets[i]:
    vertex_offsets[i+1]]``, facets ``facet_offsets[i]:facet_offsets[i+1]`` and ridges
    ``ridge_offsets[i]:ridge_offsets[i+1]``. ``facet_index`` holds rows of the stacked input
    ``A``; ``ridges`` and the incidence indices are positions within the polytope's own facets.

    Attributes
    ----------
    n_polytopes, ndim : int
    status : ndarray of int64, shape (n,)
        0 for a valid polytope; otherwise (with ``errors="ignore"``) 1 infeasible, 2 unbounded,
        3 no interior, 4 rank-deficient, 5 precision; such a polytope owns no rows and has
        NaN volume and centroid.
    volume : ndarray, shape (n,)
    centroid : ndarray, shape (n, ndim)
    vertices, facet_index, facet_areas, facet_normals, facet_centroids, ridges,
    ridge_volumes, dihedral_angles : stacked arrays
    vertex_offsets, facet_offsets, ridge_offsets : ndarray of int64, shape (n + 1,)
    incidence_indptr, incidence_indices : ndarray of int64
        CSR map from each stacked vertex to the local positions of its facets.
    """

    def __init__(self, raw, A, b, offsets):
        self._raw = raw
        self._A = A
        self._b = b
        self.row_offsets = _frozen(offsets)
        self.ndim = A.shape[1]
        self.n_polytopes = offsets.size - 1
        for key in (
            "status", "volume", "centroid", "vertices", "vertex_offsets", "facet_index",
            "facet_offsets", "facet_areas", "facet_normals", "facet_centroids", "ridges",
            "ridge_offsets", "ridge_volumes", "dihedral_angles", "incidence_indptr",
            "incidence_indices",
        ):
            setattr(self, key, _frozen(raw[key]))
        n = self.n_polytopes
        self.volume_error = _frozen(raw.get("volume_error", np.zeros(n)))
        self.exact_fallback = _frozen(raw.get("exact_fallback", np.zeros(n, dtype=bool)))

    def __len__(self):
        return self.n_polytopes

    def __getitem__(self, i):
        """Polytope ``i`` as a :class:`Polytope` (facet_index relative to its own rows)."""
        i = int(i)
        if i < 0:
            i += self.n_polytopes
        if not 0 <= i < self.n_polytopes:
            raise IndexError(f"polytope index {i} out of range for {self.n_polytopes} polytopes")
        if self.status[i] != OK:
            raise _status_error(int(self.status[i]), i, self.ndim)
        return Polytope._from_batch(self._raw, i, self._A, self._b, self.row_offsets[i])

    def __repr__(self):
        return f"PolytopeBatch(n_polytopes={self.n_polytopes}, ndim={self.ndim})"


def polytopes(A, b, offsets, *, exact=False, measures=True, errors="raise", workers=1):
    """Compute many H-polytopes in one kernel call, without Python work per polytope.

    Parameters
    ----------
    A : array_like of float, shape (M, ndim)
        The halfspaces of all polytopes, stacked.
    b : array_like of float, shape (M,)
    offsets : array_like of int, shape (n + 1,)
        Rows ``offsets[i]:offsets[i+1]`` are polytope ``i``; ``offsets[0] == 0``,
        ``offsets[-1] == M``.
    exact, measures : bool, optional
        As for :class:`Polytope`.
    errors : {"raise", "ignore"}, optional
        With "raise" (default) the first invalid polytope raises its error, naming its index;
        with "ignore" invalid polytopes are kept with a non-zero ``status`` and NaN measures.
    workers : int, optional
        Threads to spread the batch over (the kernel runs without the GIL); -1 uses every CPU.
        Default 1. The result does not depend on it.

    Returns
    -------
    PolytopeBatch

    Examples
    --------
    >>> import numpy as np
    >>> from geomcore import polytopes
    >>> box = np.vstack([np.eye(2), -np.eye(2)])
    >>> batch = polytopes(np.vstack([box, box]), [1, 1, 0, 0, 2, 1, 0, 0], [0, 4, 8])
    >>> batch.volume.tolist(), batch.vertex_offsets.tolist()
    ([1.0, 2.0], [0, 4, 8])
    """
    if errors not in ("raise", "ignore"):
        raise InvalidInputError(f'errors must be "raise" or "ignore"; got {errors!r}')
    n_workers = _n_workers(workers)
    A, b = as_halfspaces(A, b)
    offsets = as_offsets(offsets, A.shape[0])
    raw = _compute(A, b, offsets, exact, measures, n_workers)
    if "n_exact_calls" not in raw:
        raw["n_exact_calls"] = np.zeros(offsets.size - 1, dtype=np.int64)
    bad = np.flatnonzero(raw["status"] != OK)
    if errors == "raise" and bad.size:
        raise _status_error(int(raw["status"][bad[0]]), int(bad[0]), A.shape[1])
    return PolytopeBatch(raw, A, b, offsets)
