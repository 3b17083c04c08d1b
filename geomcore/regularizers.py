"""Geometric regularizers with exact gradients (SPEC 10).

Each term is a function ``term(model, partition, **options) -> Penalty`` of a hyperplane
:class:`~geomcore.Arrangement` or a :class:`~geomcore.ReLUNetwork` and one of its partitions.
The partition fixes the combinatorics (which cells, facets, walls and hinges exist, and the
activation patterns); the measures and their gradients come from the model's current
parameters, so the gradient is that of the term on the model's partition as long as the
combinatorics do not change (finite differences with small steps agree with it).

Terms (``n`` cells, domain D):

* :func:`small_cells`: ``sum_i phi(vol(C_i) / (vol(D)/n))``, ``phi(r) = max(0, t - r)^2``;
* :func:`boundary`: ``sum_{walls ij} vol_{d-1}(W_ij) [y_i != y_j]``;
* :func:`sharp_angles`: ``sum_{hinges h} sum_{cells c at h} psi(theta_hc)``,
  ``psi(theta) = max(0, theta_min - theta)^2``;
* :func:`shape_quality`: ``sum_i (q_i - 1)``, ``q_i = area(dC_i)^d / (vol(C_i)^(d-1) q_ball)``.

Every term takes ``cells=`` (indices or a bool mask of cells) to sum over part of the
partition: the cells themselves, the walls with at least one of them, their hinge angles.
"""

import math
from dataclasses import dataclass

import numpy as np

from geomcore import _cell_faces
from geomcore.errors import InvalidInputError

__all__ = ["Penalty", "small_cells", "boundary", "sharp_angles", "shape_quality", "penalty",
           "TERMS"]


@dataclass(frozen=True)
class Penalty:
    """A regularizer's value and its exact gradient.

    Attributes
    ----------
    value : float
    grad : tuple
        Same structure as the model's parameters: ``(dA, db)`` for an Arrangement (shapes
        (n_hyperplanes, ndim) and (n_hyperplanes,)), ``(list of dW, list of db)`` for a
        ReLUNetwork (shaped like ``weights`` and ``biases``).
    term : str
    """

    value: float
    grad: tuple
    term: str


def _options(term, options, allowed):
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InvalidInputError(
            f"{term} got an unknown option {unknown[0]!r}; its options are "
            f"{', '.join(sorted(allowed))}")


