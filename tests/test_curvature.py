"""Tests of geomcore.curvature: closed forms on known graphs, references, error paths."""

import numpy as np
import pytest

from geomcore import Arrangement, Box, Voronoi, partition
from geomcore._reference import curvature as ref
from geomcore.curvature import (
    _ollivier_graph,
    _w1_linprog,
    angle_defects,
    forman_ricci,
    ollivier_ricci,
    vertex_curvature,
)
from geomcore.errors import InvalidInputError
from geomcore.laplacians import hodge_laplacian
from geomcore.riemannian import RiemannianComplex


def grid(k, ndim=2):
    """k^ndim equal boxes of the unit cube (axis-line arrangement)."""
    t = np.arange(1, k) / k
    A = np.kron(np.eye(ndim), np.ones((k - 1, 1)))
    return partition(Arrangement(A, np.tile(t, ndim)), Box(np.zeros(ndim), np.ones(ndim)))


@pytest.fixture(scope="module")
def voronoi_rc():
    rng = np.random.default_rng(7)
    part = partition(Voronoi(rng.uniform(size=(14, 2))), Box([0, 0], [1, 1]))
    X = rng.uniform(size=(200, 2)) ** 1.5
    return RiemannianComplex(part, X=X, measure="mixed", alpha=0.3)


def _complete(n):
    return np.array([(i, j) for i in range(n) for j in range(i + 1, n)])


def _cycle(n):
    return np.sort(np.array([(i, (i + 1) % n) for i in range(n)]), axis=1)


@pytest.mark.parametrize("n", [3, 4, 7])
@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 0.9])
def test_ollivier_complete_graph(n, alpha):
    # K_n, unit lengths and weights, uniform mu: m_x = alpha at x, b = (1-alpha)/(n-1) on each
    # other vertex. m_x and m_y agree on the n-2 other vertices; m_x - m_y = (alpha - b) at x and
    # (b - alpha) at y, so W1 = |alpha - b| * d(x, y) = |alpha - b| (it is attained by moving the
    # excess along the edge, and f = 1 at x, 0 elsewhere (or its negative) is 1-Lipschitz and
    # certifies it by duality). kappa = 1 - |alpha - (1 - alpha)/(n - 1)|.
    e = _complete(n)
    k = _ollivier_graph(n, e, np.ones(len(e)), np.ones(n), np.ones(len(e)), alpha)
    np.testing.assert_allclose(k, 1 - abs(alpha - (1 - alpha) / (n - 1)), atol=1e-12)


@pytest.mark.parametrize("n", [6, 9])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.8])
def test_ollivier_long_cycle_is_flat(n, alpha):
    # C_n, n >= 6: the supports of m_x, m_{x+1} (x-1..x+2) lie on a geodesic segment (going
    # around is >= n - 3 >= 3), and m_{x+1} is m_x translated by one step, so W1 = 1 (the
    # translation coupling; f = position along the segment certifies it) and kappa = 0.
    e = _cycle(n)
    k = _ollivier_graph(n, e, np.ones(n), np.ones(n), np.ones(n), alpha)
    np.testing.assert_allclose(k, 0.0, atol=1e-12)


@pytest.mark.parametrize("alpha", [1 / 3, 0.5, 0.75])
def test_ollivier_four_cycle(alpha):
    # C_4, edge (0, 1), b = (1-alpha)/2: m_0 - m_1 = (alpha - b) at 0, (b - alpha) at 1, b at 3,
    # -b at 2. Moving alpha - b along 0->1 and b along 3->2 costs alpha; f = 1 on {0, 3}, 0 on
    # {1, 2} is 1-Lipschitz with sum f (m_0 - m_1) = alpha. So kappa = 1 - alpha (alpha >= b).
    e = _cycle(4)
    k = _ollivier_graph(4, e, np.ones(4), np.ones(4), np.ones(4), alpha)
    np.testing.assert_allclose(k, 1 - alpha, atol=1e-12)


