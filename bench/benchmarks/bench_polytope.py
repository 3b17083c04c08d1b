"""Benchmarks of ``geomcore.Polytope`` and ``geomcore.polytopes`` against peers.

Every suite has a ``method`` parameter:

``"geomcore"``
    The public API: ``geomcore.Polytope(A, b)`` (everything is computed in the
    constructor) or ``geomcore.polytopes(A, b, offsets)`` for a batch.
``"scipy"``
    What a user does today: a Chebyshev-centre LP (``scipy.optimize.linprog``)
    for an interior point, ``scipy.spatial.HalfspaceIntersection`` for the
    vertices and ``scipy.spatial.ConvexHull`` of the vertices for volume,
    centroid and facet areas (see :func:`hull_geometry`).
``"cdd"``
    pycddlib-standalone 3.x in floating point for the vertex enumeration and
    the vertex/facet incidence.  cdd computes no volume, so wherever a volume
    is needed the cdd peer adds ``ConvexHull`` of its vertices; the
    ``*Vertex*`` suites time the enumeration alone.

geomcore and cdd are imported in ``setup`` only, so this module imports (and
``asv check`` passes) without them; the timed code never pays for an import.
"""

import math

import numpy as np
from scipy.optimize import linprog
from scipy.spatial import ConvexHull, HalfspaceIntersection

from ._data import random_cells, random_polytope, relu_cell

METHODS = ["geomcore", "scipy", "cdd"]
PEERS = ("scipy", "cdd")


# ---------------------------------------------------------------------------
# Backends and sampling rules
# ---------------------------------------------------------------------------

def _import_backend(method):
    """Import the module behind ``method`` (fails loudly if it is missing)."""
    if method == "geomcore":
        import geomcore  # noqa: F401  (lazy: the kernel may not be built yet)
    elif method == "cdd":
        import cdd  # noqa: F401
    elif method != "scipy":
        raise ValueError(f"unknown method {method!r}")


_SAMPLING_ATTRS = ("number", "repeat", "min_run_count", "warmup_time")


def _sampling(bench, single_shot):
    """Choose asv's sampling for the current parameter combination.

    asv has no per-parameter ``number``/``repeat``, but it re-reads these
    attributes from the benchmark instance after ``setup`` has run, so setup
    may override them for one combination.  ``single_shot`` means one timed
    call per round, no warm-up and no calibration (the cost of a round is one
    call); otherwise the class defaults apply.
    """
    if single_shot:
        bench.number = 1
        bench.repeat = 1
        bench.min_run_count = 1
        bench.warmup_time = 0.0
    else:
        for name in _SAMPLING_ATTRS:
            bench.__dict__.pop(name, None)


def _geomcore_only(method, d):
    """Function-level asv setup (``BatchSuite``): skip the peers.

    asv runs it after the class ``setup``; NotImplementedError marks the
    combination as skipped.
    """
    if method != "geomcore":
        raise NotImplementedError("geomcore-only benchmark")


# ---------------------------------------------------------------------------
# Peers
# ---------------------------------------------------------------------------

def chebyshev_centre(A, b):
    """Centre of the largest ball inside ``{x : A x <= b}``.

    Solves ``max r  s.t.  a_i . x + r |a_i| <= b_i, r >= 0`` with HiGHS.  This
    is how a scipy user gets the interior point ``HalfspaceIntersection``
    requires.
    """
    m, d = A.shape
    cost = np.zeros(d + 1)
    cost[-1] = -1.0
    A_ub = np.hstack([A, np.linalg.norm(A, axis=1)[:, None]])
    bounds = [(None, None)] * d + [(0.0, None)]
    res = linprog(cost, A_ub=A_ub, b_ub=b, bounds=bounds, method="highs")
    if res.status != 0 or res.x[-1] <= 0.0:
        raise RuntimeError(f"no interior point: {res.message}")
    return res.x[:d]


def scipy_vertices(A, b, interior=None):
    """Vertices and their incident rows via ``HalfspaceIntersection``.

    Without ``interior`` the Chebyshev-centre LP runs first.
    Returns ``(V, incidence)`` with ``incidence[k]`` the rows tight at ``V[k]``.
    """
    if interior is None:
        interior = chebyshev_centre(A, b)
    hs = HalfspaceIntersection(np.hstack([A, -b[:, None]]), interior)
    return hs.intersections, hs.dual_facets


