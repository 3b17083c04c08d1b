
"""The analysis behind ``geomcore report``: one call of the public API per quantity.

:func:`analyse` runs partition, nerve, masses, spectra, curvature, spline refinement and (when
their modules exist) the layer profile and data cells for one :class:`Subject`, and returns an
:class:`Analysis` holding the arrays (for the figures) and the JSON-ready summary.
"""

import importlib
import math
import time
from dataclasses import dataclass, field

import numpy as np

from geomcore.report._models import ReportError

__all__ = [
    "CURVATURE_QUANTILES",
    "Analysis",
    "analyse",
    "cell_quality",
    "min_hinge_angles",
    "worst_cells",
]

CURVATURE_QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)
#: above this many cells the Ollivier curvature (one transport problem per wall) gives way to
#: Forman's closed form
OLLIVIER_LIMIT = 4000
#: largest nerve (edges) whose Delta_1 spectrum is computed (one dense eigh)
DELTA1_LIMIT = 2000


@dataclass
class Analysis:
    subject: object
    partition: object = None
    complex: object = None
    rc: object = None
    eigenvalues: dict = field(default_factory=dict)
    curvature: np.ndarray = None
    curvature_kind: str = ""
    quality: np.ndarray = None
    min_angle: np.ndarray = None
    spline_before: np.ndarray = None
    spline_after: np.ndarray = None
    layer_profile: object = None
    data_cells: object = None
    slice_partition: object = None
    timings: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def cell_quality(partition):
    """Isoperimetric quality ``q_i = area(boundary C_i)^d / (vol(C_i)^(d-1) q_ball) >= 1``
    (SPEC 10, shape quality); large for slivers. Shape (n_cells,).

    Examples
    --------
    In the plane ``q_ball = 4 pi``: a 0.5 x 0.1 cell has ``q = 1.2^2 / (0.05 * 4 pi) = 7.2 / pi``,
    a 0.5 x 0.9 cell ``2.8^2 / (0.45 * 4 pi) = 4.3556 / pi``.

    >>> from geomcore import Arrangement, Box, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.1]), Box([0, 0], [1, 1]))
    >>> (cell_quality(part) * np.pi).round(6).tolist()
    [7.2, 7.2, 4.355556, 4.355556]
    """
    d, n = partition.ndim, partition.n_cells
    walls = np.asarray(partition.walls.cells, np.int64).reshape(-1, 2)
    areas = np.asarray(partition.walls.areas, float)
    perimeter = np.asarray(partition.boundary_areas, float) \
        + np.bincount(walls[:, 0], weights=areas, minlength=n) \
        + np.bincount(walls[:, 1], weights=areas, minlength=n)
    omega = math.pi ** (d / 2) / math.gamma(d / 2 + 1)
    q_ball = (d * omega) ** d / omega ** (d - 1)
    vol = np.asarray(partition.volumes, float)
    return perimeter ** d / (vol ** (d - 1) * q_ball)


def min_hinge_angles(partition):
    """Each cell's smallest dihedral angle at a hinge of the partition (radians; NaN for a cell
    at no hinge). Shape (n_cells,).

    Examples
    --------
    The lines x = 0.5 and x + y = 1 cross at (0.5, 0.5) at 45 degrees:

    >>> from geomcore import Arrangement, Box, partition
    >>> part = partition(Arrangement([[1, 0], [1, 1]], [0.5, 1.0]), Box([0, 0], [1, 1]))
    >>> np.degrees(min_hinge_angles(part)).round(6).tolist()
    [135.0, 45.0, 45.0, 135.0]
    """
    h = partition.hinges
    out = np.full(partition.n_cells, np.inf)
    idx = np.asarray(h.indices, np.int64)
    if len(idx):
        np.minimum.at(out, idx, np.asarray(h.angles, float))
    out[np.isinf(out)] = np.nan
    return out


