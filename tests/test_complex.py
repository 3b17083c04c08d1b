"""Internals of the cell complex engine: exact set grouping, the sign predicate's bound."""

import numpy as np
import pytest

import geomcore.partitions._assemble as assemble
from geomcore.partitions._complex import AffineSources


def test_group_sets_is_exact_even_when_hashes_collide(monkeypatch):
    ptr = np.array([0, 2, 4, 5, 7, 7, 9])
    members = np.array([3, 1, 1, 3, 2, 2, 5, 4, 0])
    group, n = assemble._group_sets(ptr, members)
    assert n == 5 and group[0] == group[1] and len(set(group[[0, 2, 3, 4, 5]])) == 5

    class Zeros:                    # every key 0: all hashes collide
        def integers(self, lo, hi, size, dtype):
            return np.zeros(size, dtype=dtype)

    monkeypatch.setattr(assemble.np.random, "default_rng", lambda seed: Zeros())
    group2, n2 = assemble._group_sets(ptr, members)
    assert n2 == 5
    assert (group2[:, None] == group2[None, :]).tolist() == (group[:, None] == group[None, :]).tolist()


def test_forward_error_bound_holds():
    rng = np.random.default_rng(5)
    W = [rng.normal(size=(7, 3)), rng.normal(size=(6, 7)), rng.normal(size=(5, 6))]
    b = [rng.normal(size=7), rng.normal(size=6), rng.normal(size=5)]
    src = AffineSources(W, b)
    X = rng.uniform(-1, 1, size=(50, 3))
    Z, E = src.first_values(X)
    for layer in (1, 2):
        Z, E = src.propagate(Z, E, layer)
        for i in range(0, 50, 7):
            import gmpy2

            exact = src.exact_layer_values([gmpy2.mpq(float(t)) for t in X[i]], layer)
            err = np.abs(Z[i] - np.array([float(v) for v in exact]))
            assert (err <= E[i]).all()


@pytest.mark.parametrize("d, widths, regions", [(2, [5, 4], "linear"), (3, [4, 3], "linear"),
                                                (3, [4, 3], "decision"), (4, [4, 3], "linear")])
def test_kernel_and_reference_give_the_same_partition(monkeypatch, d, widths, regions):
    import geomcore.partitions._complex as engine
    from geomcore import Box, ReLUNetwork, partition

    rng = np.random.default_rng(d + sum(widths))
    sizes = [d, *widths, 3]
    net = ReLUNetwork([rng.normal(size=(o, i)) for i, o in zip(sizes[:-1], sizes[1:])],
                      [0.3 * rng.normal(size=o) for o in sizes[1:]])
    box = Box(-np.ones(d), np.ones(d))
    runs = {}
    for impl in ("kernel", "reference"):
        monkeypatch.setattr(engine, "_implementation", impl)
        runs[impl] = partition(net, box, regions=regions)
    a, b = runs["kernel"], runs["reference"]
    assert (a.labels == b.labels).all()
    assert np.array_equal(a.volumes, b.volumes)
    assert np.array_equal(a.walls.cells, b.walls.cells)
    assert np.array_equal(a.hinges.indptr, b.hinges.indptr)
    assert np.array_equal(a.hinges.indices, b.hinges.indices)