def cdd_vertices(A, b):
    """Vertices and their incident rows via pycddlib (float, 3.x API).

    cdd's H-representation is ``[b, -A]`` for ``b - A x >= 0``.  The inputs
    here are bounded, so every generator is a vertex (leading 1, no rays).
    Returns ``(V, incidence)`` with ``incidence[k]`` the rows tight at ``V[k]``.
    """
    import cdd

    mat = cdd.matrix_from_array(np.hstack([b[:, None], -A]),
                                rep_type=cdd.RepType.INEQUALITY)
    poly = cdd.polyhedron_from_matrix(mat)
    gen = np.array(cdd.copy_generators(poly).array, dtype=float)
    return gen[:, 1:], cdd.copy_incidence(poly)


def peer_vertices(method, A, b, interior=None):
    """Vertex enumeration (plus incidence) of a peer."""
    if method == "scipy":
        return scipy_vertices(A, b, interior)
    if method == "cdd":
        return cdd_vertices(A, b)
    raise ValueError(f"not a peer: {method!r}")


def incidence_matrix(incidence, n_vertices, m):
    """Boolean (n_vertices, m) matrix from per-vertex lists/sets of rows."""
    counts = np.fromiter((len(s) for s in incidence), dtype=np.intp,
                         count=n_vertices)
    rows = np.fromiter((j for s in incidence for j in s), dtype=np.intp,
                       count=int(counts.sum()))
    inc = np.zeros((n_vertices, m), dtype=bool)
    keep = rows < m  # ignore any row index outside the input, just in case
    inc[np.repeat(np.arange(n_vertices), counts)[keep], rows[keep]] = True
    return inc


def hull_geometry(V, A, incidence):
    """Volume, centroid, facet areas and dihedral angles from the vertices.

    What a numpy user writes on top of ``ConvexHull(V)`` (qhull triangulates
    the boundary into simplices):

    * volume: ``hull.volume``;
    * centroid: cones from the vertex mean over the boundary simplices;
    * facet areas: (d-1)-volumes of the boundary simplices, summed per input
      row; the row of a simplex is the active row whose unit normal matches
      the simplex's normal;
    * ridges: pairs of rows tight together at ``>= d - 1`` vertices (exact for
      the simple polytopes generated here), with interior dihedral angle
      ``pi - arccos(n_i . n_j)``.
    """
    n_v, d = V.shape
    m = A.shape[0]
    hull = ConvexHull(V)
    S = V[hull.simplices]                                  # (f, d, d)

    apex = V.mean(axis=0)
    cone_vol = np.abs(np.linalg.det(S - apex)) / math.factorial(d)
    cone_cen = (S.sum(axis=1) + apex) / (d + 1)
    centroid = cone_vol @ cone_cen / cone_vol.sum()

    # (d-1)-volume of a boundary simplex = |det [edges; unit normal]| / (d-1)!
    normals = hull.equations[:, :d]
    E = np.concatenate([S[:, 1:] - S[:, :1], normals[:, None, :]], axis=1)
    simplex_area = np.abs(np.linalg.det(E)) / math.factorial(d - 1)

    inc = incidence_matrix(incidence, n_v, m)
    active = np.flatnonzero(inc.any(axis=0))
    unit = A / np.linalg.norm(A, axis=1, keepdims=True)
    owner = active[np.argmax(normals @ unit[active].T, axis=1)]
    facet_areas = np.bincount(owner, weights=simplex_area, minlength=m)

    shared = inc.T.astype(np.int32) @ inc.astype(np.int32)
    ridges = np.argwhere(np.triu(shared >= max(d - 1, 1), k=1))
    cosines = np.einsum("ij,ij->i", unit[ridges[:, 0]], unit[ridges[:, 1]])
    dihedral = np.pi - np.arccos(np.clip(cosines, -1.0, 1.0))
    return {
        "volume": hull.volume,
        "centroid": centroid,
        "facet_areas": facet_areas,
        "ridges": ridges,
        "dihedral_angles": dihedral,
    }


def _batch_n_vertices(batch):
    """Total vertex count of a ``geomcore.polytopes`` batch.

    The batch layout is not settled yet: accept CSR-style ``vertex_offsets``,
    one stacked ``(N, d)`` array, or one array per polytope.
    """
    offsets = getattr(batch, "vertex_offsets", None)
    if offsets is not None:
        return int(offsets[-1])
    vertices = batch.vertices
    if isinstance(vertices, np.ndarray) and vertices.ndim == 2:
        return int(vertices.shape[0])
    return int(sum(len(v) for v in vertices))


