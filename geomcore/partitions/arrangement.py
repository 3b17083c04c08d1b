"""Hyperplane arrangements (SPEC 2.1) as a partition source."""

import math
from fractions import Fraction

import numpy as np

from geomcore._memory import check_fits
from geomcore._progress import report
from geomcore._validation import as_float_matrix, as_halfspaces
from geomcore.errors import DegenerateInputError
from geomcore.partitions._assemble import complex_partition
from geomcore.partitions._complex import AffineSources, CellComplex
from geomcore.partitions._dispatch import register
from geomcore.partitions._model import _domain_halfspaces

__all__ = ["Arrangement"]


class Arrangement:
    """Hyperplanes ``A[j] . x = b[j]``; a cell is a full-dimensional set of fixed signs.

    Sign bit ``j`` of a point is 1 where ``A[j] . x > b[j]``. Duplicated, parallel and concurrent
    hyperplanes are allowed, as are hyperplanes that miss the domain.

    Parameters
    ----------
    A : array_like of float, shape (n_hyperplanes, ndim)
        Normals; no row may be zero.
    b : array_like of float, shape (n_hyperplanes,)

    Examples
    --------
    >>> arr = Arrangement([[1, 0], [0, 1]], [0.5, 0.5])
    >>> arr.signs([[0.7, 0.2]]).tolist()
    [[True, False]]
    """

    def __init__(self, A, b):
        A, b = as_halfspaces(A, b, allow_empty=True)
        zero = np.flatnonzero(~A.any(axis=1))
        if zero.size:
            raise DegenerateInputError(
                f"A[{zero[0]}] is zero: 0 . x = b is not a hyperplane; every row of A must be non-zero"
            )
        self.A, self.b = A, b
        self.ndim = A.shape[1]
        self.n_hyperplanes = A.shape[0]

    def signs(self, X):
        """Sign vectors, bool (n_points, n_hyperplanes): True where ``A[j] . x > b[j]``."""
        X = as_float_matrix(np.atleast_2d(X), "X", ncols=self.ndim)
        return X @ self.A.T > self.b

    def labels_of(self, X):
        """The labels of the cells containing the points (the source protocol)."""
        return self.signs(X)

    def coincident_groups(self):
        """For each hyperplane, the smallest index of a hyperplane equal to it as a set (decided
        exactly: the rows ``(a, b)`` are proportional), int (n_hyperplanes,)."""
        rows = np.column_stack([self.A, self.b])
        # canonical float form: unit norm, first non-zero entry positive; equal sets are then
        # equal up to rounding, and candidates are confirmed in exact arithmetic
        first = np.argmax(rows != 0, axis=1)
        sign = np.sign(rows[np.arange(len(rows)), first])
        canon = rows * (sign / np.linalg.norm(rows, axis=1))[:, None]
        order = np.lexsort(np.round(canon, 9).T[::-1])
        group = np.arange(len(rows))
        for pos in range(1, len(order)):
            i, j = order[pos - 1], order[pos]
            if np.allclose(canon[i], canon[j], rtol=0, atol=1e-9) and _proportional(rows[i], rows[j]):
                group[j] = group[i]
        # resolve chains to the smallest index of each group
        roots = {}
        for j in order:
            roots.setdefault(group[j], []).append(j)
        out = np.arange(len(rows))
        for members in roots.values():
            out[members] = min(members)
        return out

    def __repr__(self):
        return f"Arrangement(n_hyperplanes={self.n_hyperplanes}, ndim={self.ndim})"



def _proportional(u, v):
    """Exactly whether the rows u and v (doubles) are non-zero multiples of each other."""
    u = [Fraction(float(x)) for x in u]
    v = [Fraction(float(x)) for x in v]
    k = next(i for i, x in enumerate(u) if x != 0)
    if v[k] == 0:
        return False
    ratio = v[k] / u[k]
    return all(y == ratio * x for x, y in zip(u, v))



def _zaslavsky_bound(m, d):
    """Most cells m hyperplanes can cut d-space into: sum_{i <= d} C(m, i)."""
    return sum(math.comb(m, i) for i in range(min(m, d) + 1))



def _arrangement_partition(model, domain, progress, max_cells):
    """Cells of an arrangement: the domain's cell complex split by one hyperplane at a time
    (:mod:`geomcore.partitions._complex`); a hyperplane is a one-layer source ``A x - b``."""
    d, m = model.ndim, model.n_hyperplanes
    dom_A, dom_b, dom_volume = _domain_halfspaces(domain, d)
    cx = CellComplex(AffineSources([model.A], [-model.b]), dom_A, dom_b)

    def after(j):
        if max_cells is not None and cx.n_cells > max_cells:
            raise DegenerateInputError(
                f"the partition exceeds max_cells={max_cells} after {j + 1} of {m} "
                f"hyperplanes ({cx.n_cells} cells; up to {_zaslavsky_bound(m, d)} in all)"
            )
        check_fits(cx.n_cells, f"after {j + 1} of {m} hyperplanes", _zaslavsky_bound(m, d))
        if progress:
            report(j + 1, m, "hyperplane", cx.n_cells)

    cx.insert_layer(0, after)
    # canonical order: labels as binary numbers, hyperplane 0 the lowest bit
    cx.take(np.lexsort(cx.labels.T) if m else np.arange(cx.n_cells))
    return complex_partition(cx, model, domain, dom_volume)


def _build(model, domain, *, regions, progress, max_cells):
    return _arrangement_partition(model, domain, progress, max_cells)


register("arrangement", lambda m: isinstance(m, Arrangement), lambda m: m, _build)
