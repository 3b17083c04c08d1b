"""Benchmarks of the geometric regularizers and of layer profiles.

``RegularizersSuite``: value and exact gradient of each term (SPEC 10) on arrangements of random
lines in [-1, 1]^2 with about 10k (180 lines) and 100k (570 lines) cells. The peer
(``method="fd"``) is one central finite difference, two evaluations of the term: the price of
one partial derivative by differencing (a full gradient costs 3 x n_lines of them), against
the whole exact gradient (``method="exact"``). Building the 100k-cell partition takes about
40 s, once per run (``setup_cache``).

``LayerProfileSuite``: :func:`geomcore.pullback.layer_profile` on a 2 -> 128 -> 128 -> 128 -> 1
ReLU network (He-normal weights, seeded) in [-1, 1]^2.
"""

import numpy as np

from ._data import random_hyperplanes

_LINES = {10_000: 180, 100_000: 570}


class RegularizersSuite:
    """Value and exact gradient of each regularizer on ~10k and ~100k arrangement cells."""

    params = [["small_cells", "boundary", "sharp_angles", "shape_quality"],
              [10_000, 100_000], ["exact", "fd"]]
    param_names = ["term", "n_cells", "method"]
    timeout = 900
    number = 1
    repeat = 3

    def setup_cache(self):
        from geomcore import Arrangement, Box, partition

        out = {}
        for n, lines in _LINES.items():
            rng = np.random.default_rng(1234)
            A, b = random_hyperplanes(rng, lines, 2)
            arr = Arrangement(A, b)
            out[n] = (arr, partition(arr, Box([-1, -1], [1, 1])))
        return out

    def setup(self, cache, term, n, method):
        from geomcore.regularizers import penalty

        self.arr, self.part = cache[n]
        self.options = {"t": 0.5} if term == "small_cells" else {}
        penalty(term, self.arr, self.part, **self.options)     # facet sources, hinge matching

    def time_value_and_grad(self, cache, term, n, method):
        from geomcore import Arrangement
        from geomcore.regularizers import penalty

        if method == "exact":
            penalty(term, self.arr, self.part, **self.options)
            return
        h = 1e-6
        for s in (h, -h):
            b = self.arr.b.copy()
            b[0] += s
            penalty(term, Arrangement(self.arr.A, b), self.part, **self.options)

    def peakmem_value_and_grad(self, cache, term, n, method):
        self.time_value_and_grad(cache, term, n, method)

    def track_n_cells(self, cache, term, n, method):
        return self.part.n_cells

    track_n_cells.unit = "cells"


class LayerProfileSuite:
    """layer_profile on the partition of a 2 -> 128^3 -> 1 ReLU network."""

    params = [[128]]
    param_names = ["width"]
    timeout = 900
    number = 1
    repeat = 3

    def setup_cache(self):
        from geomcore import Box, ReLUNetwork, partition

        rng = np.random.default_rng(1234)
        sizes = [2, 128, 128, 128, 1]
        Ws = [rng.normal(size=(o, i)) * np.sqrt(2.0 / i) for i, o in zip(sizes[:-1], sizes[1:])]
        bs = [0.1 * rng.normal(size=o) for o in sizes[1:]]
        net = ReLUNetwork(Ws, bs)
        return net, partition(net, Box([-1, -1], [1, 1]))

    def setup(self, cache, width):
        from geomcore.pullback import layer_profile

        self.net, self.part = cache
        layer_profile(self.part, self.net)                       # hinge matching, cached

    def time_layer_profile(self, cache, width):
        from geomcore.pullback import layer_profile

        layer_profile(self.part, self.net)

    def track_n_cells(self, cache, width):
        return self.part.n_cells

    track_n_cells.unit = "cells"