# ---------------------------------------------------------------------------
# a) Random polytopes tangent to the unit ball
# ---------------------------------------------------------------------------

M_RANDOM = 20


class _RandomPolytopeCase:
    params = [METHODS, [2, 3, 5, 8]]
    param_names = ["method", "d"]

    def setup(self, method, d):
        rng = np.random.default_rng(1234)
        self.A, self.b = random_polytope(rng, M_RANDOM, d)
        _import_backend(method)


class PolytopeSuite(_RandomPolytopeCase):
    """Geometry of one random polytope: 20 halfspaces tangent to the unit ball.

    ``A`` has unit rows uniform on the sphere and ``b = 1`` (redrawn until
    bounded); about 20, 36, 180 and 1200 vertices for d = 2, 3, 5, 8.

    * ``time_full_geometry``: construct, then touch volume, facet areas and
      dihedral angles.  Peers: interior point, vertices, then
      :func:`hull_geometry` (``ConvexHull`` + numpy).
    * ``time_volume``: the volume alone.  scipy: LP + HalfspaceIntersection +
      ``ConvexHull(V).volume``; cdd: cdd vertex enumeration +
      ``ConvexHull(V).volume``.

    The origin is an interior point by construction, yet the scipy peer still
    solves the Chebyshev LP: a user with an arbitrary ``A x <= b`` must, and
    geomcore gets no interior point either.

    Goal: ``time_volume`` at d = 8 at least 100x faster for geomcore than for
    the peers, whose time is ``ConvexHull(...).volume`` of ~1200 vertices.

    Sampling rule: at d = 8 the peers' ``ConvexHull`` takes ~100 s per call,
    so those combinations are single-shot (one call per round, no warm-up,
    see :func:`_sampling`) under a 300 s timeout.  asv still runs two
    rounds, so they cost ~400 s per benchmark; filter them out with
    ``asv run -b`` or run them with ``--quick`` when iterating.
    """

    timeout = 300

    def setup(self, method, d):
        if method == "scipy" and d >= 8:
            # measured: ConvexHull of the HalfspaceIntersection vertices raises QhullError
            # QH6297 (precision) on this polytope after ~100 s; cdd + ConvexHull is the d = 8 peer
            raise NotImplementedError("Qhull fails with a precision error here (QH6297)")
        super().setup(method, d)
        _sampling(self, single_shot=(method in PEERS and d >= 8))

    def time_full_geometry(self, method, d):
        A, b = self.A, self.b
        if method == "geomcore":
            import geomcore

            p = geomcore.Polytope(A, b)
            p.volume, p.facet_areas, p.dihedral_angles
        else:
            # scipy: the Chebyshev LP runs although 0 is known to be interior.
            V, incidence = peer_vertices(method, A, b)
            hull_geometry(V, A, incidence)

    def time_volume(self, method, d):
        A, b = self.A, self.b
        if method == "geomcore":
            import geomcore

            geomcore.Polytope(A, b).volume
        else:
            V, _ = peer_vertices(method, A, b)  # scipy: LP included, as above
            ConvexHull(V).volume  # cdd has no volume: ConvexHull for both


class PolytopeVertexSuite(_RandomPolytopeCase):
    """Vertex enumeration of the ``PolytopeSuite`` polytopes.

    * ``time_vertex_enumeration``: vertices and vertex/facet incidence.
      geomcore: ``Polytope(A, b, measures=False)`` (vertices, facets,
      incidence and ridges, no volumes).  scipy: LP + HalfspaceIntersection.
      cdd: double description only (no ConvexHull).
    * ``track_n_vertices``: number of vertices each method finds, a
      cross-check between methods (all should agree).
    """

    timeout = 120

    def time_vertex_enumeration(self, method, d):
        A, b = self.A, self.b
        if method == "geomcore":
            import geomcore

            p = geomcore.Polytope(A, b, measures=False)
            p.vertices, p.incidence
        else:
            peer_vertices(method, A, b)

    def track_n_vertices(self, method, d):
        A, b = self.A, self.b
        if method == "geomcore":
            import geomcore

            return len(geomcore.Polytope(A, b, measures=False).vertices)
        return len(peer_vertices(method, A, b)[0])

    track_n_vertices.unit = "vertices"


