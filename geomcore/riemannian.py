"""The Riemannian complex: a complex on a partition's cells with masses from its geometry (SPEC 6).

Degree 0 carries the cells' volumes (or data counts), degree 1 the wall areas, degree 2 the hinge
volumes, and so on; :mod:`geomcore.laplacians` builds the operators from these masses.
"""

import numbers

import numpy as np
from scipy import sparse

from geomcore._validation import as_float_matrix
from geomcore.complexes import (
    _check_degree,
    _check_partition,
    _keys,
    _lookup,
    _subsets,
    adjacency_complex,
    nerve,
)
from geomcore.errors import DegenerateInputError, InvalidInputError

__all__ = ["RiemannianComplex"]

_DENSE_PD_LIMIT = 3000


def _option(value, name, allowed):
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(f'"{a}"' for a in allowed)
        raise InvalidInputError(f"{name} must be one of {choices}; got {value!r}")
    return value


def _check_rc(rc):
    """The rc argument of every operator, spline and curvature: a RiemannianComplex."""
    if not isinstance(rc, RiemannianComplex):
        raise InvalidInputError(
            f"rc must be a geomcore.RiemannianComplex; got {type(rc).__name__}")


def _positive_float(value, name, *, upper=None, zero_ok=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) \
        and np.isfinite(value) and (value >= 0 if zero_ok else value > 0) \
        and (upper is None or value <= upper)
    if not ok:
        if upper is not None:
            want = f"a number in [0, {upper:g}]"
        else:
            want = "a finite number >= 0" if zero_ok else "a finite number > 0"
        raise InvalidInputError(f"{name} must be {want}; got {value!r}")
    return float(value)


