"""Benchmarks of the complex and its operators (issue 5).

The input is the dual of a Delaunay triangulation of uniform random points in the unit square,
prepared in ``setup`` as the flat tables a 2-D Voronoi partition has: one cell per point, one
wall per Delaunay edge, one hinge per triangle (so the nerve is the Delaunay complex). Wall areas
are the edge lengths and cell volumes the barycentric dual areas: stand-ins with the right
sparsity, since enumerating an exact 100k-cell Voronoi partition is not what is timed here.

``ComplexSuite`` times building the complex and assembling ``B_1``, ``B_2``, ``Delta_0`` and
``Delta_1``:

* ``geomcore``: ``RiemannianComplex`` (nerve from the wall and hinge tables, masses, floors),
  both boundary matrices, both cochain Laplacians with the geometric weights;
* ``toponetx``: ``toponetx.SimplicialComplex`` from the triangles, its incidence matrices and
  Hodge Laplacians (it ignores weights, so this is the unweighted build of the same complex);
* ``scipy-loop``: the plain peer, a Python loop over the triangles filling dictionaries of
  edges, COO boundary matrices, and unweighted Laplacians by scipy products.

geomcore does the weighted build, the peers the unweighted one, so the ratios are conservative.
``ComplexSpectrumSuite`` times the 10 smallest eigenpairs of ``Delta_0`` at 100k cells.

Measured (2-core machine, ``asv run -E existing --quick``, one sample each; geomcore also as
the median of 5 plain runs): 30k walls: geomcore 52 ms (median 33 ms), toponetx 1.64 s,
scipy-loop 58 ms (55 ms); 300k walls: geomcore 687 ms (median 418 ms), toponetx 24.2 s,
scipy-loop 970 ms (755 ms): 35-58x TopoNetX at 300k walls. Peak memory at 300k walls: 315M,
752M, 461M. Spectrum at 100k cells: geomcore 1.41 s (309M), scipy ``eigsh`` 2.11-2.32 s
(369M).
"""

import numpy as np

_POINTS = {"30k": 10_000, "300k": 100_000}


def delaunay_tables(n, seed=1234):
    """Triangles (sorted rows) and a partition-like object with walls and hinges for the dual
    of the Delaunay triangulation of n random points."""
    from types import SimpleNamespace

    from scipy.spatial import Delaunay

    rng = np.random.default_rng(seed)
    pts = rng.uniform(size=(n, 2))
    tri = np.sort(Delaunay(pts).simplices, axis=1).astype(np.int64)
    edges = np.unique(np.vstack([tri[:, [0, 1]], tri[:, [0, 2]], tri[:, [1, 2]]]), axis=0)
    vec = pts[edges[:, 1]] - pts[edges[:, 0]]
    length = np.linalg.norm(vec, axis=1)
    a, b = pts[tri[:, 1]] - pts[tri[:, 0]], pts[tri[:, 2]] - pts[tri[:, 0]]
    area = 0.5 * np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0])
    volumes = np.bincount(tri.ravel(), weights=np.repeat(area / 3, 3), minlength=n)
    walls = SimpleNamespace(cells=edges, areas=length, normals=vec / length[:, None],
                            centroids=(pts[edges[:, 0]] + pts[edges[:, 1]]) / 2)
    hinges = SimpleNamespace(indptr=np.arange(0, 3 * len(tri) + 1, 3), indices=tri.ravel(),
                             angles=np.full(3 * len(tri), np.pi / 3), volumes=np.ones(len(tri)),
                             interior=np.ones(len(tri), bool))
    part = SimpleNamespace(n_cells=n, ndim=2, walls=walls, hinges=hinges, volumes=volumes,
                           centroids=pts, boundary_areas=np.zeros(n))
    return tri, part


def _geomcore(part):
    from geomcore.laplacians import hodge_laplacian
    from geomcore.riemannian import RiemannianComplex

    rc = RiemannianComplex(part)
    rc.complex.boundary_matrix(1)
    rc.complex.boundary_matrix(2)
    return hodge_laplacian(rc, 0), hodge_laplacian(rc, 1)