# ---------------------------------------------------------------------------
# b) Activation regions (cells) of one random ReLU layer
# ---------------------------------------------------------------------------

class _ReLUCellCase:
    params = [METHODS, [100, 500], [4, 6, 8]]
    param_names = ["method", "m", "d"]

    def setup(self, method, m, d):
        rng = np.random.default_rng(1234)
        self.A, self.b = relu_cell(rng, m, d)
        _import_backend(method)


class ReLUCellSuite(_ReLUCellCase):
    """Geometry of the cell of a point among ``m`` random hyperplanes.

    The cell of ``x0`` in the arrangement ``W x = c`` (``W``, ``c`` standard
    normal, ``x0`` small), inside the box ``|x_k| <= 3``: ``m + 2 d`` rows,
    most of them redundant.  Few rows are facets, but the cell has many
    vertices in high dimension (about 30 / 380 / 2000 for m = 100 and
    d = 4 / 6 / 8, 40 / 670 / 5700 for m = 500).

    * ``time_cell_geometry``: construct and touch volume, facet areas and
      dihedral angles; peers as in ``PolytopeSuite.time_full_geometry``
      (scipy includes the Chebyshev LP).

    Skip rule: at d = 8 the peers (scipy and cdd) raise NotImplementedError
    in setup, i.e. asv reports them as skipped: ``ConvexHull`` of 2000-5700
    vertices in R^8 takes far beyond the 300 s timeout (already ~100 s for
    the 1200 vertices of ``PolytopeSuite`` at d = 8).  The d = 8 comparison
    is ``ReLUCellVertexSuite``.
    """

    timeout = 300

    def setup(self, method, m, d):
        if method in PEERS and d >= 8:
            raise NotImplementedError(
                "ConvexHull of a ReLU cell in R^8 exceeds the timeout")
        super().setup(method, m, d)

    def time_cell_geometry(self, method, m, d):
        A, b = self.A, self.b
        if method == "geomcore":
            import geomcore

            p = geomcore.Polytope(A, b)
            p.volume, p.facet_areas, p.dihedral_angles
        else:
            V, incidence = peer_vertices(method, A, b)
            hull_geometry(V, A, incidence)


class ReLUCellVertexSuite(_ReLUCellCase):
    """Vertex enumeration of the ``ReLUCellSuite`` cells.

    * ``time_vertex_enumeration``: geomcore ``Polytope(A, b, measures=False)``
      (vertices, facets, incidence and ridges, no volumes); scipy: Chebyshev
      LP + HalfspaceIntersection; cdd: double description with its default
      row order, no redundancy removal first.
    * ``track_n_vertices``: vertex count per method (cross-check).

    Goal: at d = 8, m = 500 geomcore at least as fast as scipy's LP +
    HalfspaceIntersection (vertices only); ``ReLUCellSuite`` times the full
    geometry.

    Sampling rule: cdd needs ~55 s at m = 500, d = 8 (5700 vertices, 516
    rows), so that combination is single-shot (see :func:`_sampling`).
    """

    timeout = 300

    def setup(self, method, m, d):
        super().setup(method, m, d)
        _sampling(self, single_shot=(method == "cdd" and m >= 500 and d >= 8))

    def time_vertex_enumeration(self, method, m, d):
        A, b = self.A, self.b
        if method == "geomcore":
            import geomcore

            p = geomcore.Polytope(A, b, measures=False)
            p.vertices, p.incidence
        else:
            peer_vertices(method, A, b)

    def track_n_vertices(self, method, m, d):
        A, b = self.A, self.b
        if method == "geomcore":
            import geomcore

            return len(geomcore.Polytope(A, b, measures=False).vertices)
        return len(peer_vertices(method, A, b)[0])

    track_n_vertices.unit = "vertices"


# ---------------------------------------------------------------------------
# c) Many small cells at once
# ---------------------------------------------------------------------------

N_CELLS = 10_000


