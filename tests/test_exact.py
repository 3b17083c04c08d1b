"""Exact determinant signs (the kernel's tie breaker) against Fraction arithmetic."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from geomcore._kernels._exact import det_sign
from geomcore.errors import PrecisionError


def fraction_det_sign(M):
    rows = [[Fraction(float(x)) for x in row] for row in M]
    n, det = len(rows), Fraction(1)
    for k in range(n):
        piv = next((i for i in range(k, n) if rows[i][k] != 0), None)
        if piv is None:
            return 0
        if piv != k:
            rows[k], rows[piv] = rows[piv], rows[k]
            det = -det
        det *= rows[k][k]
        for i in range(k + 1, n):
            f = rows[i][k] / rows[k][k]
            rows[i] = [a - f * b for a, b in zip(rows[i], rows[k])]
    return (det > 0) - (det < 0)


def test_det_sign_known_values():
    assert det_sign(np.eye(3)) == 1
    assert det_sign(-np.eye(3)) == -1
    assert det_sign(np.zeros((2, 2))) == 0
    assert det_sign(np.zeros((0, 0))) == 1
    # singular in floats' eyes but not exactly: 0.9 is not 3 * 0.3 as binary fractions
    assert det_sign(np.array([[0.1, 0.3], [0.3, 0.9]])) == 1
    # exactly singular: 0.2 = 2 * 0.1 and 0.6 = 2 * 0.3 hold exactly in binary
    assert det_sign(np.array([[0.1, 0.2], [0.3, 0.6]])) == 0
    # entries 600 binary orders apart
    assert det_sign(np.array([[2.0**-300, 1.0], [1.0, 2.0**300]])) == 0
    assert det_sign(np.array([[2.0**-300, 1.0], [1.0, 2.0**300 + 2.0**248]])) == 1


@settings(max_examples=300, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.just(6)),
              elements=st.floats(-1e6, 1e6, allow_subnormal=False)),
       st.integers(0, 3))
def test_det_sign_matches_fractions(M, mode):
    n = M.shape[0]
    M = np.ascontiguousarray(M[:, :n])
    if mode == 1 and n > 1:          # a repeated row: exactly singular
        M[-1] = M[0]
    if mode == 2 and n > 2:          # a float combination of rows: usually not singular
        M[-1] = 0.1 * M[0] + 0.7 * M[1]
    if mode == 3:                    # small integers: many exact zeros
        M = np.round(M / 2e5)
    assert det_sign(M) == fraction_det_sign(M)


def test_det_sign_rejects_bad_input():
    with pytest.raises(ValueError, match="square"):
        det_sign(np.ones((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        det_sign(np.array([[np.nan]]))


def test_det_sign_precision_limit():
    # rows spanning more binary orders of magnitude than 512 primes can hold
    n = 12
    M = np.eye(n)
    M[:, 0] = 2.0 ** np.arange(-1000, 1000, 2000 / n)[:n]
    M[0, :] = 2.0 ** np.arange(1000, -1000, -2000 / n)[:n]
    try:
        s = det_sign(M)
    except PrecisionError:
        return
    assert s == fraction_det_sign(M)


def test_prime_table():
    from geomcore._kernels._exact import primes

    table = primes()
    assert len(table) == len(set(table)) == 512
    assert all(2**61 < p < 2**62 for p in table)
    assert table == sorted(table, reverse=True)
    # Fermat checks with a few bases (the table was made with deterministic Miller-Rabin)
    for p in table[::37]:
        assert all(pow(a, p - 1, p) == 1 for a in (2, 3, 5, 7))
