"""Benchmarks of ``geomcore.datacells.data_cells`` (the data-containing cells of a network).

``method``:

``"geomcore"``
    ``data_cells(net, X)`` on the local thread pool (facets by rays and NumPy simplex walks,
    HiGHS only for what they leave undecided).
``"geomcore-2workers"``
    The same on a 2-worker ``distributed.LocalCluster`` (processes, one thread each), started
    in ``setup``.
``"naive"``
    The loop a user writes today: per cell a Chebyshev LP, then one HiGHS LP per row
    (``max a_j.x`` over the other rows) to decide whether it is a facet.

Each case times a fixed subset of the data cells (``n_cells``) so setup stays cheap; the
network is 64 -> 128 -> 128 -> 10, trained on the digits once in ``setup_cache`` (a short
fit), or 784 -> 256 -> 256 -> 10 with random weights on synthetic points. Cells per second
= n_cells / time.
"""

import warnings

import numpy as np
from scipy.optimize import linprog

N_CELLS = {"digits64": {"geomcore": 16, "geomcore-2workers": 16, "naive": 2},
           "synthetic784": {"geomcore": 2, "geomcore-2workers": 2, "naive": 0}}


def _naive(net, X, lo, hi):
    """One LP per row: the loop data_cells replaces (patterns, rows, Chebyshev LP, facets)."""
    from geomcore._datacells_geometry import cell_halfspaces

    d = net.ndim
    dom_A = np.vstack([np.eye(d), -np.eye(d)])
    dom_b = np.r_[hi, -lo]
    n_facets = []
    for p in np.unique(net.patterns(X), axis=0):
        A, b = cell_halfspaces(net, p, dom_A, dom_b)
        norm = np.linalg.norm(A, axis=1)
        linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[A, norm], b_ub=b,
                bounds=[(None, None)] * d + [(0, None)], method="highs")
        count = 0
        for j in range(len(b)):
            keep = np.r_[0:j, j + 1:len(b)]
            res = linprog(-A[j], A_ub=A[keep], b_ub=b[keep], bounds=[(None, None)] * d,
                          method="highs")
            count += res.status != 0 or -res.fun > b[j] + 1e-7
        n_facets.append(count)
    return n_facets


class DataCellsSuite:
    params = (["digits64", "synthetic784"], ["geomcore", "geomcore-2workers", "naive"])
    param_names = ["case", "method"]
    timeout = 600
    number = 1
    repeat = 1
    warmup_time = 0

    def setup_cache(self):
        from sklearn.datasets import load_digits
        from sklearn.neural_network import MLPClassifier

        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = MLPClassifier((128, 128), max_iter=30, random_state=0).fit(X, y)
        return ([np.asarray(W).T for W in clf.coefs_], [np.asarray(b) for b in clf.intercepts_],
                X)

    def setup(self, cache, case, method):
        from geomcore.networks import ReLUNetwork

        if case == "synthetic784" and method == "naive":
            # 2,080 LPs of about 0.5 s each: some 20 minutes per cell, beyond asv's timeout
            raise NotImplementedError("the one-LP-per-row loop takes ~20 min per 784-D cell")

        rng = np.random.default_rng(1234)
        if case == "digits64":
            Ws, bs, X = cache
            net = ReLUNetwork(Ws, bs)
        else:
            sizes = [784, 256, 256, 10]
            net = ReLUNetwork([rng.standard_normal((o, i)) / np.sqrt(i)
                               for i, o in zip(sizes[:-1], sizes[1:])],
                              [0.1 * rng.standard_normal(o) for o in sizes[1:]])
            X = rng.uniform(0, 1, (10000, 784))
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.05 * (hi - lo)
        pad[pad == 0] = pad.max()              # constant pixels: as data_cells widens them
        self.lo, self.hi = lo - pad, hi + pad
        from geomcore.partitions import Box

        self.domain = Box(self.lo, self.hi)
        # one point from each of the first n_cells distinct patterns
        _, first = np.unique(net.patterns(X), axis=0, return_index=True)
        n = N_CELLS[case][method]
        self.X = X[np.sort(first)[:n]]
        self.net = net
        self.client = self.cluster = None
        if method == "geomcore-2workers":
            from distributed import Client, LocalCluster

            self.cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                        dashboard_address=None)
            self.client = Client(self.cluster)

    def teardown(self, cache, case, method):
        if self.client is not None:
            self.client.close()
            self.cluster.close()

    def time_data_cells(self, cache, case, method):
        if method == "naive":
            _naive(self.net, self.X, self.lo, self.hi)
        else:
            from geomcore.datacells import data_cells

            data_cells(self.net, self.X, domain=self.domain, client=self.client)

    def peakmem_data_cells(self, cache, case, method):
        self.time_data_cells(cache, case, method)
