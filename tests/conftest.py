import numpy as np
import pytest

import geomcore.polytope


@pytest.fixture(params=["kernel", "reference"])
def impl(request, monkeypatch):
    """Run a test on the Cython kernel and on the plain exact reference (scipy's kdtree_type
    pattern). Tests that take it must keep their inputs small: the reference is brute force."""
    monkeypatch.setattr(geomcore.polytope, "_implementation", request.param)
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def cube(d, lo=0.0, hi=1.0):
    """A, b of the box [lo, hi]^d."""
    eye = np.eye(d)
    return np.vstack([eye, -eye]), np.r_[np.full(d, hi), np.full(d, -lo)]


def cross_polytope(d):
    """A, b of {x : |x|_1 <= 1}: 2^d facets, 2d vertices each on 2^(d-1) facets."""
    signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * d, indexing="ij")).reshape(d, -1).T
    return signs, np.ones(len(signs))


def simplex(d):
    """A, b of the standard simplex x >= 0, sum x <= 1."""
    return np.vstack([-np.eye(d), np.ones(d)]), np.r_[np.zeros(d), 1.0]


def random_polytope(rng, m, d):
    """m halfspaces with unit normals tangent to the unit sphere; bounded (redrawn until so)."""
    while True:
        A = rng.normal(size=(m, d))
        A /= np.linalg.norm(A, axis=1)[:, None]
        b = np.ones(m)
        # bounded iff the normals positively span R^d: the origin is inside their hull
        from scipy.optimize import linprog

        res = linprog(np.zeros(m), A_eq=np.vstack([A.T, np.ones(m)]), b_eq=np.r_[np.zeros(d), 1],
                      bounds=(1e-9, None), method="highs")
        if res.status == 0:
            return A, b