def worst_cells(partition, quality, min_angle, curvature, *, per_kind=5):
    """The most problematic cells: the ``per_kind`` worst slivers (largest quality), sharpest
    hinge angles and largest ``|curvature|``, as JSON-ready dicts (a cell may appear under
    several reasons).

    Examples
    --------
    The thinnest of four rectangles is the 0.7 x 0.1 one (cell 1); the curvatures are given:

    >>> from geomcore import Arrangement, Box, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.3, 0.1]), Box([0, 0], [1, 1]))
    >>> K = np.array([0.1, 0.0, -2.0, 0.3])
    >>> rows = worst_cells(part, cell_quality(part), min_hinge_angles(part), K, per_kind=1)
    >>> [(r["reason"], r["cell"], round(r["volume"], 12)) for r in rows if r["reason"] != "sharp angle"]
    [('sliver', 1, 0.07), ('high curvature', 2, 0.27)]
    """
    rows = []

    def take(values, reason, largest):
        ok = np.flatnonzero(np.isfinite(values))
        if not len(ok):
            return
        order = ok[np.argsort(-values[ok] if largest else values[ok], kind="stable")][:per_kind]
        for i in order.tolist():
            rows.append({
                "cell": i, "reason": reason,
                "volume": float(partition.volumes[i]),
                "quality": float(quality[i]),
                "min_angle_deg": None if not np.isfinite(min_angle[i])
                else float(np.degrees(min_angle[i])),
                "curvature": None if not np.isfinite(curvature[i]) else float(curvature[i]),
                "centroid": [float(v) for v in partition.centroids[i]],
            })

    take(quality, "sliver", True)
    take(min_angle, "sharp angle", False)
    take(np.abs(curvature), "high curvature", True)
    return rows


def _quantiles(values):
    v = values[np.isfinite(values)]
    if not len(v):
        return {}
    return {f"q{round(q * 100):02d}": float(np.quantile(v, q)) for q in CURVATURE_QUANTILES}


def _one_blas_thread():
    """One BLAS thread for the report's small dense eigenproblems (a few hundred rows): threads
    do not help at that size, and on a shared or oversubscribed machine they slow ``eigh`` on a
    300 x 300 matrix from 0.03 s to seconds. A no-op without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _data_cells_summary(dc):
    counts = np.asarray(dc.counts)
    return {"n_cells": int(dc.n_cells), "n_points": int(dc.n_points),
            "max_count": int(counts.max()), "singletons": int(np.count_nonzero(counts == 1)),
            "median_inradius": float(np.median(dc.inradii)),
            "n_neighbor_pairs": len(dc.neighbors)}


def _model_output(subject, X):
    """The model's own output at X, as one float per point, and its description."""
    est = subject.estimator
    if est is not None:
        if hasattr(est, "predict_proba") and len(getattr(est, "classes_", ())) == 2:
            return est.predict_proba(X)[:, 1], "the model's probability of class 1"
        return np.asarray(est.predict(X), float), "the model's prediction"
    if subject.network is not None:
        out = np.asarray(subject.network(X), float)
        if out.ndim == 1 or out.shape[1] == 1:
            return out.reshape(len(X)), "the network's output"
        return out.argmax(axis=1).astype(float), "the network's predicted class"
    model = subject.model
    if hasattr(model, "argmax"):
        return np.asarray(model.argmax(X), float), "the model's predicted cell"
    raise ReportError("no targets: pass --data with a target column")


