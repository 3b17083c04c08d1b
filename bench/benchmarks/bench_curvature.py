"""Benchmarks of the splines and the curvatures (issue 6).

The input is a regular k x k grid of the unit square, prepared in ``setup`` as the flat tables
an axis-line ``Arrangement`` partition has (one cell per square, one wall per shared side, one
hinge per interior grid vertex): enumerating a 100k-cell arrangement exactly (about 17 s) is
not what is timed here. ``RiemannianComplex(part, complex="adjacency", max_dim=1)`` is built in
setup too.

* ``SplineSuite``: ``spline(rc, y, weights=counts, lam=1, order)`` at 10k and 100k cells,
  order 1 and 2 (one sparse SPD factorisation).
* ``OllivierSuite``: edge Ollivier-Ricci curvature of the 10k-cell grid's wall graph (19,800
  walls). ``geomcore``: :func:`geomcore.curvature.ollivier_ricci` (limited Dijkstra, exact W1
  by POT's network simplex). ``graphricci``: ``GraphRicciCurvature``'s ``OllivierRicci(G,
  alpha=0.5, method="OTD", exp_power=0)`` on the same graph with the same edge lengths
  (``exp_power=0`` makes its neighbour measure uniform, which is geomcore's measure on a
  uniform grid, so both compute the same numbers); it computes all-pairs shortest paths.
* ``FormanSuite``: edge Forman curvature at ~100k walls (a 224 x 224 grid, 99,904 walls):
  geomcore's vectorised :func:`~geomcore.curvature.forman_ricci` against
  ``GraphRicciCurvature.FormanRicci(G, method="1d")`` (node and edge weights).

Measured (2-core machine, ``asv run -E existing --quick``, one sample each): spline at 10k
cells 19.7 ms (order 1) / 51.5 ms (order 2), at 100k cells 546 ms / 1.22 s (peak 241M / 418M).
Ollivier at 10k cells (19,800 walls): geomcore 243 ms (449M peak, of which ~400M is the
interpreter with POT and the setup) vs GraphRicciCurvature 15.0 s (5.25G): 62x; the two agree
to 1e-15 on these grids. At 100k cells geomcore takes 3.8 s (+280M).
Forman at 99,904 walls: geomcore 2.38 ms (112M) vs
GraphRicciCurvature 975 ms (220M). The peers' timings include building their networkx graph
from the wall table (their input format), which is a few hundred ms at these sizes.
"""

import numpy as np

_SIDE = {"10k": 100, "100k": 317}


def grid_tables(k):
    """A partition-like object with the tables of the k x k grid of the unit square."""
    from types import SimpleNamespace

    idx = np.arange(k * k).reshape(k, k)          # idx[row (x2), col (x1)]
    h = 1.0 / k
    horiz = np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()])
    vert = np.column_stack([idx[:-1, :].ravel(), idx[1:, :].ravel()])
    cells = np.vstack([horiz, vert])
    order = np.lexsort((cells[:, 1], cells[:, 0]))
    normals = np.vstack([np.tile([1.0, 0.0], (len(horiz), 1)), np.tile([0.0, 1.0], (len(vert), 1))])
    cells, normals = cells[order], normals[order]
    col, row = np.meshgrid(np.arange(k), np.arange(k))
    centroids = np.column_stack([(col.ravel() + 0.5) * h, (row.ravel() + 0.5) * h])
    wc = (centroids[cells[:, 0]] + centroids[cells[:, 1]]) / 2
    quad = np.column_stack([idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, :-1].ravel(),
                            idx[1:, 1:].ravel()])
    nh = len(quad)
    walls = SimpleNamespace(cells=cells.astype(np.int64), areas=np.full(len(cells), h),
                            normals=normals, centroids=wc)
    hinges = SimpleNamespace(indptr=np.arange(0, 4 * nh + 1, 4, dtype=np.int64),
                             indices=np.sort(quad, axis=1).ravel().astype(np.int64),
                             angles=np.full(4 * nh, np.pi / 2), volumes=np.ones(nh),
                             interior=np.ones(nh, bool))
    return SimpleNamespace(n_cells=k * k, ndim=2, walls=walls, hinges=hinges,
                           volumes=np.full(k * k, h * h), centroids=centroids,
                           boundary_areas=np.zeros(k * k))


