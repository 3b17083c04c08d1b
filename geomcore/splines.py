"""Simplicial splines on a partition's cells and the refinement of a model's outputs (SPEC 8).

:func:`spline` smooths per-cell values with one sparse symmetric positive definite solve;
:func:`refine` partitions a model, averages the targets per cell and splines them;
:class:`GeometricSplineRegressor` is the scikit-learn estimator form of :func:`refine`.
"""

import numbers

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.sparse import linalg as splinalg

from geomcore._validation import as_float_matrix, as_float_vector
from geomcore.errors import DegenerateInputError, InvalidInputError
from geomcore.riemannian import RiemannianComplex, _check_rc, _positive_float

__all__ = ["GeometricSplineRegressor", "RefinedModel", "refine", "spline", "spline_stiffness"]  # noqa: F822


def _check_order(order):
    if isinstance(order, (bool, np.bool_)) or not isinstance(order, numbers.Integral) \
            or order not in (1, 2):
        raise InvalidInputError(f"order must be 1 or 2; got {order!r}")
    return int(order)


def _graph_laplacian(edges, w, n):
    """``B_1 diag(w) B_1^T`` as a CSC matrix (n, n), from the edge list."""
    i, j = edges[:, 0], edges[:, 1]
    deg = np.bincount(i, weights=w, minlength=n) + np.bincount(j, weights=w, minlength=n)
    rows = np.concatenate([i, j, np.arange(n)])
    cols = np.concatenate([j, i, np.arange(n)])
    data = np.concatenate([-w, -w, deg])
    return sparse.csc_array(sparse.coo_array((data, (rows, cols)), shape=(n, n)))


def _spd_solve(A, b):
    """Solve the sparse SPD system A x = b by SuperLU with a symmetric (minimum degree on
    A + A^T) ordering and diagonal pivots: a sparse Cholesky in all but name."""
    A = sparse.csc_matrix(A)
    if A.shape[0] == 1:
        return np.atleast_1d(b / A.toarray()[0, 0])
    lu = splinalg.splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                       options={"SymmetricMode": True})
    return lu.solve(np.asarray(b, np.float64))


