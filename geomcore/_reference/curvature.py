"""Plain reference implementations of the edge curvatures (slow, obviously correct, for tests).

``forman_ricci`` loops over walls and their neighbouring walls; ``ollivier_ricci`` solves W1 in
its Kantorovich-Rubinstein dual form, ``max sum_v f(v) (m_i(v) - m_j(v))`` subject to
``|f(u) - f(v)| <= len(u, v)`` on every graph edge (1-Lipschitz for the shortest-path metric),
by ``scipy.optimize.linprog``: no shortest paths and no transport plan, independent of the
primal solver of :mod:`geomcore.curvature`.
"""

import numpy as np
from scipy.optimize import linprog

__all__ = ["forman_graph", "forman_ricci", "ollivier_graph", "ollivier_ricci"]


def forman_graph(n, edges, weights, mu):
    """Forman curvature of each edge by a double loop (SPEC 9)."""
    edges = [tuple(map(int, e)) for e in edges]
    out = []
    for e, (i, j) in enumerate(edges):
        we = float(weights[e])
        s = mu[i] / we + mu[j] / we
        for f, (a, b) in enumerate(edges):
            if f == e:
                continue
            if i in (a, b):
                s -= mu[i] / np.sqrt(we * weights[f])
            if j in (a, b):
                s -= mu[j] / np.sqrt(we * weights[f])
        out.append(we * s)
    return np.array(out)


def _measure(n, edges, weights, mu, alpha, x):
    m = np.zeros(n)
    m[x] = alpha
    nb = [(b if a == x else a, weights[k]) for k, (a, b) in enumerate(edges) if x in (a, b)]
    tot = sum(w * mu[v] for v, w in nb)
    for v, w in nb:
        m[v] += (1 - alpha) * w * mu[v] / tot
    return m


def _w1_dual(n, edges, lengths, a, b):
    c = -(a - b)                       # maximise sum f (a - b)
    rows = []
    rhs = []
    for k, (u, v) in enumerate(edges):
        for s in (1, -1):
            r = np.zeros(n)
            r[u], r[v] = s, -s
            rows.append(r)
            rhs.append(lengths[k])
    res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=[(None, None)] * n,
                  method="highs")
    return -res.fun


def _shortest(n, edges, lengths, s, t):
    d = np.full(n, np.inf)
    d[s] = 0.0
    for _ in range(n):                 # Bellman-Ford
        for k, (u, v) in enumerate(edges):
            d[v] = min(d[v], d[u] + lengths[k])
            d[u] = min(d[u], d[v] + lengths[k])
    return d[t]


def ollivier_graph(n, edges, weights, mu, lengths, alpha):
    """Ollivier curvature of each edge, W1 by the dual LP (SPEC 9)."""
    edges = [tuple(map(int, e)) for e in edges]
    out = []
    for i, j in edges:
        a = _measure(n, edges, weights, mu, alpha, i)
        b = _measure(n, edges, weights, mu, alpha, j)
        out.append(1 - _w1_dual(n, edges, lengths, a, b) / _shortest(n, edges, lengths, i, j))
    return np.array(out)


def _centres(rc):
    return np.asarray(rc.data_means if rc.data_means is not None else rc.partition.centroids)


def forman_ricci(rc):
    """Reference of :func:`geomcore.curvature.forman_ricci`."""
    w = rc.partition.walls
    return forman_graph(rc.partition.n_cells, w.cells, np.asarray(w.areas), rc.masses(0))


def ollivier_ricci(rc, *, alpha=0.5):
    """Reference of :func:`geomcore.curvature.ollivier_ricci`."""
    w = rc.partition.walls
    c = _centres(rc)
    lengths = [float(np.linalg.norm(c[i] - c[j])) for i, j in w.cells]
    return ollivier_graph(rc.partition.n_cells, w.cells, np.asarray(w.areas), rc.masses(0),
                          lengths, alpha)