def test_ollivier_lp_fallback_matches_pot():
    rng = np.random.default_rng(3)
    e = _complete(6)[rng.uniform(size=15) < 0.7]
    e = np.vstack([e, _cycle(6)])
    e = np.unique(e, axis=0)
    w, mu, L = rng.uniform(0.5, 2, len(e)), rng.uniform(0.5, 2, 6), rng.uniform(0.5, 2, len(e))
    a = _ollivier_graph(6, e, w, mu, L, 0.4)
    b = _ollivier_graph(6, e, w, mu, L, 0.4, solver=_w1_linprog)
    c = ref.ollivier_graph(6, e, w, mu, L, 0.4)
    np.testing.assert_allclose(a, b, atol=1e-9)
    np.testing.assert_allclose(a, c, atol=1e-7)


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_ollivier_ricci_grid_interior_is_zero(alpha):
    # Uniform grid: equal masses and wall lengths, ground metric h * (Manhattan distance). For a
    # wall whose two cells both have 4 neighbours, m_j is m_i translated by one cell: W1 = h.
    part = grid(6)
    rc = RiemannianComplex(part)
    k = ollivier_ricci(rc, alpha=alpha)
    deg = np.bincount(part.walls.cells.ravel(), minlength=part.n_cells)
    inner = (deg[part.walls.cells] == 4).all(axis=1)
    assert inner.sum() == 2 * 3 * 4          # 4x4 interior cells: 24 walls between them
    np.testing.assert_allclose(k[inner], 0.0, atol=1e-12)


def test_ollivier_ricci_matches_lp_reference(voronoi_rc):
    k = ollivier_ricci(voronoi_rc, alpha=0.3)
    np.testing.assert_allclose(k, ref.ollivier_ricci(voronoi_rc, alpha=0.3), atol=1e-7)
    assert k.shape == (len(voronoi_rc.partition.walls),)


def test_ollivier_ricci_uses_data_means():
    part = grid(3)
    X = np.random.default_rng(0).uniform(size=(90, 2)) ** 2
    rc_x, rc = RiemannianComplex(part, X=X), RiemannianComplex(part)
    np.testing.assert_allclose(ollivier_ricci(rc_x), ref.ollivier_ricci(rc_x), atol=1e-7)
    assert not np.allclose(ollivier_ricci(rc_x), ollivier_ricci(rc))


def test_forman_ricci_matches_loop_reference(voronoi_rc):
    np.testing.assert_allclose(forman_ricci(voronoi_rc), ref.forman_ricci(voronoi_rc), rtol=1e-12,
                               atol=1e-14)


def test_forman_ricci_grid_closed_form():
    # uniform w and mu: F(e) = w (2 mu/w - (deg_i - 1 + deg_j - 1) mu/w) = mu (4 - deg_i - deg_j)
    part = grid(5)
    rc = RiemannianComplex(part)
    deg = np.bincount(part.walls.cells.ravel(), minlength=part.n_cells)
    expect = (1 / 25) * (4 - deg[part.walls.cells].sum(axis=1))
    np.testing.assert_allclose(forman_ricci(rc), expect, atol=1e-14)


def test_vertex_curvature_is_mean_of_walls(voronoi_rc):
    part = voronoi_rc.partition
    for kind, fn in (("forman", forman_ricci), ("ollivier", ollivier_ricci)):
        e = fn(voronoi_rc)
        v = vertex_curvature(voronoi_rc, kind=kind)
        for c in range(part.n_cells):
            mine = (part.walls.cells == c).any(axis=1)
            assert v[c] == pytest.approx(e[mine].mean(), abs=1e-12)


def _density_loop(rc):
    """K_i of SPEC 9, by loops over walls, with L from hodge_laplacian (adjacency, volume)."""
    part = rc.partition
    d, n = part.ndim, part.n_cells
    rho = (rc.counts + 1) / (rc.n_points * part.volumes)
    u = np.log(rho) / d
    Lu = hodge_laplacian(rc, 0, conductance="area/distance") @ u
    g2 = np.zeros(n)
    for (i, j), a in zip(part.walls.cells, part.walls.areas):
        dist = np.linalg.norm(part.centroids[i] - part.centroids[j])
        g2[i] += a / dist * (u[j] - u[i]) ** 2
        g2[j] += a / dist * (u[j] - u[i]) ** 2
    g2 /= 2 * part.volumes
    return np.exp(-2 * u) * (2 * (d - 1) * Lu - (d - 1) * (d - 2) * g2)


@pytest.mark.parametrize("ndim", [2, 3])
def test_density_curvature_matches_dense_formula(ndim):
    part = grid(3, ndim)
    X = np.random.default_rng(ndim).uniform(size=(300, ndim)) ** 2
    rc = RiemannianComplex(part, complex="adjacency", X=X)
    np.testing.assert_allclose(vertex_curvature(rc, kind="density"), _density_loop(rc),
                               rtol=1e-10, atol=1e-10)