def _rc(k):
    from geomcore.riemannian import RiemannianComplex

    return RiemannianComplex(grid_tables(k), complex="adjacency", max_dim=1)


def _networkx(part, weight):
    import networkx as nx

    G = nx.Graph()
    G.add_weighted_edges_from(zip(part.walls.cells[:, 0].tolist(), part.walls.cells[:, 1].tolist(),
                                  weight.tolist()))
    return G


class SplineSuite:
    """spline at 10k and 100k cells. Goal (issue 6): 100k cells in under 2 s."""

    params = [["10k", "100k"], [1, 2]]
    param_names = ["n_cells", "order"]
    timeout = 300

    def setup(self, n_cells, order):
        import geomcore.splines  # noqa: F401  (import outside the timing)

        self.rc = _rc(_SIDE[n_cells])
        rng = np.random.default_rng(1234)
        n = self.rc.partition.n_cells
        self.y = rng.normal(size=n)
        self.w = rng.integers(0, 4, size=n).astype(np.float64)   # a quarter of cells empty

    def _run(self, order):
        from geomcore.splines import spline

        return spline(self.rc, self.y, weights=self.w, lam=1.0, order=order)

    def time_spline(self, n_cells, order):
        self._run(order)

    def peakmem_spline(self, n_cells, order):
        self._run(order)


class OllivierSuite:
    """Ollivier-Ricci curvature of the walls of a 10k-cell grid. Goals (issue 6): at least 10x
    faster than GraphRicciCurvature (exact OTD), under 1 GB peak memory."""

    params = [["geomcore", "graphricci"]]
    param_names = ["method"]
    timeout = 900

    def setup(self, method):
        if method == "graphricci":
            try:
                import GraphRicciCurvature  # noqa: F401
            except ImportError:
                raise NotImplementedError("GraphRicciCurvature is not installed")
        import ot  # noqa: F401  (import once, outside the timing)

        self.rc = _rc(100)
        part = self.rc.partition
        c = part.centroids
        self.lengths = np.linalg.norm(c[part.walls.cells[:, 0]] - c[part.walls.cells[:, 1]], axis=1)

    def _run(self, method):
        if method == "geomcore":
            from geomcore.curvature import ollivier_ricci

            return ollivier_ricci(self.rc, alpha=0.5)
        from GraphRicciCurvature.OllivierRicci import OllivierRicci

        G = _networkx(self.rc.partition, self.lengths)
        orc = OllivierRicci(G, alpha=0.5, method="OTD", exp_power=0, proc=2, verbose="ERROR")
        return orc.compute_ricci_curvature_edges()

    def time_ollivier(self, method):
        self._run(method)

    def peakmem_ollivier(self, method):
        self._run(method)

    def track_n_walls(self, method):
        return len(self.rc.partition.walls.cells)

    track_n_walls.unit = "walls"


class FormanSuite:
    """Forman-Ricci curvature at ~100k walls. Goal (issue 6): under 10 ms per 100k edges."""

    params = [["geomcore", "graphricci"]]
    param_names = ["method"]
    timeout = 600

    def setup(self, method):
        if method == "graphricci":
            try:
                import GraphRicciCurvature  # noqa: F401
            except ImportError:
                raise NotImplementedError("GraphRicciCurvature is not installed")
        import geomcore.curvature  # noqa: F401  (import outside the timing)

        self.rc = _rc(224)

    def _run(self, method):
        if method == "geomcore":
            from geomcore.curvature import forman_ricci

            return forman_ricci(self.rc)
        import networkx as nx
        from GraphRicciCurvature.FormanRicci import FormanRicci

        part = self.rc.partition
        G = _networkx(part, part.walls.areas)
        nx.set_node_attributes(G, dict(enumerate(self.rc.masses(0).tolist())), "weight")
        frc = FormanRicci(G, method="1d", verbose="ERROR")
        frc.compute_ricci_curvature()
        return frc.G

    def time_forman(self, method):
        self._run(method)

    def peakmem_forman(self, method):
        self._run(method)

    def track_n_walls(self, method):
        return len(self.rc.partition.walls.cells)

    track_n_walls.unit = "walls"