class BatchSuite:
    """Full geometry of 10,000 small random cells in one call.

    Each cell: (d + 1) to 8 random halfspaces around a random centre, each
    containing the ball of radius 0.05 around it, plus the box of side 1
    around the centre (so ``2 d`` more rows and a bounded cell).

    * ``time_batch_full_geometry``: geomcore: one ``polytopes(A, b, offsets)``
      call, then touch volume, centroid and facet areas.  scipy: a Python
      loop of HalfspaceIntersection (interior point = the known centre, no
      LP) + :func:`hull_geometry` per cell.  cdd: a Python loop of cdd
      enumeration + :func:`hull_geometry` per cell.
    * ``peakmem_batch``: peak memory of the geomcore call (geomcore only).
    * ``track_n_vertices``: total vertex count of the batch (geomcore only).

    Goal: ``time_batch_full_geometry`` at least 20x faster for geomcore
    than the Python loop over scipy. ``geomcore-threads`` is the same call
    with ``workers=-1`` (the kernel runs without the GIL).
    """

    params = [METHODS + ["geomcore-threads"], [2, 3]]
    param_names = ["method", "d"]
    timeout = 300

    def setup(self, method, d):
        rng = np.random.default_rng(1234)
        self.A, self.b, self.offsets, self.centres = random_cells(
            rng, N_CELLS, d, return_centres=True)
        _import_backend("geomcore" if method == "geomcore-threads" else method)

    def time_batch_full_geometry(self, method, d):
        A, b, offsets = self.A, self.b, self.offsets
        if method.startswith("geomcore"):
            import geomcore

            # "geomcore-threads": the same call spread over every CPU (workers=-1)
            workers = -1 if method == "geomcore-threads" else 1
            batch = geomcore.polytopes(A, b, offsets, workers=workers)
            batch.volume, batch.centroid, batch.facet_areas
            return
        for i in range(len(offsets) - 1):
            lo, hi = offsets[i], offsets[i + 1]
            Ai, bi = A[lo:hi], b[lo:hi]
            if method == "scipy":
                V, incidence = scipy_vertices(Ai, bi, self.centres[i])
            else:
                V, incidence = cdd_vertices(Ai, bi)
            hull_geometry(V, Ai, incidence)

    def peakmem_batch(self, method, d):
        import geomcore

        geomcore.polytopes(self.A, self.b, self.offsets).volume

    peakmem_batch.setup = _geomcore_only

    def track_n_vertices(self, method, d):
        import geomcore

        return _batch_n_vertices(geomcore.polytopes(self.A, self.b, self.offsets))

    track_n_vertices.setup = _geomcore_only
    track_n_vertices.unit = "vertices"


# ---------------------------------------------------------------------------
# d) The issue-12 figure: 2,000 random 3-D polytopes with 12 halfspaces each
# ---------------------------------------------------------------------------

N_SMALL = 2000


class SmallCellSuite:
    """Full geometry of 2,000 random 3-D polytopes of 12 halfspaces tangent to the unit ball.

    ``geomcore``: one ``polytopes(A, b, offsets)`` call (exact combinatorics, volume, centroid,
    facet areas and centroids, ridges and angles, the exact fallback check). ``geomcore-kernel``:
    the raw kernel call (``_polytope.polytope_batch``) without the Python wrapper. ``scipy``: a
    Python loop of ``HalfspaceIntersection`` (interior point: the origin, known) and
    ``ConvexHull`` of the vertices for volume, centroid and facet areas (:func:`hull_geometry`).
    Goal (issue 12): geomcore at least 20x the scipy loop.
    """

    params = [["geomcore", "geomcore-kernel", "scipy"]]
    param_names = ["method"]
    timeout = 120

    def setup(self, method):
        rng = np.random.default_rng(12)
        parts = [random_polytope(rng, 12, 3) for _ in range(N_SMALL)]
        self.A = np.ascontiguousarray(np.vstack([p[0] for p in parts]))
        self.b = np.concatenate([p[1] for p in parts])
        self.offsets = np.arange(0, 12 * N_SMALL + 1, 12, dtype=np.int64)
        _import_backend("geomcore" if method.startswith("geomcore") else method)

    def time_small_cells(self, method):
        A, b, offsets = self.A, self.b, self.offsets
        if method == "geomcore":
            import geomcore

            batch = geomcore.polytopes(A, b, offsets)
            batch.volume, batch.centroid, batch.facet_areas
            return
        if method == "geomcore-kernel":
            from geomcore._kernels._polytope import polytope_batch

            polytope_batch(A, b, offsets)
            return
        origin = np.zeros(3)
        for i in range(N_SMALL):
            lo, hi = offsets[i], offsets[i + 1]
            V, incidence = scipy_vertices(A[lo:hi], b[lo:hi], origin)
            hull_geometry(V, A[lo:hi], incidence)
