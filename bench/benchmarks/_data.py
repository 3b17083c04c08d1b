"""Seeded generators of H-representations used by the benchmarks.

Every generator takes a ``numpy.random.Generator`` and returns plain float64
arrays describing ``A x <= b``; batches also return ``offsets`` such that rows
``offsets[i]:offsets[i + 1]`` of ``A`` and ``b`` are polytope ``i``.  Nothing
here imports geomcore, so the benchmark modules import without it.
"""

import numpy as np
from scipy.spatial import ConvexHull


def _unit_rows(rng, m, d):
    """``m`` unit vectors drawn uniformly on the sphere ``S^(d-1)``."""
    u = rng.standard_normal((m, d))
    return u / np.linalg.norm(u, axis=1, keepdims=True)


def _origin_strictly_inside_hull(points, tol=1e-9):
    """True if 0 lies strictly inside ``conv(points)`` (full-dimensional)."""
    try:
        hull = ConvexHull(points)
    except Exception:  # flat or degenerate point set: cannot contain 0 strictly
        return False
    # qhull facets: normal . x + offset <= 0 inside, so 0 inside <=> offset < 0.
    return bool(np.all(hull.equations[:, -1] < -tol))


def random_polytope(rng, m, d, max_draws=1000):
    """Random polytope made of ``m`` halfspaces tangent to the unit ball.

    Normals ``a_i`` are drawn uniformly on the unit sphere and ``b_i = 1``, so
    the polytope contains the unit ball (the origin is a known interior point).
    ``{x : A x <= 1}`` is bounded exactly when the normals positively span
    ``R^d``, i.e. when the origin is strictly inside ``conv(a_i)``; the normals
    are redrawn from ``rng`` until that holds (for ``m = 20, d = 8`` about one
    draw in five is unbounded).

    Returns
    -------
    A : ndarray, shape (m, d)
    b : ndarray, shape (m,)
    """
    if m <= d:
        raise ValueError(f"need m > d halfspaces for a bounded polytope, got m={m}, d={d}")
    for _ in range(max_draws):
        A = _unit_rows(rng, m, d)
        if _origin_strictly_inside_hull(A):
            return A, np.ones(m)
    raise RuntimeError(f"no bounded polytope after {max_draws} draws (m={m}, d={d})")


def relu_cell(rng, m, d, box=3.0):
    """Cell of a random point in an arrangement of ``m`` random hyperplanes.

    This is the activation region of ``x0`` for one ReLU layer with weights
    ``W ~ N(0, 1)^(m, d)`` and biases ``c ~ N(0, 1)^m``.  Each row is oriented
    so that ``x0 ~ 0.1 N(0, 1)^d`` satisfies it strictly::

        sign = -sign(W x0 - c);  A = sign * W;  b = sign * c   =>  A x0 < b

    and the box ``|x_k| <= box`` (``2 d`` rows, appended last) makes the cell
    bounded.  Most of the ``m`` rows are redundant, as in real networks.

    Returns
    -------
    A : ndarray, shape (m + 2 d, d)
    b : ndarray, shape (m + 2 d,)
    """
    W = rng.standard_normal((m, d))
    c = rng.standard_normal(m)
    x0 = rng.standard_normal(d) * 0.1
    s = W @ x0 - c
    sign = -np.sign(s)
    sign[sign == 0] = 1.0  # measure-zero event; keep the row anyway
    eye = np.eye(d)
    A = np.vstack([sign[:, None] * W, eye, -eye])
    b = np.concatenate([sign * c, np.full(2 * d, float(box))])
    return A, b


def random_cells(rng, n, d, k_max=8, half_side=0.5, r_min=0.05, r_max=0.5,
                 spread=10.0, return_centres=False):
    """Batch of ``n`` small random bounded cells in ``R^d``.

    Cell ``i`` has a centre ``c_i ~ U[-spread, spread]^d`` and

    * ``k_i ~ U{d + 1, ..., k_max}`` halfspaces ``u . (x - c_i) <= r`` with
      ``u`` uniform on the sphere and ``r ~ U[r_min, r_max]``, so every cell
      contains the ball of radius ``r_min`` around its centre;
    * the box ``|x - c_i|_inf <= half_side`` (``2 d`` rows, appended after the
      random ones), so every cell is bounded.

    Returns
    -------
    A : ndarray, shape (N, d)
    b : ndarray, shape (N,)
    offsets : ndarray of int64, shape (n + 1,)
        Rows ``offsets[i]:offsets[i + 1]`` belong to cell ``i``.
    centres : ndarray, shape (n, d)
        Only if ``return_centres``: a known strictly interior point per cell.
    """
    if k_max < d + 1:
        raise ValueError(f"k_max={k_max} must be at least d + 1 = {d + 1}")
    centres = rng.uniform(-spread, spread, size=(n, d))
    k = rng.integers(d + 1, k_max + 1, size=n)
    rows = k + 2 * d
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(rows, out=offsets[1:])
    total = int(offsets[-1])

    owner = np.repeat(np.arange(n), rows)           # cell of each row
    local = np.arange(total) - offsets[owner]       # row index inside its cell
    is_random = local < k[owner]

    A = np.empty((total, d))
    rel = np.empty(total)                           # b - A c_i
    n_rand = int(is_random.sum())
    A[is_random] = _unit_rows(rng, n_rand, d)
    rel[is_random] = rng.uniform(r_min, r_max, size=n_rand)

    # Box rows: local index k_i + j for j in 0 .. 2d-1 -> +e_j then -e_j.
    j = (local - k[owner])[~is_random]
    box = np.vstack([np.eye(d), -np.eye(d)])
    A[~is_random] = box[j]
    rel[~is_random] = half_side

    b = rel + np.einsum("ij,ij->i", A, centres[owner])
    if return_centres:
        return A, b, offsets, centres
    return A, b, offsets


def random_hyperplanes(rng, n, d):
    """n hyperplanes with normal random normals through uniform points of [-0.9, 0.9]^d, as
    (A, b) of ``A[j] . x = b[j]``."""
    A = rng.normal(size=(n, d))
    points = rng.uniform(-0.9, 0.9, size=(n, d))
    return A, np.einsum("ij,ij->i", A, points)
