"""ReLU networks as a partition source: linear regions from the exact cell complex split
neuron by neuron, and decision regions, each linear region cut by the argmax of the outputs."""

from functools import partial

import numpy as np

from geomcore._memory import check_fits
from geomcore._progress import report
from geomcore.errors import DegenerateInputError
from geomcore.networks import ReLUNetwork
from geomcore.partitions._assemble import complex_partition
from geomcore.partitions._complex import AffineSources, CellComplex
from geomcore.partitions._dispatch import register
from geomcore.partitions._model import (
    Hinges,
    Partition,
    Walls,
    _domain_halfspaces,
    _label_keys,
    _with_class_bits,
)
from geomcore.polytope import polytopes

__all__ = ["network_partition"]


def network_partition(model, domain, progress, max_cells, decision=False):
    """Linear regions of a ReLU network: the domain's cell complex split by each hidden neuron
    in turn (layer by layer, see :mod:`geomcore.partitions._complex`). With `decision`, the
    complex is then split by every comparison ``f_k - f_j`` of the outputs, and the pieces of
    a linear region where the same class wins are merged into its decision region."""
    d = model.ndim
    dom_A, dom_b, dom_volume = _domain_halfspaces(domain, d)
    outputs = (model.weights[-1], model.biases[-1]) if decision else None
    sources = AffineSources(model.weights[:-1], model.biases[:-1], model.negative_slope,
                            outputs=outputs)
    cx = CellComplex(sources, dom_A, dom_b)
    n_layers = len(sources.sizes)
    for layer, width in enumerate(sources.sizes):
        start = int(sources.starts[layer])

        def after(k, layer=layer, width=width, start=start):
            g = start + k + 1
            if max_cells is not None and cx.n_cells > max_cells:
                raise DegenerateInputError(
                    f"the partition exceeds max_cells={max_cells} after {g} of {sources.n} "
                    f"neurons and class comparisons ({cx.n_cells} cells)")
            check_fits(cx.n_cells, f"after {g} of {sources.n} neurons and class comparisons")
            if progress:                # a line per layer in logs, the bar per neuron
                what = "class comparison" if layer == len(model.layer_sizes) else "neuron"
                report(g, sources.n, f"layer {layer + 1}/{n_layers}, {what}", cx.n_cells,
                       line=k == width - 1)

        cx.insert_layer(layer, after)
    cx.take(np.lexsort(cx.labels.T) if sources.n else np.arange(cx.n_cells))
    if not decision:
        return complex_partition(cx, model, domain, dom_volume)
    fine = complex_partition(cx, model, domain, dom_volume)
    return _decision_regions(model, domain, sources, fine)


def _winning_class(sources, bits):
    """The class each fine cell gives: k wins where f_k > f_j for every j < k (bit (j, k) set)
    and f_j <= f_k for every j > k; a comparison that vanishes on the whole cell has its bit
    clear, so ties go to the lower class, as ``argmax`` does."""
    K, pairs = sources.n_classes, sources.pairs
    wins = np.ones((len(bits), K), dtype=bool)
    for p, (j, k) in enumerate(pairs):
        wins[:, k] &= bits[:, p]
        wins[:, j] &= ~bits[:, p]
    if not (wins.sum(axis=1) == 1).all():
        raise RuntimeError("internal error: a cell has no single winning class")
    return np.argmax(wins, axis=1)


def _decision_regions(model, domain, sources, fine):
    """Merge the fine cells (linear region x comparison signs) into decision regions: one per
    (activation pattern, winning class); walls and hinges are the fine ones between different
    regions, summed (a region may meet a neighbour along several fine walls)."""
    from geomcore.partitions.cells import _grouped_hinges, _grouped_walls

    n_hidden = model.n_hidden
    pattern = fine.labels[:, :n_hidden]
    klass = _winning_class(sources, fine.labels[:, n_hidden:])
    keys = _with_class_bits(pattern, klass, sources.n_classes)
    _, rep, region_of = np.unique(_label_keys(keys), return_index=True, return_inverse=True)
    # regions ordered by pattern (binary, neuron 0 the lowest bit), then class
    rank = np.lexsort(np.vstack([klass[rep], pattern[rep].T]))
    n = len(rep)
    new_id = np.empty(n, dtype=np.int64)
    new_id[rank] = np.arange(n)
    region_of = new_id[region_of.ravel()]
    rep = rep[rank]
    volumes = np.bincount(region_of, fine.volumes, minlength=n)
    centroids = np.column_stack([np.bincount(region_of, fine.volumes * fine.centroids[:, k],
                                             minlength=n)
                                 for k in range(fine.ndim)]) / volumes[:, None]
    walls = Walls(*_grouped_walls(fine.walls, region_of))
    hinges = _grouped_hinges(fine.hinges, region_of, Hinges)
    boundary = np.bincount(region_of, fine.boundary_areas, minlength=n)
    labels, classes = pattern[rep], klass[rep]

    batch = partial(_region_polytopes, model, domain, labels, classes)
    return Partition(model, domain, labels, batch, walls, hinges, boundary, classes=classes,
                     volumes=volumes, centroids=centroids)


def _region_polytopes(model, domain, labels, classes):
    """The decision regions as polytopes (for Partition.cell)."""
    # each region: its linear region's facets, then f_j - f_k <= 0 for every j != k
    n = labels.shape[0]
    dom_A, dom_b, _ = _domain_halfspaces(domain, model.ndim)
    lin = model.cell_rows(labels)                                   # (n, n_hidden, d + 1)
    out = model.output_rows(labels)
    if out.shape[1] == 1:
        out = np.concatenate([np.zeros_like(out), out], axis=1)
    side = np.where(labels, -1.0, 1.0)[:, :, None]
    rows = lin * side                                                # a . x + c <= 0
    diff = out - out[np.arange(n), classes][:, None, :]
    keep = np.ones(diff.shape[:2], dtype=bool)
    keep[np.arange(n), classes] = False
    dom = np.broadcast_to(np.column_stack([dom_A, -dom_b]), (n,) + (len(dom_b), model.ndim + 1))
    H = np.concatenate([rows, diff[keep].reshape(n, -1, model.ndim + 1), dom], axis=1)
    live = np.abs(H[:, :, :-1]).sum(axis=2) > 0
    ptr = np.r_[0, np.cumsum(live.sum(axis=1))].astype(np.int64)
    return polytopes(H[live][:, :-1], -H[live][:, -1], ptr)


def _is_network(model):
    return (isinstance(model, ReLUNetwork)
            or (hasattr(model, "coefs_") and hasattr(model, "intercepts_"))
            or type(model).__module__.startswith("torch"))


def _as_network(model):
    if isinstance(model, ReLUNetwork):
        return model
    if hasattr(model, "coefs_") and hasattr(model, "intercepts_"):
        return ReLUNetwork.from_sklearn(model)
    return ReLUNetwork.from_torch(model)


def _build(model, domain, *, regions, progress, max_cells):
    return network_partition(model, domain, progress, max_cells, regions == "decision")


register("network", _is_network, _as_network, _build, decision=True)
