"""Figures of ``geomcore report`` (matplotlib, Agg backend, PNG files).

Each ``plot_*`` function writes one PNG and returns its file name; the maps need a 2-D
partition.
"""

import os

import numpy as np

__all__ = [
    "plot_cells",
    "plot_histograms",
    "plot_layer_profile",
    "plot_spectrum",
    "plot_spline",
    "plot_walls",
    "polygons",
    "wall_segments",
    "write_figures",
]

DPI = 110


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def polygons(partition):
    """Each cell of a 2-D partition as its vertices in counter-clockwise order (list of (k, 2)
    arrays)."""
    out = []
    for i in range(partition.n_cells):
        v = np.asarray(partition.cell(i).vertices, float)
        c = v.mean(axis=0)
        out.append(v[np.argsort(np.arctan2(v[:, 1] - c[1], v[:, 0] - c[0]))])
    return out


def wall_segments(partition):
    """The walls of a 2-D partition as segments, shape (n_walls, 2, 2): centroid -/+ half the
    length along the tangent (walls are segments, so this is exact).

    Examples
    --------
    >>> from geomcore import Arrangement, Box, partition
    >>> part = partition(Arrangement([[1, 0]], [0.25]), Box([0, 0], [1, 2]))
    >>> wall_segments(part).round(12).tolist()
    [[[0.25, 0.0], [0.25, 2.0]]]
    """
    w = partition.walls
    c = np.asarray(w.centroids, float).reshape(-1, 2)
    nrm = np.asarray(w.normals, float).reshape(-1, 2)
    half = 0.5 * np.asarray(w.areas, float)[:, None] * np.column_stack([-nrm[:, 1], nrm[:, 0]])
    return np.stack([c - half, c + half], axis=1)


#: axis names of the maps: x for the input, t for the coordinates of a slice
AXES = {"input": ("$x_1$", "$x_2$"), "slice": ("$t_1$", "$t_2$")}
_axes = AXES["input"]


def _frame(ax, partition):
    lo, hi = partition.domain.lo, partition.domain.hi
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xlabel(_axes[0])
    ax.set_ylabel(_axes[1])


def _map_fig(partition, ncols=1, colorbar=True):
    """A figure whose axes have the domain's aspect ratio (width about 6 inches per map)."""
    plt = _plt()
    lo, hi = partition.domain.lo, partition.domain.hi
    aspect = float(np.clip((hi[1] - lo[1]) / (hi[0] - lo[0]), 0.3, 2.5))
    w = 5.6
    fig = plt.figure(figsize=(ncols * (w + 1.1) + (0.6 if colorbar else 0), w * aspect + 1.2),
                     dpi=DPI, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def _colorbar(fig, mappable, axes, label, extend="neither"):
    fig.colorbar(mappable, ax=list(axes), label=label, fraction=0.05, pad=0.02, aspect=25,
                 extend=extend)


def _draw_cells(ax, polys, values, cmap, norm, edge="white", lw=0.3):
    import matplotlib
    from matplotlib.collections import PolyCollection

    cmap = matplotlib.colormaps[cmap].with_extremes(bad="#e4e4e4")
    pc = PolyCollection(polys, array=np.ma.masked_invalid(values), cmap=cmap, norm=norm,
                        edgecolors=edge, linewidths=lw)
    ax.add_collection(pc)
    return pc


def _points(ax, X, y=None):
    if X is None or len(X) > 5000:
        return
    if y is None:           # white dots ringed in black show on any fill colour
        ax.scatter(X[:, 0], X[:, 1], s=7, c="white", edgecolors="k", linewidths=0.35,
                   alpha=0.8, zorder=3)
    else:
        ax.scatter(X[:, 0], X[:, 1], s=5, c=y, cmap="coolwarm", edgecolors="none", alpha=0.7,
                   zorder=3)


def plot_cells(path, partition, polys, values, *, title, label, kind="sequential", X=None,
               y=None):
    """Cells filled by ``values`` (NaN grey); kind "log" (positive values, log colour scale),
    "diverging" (centred at 0) or "sequential"."""
    plt = _plt()
    from matplotlib import colors

    fig, (ax,) = _map_fig(partition)
    v = np.asarray(values, float)
    fin = v[np.isfinite(v)]
    if kind == "log":
        pos = fin[fin > 0]
        norm = colors.LogNorm(vmin=pos.min(), vmax=pos.max()) if len(pos) and pos.min() < pos.max() \
            else None
        cmap = "viridis"
    elif kind == "diverging":
        lim = float(np.quantile(np.abs(fin), 0.9)) if len(fin) else 1.0
        lim = lim or 1.0
        norm = colors.TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)
        cmap = "RdBu_r"
    else:
        norm, cmap = None, "viridis"
    pc = _draw_cells(ax, polys, v, cmap, norm)
    _points(ax, X)
    _colorbar(fig, pc, [ax], label, "both" if kind == "diverging" else "neither")
    ax.set_title(title, fontsize=11)
    _frame(ax, partition)
    fig.savefig(path)
    plt.close(fig)
    return os.path.basename(path)