def analyse(subject, *, step=lambda name: None):
    """Run the report's computations on one subject. ``step(name)`` is called before each
    stage (the progress bar)."""
    import geomcore as gc

    a = Analysis(subject)
    t = a.timings

    def timed(name, fn):
        step(name)
        start = time.perf_counter()
        out = fn()
        t[name] = round(time.perf_counter() - start, 4)
        return out

    dom = subject.domain
    X = subject.X
    if X is None:
        rng = np.random.default_rng(0)
        X = rng.uniform(dom.lo, dom.hi, size=(2000, dom.ndim))
        a.notes.append("No data given: 2,000 uniform points in the domain (seed 0) stand in for "
                       "the data, with the model's own output as the target.")
        subject.X = X
    if subject.y is None:
        subject.y, subject.y_source = _model_output(subject, X)

    ndim = dom.ndim
    # (by module path: the name geomcore.pullback is also the function)
    profile_mod = importlib.import_module("geomcore.pullback")
    data_mod = importlib.import_module("geomcore.datacells")

    if ndim > 2 and subject.network is not None and data_mod is not None:
        dc = timed("data cells", lambda: data_mod.data_cells(subject.network, X, domain=dom))
        x0 = X.mean(axis=0)
        _, _, Vt = np.linalg.svd(X - x0, full_matrices=False)
        U = Vt[:2].T
        t_coords = (X - x0) @ U
        lo, hi = t_coords.min(axis=0), t_coords.max(axis=0)
        pad = np.where(hi > lo, 0.05 * (hi - lo), 0.5)
        lo, hi = lo - pad, hi + pad
        sl = timed("2-D slice", lambda: dc.slice(x0, U, lo, hi))
        if ndim > 3:
            # the exact partition of the whole input is out of reach: analyse the slice, a
            # 2-D network of its own, with the points projected onto it
            from geomcore.report._models import Subject

            inner = Subject(
                subject.name, f"{subject.title}: exact 2-D slice through the data", "network",
                sl.model, gc.Box(lo, hi), t_coords, subject.y, subject.y_source, sl.model,
                None, notes=[*subject.notes, (
                    f"{ndim}-D input: the maps show the exact partition of the plane through "
                    "the data mean spanned by its first two principal directions (a 2-D "
                    "network of its own); the points are projected onto that plane. The data "
                    f"cells below are those of the full {ndim}-D network.")])
            b = analyse(inner, step=step)
            b.data_cells = dc
            b.summary["input_ndim"] = int(ndim)
            b.summary["data_cells"] = _data_cells_summary(dc)
            b.summary["timings_s"] = {**t, **b.summary["timings_s"]}
            return b
        a.data_cells, a.slice_partition = dc, sl

    a.partition = part = timed("partition", lambda: gc.partition(subject.model, dom))
    a.complex = cx = timed("nerve", lambda: gc.nerve(part))
    betti = timed("betti numbers", cx.betti_numbers)
    a.rc = rc = timed("masses", lambda: gc.RiemannianComplex(part, X=X))
    n_eig = min(20, part.n_cells)
    with _one_blas_thread():
        a.eigenvalues[0] = timed("spectrum", lambda: gc.smallest_eigenpairs(rc, 0, n=n_eig)[0])
        n_edges = rc.complex.f_vector[1] if rc.max_dim >= 1 else 0
        if 0 < n_edges <= DELTA1_LIMIT:
            a.eigenvalues[1] = timed("spectrum", lambda: gc.smallest_eigenpairs(
                rc, 1, n=min(20, n_edges))[0])
        elif n_edges:
            a.notes.append(f"The nerve has {n_edges} edges: the spectrum of Delta_1 (whose "
                           "floored degenerate edges make it ill-conditioned) is left out above "
                           f"{DELTA1_LIMIT}.")
    kind = "ollivier" if part.n_cells <= OLLIVIER_LIMIT else "forman"
    a.curvature_kind = kind
    a.curvature = timed("curvature", lambda: gc.vertex_curvature(rc, kind=kind))
    a.quality = cell_quality(part)
    a.min_angle = min_hinge_angles(part)

    def refinement():
        refined = gc.refine(subject.model, X, subject.y, domain=dom)
        cell = np.asarray(refined.partition.locate(X))
        inside = cell >= 0
        n = refined.partition.n_cells
        counts = np.bincount(cell[inside], minlength=n)
        sums = np.bincount(cell[inside], weights=subject.y[inside], minlength=n)
        before = np.divide(sums, counts, out=np.full(n, np.nan), where=counts > 0)
        return refined, before, counts

    refined, a.spline_before, counts = timed("spline", refinement)
    a.spline_after = np.asarray(refined.values, float)
    same_cells = refined.partition.n_cells == part.n_cells and np.allclose(
        refined.partition.volumes, part.volumes)
    if not same_cells:                      # never seen; keep the figure honest if it happens
        a.notes.append("The spline's partition differs from the report's; its figure shows "
                       "the spline's own cells.")
    a.spline_partition = refined.partition
    inside = refined.partition.locate(X) >= 0
    y_in = subject.y[inside]
    mse_before = float(np.mean((a.spline_before[refined.partition.locate(X[inside])] - y_in) ** 2))
    mse_after = float(np.mean((refined.predict(X[inside]) - y_in) ** 2))

    reg_mod = importlib.import_module("geomcore.regularizers")
    regs = {}
    if reg_mod is not None and isinstance(subject.model, (gc.ReLUNetwork, gc.Arrangement)):
        def penalties():
            return {term: float(reg_mod.penalty(term, subject.model, part).value)
                    for term in ("small_cells", "boundary", "sharp_angles", "shape_quality")
                    if term in reg_mod.TERMS}
        regs = timed("regularizers", penalties)

    if profile_mod is not None and subject.network is not None and hasattr(
            profile_mod, "layer_profile"):
        a.layer_profile = timed("layer profile", lambda: profile_mod.layer_profile(
            part, subject.network))

    vol = np.asarray(part.volumes, float)
    walls = part.walls
    hinges = part.hinges
    s = {
        "name": subject.name,
        "title": subject.title,
        "family": subject.family,
        "ndim": int(ndim),
        "domain": {"lo": [float(v) for v in dom.lo], "hi": [float(v) for v in dom.hi],
                   "volume": float(dom.volume)},
        "n_points": len(X),
        "target": subject.y_source,
        "n_cells": int(part.n_cells),
        "n_walls": len(walls.areas),
        "n_hinges": len(hinges.volumes),
        "n_interior_hinges": int(np.count_nonzero(hinges.interior)),
        "volume_sum": float(vol.sum()),
        "volume_min": float(vol.min()),
        "volume_median": float(np.median(vol)),
        "volume_max": float(vol.max()),
        "wall_area_sum": float(np.sum(walls.areas)),
        "cells_with_data": int(np.count_nonzero(counts)),
        "nerve_f_vector": [int(v) for v in cx.f_vector],
        "nerve_truncated": bool(cx.truncated),
        "betti_numbers": [int(b) for b in betti],
        "smallest_eigenvalues": {f"Delta_{k}": [float(v) for v in w]
                                 for k, w in a.eigenvalues.items()},
        "curvature": {"kind": kind, **_quantiles(a.curvature)},
        "quality": _quantiles(a.quality),
        "min_angle_deg": float(np.degrees(np.nanmin(a.min_angle)))
        if np.isfinite(a.min_angle).any() else None,
        "spline": {"lam": 1.0, "order": 2, "mse_cell_means": mse_before,
                   "mse_spline": mse_after,
                   "empty_cells_filled": int(np.count_nonzero(counts == 0))},
        "worst_cells": worst_cells(part, a.quality, a.min_angle, a.curvature),
    }
    if a.layer_profile is not None:
        lp = a.layer_profile
        v = np.asarray(lp.volumes, float)
        s["layer_profile"] = {
            "layers": int(v.shape[0]),
            "volume_sum": [float(x) for x in v.sum(axis=1)],
            "collapsed_cells": [int(x) for x in (v <= 0).sum(axis=1)],
        }
    if regs:
        s["regularizers"] = regs
    if a.data_cells is not None:
        s["data_cells"] = _data_cells_summary(a.data_cells)
    s["input_ndim"] = int(ndim)
    s["timings_s"] = dict(t)
    s["notes"] = list(subject.notes) + a.notes
    a.summary = s
    return a
