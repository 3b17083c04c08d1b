"""Monte-Carlo volumes of data cells: a multiphase ball sequence sampled by hit-and-run.

What is estimated, for a cell P with Chebyshev ball B(c, r) (so B(c, r) lies in P) inside a
ball B(c, R) (R: the farthest corner of the domain's bounding box from c):
``vol(P) = vol(B(c, r_0)) * prod_i vol(K_i) / vol(K_{i-1})``, ``K_i = P ∩ B(c, r_i)``,
``r_i = r 2^(i/d)`` up to ``r_k >= R`` (so ``K_0`` is the inscribed ball and ``K_k = P``).
Each ratio's inverse ``f_i = vol(K_{i-1}) / vol(K_i)`` (at least 1/2) is the fraction of
uniform points of ``K_i`` that fall in ``B(c, r_{i-1})``, counted along hit-and-run chains in
``K_i``. The standard error comes from the spread of the per-chain fractions between
independent chains (so it includes the chains' autocorrelation) and the delta method on
``log vol``.
"""

from math import lgamma, log, pi

import numpy as np

__all__ = ["estimate_volume", "volume_chunk", "N_CHAINS"]

N_CHAINS = 16


def _log_ball(d, r):
    return 0.5 * d * log(pi) - lgamma(0.5 * d + 1) + d * log(r)


def estimate_volume(A, b, c, r, lo, hi, n_samples, rng):
    """(estimate, standard error) of vol{A x <= b}; see the module docstring. n_samples is
    the total number of hit-and-run steps, over all phases and chains."""
    d = A.shape[1]
    if not r > 0:
        return 0.0, 0.0
    R = float(np.linalg.norm(np.maximum(np.abs(lo - c), np.abs(hi - c))))
    k = max(1, int(np.ceil(d * np.log2(max(R / r, 1.0)))))
    radii = r * 2.0 ** (np.arange(k + 1) / d)
    radii[-1] = max(radii[-1], R)
    K = N_CHAINS
    steps = max(20, n_samples // (k * K))
    burn = max(1, steps // 5)
    X = np.repeat(c[None, :], K, axis=0)
    S = np.repeat((b - A @ c)[None, :], K, axis=0)
    log_vol = _log_ball(d, r)
    var_log = 0.0
    for i in range(1, k + 1):
        r_in2, r_out2 = radii[i - 1] ** 2, radii[i] ** 2
        hits = np.zeros(K)
        for step in range(steps + burn):
            U = rng.standard_normal((K, d))
            U /= np.linalg.norm(U, axis=1, keepdims=True)
            AU = U @ A.T
            with np.errstate(divide="ignore", invalid="ignore"):
                q = S / AU
            hi_t = np.where(AU > 0, q, np.inf).min(axis=1)
            lo_t = np.where(AU < 0, q, -np.inf).max(axis=1)
            Y = X - c
            yu = np.einsum("ij,ij->i", Y, U)
            disc = np.sqrt(np.maximum(yu * yu - np.einsum("ij,ij->i", Y, Y) + r_out2, 0.0))
            hi_t = np.minimum(hi_t, -yu + disc)
            lo_t = np.maximum(lo_t, -yu - disc)
            hi_t = np.maximum(hi_t, lo_t)
            t = lo_t + (hi_t - lo_t) * rng.random(K)
            X = X + t[:, None] * U
            S = S - t[:, None] * AU
            if step >= burn:
                Y = X - c
                hits += np.einsum("ij,ij->i", Y, Y) <= r_in2
        f = hits / steps
        fm = float(f.mean())
        if fm <= 0:
            return float("nan"), float("inf")
        log_vol -= log(fm)
        var_log += float(f.var(ddof=1)) / K / fm ** 2
    est = float(np.exp(log_vol))
    return est, est * float(np.sqrt(var_log))


def volume_chunk(jobs, lo, hi, n_samples, seed):
    """estimate_volume for each (cell index, A, b, centre, radius); each cell's generator is
    seeded by (seed, cell index), so results do not depend on chunking or workers."""
    est, se = [], []
    for i, A, b, c, r in jobs:
        if A is None:
            est.append(0.0)
            se.append(0.0)
            continue
        norm = np.linalg.norm(A, axis=1)
        rng = np.random.default_rng([int(seed), int(i)])
        e, s = estimate_volume(A / norm[:, None], b / norm, np.asarray(c, np.float64),
                               float(r), lo, hi, n_samples, rng)
        est.append(e)
        se.append(s)
    return est, se
