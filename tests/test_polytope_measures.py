"""polytope_measures: the kernel's measure stage on combinatorics computed elsewhere.

The same code path as polytope_batch (one measure implementation), so feeding the kernel's own
vertices and incidence back must reproduce its measures bit for bit; closed forms check it on
combinatorics written down by hand."""

import itertools
import math

import numpy as np
import pytest
from conftest import random_polytope

from geomcore._kernels._polytope import polytope_batch, polytope_measures
from geomcore.errors import InvalidInputError

MEASURES = ("volume", "centroid", "facet_areas", "facet_normals", "facet_centroids", "ridges",
            "ridge_offsets", "ridge_volumes", "dihedral_angles")


def csr(sets):
    """incidence_indptr, incidence_indices of a list of facet-position lists."""
    ptr = np.r_[0, np.cumsum([len(s) for s in sets])].astype(np.int64)
    return ptr, np.array([j for s in sets for j in s], dtype=np.int64)


def one(V, sets, N, c):
    ptr, ind = csr(sets)
    return polytope_measures(np.asarray(V, float), [0, len(V)], ptr, ind, np.asarray(N, float),
                             np.asarray(c, float), [0, len(N)])


def feed_back(raw, A, b, perm=None, scale=None):
    """polytope_measures on the vertices and incidence polytope_batch returned."""
    ptr, ind = raw["incidence_indptr"], raw["incidence_indices"]
    V = raw["vertices"]
    if perm is not None:
        # vertex rows permuted inside each polytope, with their incidence rows
        rows = [ind[ptr[v]:ptr[v + 1]] for v in perm]
        V = V[perm]
        ptr = np.r_[0, np.cumsum([len(r) for r in rows])].astype(np.int64)
        ind = np.concatenate(rows)
    N, c = A[raw["facet_index"]], b[raw["facet_index"]]
    if scale is not None:
        N, c = N * scale[:, None], c * scale
    return polytope_measures(V, raw["vertex_offsets"], ptr, ind, N, c, raw["facet_offsets"])


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_polytope_measures_reproduce_the_kernel_exactly(rng, d):
    parts = [random_polytope(rng, 3 * d + 2, d) for _ in range(20)]
    A = np.vstack([p[0] for p in parts])
    b = np.concatenate([p[1] for p in parts])
    off = np.r_[0, np.cumsum([len(p[1]) for p in parts])].astype(np.int64)
    raw = polytope_batch(A, b, off)
    assert (raw["status"] == 0).all()
    got = feed_back(raw, A, b)
    assert (got["status"] == 0).all()
    for key in MEASURES:
        np.testing.assert_array_equal(got[key], raw[key], err_msg=key)
    # any vertex order and any power-of-two length of the normals give the same bits
    perm = np.concatenate([v0 + rng.permutation(v1 - v0) for v0, v1 in
                           zip(raw["vertex_offsets"][:-1], raw["vertex_offsets"][1:])])
    scale = 2.0 ** rng.integers(-20, 20, size=len(raw["facet_index"]))
    again = feed_back(raw, A, b, perm=perm, scale=scale)
    for key in MEASURES:
        np.testing.assert_array_equal(again[key], raw[key], err_msg=key)
    # any other positive length: the same up to rounding
    scale = rng.uniform(0.1, 10, size=len(raw["facet_index"]))
    near = feed_back(raw, A, b, perm=perm, scale=scale)
    for key in ("volume", "centroid", "facet_areas", "ridge_volumes", "dihedral_angles"):
        np.testing.assert_allclose(near[key], raw[key], rtol=1e-12, atol=1e-14, err_msg=key)
    np.testing.assert_array_equal(near["ridges"], raw["ridges"])


def test_polytope_measures_on_non_simple_and_degenerate_kernel_output(rng):
    # a square pyramid (apex on 4 facets) and a cross-polytope (every vertex on 8 facets)
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=4)))
    Ap = np.array([[0, 0, -1], [0, 2, 1], [0, -2, 1], [2, 0, 1], [-2, 0, 1.]])
    for A, b in ((Ap, np.array([0, 1, 1, 1, 1.])), (signs, np.ones(16))):
        raw = polytope_batch(A, b, np.array([0, len(b)]))
        got = feed_back(raw, A, b)
        for key in MEASURES:
            np.testing.assert_array_equal(got[key], raw[key], err_msg=key)


