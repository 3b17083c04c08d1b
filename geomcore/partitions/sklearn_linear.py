"""Fitted scikit-learn models whose partitions are Voronoi or max-affine (SPEC 2.4).

* ``KNeighborsClassifier`` / ``KNeighborsRegressor`` with ``n_neighbors=1`` and a Euclidean
  metric: the Voronoi diagram of the training points. Labels: the training-point index of each
  cell's site (identical training points share one cell, labelled by the first of them).
* ``NearestCentroid`` (Euclidean metric, uniform priors): the Voronoi diagram of the centroids.
  Labels: the class index.
* Linear classifiers with ``decision_function`` (``LogisticRegression``, ``LinearSVC``,
  ``RidgeClassifier``, ``SGDClassifier``, ...): the max-affine partition of the decision
  functions, ``0`` and the logit for a binary model. Labels: the class index.

Classifiers set ``Partition.classes``: each cell's predicted class, as an index into the
estimator's ``classes_`` (so ``estimator.classes_[part.classes[part.locate(X)]]`` equals
``estimator.predict(X)`` off the decision boundary). Cells stay convex; the decision boundary
is the set of walls whose two cells differ in class.
"""

import numpy as np

from geomcore.errors import InvalidInputError
from geomcore.partitions._dispatch import register
from geomcore.partitions._model import Partition
from geomcore.partitions.maxaffine import MaxAffine, Voronoi, max_affine_partition

__all__ = ["sklearn_source"]


def _sklearn_kind(model):
    """'knn', 'centroid', 'linear' or None for anything else."""
    try:
        from sklearn.linear_model._base import LinearClassifierMixin
        from sklearn.neighbors import (
            KNeighborsClassifier,
            KNeighborsRegressor,
            NearestCentroid,
        )
    except ImportError:                       # pragma: no cover - sklearn is optional
        return None
    if isinstance(model, (KNeighborsClassifier, KNeighborsRegressor)):
        return "knn"
    if isinstance(model, NearestCentroid):
        return "centroid"
    if isinstance(model, LinearClassifierMixin):
        return "linear"
    return None


def _check_fitted(model, attribute):
    if not hasattr(model, attribute):
        raise InvalidInputError(
            f"the {type(model).__name__} must be fitted before its partition is built "
            f"(it has no {attribute}); call fit first")


class _SitesOf(Voronoi):
    """A Voronoi diagram of an estimator's points whose labels are the points' own indices
    (`site_label`) and whose cells carry `site_class`."""

    def __init__(self, points, site_label, site_class, estimator):
        super().__init__(points)
        self.site_label = np.asarray(site_label, dtype=np.int64)
        self.site_class = None if site_class is None else np.asarray(site_class, dtype=np.int64)
        self.estimator = estimator

    def labels_of(self, X):
        return self.site_label[self.argmax(X)]

    def classes(self, X):
        """Predicted class index of each point (the nearest site's class)."""
        return self.site_class[self.argmax(X)]


class _FunctionsOf(MaxAffine):
    """A max-affine model of an estimator's decision functions; function k is class k."""

    def __init__(self, A, b, estimator):
        super().__init__(A, b)
        self.estimator = estimator

    def classes(self, X):
        return self.argmax(X)


def sklearn_source(model):
    """The geomcore model behind a fitted scikit-learn estimator (see the module docstring).

    Parameters
    ----------
    model : KNeighborsClassifier, KNeighborsRegressor, NearestCentroid or linear classifier

    Returns
    -------
    Voronoi or MaxAffine
        With ``labels_of`` answering like the partition's labels, and ``classes(X)`` for
        classifiers.

    Raises
    ------
    InvalidInputError
        An unfitted estimator, ``n_neighbors`` other than 1, a metric other than Euclidean,
        non-uniform priors, or multi-output targets.

    Examples
    --------
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> knn = KNeighborsClassifier(n_neighbors=1).fit([[0, 0], [1, 0], [1, 0]], [0, 1, 1])
    >>> sklearn_source(knn).points.tolist()       # the duplicated point is one site
    [[0.0, 0.0], [1.0, 0.0]]
    >>> part = partition(knn, Box([0, 0], [1, 1]))
    >>> part.labels.tolist(), part.classes.tolist(), part.walls.areas.tolist()
    ([0, 1], [0, 1], [1.0])
    """
    kind = _sklearn_kind(model)
    name = type(model).__name__
    if kind == "knn":
        _check_fitted(model, "n_samples_fit_")
        if model.n_neighbors != 1:
            raise InvalidInputError(
                f"a {name} gives a Voronoi partition only with n_neighbors=1; got "
                f"n_neighbors={model.n_neighbors} (k > 1 neighbourhoods are not supported)")
        if model.effective_metric_ != "euclidean":
            raise InvalidInputError(
                f"a {name} gives a Voronoi partition only with the Euclidean metric; got "
                f"{model.effective_metric_!r}")
        X = getattr(model, "_fit_X", None)
        if X is None or not isinstance(X, np.ndarray):
            raise InvalidInputError(
                f"the {name} must hold its training points as a dense array (fit it on a "
                "dense X)")
        y = getattr(model, "_y", None)
        if y is not None and np.ndim(y) != 1:
            raise InvalidInputError(f"a multi-output {name} is not supported; fit it on a 1-D y")
        points, first = np.unique(np.asarray(X, dtype=np.float64), axis=0, return_index=True)
        order = np.argsort(first)
        points, first = points[order], first[order]
        classes = np.asarray(y)[first] if hasattr(model, "classes_") else None
        return _SitesOf(points, first, classes, model)
    if kind == "centroid":
        _check_fitted(model, "centroids_")
        if model.metric != "euclidean":
            raise InvalidInputError(
                f"a NearestCentroid gives a Voronoi partition only with metric='euclidean'; "
                f"got {model.metric!r}")
        prior = getattr(model, "class_prior_", None)
        if prior is not None and not np.isclose(prior, 1 / len(model.classes_)).all():
            raise InvalidInputError(
                "a NearestCentroid gives a Voronoi partition only with uniform priors; got "
                f"class_prior_={np.round(prior, 6).tolist()}")
        k = len(model.classes_)
        return _SitesOf(model.centroids_, np.arange(k), np.arange(k), model)
    if kind == "linear":
        _check_fitted(model, "coef_")
        W = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))
        c = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64)) * np.ones(len(W))
        if len(W) == 1:                   # binary: class 1 where the logit is positive
            W, c = np.vstack([np.zeros_like(W), W]), np.r_[0.0, c]
        return _FunctionsOf(W, c, model)
    raise InvalidInputError(f"{name} is not a supported scikit-learn model")


def _build(model, domain, *, regions, progress, max_cells):
    part = max_affine_partition(model, domain, max_cells=max_cells)
    if isinstance(model, _SitesOf):
        labels = model.site_label[part.labels]
        classes = None if model.site_class is None else model.site_class[part.labels]
    else:
        labels, classes = part.labels, part.labels.copy()
    return Partition(model, domain, labels, part._batch, part.walls, part.hinges,
                     part.boundary_areas, classes=classes)


register("scikit-learn nearest-neighbour and linear models",
         lambda m: _sklearn_kind(m) is not None, sklearn_source, _build, decision=True)
