"""ReLU networks as a partition source: linear regions from the exact cell complex split
neuron by neuron, and decision regions, each linear region cut by the argmax of the outputs."""


from types import SimpleNamespace

import numpy as np

from geomcore._memory import check_fits
from geomcore._progress import report
from geomcore.errors import DegenerateInputError
from geomcore.networks import ReLUNetwork
from geomcore.partitions._dispatch import register
from geomcore.partitions._model import (
    Partition,
    _check_volume,
    _csr_positions,
    _domain_halfspaces,
    _find_labels,
    _walls_from_pairs,
    _with_class_bits,
)
from geomcore.partitions._assemble import complex_partition, facet_rows
from geomcore.partitions._complex import AffineSources, CellComplex
from geomcore.partitions.maxaffine import _ridge_hinges
from geomcore.polytope import polytopes

__all__ = ["network_partition"]


def network_partition(model, domain, progress, max_cells, decision=False):
    """Linear regions of a ReLU network: the domain's cell complex split by each hidden neuron
    in turn (layer by layer, see :mod:`geomcore.partitions._complex`); with `decision`, each
    linear region then cut by the argmax of the outputs."""
    d, n_hidden = model.ndim, model.n_hidden
    dom_A, dom_b, dom_volume = _domain_halfspaces(domain, d)
    sources = AffineSources(model.weights[:-1], model.biases[:-1], model.negative_slope)
    cx = CellComplex(sources, dom_A, dom_b)
    n_layers = len(model.layer_sizes)
    for layer, width in enumerate(model.layer_sizes):
        start = int(sources.starts[layer])

        def after(k, layer=layer, width=width, start=start):
            g = start + k + 1
            if max_cells is not None and cx.n_cells > max_cells:
                raise DegenerateInputError(
                    f"the partition exceeds max_cells={max_cells} after {g} of {n_hidden} "
                    f"neurons ({cx.n_cells} cells)")
            check_fits(cx.n_cells, f"after {g} of {n_hidden} neurons")
            if progress:                # a line per layer in logs, the bar per neuron
                report(g, n_hidden, f"layer {layer + 1}/{n_layers}, neuron", cx.n_cells,
                       line=k == width - 1)

        cx.insert_layer(layer, after)
    cx.take(np.lexsort(cx.labels.T) if n_hidden else np.arange(cx.n_cells))
    if not decision:
        return complex_partition(cx, model, domain, dom_volume)
    # decision regions: each linear region's halfspaces cut by the class comparisons
    owner = np.repeat(np.arange(cx.n_cells), np.diff(cx.cf_ptr))
    normals, offsets = facet_rows(cx, owner, cx.cf_idx)
    cells = SimpleNamespace(
        A=normals, b=offsets, ptr=cx.cf_ptr, labels=cx.labels, n=cx.n_cells,
        src=np.where(cx.cf_idx < cx.n_dom, -1 - cx.cf_idx, cx.cf_idx - cx.n_dom))

    def neuron_rows(ids):
        return sources.rows_on_cells(cx.labels[ids])

    return _decision_partition(model, domain, cells, neuron_rows, dom_A, dom_b, dom_volume)