@pytest.mark.parametrize("d", [1, 2, 3, 4, 6])
def test_polytope_measures_cube_closed_form(d):
    V = np.array(list(itertools.product([0.0, 2.0], repeat=d))) - 1.0 + 7.0   # [6, 8]^d
    N = np.vstack([np.eye(d), -3 * np.eye(d)])                  # lengths need not be one
    c = np.r_[np.full(d, 8.0), np.full(d, -18.0)]
    sets = [[i if v[i] == 8 else d + i for i in range(d)] for v in V]
    m = one(V, sets, N, c)
    assert m["status"].tolist() == [0]
    assert m["volume"][0] == pytest.approx(2.0**d, rel=1e-14)
    np.testing.assert_allclose(m["centroid"][0], 7.0, rtol=1e-14)
    np.testing.assert_allclose(m["facet_areas"], 2.0 ** (d - 1), rtol=1e-14)
    np.testing.assert_allclose(m["facet_normals"], np.vstack([np.eye(d), -np.eye(d)]))
    expect = 7.0 + np.vstack([np.eye(d), -np.eye(d)])
    np.testing.assert_allclose(m["facet_centroids"], expect, rtol=1e-14)
    assert len(m["ridges"]) == (2 * d * (d - 1) if d >= 2 else 0)
    np.testing.assert_allclose(m["ridge_volumes"], 2.0 ** (d - 2), rtol=1e-14)
    np.testing.assert_allclose(m["dihedral_angles"], np.pi / 2, rtol=1e-14)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_polytope_measures_simplex_closed_form(d):
    V = np.vstack([np.zeros(d), np.eye(d)])
    N = np.vstack([-np.eye(d), np.ones(d)])
    c = np.r_[np.zeros(d), 1.0]
    sets = [list(range(d))] + [[j for j in range(d) if j != i] + [d] for i in range(d)]
    m = one(V, sets, N, c)
    assert m["volume"][0] == pytest.approx(1 / math.factorial(d), rel=1e-14)
    np.testing.assert_allclose(m["centroid"][0], 1 / (d + 1), rtol=1e-14)
    np.testing.assert_allclose(m["facet_areas"][:d], 1 / math.factorial(d - 1), rtol=1e-14)
    assert m["facet_areas"][d] == pytest.approx(math.sqrt(d) / math.factorial(d - 1), rel=1e-14)
    assert len(m["ridges"]) == d * (d + 1) // 2
    # between two coordinate facets pi/2; between x_i = 0 and the slanted facet arccos(1/sqrt d)
    slanted = m["ridges"][:, 1] == d
    np.testing.assert_allclose(m["dihedral_angles"][~slanted], np.pi / 2, rtol=1e-14)
    np.testing.assert_allclose(m["dihedral_angles"][slanted], np.arccos(1 / math.sqrt(d)),
                               rtol=1e-14)


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_polytope_measures_cross_polytope_closed_form(d):
    N = np.array(list(itertools.product([-1.0, 1.0], repeat=d)))
    V = np.vstack([np.eye(d), -np.eye(d)])
    sets = [[f for f in range(len(N)) if N[f, i] == s] for s in (1, -1) for i in range(d)]
    m = one(V[::-1], sets[::-1], N, np.ones(len(N)))               # any vertex order
    assert m["volume"][0] == pytest.approx(2.0**d / math.factorial(d), rel=1e-13)
    np.testing.assert_allclose(m["centroid"][0], 0, atol=1e-15)
    np.testing.assert_allclose(m["facet_areas"], math.sqrt(d) / math.factorial(d - 1), rtol=1e-13)
    np.testing.assert_allclose(m["facet_centroids"], N / d, rtol=1e-13)
    assert len(m["ridges"]) == 2**d * d // 2
    if d >= 3:
        np.testing.assert_allclose(m["ridge_volumes"], math.sqrt(d - 1) / math.factorial(d - 2),
                                   rtol=1e-13)
    np.testing.assert_allclose(m["dihedral_angles"], np.pi - np.arccos((d - 2) / d), rtol=1e-13)


def test_polytope_measures_batch_offsets_and_bad_member():
    # a square, then a "triangle" whose incidence is not a polygon's (status 8), then a cube
    sq = (np.array([[0, 0], [1, 0], [0, 1], [1, 1.]]), [[2, 3], [0, 3], [1, 2], [0, 1]],
          np.vstack([np.eye(2), -np.eye(2)]), np.r_[1, 1, 0, 0.])
    bad = (np.array([[0, 0], [1, 0], [0, 1.]]), [[0], [0, 1], [1, 2]],
           np.array([[0, -1], [1, 1], [-1, 0.]]), np.r_[0, 1, 0.])
    V3 = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
    cube = (V3, [[i if v[i] else 3 + i for i in range(3)] for v in V3],
            np.vstack([np.eye(3), -np.eye(3)])[:, :3], np.r_[1, 1, 1, 0, 0, 0.])
    parts = [sq, bad]
    ptr, ind = csr([s for p in parts for s in p[1]])
    m = polytope_measures(np.vstack([p[0] for p in parts]), [0, 4, 7], ptr, ind,
                          np.vstack([p[2] for p in parts]), np.concatenate([p[3] for p in parts]),
                          [0, 4, 7])
    assert m["status"].tolist() == [0, 8]
    assert m["volume"][0] == 1.0 and np.isnan(m["volume"][1])
    assert np.isnan(m["facet_areas"][4:]).all() and (m["facet_areas"][:4] == 1).all()
    assert m["ridge_offsets"].tolist() == [0, 4, 4]
    m3 = one(cube[0], cube[1], cube[2], cube[3])
    assert m3["volume"][0] == 1.0 and len(m3["ridges"]) == 12


def test_polytope_measures_reject_bad_arrays():
    V, N = np.zeros((4, 2)), np.vstack([np.eye(2), -np.eye(2)])
    ptr, ind = csr([[0, 1]] * 4)
    with pytest.raises(InvalidInputError, match="incidence_indices"):
        polytope_measures(V, [0, 4], ptr, ind + 3, N, np.ones(4), [0, 4])
    with pytest.raises(InvalidInputError, match="vertex_offsets"):
        polytope_measures(V, [0, 5], ptr, ind, N, np.ones(4), [0, 4])
    with pytest.raises(InvalidInputError, match="normals"):
        polytope_measures(V, [0, 4], ptr, ind, np.ones((4, 3)), np.ones(4), [0, 4])
    with pytest.raises(InvalidInputError, match="finite"):
        polytope_measures(V + np.nan, [0, 4], ptr, ind, N, np.ones(4), [0, 4])
    with pytest.raises(InvalidInputError, match="incidence_indptr"):
        polytope_measures(V, [0, 4], ptr[:-1], ind, N, np.ones(4), [0, 4])
