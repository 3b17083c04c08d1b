"""Per-cell work of :func:`geomcore.datacells.data_cells`: halfspaces, Chebyshev balls, facets
and walls of one activation pattern at a time.

Every function here is a pure function of (network, patterns, domain rows) so that the same
code runs in a local thread pool or on dask workers and gives bit-identical results: each
cell is computed on its own, never batched with other cells.
"""

import numpy as np
from scipy.optimize import linprog

try:                    # the compiled walk; the NumPy _Walker.maximise is the reference
    from geomcore._kernels._datacells import walk_row as _walk_row
except ImportError:     # pragma: no cover - a build without the extension
    _walk_row = None

__all__ = ["cell_halfspaces", "cell_geometry", "geometry_chunk", "wall_chunk",
           "exact_wall_point", "RAY_GAP", "LP_TOL", "FLAT_TOL"]

# A ray certifies the first row it hits when the second hit is farther by this relative gap.
RAY_GAP = 1e-9
# An LP decides "row j is a facet" when max a_j.x over the other rows exceeds b_j by more than
# LP_TOL * scale (rows scaled to unit normals; scale = max(1, extent of the domain)).
LP_TOL = 1e-7
# Simplex pivots per row of the cell allowed to the NumPy walks before HiGHS takes over.
WALK_PIVOTS = 16
# With at most this many rows undecided after the rays, HiGHS decides them directly.
WALK_MIN = 8
# A Chebyshev (or wall) radius at most FLAT_TOL * scale counts as zero.
FLAT_TOL = 1e-9


def cell_halfspaces(net, pattern, dom_A, dom_b):
    """Rows ``A x <= b`` of the closed cell of `pattern`: one per hidden neuron (its
    pre-activation pulled back through the cell, oriented by the bit), then the domain rows.

    The pulled-back rows are composed cell by cell as ``W_l @ (D_{l-1} Z_{l-1})`` from the
    first layer's rows ``W_1, b_1``, the same products :meth:`ReLUNetwork.cell_rows` forms.
    """
    Z, v = net.weights[0], net.biases[0]
    rows, consts, start = [Z], [v], 0
    hidden = list(zip(net.weights[:-1], net.biases[:-1]))
    for l in range(1, len(hidden)):
        n_prev = hidden[l - 1][0].shape[0]
        D = np.where(pattern[start:start + n_prev], 1.0, net.negative_slope)
        start += n_prev
        W, b = hidden[l]
        Z = W @ (D[:, None] * Z)
        v = W @ (D * v) + b
        rows.append(Z)
        consts.append(v)
    if len(hidden):
        Zall, vall = np.vstack(rows), np.concatenate(consts)
    else:
        Zall, vall = np.zeros((0, net.ndim)), np.zeros(0)
    sign = np.where(pattern, -1.0, 1.0)          # active: -z <= 0, inactive: z <= 0
    A = np.vstack([sign[:, None] * Zall, dom_A])
    b = np.concatenate([-sign * vall, dom_b])
    return A, b


def _chebyshev(A, b):
    """Chebyshev centre and radius of {A x <= b}, rows of unit norm (HiGHS)."""
    m, d = A.shape
    res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[A, np.ones(m)], b_ub=b,
                  bounds=[(None, None)] * d + [(0, None)], method="highs-ipm")
    if res.status != 0:
        return np.full(d, np.nan), 0.0
    return res.x[:d], float(res.x[d])


def _first_hits(slack, H):
    """For rays with row speeds H (m, q) from a point with row slacks `slack` (m,): the row
    each ray hits first, and whether it is certified (hit strictly first, by RAY_GAP)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        T = np.where(H > 0, slack[:, None] / np.where(H > 0, H, 1.0), np.inf)
    if T.shape[0] < 2:
        return np.argmin(T, axis=0), np.isfinite(T.min(axis=0))
    two = np.partition(T, 1, axis=0)
    first = np.argmin(T, axis=0)
    ok = np.isfinite(two[0]) & (two[0] < two[1] * (1.0 - RAY_GAP))
    return first, ok


def _normal_speeds(A, axes):
    """A @ A.T, with the columns of axis rows (+-e_i: axes[j] = (i, sign), i = -1 for other
    rows) read off A's columns instead of multiplied."""
    if axes is None:
        return A @ A.T
    ax, sg = axes
    H = np.empty((A.shape[0], A.shape[0]))
    gen = ax < 0
    if gen.any():
        H[:, gen] = A @ A[gen].T
    box = ~gen
    H[:, box] = A[:, ax[box]] * sg[box]
    return H


