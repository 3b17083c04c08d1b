"""Benchmarks of ``geomcore.partition`` on hyperplane arrangements.

``ArrangementSuite`` (2-D): random lines through the box [-1, 1]^2, with shapely's
``polygonize`` of the noded line segments as the peer (it finds the same faces, without walls or
exact decisions). ``PlaneArrangementSuite`` (3-D): geomcore only, cells per second and memory.
``ForestSuite``: 100-tree random forests in 2-D and 3-D against a threshold grid queried through
scikit-learn's ``apply``.
"""

import numpy as np

from ._data import random_hyperplanes


def _shapely_faces(A, b):
    """Faces of the line arrangement in [-1, 1]^2 by noding and polygonize (the peer)."""
    from shapely import box, polygonize, unary_union
    from shapely.geometry import LineString

    square = box(-1, -1, 1, 1)
    lines = []
    for (a1, a2), c in zip(A, b):
        # two far points on the line a . x = c, clipped to the square
        p = np.array([a1, a2]) * c / (a1 * a1 + a2 * a2)
        t = np.array([-a2, a1]) * (10.0 / np.hypot(a1, a2))
        segment = LineString([p - t, p + t]).intersection(square)
        if not segment.is_empty:
            lines.append(segment)
    noded = unary_union(lines + [square.boundary])
    return polygonize(noded.geoms if hasattr(noded, "geoms") else [noded])


class ArrangementSuite:
    """Cells of n random lines in [-1, 1]^2: geomcore (exact cells, walls, areas) against
    shapely polygonize (faces only)."""

    params = [["geomcore", "shapely"], [50, 100, 200]]
    param_names = ["method", "n_lines"]
    timeout = 300

    def setup(self, method, n):
        rng = np.random.default_rng(1234)
        self.A, self.b = random_hyperplanes(rng, n, 2)
        if method == "shapely":
            try:
                import shapely  # noqa: F401
            except ImportError:
                raise NotImplementedError("shapely is not installed")

    def time_cells(self, method, n):
        if method == "geomcore":
            from geomcore import Arrangement, Box, partition

            partition(Arrangement(self.A, self.b), Box([-1, -1], [1, 1]))
        else:
            _shapely_faces(self.A, self.b)

    def peakmem_cells(self, method, n):
        self.time_cells(method, n)

    def track_n_cells(self, method, n):
        if method == "geomcore":
            from geomcore import Arrangement, Box, partition

            return partition(Arrangement(self.A, self.b), Box([-1, -1], [1, 1])).n_cells
        return len(_shapely_faces(self.A, self.b).geoms)

    track_n_cells.unit = "cells"


class PlaneArrangementSuite:
    """Cells of n random planes in [-1, 1]^3 (geomcore only): time, memory, cell count."""

    params = [[50, 100]]
    param_names = ["n_planes"]
    timeout = 600

    def setup(self, n):
        rng = np.random.default_rng(1234)
        self.A, self.b = random_hyperplanes(rng, n, 3)

    def _run(self):
        from geomcore import Arrangement, Box, partition

        return partition(Arrangement(self.A, self.b), Box(-np.ones(3), np.ones(3)))

    def time_cells(self, n):
        self._run()

    def peakmem_cells(self, n):
        self._run()

    def track_n_cells(self, n):
        return self._run().n_cells

    track_n_cells.unit = "cells"


def _network(sizes):
    rng = np.random.default_rng(1234)
    # float32-representable weights: Regioncam computes in float32
    W = [(rng.normal(size=(o, i)) / np.sqrt(i)).astype(np.float32).astype(float)
         for i, o in zip(sizes, sizes[1:])]
    B = [(rng.normal(size=o) * 0.1).astype(np.float32).astype(float) for o in sizes[1:]]
    return W, B


class NetworkSuite:
    """Linear regions of 2-D ReLU networks in [-1, 1]^2: geomcore (exact cells, walls, hinges)
    against Regioncam (float32 faces), the fastest 2-D tool. Goal (issue 10): 5x Regioncam's
    speed on 2-128-128-128, peak memory at most Regioncam's on 2-256-256-256; both find the
    same cells."""

    params = [["geomcore", "regioncam"], ["2-64-64", "2-128-128-128", "2-256-256-256"]]
    param_names = ["method", "widths"]
    timeout = 600

    def setup(self, method, widths):
        self.W, self.B = _network([int(w) for w in widths.split("-")] + [1])
        if method == "regioncam":
            try:
                import regioncam  # noqa: F401
            except ImportError:
                raise NotImplementedError("regioncam is not installed")

    def _run(self, method):
        if method == "geomcore":
            from geomcore import Box, ReLUNetwork, partition

            return partition(ReLUNetwork(self.W, self.B), Box([-1, -1], [1, 1])).n_cells
        import regioncam

        rc = regioncam.Regioncam(size=1.0)
        for w, b in zip(self.W[:-1], self.B[:-1]):
            rc.linear(np.ascontiguousarray(w.T, dtype=np.float32), b.astype(np.float32))
            rc.relu()
        return rc.num_faces

    def time_cells(self, method, widths):
        self._run(method)

    def peakmem_cells(self, method, widths):
        self._run(method)

    def track_n_cells(self, method, widths):
        return self._run(method)

    track_n_cells.unit = "cells"


