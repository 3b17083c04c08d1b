"""Converters between geomcore's halfspaces ``A x <= b`` and the row formats of scipy and cdd.

scipy.spatial.HalfspaceIntersection takes rows ``[A, -b]`` meaning ``A x - b <= 0``; cdd takes
rows ``[b, -A]`` meaning ``b - A x >= 0``.
"""

import numpy as np

from geomcore._validation import as_float_matrix, as_halfspaces

__all__ = ["to_scipy_halfspaces", "from_scipy_halfspaces", "to_cdd_matrix", "from_cdd_matrix"]


def to_scipy_halfspaces(A, b):
    """Rows ``[A, -b]`` for :class:`scipy.spatial.HalfspaceIntersection`.

    Parameters
    ----------
    A : array_like, shape (m, ndim)
    b : array_like, shape (m,)

    Returns
    -------
    ndarray, shape (m, ndim + 1)

    Examples
    --------
    >>> to_scipy_halfspaces([[1.0, 0.0]], [2.0]).tolist()
    [[1.0, 0.0, -2.0]]
    """
    A, b = as_halfspaces(A, b)
    return np.column_stack([A, -b])


def from_scipy_halfspaces(halfspaces):
    """``(A, b)`` from scipy's rows ``[A, -b]``, shape (m, ndim + 1).

    Examples
    --------
    >>> A, b = from_scipy_halfspaces([[1.0, 0.0, -2.0]])
    >>> A.tolist(), b.tolist()
    ([[1.0, 0.0]], [2.0])
    """
    H = as_float_matrix(halfspaces, "halfspaces")
    if H.shape[1] < 2:
        raise ValueError(f"halfspaces must have ndim + 1 >= 2 columns; got shape {H.shape}")
    return np.ascontiguousarray(H[:, :-1]), -H[:, -1]


def to_cdd_matrix(A, b):
    """A ``cdd.Matrix`` in the inequality representation, rows ``[b, -A]``.

    Examples
    --------
    >>> m = to_cdd_matrix([[1.0, 0.0]], [2.0])
    >>> [list(r) for r in m.array]
    [[2.0, -1.0, -0.0]]
    """
    import cdd

    A, b = as_halfspaces(A, b)
    return cdd.matrix_from_array(np.column_stack([b, -A]), rep_type=cdd.RepType.INEQUALITY)


def from_cdd_matrix(matrix):
    """``(A, b)`` from a ``cdd.Matrix`` of inequalities ``[b, -A]`` (no linearity rows).

    Examples
    --------
    >>> A, b = from_cdd_matrix(to_cdd_matrix([[1.0, 0.0]], [2.0]))
    >>> A.tolist(), b.tolist()
    ([[1.0, 0.0]], [2.0])
    """
    import cdd

    if matrix.rep_type != cdd.RepType.INEQUALITY:
        raise ValueError(f"matrix must be an inequality representation; got {matrix.rep_type}")
    if matrix.lin_set:
        raise ValueError(f"matrix must have no equality (linearity) rows; got {sorted(matrix.lin_set)}")
    H = np.array(matrix.array, dtype=np.float64).reshape(len(matrix.array), -1)
    return np.ascontiguousarray(-H[:, 1:]), np.ascontiguousarray(H[:, 0])