def spline_stiffness(rc, *, order=2):
    """The spline penalty ``S_r`` of SPEC 8, scipy.sparse.csc_array (n_cells, n_cells).

    Parameters
    ----------
    rc : RiemannianComplex
    order : {1, 2}, optional
        ``S_1 = B_1 W_c B_1^T`` (``W_c`` the diagonal degree-1 masses: wall areas, floored on
        degenerate edges) or ``S_2 = S_1 M_0^{-1} S_1`` (default).

    Returns
    -------
    S : scipy.sparse.csc_array, shape (n_cells, n_cells)
        Symmetric positive semi-definite, constants in its kernel.

    Examples
    --------
    >>> from geomcore import Arrangement, Box, partition
    >>> part = partition(Arrangement([[1, 0]], [0.5]), Box([0, 0], [1, 1]))
    >>> spline_stiffness(RiemannianComplex(part, complex="adjacency"), order=1).toarray()
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    _check_rc(rc)
    order = _check_order(order)
    n = rc.partition.n_cells
    edges = np.asarray(rc.complex.simplices(1), np.int64).reshape(-1, 2) if rc.max_dim >= 1 \
        else np.zeros((0, 2), np.int64)
    w = rc.masses(1) if rc.max_dim >= 1 else np.zeros(0)
    S = _graph_laplacian(edges, np.asarray(w, np.float64), n)
    if order == 2:
        S = sparse.csc_array(S @ sparse.diags_array(1.0 / rc.masses(0)) @ S)
    return S


def _check_values(y, weights, n):
    try:
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"y must be an array of real numbers; got {type(y).__name__}") \
            from exc
    if y.ndim != 1 or y.shape[0] != n:
        raise InvalidInputError(
            f"y must have one value per cell, shape ({n},); got shape {y.shape}")
    if np.isinf(y).any():
        raise DegenerateInputError(f"y must not be infinite; got {y[np.isinf(y)][0]} at index "
                                   f"{int(np.argmax(np.isinf(y)))}")
    nan = np.isnan(y)
    if weights is None:
        weights = (~nan).astype(np.float64)
    else:
        weights = as_float_vector(weights, "weights", size=n)
        if (weights < 0).any():
            i = int(np.argmax(weights < 0))
            raise InvalidInputError(f"weights must be >= 0; got {weights[i]} at index {i}")
        bad = nan & (weights > 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise DegenerateInputError(
                f"y may be NaN only where the weight is 0; got NaN at index {i} with weight "
                f"{weights[i]}")
    if not (weights > 0).any():
        raise DegenerateInputError("weights must have at least one positive entry; got all 0 "
                                   "(or y all NaN)")
    return np.where(nan, 0.0, y), weights


def spline(rc, y, *, weights=None, lam=1.0, order=2):
    """Cell-value spline: ``argmin_f (f-y)^T W (f-y) + lam f^T S_r f`` (SPEC 8).

    Parameters
    ----------
    rc : RiemannianComplex
        The complex whose wall-area conductances and cell masses define ``S_r``
        (see :func:`spline_stiffness`).
    y : array_like of float, shape (n_cells,)
        Values per cell (e.g. the mean target of each cell's points); NaN where the weight is 0.
    weights : array_like of float, shape (n_cells,), optional
        ``W``'s diagonal (e.g. data counts), finite and >= 0. Default: 1 where y is not NaN,
        else 0.
    lam : float >= 0, optional
        Smoothing (default 1). ``lam = 0`` interpolates: ``f = y`` on weighted cells and the
        harmonic extension (``(S_1 f)_i = 0``) on the others.
    order : {1, 2}, optional
        Penalty order (default 2).

    Returns
    -------
    f : ndarray, shape (n_cells,)

    Raises
    ------
    InvalidInputError
        rc not a RiemannianComplex; y of the wrong length; negative weights; lam < 0 or not
        finite; order not 1 or 2.
    DegenerateInputError
        NaN y with a positive weight, infinite y or weights, all weights 0.

    Notes
    -----
    For ``lam > 0`` one sparse SPD system ``(W + lam S_r) f = W y`` is solved by SuperLU
    (``scipy.sparse.linalg.splu`` with the symmetric minimum-degree ordering and diagonal
    pivots, i.e. an LDL^T-like sparse factorisation); no dense inverse is formed. Cells of weight 0 satisfy
    ``(S_r f)_i = 0``: with ``order=1`` that is the harmonic fill (the wall-area weighted mean
    of their neighbours); with ``order=2`` it is the corresponding fourth-order condition
    ``(S_1 M_0^{-1} S_1 f)_i = 0``. ``lam = 0`` solves the harmonic-extension (Dirichlet)
    problem ``S_1[U, U] f_U = -S_1[U, K] y_K`` for either order. A connected component of the
    wall graph without any weighted cell gets the global weighted mean. As ``lam -> inf`` the
    solution tends to the weighted mean of y on each connected partition (kernel of ``S_r``).
    With ``measure="data"`` cells without data carry floored masses, which makes ``S_2``
    badly conditioned; prefer ``order=1`` or ``measure="volume"``/``"mixed"`` there.
    Cost: one sparse factorisation, about ``O(n^1.5)`` for planar wall graphs.

    Examples
    --------
    >>> from geomcore import Arrangement, Box, partition
    >>> part = partition(Arrangement([[1, 0], [1, 0]], [1/3, 2/3]), Box([0, 0], [1, 1]))
    >>> rc = RiemannianComplex(part, complex="adjacency")
    >>> spline(rc, [0.0, np.nan, 3.0], lam=0).round(12).tolist()   # harmonic fill
    [0.0, 1.5, 3.0]
    >>> spline(rc, [0.0, 1.0, 5.0], lam=1e9, order=1).round(6).tolist()  # weighted mean
    [2.0, 2.0, 2.0]
    """
    _check_rc(rc)
    lam = _positive_float(lam, "lam", zero_ok=True)
    order = _check_order(order)
    n = rc.partition.n_cells
    y, w = _check_values(y, weights, n)
    S1 = spline_stiffness(rc, order=1)
    f = np.full(n, float(np.sum(w * y) / np.sum(w)))
    n_comp, comp = csgraph.connected_components(S1, directed=False)
    live = (np.bincount(comp, weights=w, minlength=n_comp) > 0)[comp]
    known = w > 0
    if lam == 0:
        unknown = live & ~known
        f[known] = y[known]
        if unknown.any():
            U, K = np.flatnonzero(unknown), np.flatnonzero(known)
            A = sparse.csc_array(S1[U][:, U])
            rhs = -(S1[U][:, K] @ y[K])
            f[U] = _spd_solve(A, rhs)
        return f
    S = spline_stiffness(rc, order=order) if order == 2 else S1
    L = np.flatnonzero(live)
    if len(L) < n:
        S = sparse.csc_array(S[L][:, L])
    A = sparse.csc_array(sparse.diags_array(w[L]) + lam * S)
    f[L] = _spd_solve(A, w[L] * y[L])
    return f


def _default_domain(X):
    from geomcore.partitions import Box

    lo, hi = X.min(axis=0), X.max(axis=0)
    span = hi - lo
    pad = np.where(span > 0, 0.05 * span, 0.5 * np.maximum(1.0, np.abs(lo)))
    return Box(lo - pad, hi + pad)


class RefinedModel:
    """A model whose per-cell outputs were replaced by spline values (see :func:`refine`).

    Attributes
    ----------
    model : object
        The partitioned model.
    partition : Partition
    complex : RiemannianComplex
        The adjacency complex built with the training points.
    values : ndarray, shape (n_cells,)
        The refined value of each cell.
    fallback : float
        The count-weighted mean of the cell means (the mean target of the points in the domain).
    gradients : ndarray, shape (n_cells, ndim), or None
        ``kind="affine"``: each cell's gradient; the value there is
        ``values[i] + gradients[i] . (x - centroid_i)``.
    """

    def __init__(self, model, partition, complex, values, fallback, gradients=None):
        self.model, self.partition, self.complex = model, partition, complex
        self.values, self.fallback = values, float(fallback)
        self.gradients = gradients

    def predict(self, X):
        """Refined value at each point, shape (n_points,).

        Points outside a :class:`Box` domain are first clipped onto it (the value of the
        nearest boundary cell along the coordinates, as a tree extends its outer leaves);
        points of another domain kind outside it, and any point no cell claims, get the
        value of the cell with the nearest centroid.
        """
        from geomcore.partitions import Box

        part = self.partition
        X = as_float_matrix(np.atleast_2d(X) if np.ndim(X) == 1 else X, "X", ncols=part.ndim)
        if isinstance(part.domain, Box):
            X = np.clip(X, part.domain.lo, part.domain.hi)
        cell = np.asarray(part.locate(X), np.int64)
        miss = cell < 0
        if miss.any():
            from scipy.spatial import cKDTree

            cell[miss] = cKDTree(np.asarray(part.centroids)).query(X[miss])[1]
        if self.gradients is not None:   # kind="affine": g_i . (x - centroid_i) + c_i
            dx = X - np.asarray(part.centroids)[cell]
            return self.values[cell] + np.einsum("pj,pj->p", self.gradients[cell], dx)
        return self.values[cell]

    def __repr__(self):
        return f"RefinedModel(n_cells={self.partition.n_cells})"


def _wall_central_moments(part):
    """Second moments of every wall about its centroid, ``int_W (x - m)(x - m)^T dS``, shape
    (n_walls, d, d), exactly: a 2-D wall is a segment (``L^3/12 t t^T``), a wall between two
    boxes is a box (``L diag(w^2 / 12)`` over its free axes). Other walls raise
    NotImplementedError."""
    walls = part.walls
    L = np.asarray(walls.areas, np.float64)
    d = part.ndim
    boxes = getattr(part, "_boxes", None)
    if boxes is not None:
        lo, hi = boxes
        e = np.asarray(walls.cells, np.int64).reshape(-1, 2)
        width = np.minimum(hi[e[:, 0]], hi[e[:, 1]]) - np.maximum(lo[e[:, 0]], lo[e[:, 1]])
        width[np.arange(len(e)), np.abs(walls.normals).argmax(axis=1)] = 0.0
        out = np.zeros((len(e), d, d))
        out[:, np.arange(d), np.arange(d)] = L[:, None] * width ** 2 / 12
        return out
    if d == 2:
        nrm = np.asarray(walls.normals, np.float64)
        t = np.column_stack([-nrm[:, 1], nrm[:, 0]])
        return (L ** 3 / 12)[:, None, None] * np.einsum("wa,wb->wab", t, t)
    raise NotImplementedError(
        'kind="affine" needs the walls\' exact second moments, which geomcore has for 2-D '
        f"partitions (segments) and box partitions (trees) only; got ndim={d}. Use "
        'kind="cell"')


def _affine_spline(part, X, y, lam):
    """Piecewise-affine spline (SPEC 8): ``f = g_i . (x - x0_i) + c_i`` on cell i (``x0_i``
    its centroid), minimising the squared data loss plus
    ``lam0 sum_W int_W (jump)^2 dS + lam1 sum_W vol(W) ||g_i - g_j||^2``. With the wall's area
    L, centroid m and central second moment S (:func:`_wall_central_moments`), and
    ``phi_a(x) = [x - x0_a; 1]``, ``int_W phi_a phi_b^T = L u_a u_b^T + [[S, 0], [0, 0]]``
    exactly (``u_a = [m - x0_a; 1]``). ``lam0 = lam * scale0``,
    ``lam1 = lam * scale0 * mean(vol)`` with ``scale0 = mean(counts) / mean(wall area)``."""
    n, d, k = part.n_cells, part.ndim, part.ndim + 1
    moments = _wall_central_moments(part)
    x0 = np.asarray(part.centroids, np.float64)
    cell = np.asarray(part.locate(X), np.int64)
    inside = cell >= 0
    ci, Xi, yi = cell[inside], X[inside], y[inside]
    phi = np.column_stack([Xi - x0[ci], np.ones(len(ci))])
    blocks = [np.einsum("pa,pb->pab", phi, phi)]
    brow, bcol = [ci], [ci]
    rhs = np.zeros((n, k))
    np.add.at(rhs, ci, phi * yi[:, None])
    walls = part.walls
    e = np.asarray(walls.cells, np.int64).reshape(-1, 2)
    L = np.asarray(walls.areas, np.float64)
    m = np.asarray(walls.centroids, np.float64)
    counts = np.bincount(ci, minlength=n)
    scale0 = counts.mean() / L.mean() if len(L) else 1.0
    lam0 = lam * scale0
    lam1 = lam * scale0 * float(np.mean(part.volumes))
    u = [np.column_stack([m - x0[e[:, s]], np.ones(len(e))]) for s in (0, 1)]
    vv = np.zeros((len(e), k, k))
    vv[:, :d, :d] = moments
    gmask = np.zeros((k, k))
    gmask[:d, :d] = np.eye(d)
    for a in (0, 1):
        for b in (0, 1):
            sign = 1.0 if a == b else -1.0
            blk = L[:, None, None] * np.einsum("wa,wb->wab", u[a], u[b]) + vv
            blk = lam0 * blk + lam1 * L[:, None, None] * gmask
            blocks.append(sign * blk)
            brow.append(e[:, a])
            bcol.append(e[:, b])
    B = np.concatenate(blocks)
    r = np.concatenate(brow)
    c = np.concatenate(bcol)
    rows = (r[:, None, None] * k + np.arange(k)[None, :, None]) + 0 * np.arange(k)[None, None, :]
    cols = (c[:, None, None] * k + np.arange(k)[None, None, :]) + 0 * np.arange(k)[None, :, None]
    A = sparse.coo_array((B.ravel(), (rows.ravel(), cols.ravel())), shape=(n * k, n * k)).tocsc()
    ridge = 1e-12 * float(abs(A.diagonal()).max() or 1.0)
    z = _spd_solve(A + ridge * sparse.eye_array(n * k, format="csc"), rhs.ravel())
    z = z.reshape(n, k)
    return z[:, :d], z[:, d]


def refine(model, X, y, *, domain=None, lam=1.0, order=2, kind="cell"):
    """Refine a model's per-cell outputs by a spline of the per-cell mean targets (SPEC 8).

    Parameters
    ----------
    model : object
        Anything :func:`geomcore.partition` accepts (fitted scikit-learn trees and forests,
        MLPs, geomcore models).
    X : array_like of float, shape (n_points, ndim)
    y : array_like of float, shape (n_points,)
    domain : Box, optional
        Default: the bounding box of X padded by 5% of its extent on each side (0.5 for a
        constant coordinate). Points outside the domain are ignored in the fit.
    lam : float >= 0, optional
        Relative spline smoothing (default 1.0); 0 keeps the per-cell means of cells with data.
        The spline's absolute ``lam`` is ``lam * mean(counts) / mean(diag S_r)``, so that this
        one does not depend on the units of X (wall areas and volumes scale with them).
    order : {1, 2}, optional
        Spline order (default 2).
    kind : {"cell", "affine"}, optional
        "cell": one value per cell, weights = data counts, empty cells filled by the spline.
        "affine": each cell carries ``g_i . (x - centroid_i) + c_i``, fitted to the points
        with penalties ``lam0 sum_W int_W jump^2 dS + lam1 sum_W vol(W) |g_i - g_j|^2``
        (exact wall integrals; ``lam0 = lam mean(counts)/mean(wall area)``,
        ``lam1 = lam0 mean(vol)``); ``order`` is ignored. 2-D partitions, and tree
        partitions (boxes) in any dimension.

    Returns
    -------
    RefinedModel
        ``.predict(X)`` returns the spline value of the cell containing each point.

    Raises
    ------
    InvalidInputError
        X, y of wrong shapes or lengths; bad lam, order, kind.
    NotImplementedError
        ``kind="affine"`` on a partition that is neither 2-D nor made of boxes.
    DegenerateInputError
        NaN in X or y; no point of X in the domain.

    Notes
    -----
    The complex is the adjacency complex (wall graph) with volume masses, so ``S_r`` uses wall
    areas and cell volumes; the fit is ``spline(rc, mean_y, weights=counts, lam=lam * scale,
    order=order)`` with the scale above.

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> X = np.linspace(0, 1, 40)[:, None]; y = X[:, 0] ** 2
    >>> tree = DecisionTreeRegressor(max_depth=2).fit(X, y)
    >>> refined = refine(tree, X, y, lam=0.0)
    >>> bool(np.allclose(refined.predict(X), tree.predict(X)))   # lam=0: the leaf means
    True
    """
    from geomcore.partitions import partition as _partition

    if kind not in ("cell", "affine"):
        raise InvalidInputError(f'kind must be "cell" or "affine"; got {kind!r}')
    lam, order = _positive_float(lam, "lam", zero_ok=True), _check_order(order)
    X = as_float_matrix(np.atleast_2d(X) if np.ndim(X) == 1 else X, "X")
    y = as_float_vector(y, "y")
    if len(y) != len(X):
        raise InvalidInputError(f"y must have one value per row of X ({len(X)}); got {len(y)}")
    if len(X) == 0:
        raise InvalidInputError("X must have at least one row; got 0")
    if domain is None:
        domain = _default_domain(X)
    part = _partition(model, domain)
    if kind == "affine":
        _wall_central_moments(part)        # raises early where the moments are unknown
        rc = RiemannianComplex(part, complex="adjacency", max_dim=1, X=X)
        G, c = _affine_spline(part, X, y, lam)
        return RefinedModel(model, part, rc, c, float(y.mean()), gradients=G)
    rc = RiemannianComplex(part, complex="adjacency", max_dim=1, X=X)
    cell = np.asarray(part.locate(X), np.int64)
    inside = cell >= 0
    n = part.n_cells
    counts = np.bincount(cell[inside], minlength=n).astype(np.float64)
    sums = np.bincount(cell[inside], weights=y[inside], minlength=n)
    means = np.divide(sums, counts, out=np.full(n, np.nan), where=counts > 0)
    scale = float(counts.mean()) / float(spline_stiffness(rc, order=order).diagonal().mean() or 1.0)
    values = spline(rc, means, weights=counts, lam=lam * scale, order=order)
    return RefinedModel(model, part, rc, values, sums.sum() / counts.sum())


def _regressor_class():
    """Define GeometricSplineRegressor on first use, so that importing geomcore.splines does not
    import scikit-learn (an optional dependency, slow to import)."""
    from sklearn.base import BaseEstimator, RegressorMixin

    class GeometricSplineRegressor(RegressorMixin, BaseEstimator):
        """A scikit-learn regressor: a tree estimator refined by a cell spline on its partition.

        Parameters
        ----------
        estimator : scikit-learn tree regressor, optional
            Cloned and fitted in :meth:`fit`; default ``DecisionTreeRegressor(max_depth=5,
            random_state=0)``. Any model :func:`geomcore.partition` accepts works.
        lam : float >= 0, optional
            Relative spline smoothing, as in :func:`refine` (default 1.0).
        order : {1, 2}, optional
            Spline order (default 2).
        padding : float >= 0, optional
            The domain is the bounding box of the training X padded by ``padding`` times its extent
            on each side (default 0.05).

        Attributes
        ----------
        estimator_ : the fitted estimator
        refined_ : RefinedModel
        n_features_in_ : int

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> X = np.linspace(0, 1, 50)[:, None]; y = np.sin(3 * X[:, 0])
        >>> reg = GeometricSplineRegressor(DecisionTreeRegressor(max_depth=3), lam=0.01).fit(X, y)
        >>> reg.predict(X).shape
        (50,)
        """

        def __init__(self, estimator=None, lam=1.0, order=2, padding=0.05):
            self.estimator = estimator
            self.lam = lam
            self.order = order
            self.padding = padding

        def fit(self, X, y):
            """Fit the estimator, partition it and spline its per-cell target means."""
            from sklearn.base import clone
            from sklearn.tree import DecisionTreeRegressor
            from sklearn.utils.validation import check_X_y

            from geomcore.partitions import Box

            X, y = check_X_y(X, y, dtype=np.float64, y_numeric=True)
            pad = self.padding
            if not (isinstance(pad, numbers.Real) and np.isfinite(pad) and pad >= 0):
                raise InvalidInputError(f"padding must be a finite number >= 0; got {pad!r}")
            est = DecisionTreeRegressor(max_depth=5, random_state=0) if self.estimator is None \
                else clone(self.estimator)
            self.estimator_ = est.fit(X, y)
            lo, hi = X.min(axis=0), X.max(axis=0)
            span = hi - lo
            margin = np.where(span > 0, pad * span, 0.5 * np.maximum(1.0, np.abs(lo)))
            margin = np.maximum(margin, 1e-9 * np.maximum(1.0, np.abs(lo)))
            self.refined_ = refine(self.estimator_, X, y, domain=Box(lo - margin, hi + margin),
                                   lam=self.lam, order=self.order)
            self.n_features_in_ = X.shape[1]
            return self

        def predict(self, X):
            """Refined predictions, shape (n_samples,)."""
            from sklearn.utils.validation import check_array, check_is_fitted

            check_is_fitted(self, "refined_")
            X = check_array(X, dtype=np.float64)
            if X.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {X.shape[1]} features, but GeometricSplineRegressor is "
                                 f"expecting {self.n_features_in_} features as input")
            return self.refined_.predict(X)

    GeometricSplineRegressor.__module__ = __name__
    GeometricSplineRegressor.__qualname__ = "GeometricSplineRegressor"
    return GeometricSplineRegressor


def __getattr__(name):
    if name == "GeometricSplineRegressor":
        cls = _regressor_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