def _linprog_regions(net, lo, hi):
    """The region-graph search of existing general-dimension tools, as the peer: from the cell
    of the domain's centre, find each cell's facets with one scipy ``linprog`` per neuron row
    (a row is a facet when the LP can push past it) and step across them, breadth first.
    Returns the number of cells found."""
    from scipy.optimize import linprog

    d = net.ndim
    box_A = np.vstack([np.eye(d), -np.eye(d)])
    box_b = np.r_[hi, -lo]
    start = tuple(net.patterns(((lo + hi) / 2)[None])[0])
    seen, queue = {start}, [start]
    while queue:
        pattern = queue.pop()
        rows = net.cell_rows(np.array([pattern]))[0]            # a . x + c per neuron
        sign = np.where(pattern, -1.0, 1.0)                     # cell: sign * (a . x + c) <= 0
        A = np.vstack([sign[:, None] * rows[:, :d], box_A])
        b = np.r_[-sign * rows[:, d], box_b]
        for g in range(len(pattern)):
            relaxed = b.copy()
            relaxed[g] += 1.0
            res = linprog(-A[g], A_ub=A, b_ub=relaxed, bounds=[(None, None)] * d,
                          method="highs")
            if res.status == 0 and -res.fun > b[g] + 1e-9:
                nxt = list(pattern)
                nxt[g] = not nxt[g]
                nxt = tuple(nxt)
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
    return len(seen)


class NetworkRegionGraphSuite:
    """Linear regions of small 3-D and 4-D ReLU networks in [-1, 1]^d: geomcore against the
    LP region-graph search (the approach of existing general-dimension tools, written here as
    the peer). Goal (issue 10): geomcore at least 500x faster. The peer solves one LP per
    neuron per cell, so it is skipped on 4-16-16 (over 12 minutes)."""

    params = [["geomcore", "linprog"], ["3-16-16", "4-8-8", "4-16-16"]]
    param_names = ["method", "widths"]
    timeout = 900

    def setup(self, method, widths):
        if method == "linprog" and widths == "4-16-16":
            raise NotImplementedError("the LP search takes over 12 minutes here")
        self.W, self.B = _network([int(w) for w in widths.split("-")] + [1])
        self.d = int(widths.split("-")[0])

    def _run(self, method):
        from geomcore import Box, ReLUNetwork, partition

        net = ReLUNetwork(self.W, self.B)
        lo, hi = -np.ones(self.d), np.ones(self.d)
        if method == "geomcore":
            return partition(net, Box(lo, hi)).n_cells
        return _linprog_regions(net, lo, hi)

    def time_cells(self, method, widths):
        self._run(method)

    def track_n_cells(self, method, widths):
        return self._run(method)

    track_n_cells.unit = "cells"


def _grid_cells(estimator, ndim):
    """The plain NumPy peer for forests: cut [0, 1]^d by every threshold of every tree, ask
    scikit-learn's ``apply`` for the leaves at each grid box's centre and merge equal leaf
    tuples (cells and volumes only; no walls or hinges)."""
    axes = []
    for k in range(ndim):
        t = np.concatenate([tree.tree_.threshold[tree.tree_.feature == k]
                            for tree in estimator.estimators_])
        axes.append(np.unique(np.r_[0.0, t[(t > 0) & (t < 1)], 1.0]))
    mids = np.meshgrid(*[(a[1:] + a[:-1]) / 2 for a in axes], indexing="ij")
    widths = np.meshgrid(*[np.diff(a) for a in axes], indexing="ij")
    leaves = estimator.apply(np.column_stack([m.ravel() for m in mids]))
    _, cell = np.unique(leaves, axis=0, return_inverse=True)
    return np.bincount(cell.ravel(), np.prod([w.ravel() for w in widths], axis=0))


class ForestSuite:
    """A 100-tree random forest: every cell of the common refinement of its leaves.

    geomcore also returns the walls (partial) and hinges (T-junctions); the peer is the
    threshold grid queried through scikit-learn's ``apply`` (cells and volumes only).
    2-D trees have depth 6 (about 86,000 cells), 3-D trees depth 2 (about 236,000 cells).
    """

    params = [["geomcore", "numpy-grid"], [2, 3]]
    param_names = ["method", "ndim"]
    timeout = 600

    def setup(self, method, ndim):
        try:
            from sklearn.ensemble import RandomForestClassifier
        except ImportError:
            raise NotImplementedError("scikit-learn is not installed")
        rng = np.random.default_rng(1234)
        X = rng.random((1000, ndim))
        y = (np.sin(6 * X[:, 0]) + X[:, 1:].sum(axis=1) > 0.8).astype(int)
        self.forest = RandomForestClassifier(
            n_estimators=100, max_depth=6 if ndim == 2 else 2, random_state=0).fit(X, y)

    def time_cells(self, method, ndim):
        if method == "geomcore":
            from geomcore import Box, partition

            partition(self.forest, Box(np.zeros(ndim), np.ones(ndim)))
        else:
            _grid_cells(self.forest, ndim)

    def peakmem_cells(self, method, ndim):
        self.time_cells(method, ndim)

    def track_n_cells(self, method, ndim):
        if method == "geomcore":
            from geomcore import Box, partition

            return partition(self.forest, Box(np.zeros(ndim), np.ones(ndim))).n_cells
        return len(_grid_cells(self.forest, ndim))