def _toponetx(tri):
    import toponetx

    sc = toponetx.SimplicialComplex(tri.tolist())
    sc.incidence_matrix(1)
    sc.incidence_matrix(2)
    return sc.hodge_laplacian_matrix(0), sc.hodge_laplacian_matrix(1)


def _scipy_loop(tri, n):
    """The plain peer: Python loops and dictionaries, then scipy sparse products."""
    from scipy import sparse

    edge_index = {}
    b2_rows, b2_cols, b2_vals = [], [], []
    for t, (a, b, c) in enumerate(tri.tolist()):
        for e, sign in (((b, c), 1), ((a, c), -1), ((a, b), 1)):
            i = edge_index.setdefault(e, len(edge_index))
            b2_rows.append(i)
            b2_cols.append(t)
            b2_vals.append(sign)
    b1_rows, b1_cols, b1_vals = [], [], []
    for (a, b), i in edge_index.items():
        b1_rows += [a, b]
        b1_cols += [i, i]
        b1_vals += [-1, 1]
    n1 = len(edge_index)
    B1 = sparse.csr_array((b1_vals, (b1_rows, b1_cols)), shape=(n, n1), dtype=float)
    B2 = sparse.csr_array((b2_vals, (b2_rows, b2_cols)), shape=(n1, len(tri)), dtype=float)
    return B1 @ B1.T, B1.T @ B1 + B2 @ B2.T


class ComplexSuite:
    """Complex + B_1, B_2, Delta_0, Delta_1 for ~30k and ~300k walls. Goals (issue 5): 300k
    walls in under 1 s and at least 20x faster than TopoNetX."""

    params = [["geomcore", "toponetx", "scipy-loop"], ["30k", "300k"]]
    param_names = ["method", "n_walls"]
    timeout = 900

    def setup(self, method, n_walls):
        if method == "toponetx":
            try:
                import toponetx  # noqa: F401
            except ImportError:
                raise NotImplementedError("toponetx is not installed")
        self.n = _POINTS[n_walls]
        self.tri, self.part = delaunay_tables(self.n)

    def _run(self, method):
        if method == "geomcore":
            return _geomcore(self.part)
        if method == "toponetx":
            return _toponetx(self.tri)
        return _scipy_loop(self.tri, self.n)

    def time_assemble(self, method, n_walls):
        self._run(method)

    def peakmem_assemble(self, method, n_walls):
        self._run(method)

    def track_n_walls(self, method, n_walls):
        return len(self.part.walls.cells)

    track_n_walls.unit = "walls"


class ComplexSpectrumSuite:
    """The 10 smallest eigenpairs of Delta_0 (symmetric form) at 100k cells: geomcore's
    ``smallest_eigenpairs`` (one symmetric-ordered factorisation, shift-invert ARPACK, complete
    eigenspaces) against scipy's ``eigsh(sigma=...)`` with its default factorisation on the
    same matrix. The operator is built in setup."""

    params = [["geomcore", "scipy"]]
    param_names = ["method"]
    timeout = 600

    def setup(self, method):
        from geomcore.laplacians import hodge_laplacian
        from geomcore.riemannian import RiemannianComplex

        _, part = delaunay_tables(100_000)
        self.rc = RiemannianComplex(part, max_dim=1)
        self.A = hodge_laplacian(self.rc, 0, symmetric=True)

    def _run(self, method):
        if method == "geomcore":
            from geomcore.laplacians import smallest_eigenpairs

            return smallest_eigenpairs(self.rc, 0, n=10)
        from scipy.sparse.linalg import eigsh

        sigma = -1e-6 * float(abs(self.A.diagonal()).max())
        return eigsh(self.A.tocsc(), k=10, sigma=sigma, which="LM",
                     v0=np.random.default_rng(0).standard_normal(self.A.shape[0]))

    def time_smallest_eigenpairs(self, method):
        self._run(method)

    def peakmem_smallest_eigenpairs(self, method):
        self._run(method)