def _certify_by_rays(A, slack, status, axes=None):
    """Rays from the Chebyshev centre: the normal of every row, then whitened normals of the
    polar points (row j is a facet iff some direction u has a_j.u / s_j > a_k.u / s_k for
    every other row k)."""
    P = A / slack[:, None]                     # polar points of the cell around its centre
    first, ok = _first_hits(slack, _normal_speeds(A, axes))
    status[first[ok]] = 1
    if (status == 0).sum() <= WALK_MIN:       # HiGHS takes so few directly
        return
    mu = P.mean(axis=0)
    Zc = P - mu
    C = Zc.T @ Zc / len(P)
    tr = np.trace(C) / C.shape[0] + 1e-300
    for lam in (1e-3, 1e-1):
        todo = np.flatnonzero(status == 0)
        if todo.size <= WALK_MIN:                  # HiGHS takes so few directly
            return
        U = np.linalg.solve(C + lam * tr * np.eye(C.shape[0]), Zc[todo].T)
        first, ok = _first_hits(slack, A @ U)
        status[first[ok]] = 1


def _lp_is_facet(A, b, j, tol):
    """max a_j.x over the other rows (row j relaxed by 1): > b_j + tol means a facet."""
    bj = b.copy()
    bj[j] += 1.0
    res = linprog(-A[j], A_ub=A, b_ub=bj, bounds=[(None, None)] * A.shape[1],
                  method="highs")
    if res.status != 0:
        return True, None
    return -res.fun > b[j] + tol, res.x


def _ray_certifies(A, slack, c, y, k):
    """Whether the ray from the centre c towards y hits row k strictly first."""
    first, ok = _first_hits(slack, (A @ (y - c))[:, None])
    return bool(ok[0] and first[0] == k)