def _positive(x, name):
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a positive number; got {x!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise InvalidInputError(f"{name} must be a positive finite number; got {x!r}")
    return v


def _selection(cells, n):
    """Bool mask (n,) of the cells to sum over (all by default)."""
    if cells is None:
        return np.ones(n, dtype=bool)
    c = np.asarray(cells)
    if c.dtype == bool:
        if c.shape != (n,):
            raise InvalidInputError(f"cells as a mask must have shape ({n},); got {c.shape}")
        return c
    if c.ndim != 1 or not np.issubdtype(c.dtype, np.integer) and c.size:
        raise InvalidInputError(f"cells must be 1-D cell indices or a bool mask; got {c.dtype} "
                                f"{c.shape}")
    c = c.astype(np.int64)
    if c.size and (c.min() < 0 or c.max() >= n):
        raise InvalidInputError(f"cells must lie in [0, {n}); got {c.min()} .. {c.max()}")
    mask = np.zeros(n, dtype=bool)
    mask[c] = True
    return mask


def _setup(term, model, partition, options, allowed):
    _options(term, options, allowed)
    _cell_faces.check_model(model, partition)
    geom = _cell_faces.Geometry(model, partition)
    return geom, _selection(options.get("cells"), partition.n_cells)


def small_cells(model, partition, **options):
    """Penalty on cells much smaller than the average: ``sum_i max(0, t - r_i)^2`` with
    ``r_i = vol(C_i) / (vol(D) / n)``.

    Parameters
    ----------
    model : Arrangement or ReLUNetwork
    partition : Partition
        A partition of `model` (its cells, walls and patterns are held fixed).
    t : float, optional
        Threshold ratio, default 0.1.
    cells : array_like of int or bool, optional
        Sum over these cells only (n stays the partition's cell count).

    Returns
    -------
    Penalty

    Notes
    -----
    ``d vol(C) / d b_F = vol_{d-1}(F) / |a_F|`` and ``d vol(C) / d a_F = -vol_{d-1}(F)
    centroid(F) / |a_F|`` for each facet ``a_F . x <= b_F``; networks chain this through each
    cell's pulled-back rows.

    Examples
    --------
    SPEC 14's square cut at 0.3 and 0.6, with t = 1: ``r = 4 vol = (0.72, 1.68, 0.48, 1.12)``.

    >>> import numpy as np
    >>> from geomcore import Arrangement, Box, partition
    >>> from geomcore.regularizers import *
    >>> arr = Arrangement([[1, 0], [0, 1]], [0.3, 0.6])
    >>> p = small_cells(arr, partition(arr, Box([0, 0], [1, 1])), t=1.0)
    >>> round(p.value, 12), p.grad[1].round(12).tolist()
    (0.3488, [-3.008, 0.576])
    """
    geom, sel = _setup("small_cells", model, partition, options, ("t", "cells"))
    t = _positive(options.get("t", 0.1), "t")
    n = partition.n_cells
    unit = _cell_faces.domain_volume(partition.domain) / n
    r = geom.volume / unit
    gap = np.where(sel, np.maximum(0.0, t - r), 0.0)
    value = float(np.sum(gap ** 2))
    g_a, g_b = geom.row_grads(w_volume=-2.0 * gap / unit)
    return Penalty(value, geom.param_grads(g_a, g_b), "small_cells")


def _wall_labels(model, partition, y):
    n = partition.n_cells
    if y is None:
        if partition.classes is not None:
            return np.asarray(partition.classes)
        return np.arange(n)
    y = np.asarray(y)
    if y.shape != (n,):
        raise InvalidInputError(f"y must have one label per cell, shape ({n},); got {y.shape}")
    return y


def boundary(model, partition, **options):
    """Area of the boundary between differently labelled cells: ``sum_{walls ij}
    vol_{d-1}(W_ij) [y_i != y_j]``.

    Parameters
    ----------
    model : Arrangement or ReLUNetwork
    partition : Partition
    y : array_like, shape (n_cells,), optional
        Per-cell labels. Default: the predicted classes of a partition built with
        ``regions="decision"`` (the decision boundary's area inside D), else every cell its own
        label (every wall counts).
    cells : array_like of int or bool, optional
        Count only walls with at least one of these cells.

    Returns
    -------
    Penalty

    Notes
    -----
    Only ``ndim <= 3`` (the area's gradient needs each ridge's centroid). A facet F moving
    with normal velocity ``u`` changes its area by ``cot(theta_R) int_R u`` at each ridge R,
    and a neighbouring facet G moving with ``u_G`` changes it by ``int_R u_G / sin(theta_R)``.

    Examples
    --------
    SPEC 14's square with only cell 10 labelled 1: the walls 00-10 (0.6) and 10-11 (0.7).

    >>> import numpy as np
    >>> from geomcore import Arrangement, Box, partition
    >>> from geomcore.regularizers import *
    >>> arr = Arrangement([[1, 0], [0, 1]], [0.3, 0.6])
    >>> p = boundary(arr, partition(arr, Box([0, 0], [1, 1])), y=[0, 1, 0, 0])
    >>> round(p.value, 12), p.grad[0].round(12).tolist(), p.grad[1].round(12).tolist()
    (1.3, [[0.3, 0.6], [-0.3, -0.6]], [-1.0, 1.0])
    """
    geom, sel = _setup("boundary", model, partition, options, ("y", "cells"))
    y = _wall_labels(model, partition, options.get("y"))
    cells = np.asarray(partition.walls.cells, dtype=np.int64)
    if len(cells) == 0:
        return Penalty(0.0, geom.param_grads(*geom.row_grads()), "boundary")
    count = (y[cells[:, 0]] != y[cells[:, 1]]) & (sel[cells[:, 0]] | sel[cells[:, 1]])
    facet = geom.facet_of(cells[:, 0], geom.fs["wall_source"])
    if (facet[count] < 0).any():
        w = int(np.flatnonzero(count & (facet < 0))[0])
        raise RuntimeError(f"internal error: wall {w} is not a facet of its cell")
    w_area = np.zeros(geom.n_facets)
    np.add.at(w_area, facet[count], 1.0)
    value = float(np.sum(geom.area[facet[count]]))
    g_a, g_b = geom.row_grads(w_area=w_area)
    return Penalty(value, geom.param_grads(g_a, g_b), "boundary")


def sharp_angles(model, partition, **options):
    """Penalty on sharp dihedral angles at hinges: ``sum_h sum_{c at h} max(0, theta_min -
    theta_hc)^2``.

    Parameters
    ----------
    model : Arrangement or ReLUNetwork
    partition : Partition
    theta_min : float, optional
        Default ``pi / 6``.
    cells : array_like of int or bool, optional
        Count only the angles of these cells.

    Returns
    -------
    Penalty

    Notes
    -----
    The interior angle between facets with unit normals ``n_F``, ``n_G`` is
    ``theta = pi - arccos(n_F . n_G)``, so ``d theta / d a_F = (n_G + cos(theta) n_F) /
    (|a_F| sin(theta))`` and angles do not depend on the offsets. A T-junction's angle (pi)
    is constant.

    Examples
    --------
    Two lines crossing at 45 degrees in the unit square: two angles of pi/4, two of 3 pi/4.

    >>> import numpy as np
    >>> from geomcore import Arrangement, Box, partition
    >>> from geomcore.regularizers import *
    >>> arr = Arrangement([[1, 0], [1, -1]], [0.5, 0.0])
    >>> p = sharp_angles(arr, partition(arr, Box([0, 0], [1, 1])), theta_min=np.pi / 3)
    >>> bool(np.isclose(p.value, 2 * (np.pi / 3 - np.pi / 4) ** 2))
    True
    """
    geom, sel = _setup("sharp_angles", model, partition, options, ("theta_min", "cells"))
    theta_min = _positive(options.get("theta_min", math.pi / 6), "theta_min")
    H = partition.hinges
    indices = np.asarray(H.indices, dtype=np.int64)
    fixed = np.asarray(H.angles, dtype=np.float64)
    if len(indices) == 0:
        return Penalty(0.0, geom.param_grads(*geom.row_grads()), "sharp_angles")
    ridge = _cell_faces.hinge_entry_ridges(geom)
    matched = ridge >= 0
    bad = ~matched & (fixed < theta_min) & sel[indices]
    if bad.any():
        e = int(np.flatnonzero(bad)[0])
        raise RuntimeError(
            f"internal error: hinge entry {e} (cell {indices[e]}, angle {fixed[e]}) has no ridge")
    angle = fixed.copy()
    theta = geom.angles()
    angle[matched] = theta[ridge[matched]]
    gap = np.where(sel[indices], np.maximum(0.0, theta_min - angle), 0.0)
    value = float(np.sum(gap ** 2))
    w_angle = np.zeros(len(geom.f1))
    np.add.at(w_angle, ridge[matched], -2.0 * gap[matched])
    g_a, g_b = geom.row_grads(w_angle=w_angle)
    return Penalty(value, geom.param_grads(g_a, g_b), "sharp_angles")


def _ball_ratio(d):
    omega = math.pi ** (d / 2) / math.gamma(d / 2 + 1)
    return (d * omega) ** d / omega ** (d - 1)


def shape_quality(model, partition, **options):
    """Isoperimetric shape penalty: ``sum_i (q_i - 1)`` with ``q_i = area(dC_i)^d /
    (vol(C_i)^(d-1) q_ball)`` (``q >= 1``, 1 for a ball).

    Parameters
    ----------
    model : Arrangement or ReLUNetwork
    partition : Partition
    cells : array_like of int or bool, optional
        Sum over these cells only.

    Returns
    -------
    Penalty

    Notes
    -----
    ``d q = q (d dS / S - (d-1) dV / V)``; the surface ``S`` (domain facets included) changes
    by ``cot(theta_R / 2) int_R u_F`` over the ridges R of each moving facet F. Only
    ``ndim <= 3``.

    Examples
    --------
    A w x h rectangle has ``q = (w + h)^2 / (pi w h)``; the unit square cut at x = 0.5:

    >>> import numpy as np
    >>> from geomcore import Arrangement, Box, partition
    >>> from geomcore.regularizers import *
    >>> arr = Arrangement([[1, 0]], [0.5])
    >>> p = shape_quality(arr, partition(arr, Box([0, 0], [1, 1])))
    >>> bool(np.isclose(p.value, 2 * (1.5 ** 2 / (np.pi * 0.5) - 1)))
    True
    """
    geom, sel = _setup("shape_quality", model, partition, options, ("cells",))
    d = partition.ndim
    S = np.bincount(geom.owner, weights=geom.area, minlength=partition.n_cells)
    V = geom.volume
    q = S ** d / (V ** (d - 1) * _ball_ratio(d))
    value = float(np.sum((q - 1.0)[sel]))
    qs = np.where(sel, q, 0.0)
    w_area = (d * qs / S)[geom.owner]
    g_a, g_b = geom.row_grads(w_volume=-(d - 1) * qs / V, w_area=w_area)
    return Penalty(value, geom.param_grads(g_a, g_b), "shape_quality")


#: the terms by name (for :func:`penalty` and :class:`geomcore.torch.GeometricPenalty`)
TERMS = {"small_cells": small_cells, "boundary": boundary, "sharp_angles": sharp_angles,
         "shape_quality": shape_quality}


def penalty(term, model, partition, **options):
    """The regularizer named `term` (one of :data:`TERMS`).

    Examples
    --------
    >>> import numpy as np
    >>> from geomcore import Arrangement, Box, partition
    >>> from geomcore.regularizers import *
    >>> arr = Arrangement([[1, 0], [0, 1]], [0.5, 0.5])
    >>> penalty("boundary", arr, partition(arr, Box([0, 0], [1, 1]))).value
    2.0
    """
    if term not in TERMS:
        raise InvalidInputError(f"term must be one of {', '.join(TERMS)}; got {term!r}")
    return TERMS[term](model, partition, **options)