def test_density_curvature_uniform_and_linear_grid():
    part = grid(6)
    col = np.floor(part.centroids[:, 0] * 6).astype(int)
    # uniform density: u constant, K = 0 everywhere
    X = np.repeat(part.centroids, 3, axis=0)
    rc = RiemannianComplex(part, X=X)
    np.testing.assert_allclose(vertex_curvature(rc, kind="density"), 0.0, atol=1e-12)
    # counts + 1 = 2^col: u = col log(2) / 2 is linear in x; the finite-volume Laplacian of a
    # linear function vanishes at interior columns, and in 2-D there is no |grad u|^2 term
    X = np.repeat(part.centroids, 2 ** col - 1, axis=0)
    rc = RiemannianComplex(part, X=X)
    K = vertex_curvature(rc, kind="density")
    inner = (col > 0) & (col < 5)
    np.testing.assert_allclose(K[inner], 0.0, atol=1e-10)
    assert (K[col == 0] < 0).all() and (K[col == 5] > 0).all()


def test_angle_defects():
    part = grid(4)
    d = angle_defects(part)
    assert d.shape == (len(part.hinges),)
    np.testing.assert_allclose(d[part.hinges.interior], 0.0, atol=1e-12)
    rng = np.random.default_rng(1)
    vor = partition(Voronoi(rng.uniform(size=(20, 2))), Box([0, 0], [1, 1]))
    dv = angle_defects(vor)
    np.testing.assert_allclose(dv[vor.hinges.interior], 0.0, atol=1e-9)
    # on a flat boundary side the cells' angles sum to pi
    np.testing.assert_allclose(dv[~vor.hinges.interior], np.pi, atol=1e-9)


def test_curvature_errors(voronoi_rc):
    with pytest.raises(InvalidInputError, match=r"alpha must be a number in \[0, 1\]; got 1.5"):
        ollivier_ricci(voronoi_rc, alpha=1.5)
    with pytest.raises(InvalidInputError, match="alpha must be"):
        ollivier_ricci(voronoi_rc, alpha=-0.1)
    with pytest.raises(InvalidInputError, match="alpha must be"):
        vertex_curvature(voronoi_rc, alpha=np.nan)
    with pytest.raises(InvalidInputError, match="rc must be a geomcore.RiemannianComplex; got list"):
        forman_ricci([1, 2])
    with pytest.raises(InvalidInputError, match="kind must be one of"):
        vertex_curvature(voronoi_rc, kind="scalar")
    with pytest.raises(InvalidInputError, match='kind="density" needs data'):
        vertex_curvature(RiemannianComplex(grid(2)), kind="density")
    with pytest.raises(InvalidInputError, match="partition"):
        angle_defects("not a partition")


def test_docstring_examples():
    import doctest

    import geomcore.curvature

    result = doctest.testmod(geomcore.curvature, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8 and result.failed == 0


def test_ollivier_small_blocks_agree(voronoi_rc, monkeypatch):
    # tiny Dijkstra budgets force the block halving and many subgraphs: same curvature
    import geomcore.curvature as gc

    full = ollivier_ricci(voronoi_rc, alpha=0.3)
    monkeypatch.setattr(gc, "_SOURCE_BLOCK", 4)
    monkeypatch.setattr(gc, "_DIJKSTRA_BLOCK", 10)
    np.testing.assert_allclose(ollivier_ricci(voronoi_rc, alpha=0.3), full, atol=1e-13)


def test_ollivier_matches_graphricci_on_grid():
    # an independent tool: GraphRicciCurvature's exact OTD with exp_power=0 (uniform neighbour
    # measure = geomcore's on a uniform grid), same graph and edge lengths
    OllivierRicci = pytest.importorskip("GraphRicciCurvature.OllivierRicci").OllivierRicci
    import networkx as nx

    part = grid(5)
    rc = RiemannianComplex(part)
    c = part.centroids
    cells = part.walls.cells
    G = nx.Graph()
    G.add_weighted_edges_from((int(a), int(b), float(np.linalg.norm(c[a] - c[b]))) for a, b in cells)
    r = OllivierRicci(G, alpha=0.5, method="OTD", exp_power=0, proc=1,
                      verbose="ERROR").compute_ricci_curvature_edges()
    theirs = np.array([r[(int(a), int(b))] if (int(a), int(b)) in r else r[(int(b), int(a))]
                       for a, b in cells])
    np.testing.assert_allclose(ollivier_ricci(rc, alpha=0.5), theirs, atol=1e-9)