class RiemannianComplex:
    """A complex on the cells of a partition with geometric masses in every degree (SPEC 6).

    Parameters
    ----------
    partition : Partition
    complex : {"nerve", "adjacency"}, optional
        Which complex (default the nerve, see :func:`geomcore.complexes.nerve`).
    max_dim : int, optional
        Largest simplex degree (default 2).
    measure : {"volume", "data", "mixed"}, optional
        Degree-0 masses: cell volumes (default), data fractions ``n_i / N``, or
        ``(1 - alpha) vol(C_i) / vol(D) + alpha n_i / N``.
    X : array_like of float, shape (n_points, ndim), optional
        Data points, located in the cells; required by "data" and "mixed". Points outside the
        domain are ignored. When given, ``counts`` and ``data_means`` are kept whatever the
        measure.
    alpha : float in [0, 1], optional
        The data weight of "mixed" (default 0.5).
    metric : {"diagonal", "dihedral"}, optional
        "dihedral" gives ``M_1`` off-diagonal entries ``sqrt(m_e m_f) cos(phi)`` for two walls
        e, f of one cell whose three cells lie around a hinge, ``phi`` the angle between the
        walls' normals (each oriented like its edge, from the lower cell into the higher), so
        that ``cos(phi) = n_e . n_f``. ``M_1`` must then be positive definite (checked).
    floor : float, optional
        Zero masses (degenerate simplices, cells without data) become
        ``floor * (mean positive mass of that degree)`` (default 1e-9); a degree with no
        positive mass uses the nearest lower degree's mean.

    Attributes
    ----------
    partition : Partition
    complex : SimplicialComplex
    max_dim : int
    counts : ndarray of int64, shape (n_cells,), or None
        Data points per cell (with X).
    n_points : int or None
        Points of X inside the domain.
    data_means : ndarray, shape (n_cells, ndim), or None
        Mean of each cell's points; the cell's centroid where it has none.

    Raises
    ------
    InvalidInputError
        An unknown option, X of the wrong shape, alpha outside [0, 1], a non-positive floor,
        no X for "data" / "mixed".
    DegenerateInputError
        X with NaN or infinite entries or no point in the domain; a dihedral ``M_1`` that is
        not positive definite.

    Notes
    -----
    ``m_0(i) = vol_d(C_i)``; ``m_1`` = wall areas; ``m_2(S)`` = the (d-2)-volume of the
    hinges around which S's cells lie (1 per hinge in the plane); for ``k == ndim >= 3``,
    ``m_k(S) = 1`` (counting measure) where the cells meet in a point; above ``ndim`` all 0.
    For ``3 <= k < ndim`` the partition records no (d-k)-faces and masses raise, except for
    box partitions (trees), where every intersection is a box with a known volume.

    Examples
    --------
    >>> from geomcore import Arrangement, Box, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.3, 0.6]), Box([0, 0], [1, 1]))
    >>> rc = RiemannianComplex(part, complex="adjacency")
    >>> rc.masses(0).round(12).tolist(), rc.masses(1).round(12).tolist()
    ([0.18, 0.42, 0.12, 0.28], [0.6, 0.3, 0.7, 0.4])

    On the nerve the diagonal pairs of the crossing are degenerate: floored masses.

    >>> rc = RiemannianComplex(part, X=[[0.1, 0.1], [0.2, 0.1], [0.9, 0.9]], measure="data")
    >>> rc.masses(0).round(4).tolist(), rc.counts.tolist()
    ([0.6667, 0.0, 0.0, 0.3333], [2, 0, 0, 1])
    >>> rc.masses(1)[rc.complex.degenerate(1)].tolist()
    [5e-10, 5e-10]
    """

    def __init__(self, partition, *, complex="nerve", max_dim=2, measure="volume", X=None,
                 alpha=0.5, metric="diagonal", floor=1e-9):
        _check_partition(partition)
        _option(complex, "complex", ("nerve", "adjacency"))
        _option(measure, "measure", ("volume", "data", "mixed"))
        _option(metric, "metric", ("diagonal", "dihedral"))
        self.alpha = _positive_float(alpha, "alpha", upper=1.0, zero_ok=True)
        self.floor = _positive_float(floor, "floor")
        if measure != "volume" and X is None:
            raise InvalidInputError(f'measure="{measure}" needs data: pass X (n_points, ndim)')
        self.partition = partition
        self.measure, self.metric = measure, metric
        build = nerve if complex == "nerve" else adjacency_complex
        self.complex = build(partition, max_dim=max_dim)
        self.max_dim = self.complex.max_dim
        d, n = partition.ndim, partition.n_cells
        unknown = [k for k in range(self.max_dim + 1) if np.isnan(self.complex._measures[k][0]).any()]
        if unknown:
            raise InvalidInputError(
                f"max_dim={self.max_dim} needs masses of degree {unknown[0]}..{unknown[-1]}: "
                f"(ndim-k)-volumes of faces the partition does not record in ndim={d} (only "
                "walls, hinges and points, or boxes); use max_dim <= 2")
        self.counts = self.n_points = self.data_means = None
        if X is not None:
            X = as_float_matrix(np.atleast_2d(X) if np.ndim(X) == 1 else X, "X", ncols=d)
            cell = np.asarray(partition.locate(X))
            inside = cell >= 0
            if not inside.any():
                raise DegenerateInputError(
                    f"X must have points inside the domain; none of its {len(X)} points is")
            self.counts = np.bincount(cell[inside], minlength=n).astype(np.int64)
            self.n_points = int(inside.sum())
            sums = np.stack([np.bincount(cell[inside], weights=X[inside, j], minlength=n)
                             for j in range(d)], axis=1)
            centroids = np.asarray(partition.centroids, np.float64)
            has = self.counts > 0
            means = centroids.copy()
            means[has] = sums[has] / self.counts[has, None]
            self.data_means = means
        self._raw = []
        for k in range(self.max_dim + 1):
            vol = self.complex._measures[k][0]
            if k == 0:
                vol = self._cell_masses(vol)
            self._raw.append(vol)
        self._masses = []
        for k, raw in enumerate(self._raw):
            pos = raw[raw > 0]
            ref = pos.mean() if pos.size else self._ref[-1]
            if k == 0:
                self._ref = [ref]
            else:
                self._ref.append(ref)
            self._masses.append(np.where(raw > 0, raw, self.floor * ref))
        self._M1 = None
        if metric == "dihedral" and self.max_dim >= 1:
            self._M1 = self._dihedral_matrix()

    def _cell_masses(self, volumes):
        if self.measure == "volume":
            return volumes
        frac = self.counts / self.n_points
        if self.measure == "data":
            return frac
        return (1 - self.alpha) * volumes / volumes.sum() + self.alpha * frac

    def masses(self, k):
        """Diagonal masses of degree k (floored), shape (n_k,).

        With ``metric="dihedral"``, ``masses(1)`` is the diagonal of ``mass_matrix(1)``.
        """
        return self._masses[_check_degree(k, self.max_dim)]

    def mass_matrix(self, k):
        """The mass matrix ``M_k``, scipy.sparse.csr_array (n_k, n_k): diagonal, except
        ``M_1`` with ``metric="dihedral"``."""
        k = _check_degree(k, self.max_dim)
        if k == 1 and self._M1 is not None:
            return self._M1
        return sparse.diags_array(self._masses[k]).tocsr()

    def _dihedral_matrix(self):
        """M_1 with the dihedral off-diagonal entries, checked positive definite."""
        part, cx = self.partition, self.complex
        n = part.n_cells
        edges = cx.simplices(1)
        m1 = self._masses[1]
        ekeys = cx._table_keys[1]
        walls = np.asarray(part.walls.cells, np.int64).reshape(-1, 2)
        normals = np.zeros((len(edges), part.ndim))
        wpos = _lookup(ekeys, walls, n)
        normals[wpos[wpos >= 0]] = np.asarray(part.walls.normals, np.float64)[wpos >= 0]
        is_wall = np.zeros(len(edges), bool)
        is_wall[wpos[wpos >= 0]] = True
        h = part.hinges
        tri = _subsets(np.asarray(h.indptr, np.int64), np.asarray(h.indices, np.int64), 3)
        rows, cols = [], []
        if len(tri):
            tri = tri[np.unique(_keys(tri, n), return_index=True)[1]]
            e = [_lookup(ekeys, tri[:, c], n) for c in ([0, 1], [0, 2], [1, 2])]
            for a, b in ((0, 1), (0, 2), (1, 2)):   # each pair of the triple's walls
                ok = (e[a] >= 0) & (e[b] >= 0)
                ok[ok] &= is_wall[e[a][ok]] & is_wall[e[b][ok]]
                rows.append(e[a][ok])
                cols.append(e[b][ok])
        rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        pairs = np.unique(np.column_stack([np.minimum(rows, cols), np.maximum(rows, cols)]),
                          axis=0) if len(rows) else np.zeros((0, 2), np.int64)
        r, c = pairs[:, 0], pairs[:, 1]
        val = np.sqrt(m1[r] * m1[c]) * np.einsum("ij,ij->i", normals[r], normals[c])
        ne = len(edges)
        M = sparse.coo_array((np.r_[m1, val, val], (np.r_[np.arange(ne), r, c],
                                                     np.r_[np.arange(ne), c, r])),
                             shape=(ne, ne)).tocsr()
        _check_positive_definite(M)
        return M

    def __repr__(self):
        return (f"RiemannianComplex({self.complex.kind}, f_vector={self.complex.f_vector}, "
                f"measure={self.measure!r}, metric={self.metric!r})")


def _check_positive_definite(M):
    """Raise DegenerateInputError unless the symmetric sparse M is positive definite."""
    n = M.shape[0]
    if n == 0:
        return
    d = M.diagonal()
    s = 1 / np.sqrt(d)
    C = (sparse.diags_array(s) @ M @ sparse.diags_array(s)).tocsc()
    if n <= _DENSE_PD_LIMIT:
        lam = float(np.linalg.eigvalsh(C.toarray())[0])
    else:
        from scipy.sparse.linalg import eigsh

        lam = float(eigsh(C, k=1, which="SA", return_eigenvectors=False, tol=1e-6)[0])
    if not lam > 1e-12:
        raise DegenerateInputError(
            'metric="dihedral" needs a positive definite M_1; for this partition the '
            f"normalised M_1 has smallest eigenvalue {lam:.3g} <= 0 (walls meet too far from "
            'right angles: two lines crossing at 45 degrees already fail); use '
            'metric="diagonal"')
