"""Benchmarks of Voronoi partitions (issue 11), and of the complex, Laplacian and curvature
steps run on them.

* ``VoronoiSuite``: ``partition(Voronoi(sites), Box)`` of uniform random sites.
  ``geomcore``: cells, walls, hinges and boundary areas with exact combinatorics (Delaunay
  candidates, one batch kernel call, every vertex checked against the nearest sites).
  ``scipy``: the peer for the 2-D areas: ``scipy.spatial.Voronoi`` of the sites reflected
  across the box's four sides (500,000 points for 100,000 sites), which makes every region
  of an original site bounded and exactly clipped, plus vectorised shoelace areas; in 3-D
  the reflected diagram alone (no volumes). The 1,000,000-site (2-D) and 100,000-site (3-D)
  cases run only with ``GEOMCORE_BENCH_LARGE=1`` in the environment (tens of seconds and
  gigabytes each on a 2-core machine).
* ``VoronoiPipelineSuite``: the steps of ``bench_complex.py`` / ``bench_curvature.py`` on an
  exact ``partition(Voronoi(...))`` of 10k and 100k uniform sites instead of hand-made tables:
  ``laplacians`` (``RiemannianComplex`` nerve, ``B_1``, ``B_2``, cochain ``Delta_0`` and
  ``Delta_1``), ``spline`` (order 2), ``forman``, ``ollivier`` (adjacency complex, 10k only),
  and ``end-to-end``: the partition itself, then the complex, both Laplacians, the Forman
  curvature and the order-2 spline, timed as one call.

Measured by hand (2-core machine shared with other jobs, medians of 3-5 runs; see the report
of issue 11 for the numbers of the day).
"""

import os

import numpy as np

_CASES = {"100k-2d": (100_000, 2), "1M-2d": (1_000_000, 2), "100k-3d": (100_000, 3)}
_LARGE = ("1M-2d", "100k-3d")
_SITES = {"10k": 10_000, "100k": 100_000}


def _sites(n, d, seed=1234):
    return np.random.default_rng(seed).uniform(size=(n, d))


def _reflected(sites):
    out = [sites]
    for k in range(sites.shape[1]):
        for wall in (0.0, 1.0):
            r = sites.copy()
            r[:, k] = 2 * wall - r[:, k]
            out.append(r)
    return np.vstack(out)


def scipy_reflected(sites):
    """scipy's Voronoi of the reflected sites; in 2-D also every original site's area."""
    from scipy.spatial import Voronoi

    n = len(sites)
    vor = Voronoi(_reflected(sites))
    if sites.shape[1] != 2:
        return vor
    regions = [vor.regions[r] for r in vor.point_region[:n]]
    lengths = np.fromiter((len(r) for r in regions), dtype=np.int64, count=n)
    idx = np.fromiter((v for r in regions for v in r), dtype=np.int64, count=int(lengths.sum()))
    ptr = np.r_[0, np.cumsum(lengths)]
    xy = vor.vertices[idx]
    nxt = np.arange(len(idx)) + 1
    nxt[ptr[1:] - 1] = ptr[:-1]
    cross = xy[:, 0] * xy[nxt, 1] - xy[:, 1] * xy[nxt, 0]
    return 0.5 * np.abs(np.add.reduceat(cross, ptr[:-1]))


def geomcore_voronoi(sites):
    from geomcore.partitions import Box, Voronoi, partition

    d = sites.shape[1]
    return partition(Voronoi(sites), Box(np.zeros(d), np.ones(d)))


class VoronoiSuite:
    """Voronoi cells of uniform sites in the unit square / cube. Goal (issue 11): 100k sites
    in 2-D at least 3x faster than scipy's reflected-site Voronoi plus shoelace areas."""

    params = [["geomcore", "scipy"], ["100k-2d", "1M-2d", "100k-3d"]]
    param_names = ["method", "case"]
    timeout = 900

    def setup(self, method, case):
        if case in _LARGE and not os.environ.get("GEOMCORE_BENCH_LARGE"):
            raise NotImplementedError("set GEOMCORE_BENCH_LARGE=1 to run the large cases")
        import geomcore.partitions  # noqa: F401  (import outside the timing)

        self.sites = _sites(*_CASES[case])

    def _run(self, method):
        if method == "geomcore":
            return geomcore_voronoi(self.sites)
        return scipy_reflected(self.sites)

    def time_voronoi(self, method, case):
        self._run(method)

    def peakmem_voronoi(self, method, case):
        self._run(method)

    def track_n_walls(self, method, case):
        if method != "geomcore":
            raise NotImplementedError("walls are geomcore's output only")
        return len(geomcore_voronoi(self.sites).walls)

    track_n_walls.unit = "walls"


def _laplacians(part):
    from geomcore.laplacians import hodge_laplacian
    from geomcore.riemannian import RiemannianComplex

    rc = RiemannianComplex(part)
    rc.complex.boundary_matrix(1)
    rc.complex.boundary_matrix(2)
    return rc, hodge_laplacian(rc, 0), hodge_laplacian(rc, 1)


def _end_to_end(sites, y):
    from geomcore.curvature import forman_ricci
    from geomcore.splines import spline

    part = geomcore_voronoi(sites)
    rc, _, _ = _laplacians(part)
    forman_ricci(rc)
    return spline(rc, y, lam=1.0, order=2)


class VoronoiPipelineSuite:
    """The Laplacian, spline and curvature steps on exact Voronoi partitions of 10k and 100k
    uniform sites (the partition is built in setup, except for ``end-to-end``)."""

    params = [["10k", "100k"], ["laplacians", "spline", "forman", "ollivier", "end-to-end"]]
    param_names = ["n_sites", "step"]
    timeout = 900

    def setup(self, n_sites, step):
        if step == "ollivier" and n_sites == "100k":
            raise NotImplementedError("Ollivier curvature is benchmarked at 10k sites")
        # imports outside the timing
        import geomcore.curvature
        import geomcore.splines  # noqa: F401

        self.sites = _sites(_SITES[n_sites], 2)
        self.y = np.random.default_rng(1234).normal(size=len(self.sites))
        if step == "end-to-end":
            return
        from geomcore.riemannian import RiemannianComplex

        self.part = geomcore_voronoi(self.sites)
        self.y = self.y[self.part.labels]
        if step in ("spline", "forman"):
            self.rc = RiemannianComplex(self.part)
        elif step == "ollivier":
            self.rc = RiemannianComplex(self.part, complex="adjacency", max_dim=1)

    def _run(self, step):
        from geomcore.curvature import forman_ricci, ollivier_ricci
        from geomcore.splines import spline

        if step == "laplacians":
            return _laplacians(self.part)
        if step == "spline":
            return spline(self.rc, self.y, lam=1.0, order=2)
        if step == "forman":
            return forman_ricci(self.rc)
        if step == "ollivier":
            return ollivier_ricci(self.rc, alpha=0.5)
        return _end_to_end(self.sites, self.y)

    def time_step(self, n_sites, step):
        self._run(step)

    def peakmem_step(self, n_sites, step):
        self._run(step)