class _Walker:
    """Dense primal simplex over the cell's own rows, in NumPy, for facet discovery.

    The state is a vertex v with d tight rows B and the inverse of A_B. Each pivot moves
    along an edge (one row of B leaves) to the first row it meets (which enters). A row that
    enters at a simple vertex is tested by a ray from the centre towards a point just outside
    it only (:func:`_ray_certifies`); a row a walk maximises without ever reaching is
    redundant when the final vertex is optimal for it (reduced costs >= 0) and below it by
    more than the tolerance. Anything unclear is left undecided for HiGHS.
    """

    def __init__(self, A, b, c, slack, status, tol):
        self.A, self.b, self.c, self.slack, self.status, self.tol = A, b, c, slack, status, tol
        self.m, self.d = A.shape
        self.B = None
        self.pivots = 0
        self.compiled = True

    def crash(self, g):
        """A vertex from the centre: move along g projected off the rows met so far."""
        A, d = self.A, self.d
        x = self.c.copy()
        gap = self.slack.copy()
        tight = np.zeros(d, np.int64)
        Q = np.zeros((d, d))
        rng = np.random.default_rng(0)
        for n in range(d):
            Qn = Q[:, :n]
            u = g - Qn @ (Qn.T @ g)
            if np.linalg.norm(u) < 1e-9 * max(np.linalg.norm(g), 1e-300):
                g = rng.standard_normal(d)
                u = g - Qn @ (Qn.T @ g)
            rate = A @ u
            rate[tight[:n]] = 0.0
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(rate > 1e-14 * np.abs(rate).max(), np.maximum(gap, 0.0) / rate,
                             np.inf)
            k = int(np.argmin(t))
            if not np.isfinite(t[k]):
                return False
            x = x + t[k] * u
            gap = gap - t[k] * rate
            gap[k] = 0.0
            tight[n] = k
            q = A[k] - Qn @ (Qn.T @ A[k])
            nq = np.linalg.norm(q)
            if nq < 1e-12:
                return False
            Q[:, n] = q / nq
        return self._set_basis(tight)

    def _set_basis(self, B):
        try:
            Binv = np.linalg.inv(self.A[B])
        except np.linalg.LinAlgError:
            return False
        if not np.isfinite(Binv).all():
            return False
        self.B, self.Binv = np.ascontiguousarray(B, np.int64), np.ascontiguousarray(Binv)
        self.v = Binv @ self.b[B]
        self.gap = self.b - self.A @ self.v
        self.since = 0
        return True

    def expand(self, B):
        """Certify the rows met along every edge of the vertex with basis B (one matrix
        product for all d edges), and the undecided rows that vertex maximises. Returns the
        bases of the neighbours reached through a row certified here."""
        if not self._set_basis(B):
            return []
        A, status, d = self.A, self.status, self.d
        E = -self.Binv
        R = A @ E                                       # (m, d) rates of every row on every edge
        R[self.B, :] = 0.0
        scale = np.abs(R).max(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            T = np.where(R > 1e-12 * scale, np.maximum(self.gap, 0.0)[:, None] / R, np.inf)
        two = np.partition(T, 1, axis=0)
        k = np.argmin(T, axis=0)
        t1, t2 = two[0], two[1]
        good = np.isfinite(t1) & (t1 > 0) & (t2 > t1 * (1 + 1e-6))
        self.pivots += 1
        out = []
        if good.any():
            cols = np.flatnonzero(good)
            step = t1[cols] + np.minimum(1e-3 * t1[cols], 0.5 * (t2[cols] - t1[cols]))
            Y = self.v[:, None] + E[:, cols] * step[None, :]
            first, ok = _first_hits(self.slack, A @ (Y - self.c[:, None]))
            new = ok & (first == k[cols]) & (status[k[cols]] == 0)
            status[k[cols][new]] = 1
            for i in cols[new]:
                nb = self.B.copy()
                nb[i] = k[i]
                out.append(nb)
        self.certify_redundant()
        return out

    def maximise(self, j, max_pivots):
        """Walk towards max a_j.x. Returns 1 (j entered: certified facet), -1 (optimal below
        b_j: redundant), 0 (undecided)."""
        A, status, tol = self.A, self.status, self.tol
        if _walk_row is not None and self.compiled:
            used = 0
            while True:
                code, p, self.since = _walk_row(A, self.c, self.slack, status, self.Binv, self.B,
                                                self.v, self.gap, int(j), max_pivots - used,
                                                tol, self.since)
                self.pivots += p
                used += p
                if code != 2:
                    return code
                if used >= max_pivots or not self._set_basis(self.B):
                    return 0
        if j in self.B:
            self._certify(j, int(np.flatnonzero(self.B == j)[0]))
            return 1 if status[j] == 1 else 0
        aj = A[j]
        for _ in range(max_pivots):
            Binv = self.Binv
            lam = aj @ Binv                            # a_j = A_B^T lam
            score = lam / np.sqrt(np.einsum("ij,ij->j", Binv, Binv))
            i = int(np.argmin(score))
            if lam[i] >= -1e-12 * np.abs(lam).max():
                return -1 if self.gap[j] > tol else 0
            e = -Binv[:, i]
            rate = A @ e
            rb = rate[self.B]
            rate[self.B] = 0.0
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(rate > 1e-12 * np.abs(rate).max(), self.gap / rate, np.inf)
            k = int(np.argmin(t))
            tk = t[k]
            if not np.isfinite(tk):
                return 0
            t[k] = np.inf
            simple = tk > 0 and t.min() > tk * (1 + 1e-6)
            tk = max(tk, 0.0)
            self.pivots += 1
            old = self.B[i]
            self.B[i] = k
            self.since += 1
            w = A[k] - A[old]
            Bi = Binv[:, i]
            den = 1.0 + w @ Bi
            if self.since > 40 or abs(den) < 1e-8:
                if not self._set_basis(self.B):
                    return 0
            else:                                      # row i of A_B := a_k (Sherman-Morrison)
                self.Binv = Binv - np.outer(Bi, w @ Binv) / den
                self.v = self.v + tk * e
                rate[self.B] = 0.0
                rate[old] = rb[i]
                self.gap = self.gap - tk * rate
                self.gap[self.B] = 0.0
            if simple and status[k] == 0:
                self._certify(k, i)
            if k == j:
                return 1 if status[j] == 1 else 0
        return 0

    def _certify(self, k, pos):
        """Row k, tight at the (simple) current vertex in basis position pos: a ray from the
        centre to a point outside row k only."""
        d = self.d
        nonb = np.ones(self.m, bool)
        nonb[self.B] = False
        eps = 1e-3 * max(float(self.gap[nonb].min(initial=1.0)), 1e-12)
        w = np.full(d, -eps)
        w[pos] = eps
        y = self.v + self.Binv @ w
        if _ray_certifies(self.A, self.slack, self.c, y, k):
            self.status[k] = 1

    def certify_redundant(self):
        """Undecided rows maximised at the current vertex and below it: redundant."""
        und = np.flatnonzero(self.status == 0)
        if not und.size:
            return
        lam = self.Binv.T @ self.A[und].T
        ok = (lam >= -1e-12 * np.maximum(np.abs(lam).max(axis=0), 1e-300)).all(axis=0)
        ok &= self.gap[und] > self.tol
        self.status[und[ok]] = -1


def cell_geometry(net, pattern, dom_A, dom_b, box, scale):
    """Facets (row indices into :func:`cell_halfspaces`), Chebyshev centre, radius and the
    number of LPs solved for one cell. A flat cell (radius <= FLAT_TOL * scale) has no
    facets."""
    A_raw, b_raw = cell_halfspaces(net, pattern, dom_A, dom_b)
    m, d = A_raw.shape
    norm = np.linalg.norm(A_raw, axis=1)
    live = np.flatnonzero(norm > 0)                  # a zero row 0 <= b is never a facet
    A, b = A_raw[live] / norm[live, None], b_raw[live] / norm[live]
    # bit-identical scaled rows are one halfspace: keep the first copy
    _, first = np.unique(np.c_[A, b], axis=0, return_index=True)
    first.sort()
    live, A, b = live[first], A[first], b[first]
    c, r = _chebyshev(A, b)
    if not r > FLAT_TOL * scale:
        return np.zeros(0, np.int64), c, max(r, 0.0), 1, True
    slack = b - A @ c
    status = np.zeros(len(A), np.int8)            # 1 facet, -1 redundant, 0 undecided
    if box is not None:                           # redundant already for the domain box
        lo, hi = box
        top = np.maximum(A * lo, A * hi).sum(axis=1)
        status[top < b - LP_TOL * scale] = -1
    axes = None
    if box is not None:                            # the box rows are +-e_i: no products
        n_hid = m - len(dom_b)
        ax = np.full(len(A), -1, np.int64)
        sg = np.zeros(len(A))
        k = live - n_hid
        isb = k >= 0
        ax[isb] = k[isb] % d
        sg[isb] = np.where(k[isb] < d, 1.0, -1.0)
        axes = (ax, sg)
    _certify_by_rays(A, slack, status, axes)
    n_lp = 1
    todo = np.flatnonzero(status == 0)
    walker = _Walker(A, b, c, slack, status, LP_TOL * scale)
    # the crash costs d ray steps: for few undecided rows in high dimension HiGHS is cheaper
    if todo.size > max(WALK_MIN, d // 4) and walker.crash(A[todo[0]]):
        # walks of the simplex towards each undecided row, from where the last one stopped
        budget = WALK_PIVOTS * len(A)
        skipped = np.zeros(len(A), bool)
        if (status == 0).any():
            while walker.pivots < budget:
                todo = np.flatnonzero((status == 0) & ~skipped)
                if not todo.size:
                    break
                j = todo[np.argmin(walker.gap[todo])]   # the undecided row nearest the vertex
                out = walker.maximise(j, 4 * d)
                if out == -1:                 # an optimal vertex: others may be optimal there
                    status[j] = -1
                    walker.certify_redundant()
                skipped[j] = status[j] == 0
    for j in np.flatnonzero(status == 0):
        if status[j] != 0:
            continue
        facet, x = _lp_is_facet(A, b, j, LP_TOL * scale)
        n_lp += 1
        status[j] = 1 if facet else -1
    return live[status == 1].astype(np.int64), c, r, n_lp, False


def geometry_chunk(net, patterns, dom_A, dom_b, box, scale):
    """cell_geometry for each row of `patterns`; lists of facets, centres, radii, LP counts,
    flat flags."""
    out = [cell_geometry(net, p, dom_A, dom_b, box, scale) for p in patterns]
    return [list(t) for t in zip(*out)] if out else [[], [], [], [], []]


# ---------------------------------------------------------------------------------------------
# walls


def _wall_ball(A, b, g):
    """Chebyshev ball of the facet {a_g.x = b_g} of {A x <= b} within its hyperplane: centre
    and radius (rows of unit norm)."""
    m, d = A.shape
    a = A[g]
    others = np.r_[0:g, g + 1:m]
    Ao = A[others]
    proj = np.linalg.norm(Ao - np.outer(Ao @ a, a), axis=1)
    res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[Ao, proj], b_ub=b[others],
                  A_eq=np.r_[a, 0.0][None, :], b_eq=[b[g]],
                  bounds=[(None, None)] * d + [(0, None)], method="highs")
    if res.status != 0:
        return None, 0.0
    return res.x[:d], float(res.x[d])


def wall_chunk(net, pattern_pairs, neurons, dom_A, dom_b, scale):
    """For each candidate pair (cells i, j differing in neuron g): the radius of the shared
    wall's Chebyshev ball within g's hyperplane (LP over both cells' rows) and whether the
    exact test at its centre passes (see exact_wall_point)."""
    radii, exact = [], []
    ex = _exact_network(net) if len(neurons) else None
    for (pi, pj), g in zip(pattern_pairs, neurons):
        Ai, bi = cell_halfspaces(net, pi, dom_A, dom_b)
        Aj, bj = cell_halfspaces(net, pj, dom_A, dom_b)
        keep = np.r_[0:g, g + 1:len(bi)]
        A = np.vstack([Ai[g][None, :], Ai[keep], Aj[keep]])
        b = np.r_[bi[g], bi[keep], bj[keep]]
        norm = np.linalg.norm(A, axis=1)
        if norm[0] == 0:
            radii.append(0.0)
            exact.append(False)
            continue
        live = norm > 0
        live[0] = True
        A, b = A[live] / norm[live, None], b[live] / norm[live]
        x, r = _wall_ball(A, b, 0)
        ok = r > FLAT_TOL * scale
        radii.append(r if ok else 0.0)
        exact.append(bool(ok and exact_wall_point(net, pi, g, x, A[0], dom_A, dom_b, ex)))
    return radii, exact


# ---------------------------------------------------------------------------------------------
# exact arithmetic: integers and a common power-of-two / integer denominator


def _ints(arr):
    """An exact integer array N (object) and shift s with arr == N / 2**s."""
    arr = np.asarray(arr, np.float64)
    mant, expo = np.frexp(arr)
    m53 = np.ldexp(mant, 53).astype(np.int64).astype(object)  # exact: |mant| < 1
    e = expo.astype(np.int64) - 53
    nz = arr != 0
    emin = int(e[nz].min()) if nz.any() else 0
    shift = (e - emin)
    N = np.array([int(v) << int(s) if s >= 0 else 0 for v, s in zip(m53.ravel(), shift.ravel())],
                 dtype=object).reshape(arr.shape)
    N[~nz] = 0
    # arr = N * 2**emin
    return N, -emin


def _as_frac(N, s):
    """(numerators, denominator) of N / 2**s (s may be negative)."""
    if s >= 0:
        return N, 1 << s
    return N * (1 << -s), 1


def _exact_preacts(layers, slope, pattern, N, D, stop):
    """Exact pre-activations of hidden layers 0..stop-1 with the pattern held fixed (the
    cell's affine map), at the rational point N / D. Returns a list of (numerators, den)."""
    out, start = [], 0
    for l, (Wn, ws, Bn, bs) in enumerate(layers[:stop]):
        WN, wd = _as_frac(Wn, ws)
        BN, bd = _as_frac(Bn, bs)
        Z = WN.dot(N) * bd + BN * (D * wd)
        Dz = D * wd * bd
        out.append((Z, Dz))
        bits = pattern[start:start + Z.shape[0]]
        start += Z.shape[0]
        if slope == 0:
            N = np.where(bits, Z, 0)
        else:
            sn, sd = slope
            N = np.where(bits, Z * sd, Z * sn)
            Dz = Dz * sd
        D = Dz
    return out


def _exact_network(net):
    """The hidden layers as exact integers with power-of-two scales, and the slope."""
    layers = []
    for W, b in zip(net.weights[:-1], net.biases[:-1]):
        Wn, ws = _ints(W)
        Bn, bs = _ints(b)
        layers.append((Wn, ws, Bn, bs))
    slope = 0
    if net.negative_slope != 0:
        sn, ss = _ints(np.array([net.negative_slope]))
        num, den = _as_frac(sn, ss)
        slope = (int(num[0]), int(den))
    return layers, slope


def exact_wall_point(net, pattern, g, x, u, dom_A, dom_b, ex=None):
    """Exact test that the wall of neuron g of the cell of `pattern` has a (d-1)-dimensional
    relative interior, at a point near the float point x.

    x is moved along u onto the hyperplane of g exactly (rationals: the cell's pre-activation
    of g is affine, so the step is one division); then every other neuron's exact pre-activation
    there must be strictly of the pattern's sign, and every domain row strictly satisfied. Such
    a point has a neighbourhood in the hyperplane where only neuron g is zero: a piece of wall
    of positive (d-1)-volume between the cell and the cell with g flipped.
    """
    layers, slope = ex if ex is not None else _exact_network(net)
    sizes = [W.shape[0] for W in net.weights[:-1]]
    layer_of_g = int(np.searchsorted(np.cumsum(sizes), g, side="right"))
    pos = g - int(sum(sizes[:layer_of_g]))
    Nx, sx = _ints(x)
    Nx, Dx = _as_frac(Nx, sx)
    Nu, su = _ints(u)
    Nu, Du = _as_frac(Nu, su)
    za, Da = _exact_preacts(layers, slope, pattern, Nx, Dx, layer_of_g + 1)[-1]
    N1 = Nx * Du + Nu * Dx                       # x + u
    zb, Db = _exact_preacts(layers, slope, pattern, N1, Dx * Du, layer_of_g + 1)[-1]
    alpha = (int(za[pos]), int(Da))
    beta_n = int(zb[pos]) * alpha[1] - alpha[0] * int(Db)   # beta = beta_n / (Da Db)
    if beta_n == 0:
        return False
    beta_d = alpha[1] * int(Db)
    # t = -alpha / beta = -(an * beta_d) / (ad * beta_n); point = x + t u
    tn, td = -alpha[0] * beta_d, alpha[1] * beta_n
    if td < 0:
        tn, td = -tn, -td
    Np = Nx * (td * Du) + Nu * (tn * Dx)
    Dp = Dx * td * Du
    pre = _exact_preacts(layers, slope, pattern, Np, Dp, len(layers))
    flat = np.concatenate([z for z, _ in pre])
    want = np.where(pattern, 1, -1)
    sgn = np.array([(v > 0) - (v < 0) for v in flat])
    others = np.ones(len(flat), bool)
    others[g] = False
    if sgn[g] != 0 or not (sgn[others] == want[others]).all():
        return False
    # domain rows: dom_A p < dom_b strictly
    An, as_ = _ints(dom_A)
    bn, bs = _ints(dom_b)
    AN, ad = _as_frac(An, as_)
    BN, bd = _as_frac(bn, bs)
    lhs = AN.dot(Np) * bd
    rhs = BN * (Dp * ad)
    return bool(all(l < r for l, r in zip(lhs, rhs)))