def plot_walls(path, partition, *, title, X=None, y=None):
    """Walls as segments with line width proportional to their length."""
    plt = _plt()
    from matplotlib.collections import LineCollection

    seg = wall_segments(partition)
    areas = np.asarray(partition.walls.areas, float)
    fig, (ax,) = _map_fig(partition, colorbar=False)
    _points(ax, X, y)
    if len(areas):
        width = 0.4 + 4.6 * areas / areas.max()
        lc = LineCollection(seg, linewidths=width, colors="#1f3b73", capstyle="round")
        ax.add_collection(lc)
    lo, hi = partition.domain.lo, partition.domain.hi
    ax.plot([lo[0], hi[0], hi[0], lo[0], lo[0]], [lo[1], lo[1], hi[1], hi[1], lo[1]],
            color="0.5", lw=0.8)
    ax.set_title(title, fontsize=11)
    _frame(ax, partition)
    fig.savefig(path)
    plt.close(fig)
    return os.path.basename(path)


def plot_spectrum(path, eigenvalues, betti):
    """The smallest eigenvalues of Delta_0 and Delta_1, one panel each."""
    plt = _plt()
    ks = sorted(eigenvalues)
    fig, axes = plt.subplots(1, len(ks), figsize=(4.2 * len(ks), 3.4), dpi=DPI, squeeze=False)
    for ax, k in zip(axes[0], ks):
        w = np.asarray(eigenvalues[k], float)
        top = max(float(np.abs(w).max(initial=0.0)), 1e-300)
        zero = np.abs(w) <= 1e-8 * max(top, 1.0)
        idx = np.arange(len(w))
        ax.vlines(idx, 0, w, color="0.6", lw=1)
        ax.plot(idx[~zero], w[~zero], "o", color="#1f77b4", ms=5, label="eigenvalue")
        ax.plot(idx[zero], w[zero], "o", color="#d62728", ms=6, label="zero (kernel)")
        hint = f", $b_{k}$ = {betti[k]}" if k < len(betti) else ""
        ax.set_title(f"smallest eigenvalues of $\\Delta_{k}${hint}", fontsize=10)
        ax.set_xlabel("index")
        ax.set_xticks(idx[::max(1, len(idx) // 10)])
        ax.grid(alpha=0.3)
        if k == ks[0]:
            ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return os.path.basename(path)


def plot_spline(path, partition, polys, before, after, *, X=None):
    """Cell values before (per-cell mean target; grey: no data) and after the spline."""
    plt = _plt()
    from matplotlib import colors

    fin = np.r_[before[np.isfinite(before)], after[np.isfinite(after)]]
    norm = colors.Normalize(vmin=fin.min(), vmax=fin.max()) if len(fin) else None
    fig, axes = _map_fig(partition, ncols=2)
    for ax, vals, title in [(axes[0], before, "before: mean target per cell (grey: no data)"),
                            (axes[1], after, "after: order-2 spline on the complex (lam = 1)")]:
        pc = _draw_cells(ax, polys, vals, "viridis", norm, edge="0.85", lw=0.2)
        _points(ax, X)
        ax.set_title(title, fontsize=10)
        _frame(ax, partition)
    _colorbar(fig, pc, axes, "cell value")
    fig.savefig(path)
    plt.close(fig)
    return os.path.basename(path)


def plot_layer_profile(path, profile):
    """Per layer: quantiles of each cell's volume in the layer's pulled-back metric relative to
    its input volume, and the number of collapsed cells (volume 0)."""
    plt = _plt()
    v = np.asarray(profile.volumes, float)
    ratio = v / np.where(v[0] > 0, v[0], np.nan)
    L = v.shape[0]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.5, 3.6), dpi=DPI)
    layers = np.arange(L)
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.log10(np.where(ratio > 0, ratio, np.nan))
    qs = [np.nanquantile(r, [0.1, 0.5, 0.9]) if np.isfinite(r).any() else [np.nan] * 3
          for r in lr]
    qs = np.array(qs)
    ax.fill_between(layers, qs[:, 0], qs[:, 2], alpha=0.25, label="10-90%")
    ax.plot(layers, qs[:, 1], "o-", label="median")
    ax.set_xlabel("layer (0 = input)")
    ax.set_ylabel("log10(layer volume / input volume)")
    ax.set_title("how layers stretch the cells", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    collapsed = (v <= 0).sum(axis=1)
    ax2.bar(layers, collapsed, color="#d62728")
    ax2.set_ylim(0, max(1, collapsed.max()) * 1.15)
    if not collapsed.any():
        ax2.text(0.5, 0.5, "no cell collapses in any layer", transform=ax2.transAxes,
                 ha="center", va="center", color="0.3")
    for a_ in (ax, ax2):
        a_.set_xticks(layers)
    ax2.set_xlabel("layer")
    ax2.set_ylabel("cells")
    ax2.set_title("cells collapsed to lower dimension", fontsize=10)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return os.path.basename(path)


def plot_histograms(path, volumes, curvature, quality):
    """Distributions, for partitions that cannot be drawn as a map (ndim != 2)."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), dpi=DPI)
    for ax, vals, title, log in [(axes[0], volumes, "cell volume", True),
                                 (axes[1], curvature, "cell curvature", False),
                                 (axes[2], quality, "isoperimetric quality q", True)]:
        v = np.asarray(vals, float)
        v = v[np.isfinite(v)]
        if log:
            v = np.log10(v[v > 0])
            title = "log10 " + title
        ax.hist(v, bins=40, color="#1f77b4")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return os.path.basename(path)


def write_figures(analysis, out):
    """Every figure of one analysed subject; returns a list of (file name, caption)."""
    global _axes
    a, s = analysis, analysis.subject
    _axes = AXES["slice" if a.summary.get("input_ndim", 2) != a.summary["ndim"] else "input"]
    part = a.partition
    p = s.name + "_"
    figs = []
    if part.ndim == 2:
        polys = polygons(part)
        figs.append((plot_cells(os.path.join(out, p + "volume.png"), part, polys, part.volumes,
                                title=f"{part.n_cells} cells, coloured by volume",
                                label="cell volume (log scale)", kind="log", X=s.X),
                     ("The partition: every cell of the model, coloured by its area (log scale); "
                      "dots are the data.")))
        figs.append((plot_cells(os.path.join(out, p + "curvature.png"), part, polys,
                                a.curvature, title=f"vertex curvature ({a.curvature_kind})",
                                label="curvature", kind="diverging"),
                     (f"Each cell's {a.curvature_kind.capitalize()} curvature (the mean over its "
                      "walls): red positive, blue negative, grey a cell without walls.")))
        figs.append((plot_walls(os.path.join(out, p + "walls.png"), part,
                                title=f"{len(part.walls.areas)} walls, width by length",
                                X=s.X, y=s.y),
                     ("The walls between cells, drawn with a width proportional to their length "
                      "(the edge weights of the Laplacian); dots are the data, coloured by target.")))
        sp = getattr(a, "spline_partition", part)
        spolys = polys if sp is part or sp.n_cells == part.n_cells else polygons(sp)
        figs.append((plot_spline(os.path.join(out, p + "spline.png"), sp, spolys,
                                 a.spline_before, a.spline_after, X=s.X),
                     ("Spline refinement (geomcore.refine): the per-cell mean of the target before, "
                      "the order-2 simplicial spline after; it fills the cells without data.")))
    else:
        figs.append((plot_histograms(os.path.join(out, p + "distributions.png"), part.volumes,
                                     a.curvature, a.quality),
                     (f"Distributions over the {part.n_cells} cells (a {part.ndim}-D partition "
                      "has no map).")))
    figs.append((plot_spectrum(os.path.join(out, p + "spectrum.png"), a.eigenvalues,
                               a.summary["betti_numbers"]),
                 ("The smallest eigenvalues of the Hodge Laplacians on the nerve: the number of "
                  "zero eigenvalues of Delta_k is the Betti number b_k; the first non-zero one of "
                  "Delta_0 measures how well connected the cells are.")))
    if a.layer_profile is not None:
        figs.append((plot_layer_profile(os.path.join(out, p + "layers.png"), a.layer_profile),
                     ("Layer profile: the cells' volumes in each hidden layer's pulled-back "
                      "metric, relative to their input volume.")))
    if a.slice_partition is not None and a.slice_partition.ndim == 2:
        sl = a.slice_partition
        _axes = AXES["slice"]
        figs.append((plot_cells(os.path.join(out, p + "slice.png"), sl, polygons(sl), sl.volumes,
                                title=f"2-D slice through the data: {sl.n_cells} cells",
                                label="cell area in the slice", kind="log"),
                     ("An exact 2-D slice of the network's partition through the data mean, "
                      "spanned by the data's first two principal directions.")))
    return figs