def _decision_partition(model, domain, cells, neuron_rows, dom_A, dom_b, dom_volume):
    """Decision regions: each linear region cut by the argmax of the outputs, every (region,
    class) pair computed in one batch call; pairs without interior drop out exactly.
    neuron_rows(ids): the hidden neurons' rows on the linear regions ids."""
    d, n_hidden, n = model.ndim, model.n_hidden, cells.n
    out = model.output_rows(cells.labels)                       # (n, n_out, d + 1)
    if out.shape[1] == 1:                                        # a binary logit: 0 vs logit
        out = np.concatenate([np.zeros_like(out), out], axis=1)
    K = out.shape[1]
    # cell i, class k: its rows, then (f_j - f_k) . x <= c_k - c_j for every j != k
    pairs = np.repeat(np.arange(n), K)
    klass = np.tile(np.arange(K), n)
    pos, pptr = _csr_positions(cells.ptr, pairs)
    lengths = np.diff(pptr) + (K - 1)
    ptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    is_extra = np.zeros(ptr[-1], dtype=bool)
    for e in range(1, K):
        is_extra[ptr[1:] - e] = True
    others = np.array([[j for j in range(K) if j != k] for k in range(K)]).reshape(K, K - 1)
    j = others[klass].ravel()
    owner_rows = np.repeat(pairs, K - 1)
    diff = out[owner_rows, j] - out[owner_rows, np.repeat(klass, K - 1)]
    A = np.empty((ptr[-1], d))
    b = np.empty(ptr[-1])
    src = np.empty(ptr[-1], dtype=np.int64)
    A[~is_extra], b[~is_extra], src[~is_extra] = cells.A[pos], cells.b[pos], cells.src[pos]
    A[is_extra], b[is_extra], src[is_extra] = diff[:, :d], -diff[:, d], n_hidden + j
    batch = polytopes(A, b, ptr, errors="ignore")
    if (batch.status > 3).any():
        raise DegenerateInputError(f"a decision region failed (status {batch.status.max()})")
    # ties go to the lowest class: where f_j equals f_k on a whole cell for some j < k, class k
    # never wins there (elsewhere ties only touch a set of measure zero)
    tie = (~diff.any(axis=1)).reshape(len(pairs), K - 1) & (j.reshape(len(pairs), K - 1)
                                                            < klass[:, None])
    keep = np.flatnonzero((batch.status == 0) & ~tie.any(axis=1))
    kpos, kptr = _csr_positions(ptr, keep)
    batch = polytopes(A[kpos], b[kpos], kptr)
    src = src[kpos]
    _check_volume(batch, dom_volume)
    parent, classes = pairs[keep], klass[keep]
    labels = cells.labels[parent]
    walls, boundary = _decision_walls(model, labels, classes, K, batch, src)
    dom_rows = np.column_stack([dom_A, -dom_b])

    def candidates(ids):
        p, k = parent[ids], classes[ids]
        rel = out[p] - out[p, k][:, None, :]                    # f_j - f_k on the cell
        return np.concatenate([neuron_rows(p), rel,
                               np.broadcast_to(dom_rows, (len(ids),) + dom_rows.shape)], axis=1)

    def key_extra(ids, members):
        return labels[ids] & ~members[:, :n_hidden]

    hinges = _ridge_hinges(batch, src, n_hidden + K, candidates, key_extra,
                           own_source=lambda ids: n_hidden + classes[ids])
    return Partition(model, domain, labels, batch, walls, hinges, boundary, classes=classes)


def _decision_walls(model, labels, classes, n_classes, batch, src):
    """Walls of decision regions: across a neuron's facet the pattern flips (same class),
    across the facet f_k = f_j the class becomes j (same pattern)."""
    keys = _with_class_bits(labels, classes, n_classes)
    return _walls_across(batch, src, keys, model.n_hidden, lambda X: _with_class_bits(
        model.patterns(X), model.classes(X), n_classes))


def _network_walls(model, labels, batch, src):
    """Walls of linear regions: across a facet on neuron g the pattern flips at g."""
    return _walls_across(batch, src, labels, model.n_hidden, model.patterns)


def _walls_across(batch, src, keys, n_hidden, point_keys):
    """Walls and boundary areas from each cell's facets. keys: bool (n_cells, n_hidden [+ n_classes
    one-hot]) identifying the cells; the cell across a facet on neuron g has bit g flipped, across
    a class facet (source n_hidden + j) class j. In degenerate nets (another neuron vanishing on
    the same facet) that guess finds no cell, and a point just beyond the facet decides."""
    n = len(keys)
    owner = np.repeat(np.arange(n), np.diff(batch.facet_offsets))
    source = src[batch.facet_index]
    boundary = np.bincount(owner[source < 0], weights=batch.facet_areas[source < 0], minlength=n)
    on = np.flatnonzero(source >= 0)
    cells = owner[on]
    across = keys[cells].copy()
    neuron = source[on] < n_hidden
    across[np.flatnonzero(neuron), source[on][neuron]] ^= True
    moved = np.flatnonzero(~neuron)
    if moved.size:
        n_classes = keys.shape[1] - n_hidden
        across[moved, n_hidden:] = np.eye(n_classes, dtype=bool)[source[on][moved] - n_hidden]
    neighbours = _find_labels(keys, across)
    lost = np.flatnonzero(neighbours < 0)
    if lost.size:
        centroid, normal = batch.facet_centroids[on[lost]], batch.facet_normals[on[lost]]
        X = centroid + 1e-7 * (1 + np.abs(centroid).max(axis=1))[:, None] * normal
        neighbours[lost] = _find_labels(keys, point_keys(X))
        if (neighbours < 0).any():
            raise RuntimeError("internal error: a facet has no cell across it")
    return _walls_from_pairs(batch, on, cells, neighbours), boundary


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
