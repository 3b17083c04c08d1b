"""The cells of a partition re-measured from their model's current parameters, with the source
(hyperplane, neuron, class comparison or domain row) of every facet: the shared machinery of
:mod:`geomcore.pullback` and :mod:`geomcore.regularizers`.

Only the public partition fields are read: ``labels``, ``classes``, ``walls``, ``hinges``,
``boundary_areas``, ``centroids``, ``domain``. Each wall of an arrangement or of a network's
(linear or decision) regions lies on one source, read from the two cells' labels (the bit that
flips, or the class that changes); a cell's facet rows are the rows of its walls' sources
(oriented by the cell's own label, pulled back through the cell's own activation pattern for
networks) plus the domain's rows for cells on the boundary. One batch call of the polytope
kernel then measures every cell, and its ``facet_index`` names each facet's source. The
combinatorics come from the partition; the measures from the model as it is now, so a model
moved slightly off its partition (a finite-difference step) is measured with the same cells.
"""

import weakref

import numpy as np

from geomcore.errors import DegenerateInputError, InvalidInputError
from geomcore.networks import ReLUNetwork
from geomcore.partitions import Arrangement, Box
from geomcore.polytope import polytopes

__all__ = []

_CHUNK = 2048                      # cells per block of the networks' batched layer maps
_cache = weakref.WeakKeyDictionary()
# position of the lowest set bit of each byte (bitorder "little": bit k is label column k)
_LOWEST_BIT = np.array([(b & -b).bit_length() - 1 if b else 0 for b in range(256)], np.int64)


# ---------------------------------------------------------------------------------------------
# models


def domain_halfspaces(domain, ndim):
    """(A, b) of a Box or Polytope domain."""
    if isinstance(domain, Box):
        A, b = domain.halfspaces()
    else:
        A, b = np.asarray(domain.A, dtype=np.float64), np.asarray(domain.b, dtype=np.float64)
    if A.shape[1] != ndim:
        raise InvalidInputError(f"domain must have ndim={ndim}; got ndim={A.shape[1]}")
    return A, b


def domain_volume(domain):
    return float(domain.volume)


def n_model_sources(model, partition):
    """Number of non-domain sources: hyperplanes, or hidden neurons plus classes."""
    if isinstance(model, Arrangement):
        return model.n_hyperplanes
    return model.n_hidden + (n_classes(model) if partition.classes is not None else 0)


def n_classes(model):
    n_out = model.weights[-1].shape[0]
    return 2 if n_out == 1 else n_out


def check_model(model, partition, name="model"):
    """Raise unless `partition` is a partition of `model` (same kind, dimension, label width,
    and the centroids of up to 4096 cells spread over it carry their cells' labels wherever
    the model decides them clearly; and the classes of decision regions)."""
    if not isinstance(model, (Arrangement, ReLUNetwork)):
        raise InvalidInputError(
            f"{name} must be a geomcore.Arrangement or ReLUNetwork; got {type(model).__name__}")
    if not hasattr(partition, "labels") or not hasattr(partition, "walls"):
        raise InvalidInputError(
            f"partition must be a geomcore.Partition; got {type(partition).__name__}")
    if partition.ndim != model.ndim:
        raise InvalidInputError(
            f"partition must be of {name} (ndim={model.ndim}); got a partition with "
            f"ndim={partition.ndim}")
    labels = np.asarray(partition.labels)
    width = model.n_hyperplanes if isinstance(model, Arrangement) else model.n_hidden
    if labels.dtype != bool or labels.ndim != 2 or labels.shape[1] != width:
        raise InvalidInputError(
            f"partition must be of {name}: labels must be bool (n_cells, {width}); got "
            f"{labels.dtype} {labels.shape} (a partition of another model)")
    # the centroids of up to 4096 cells spread over the partition (every cell of a small one)
    ids = np.unique(np.linspace(0, len(labels) - 1, min(len(labels), 4096)).astype(np.int64))
    X = np.asarray(partition.centroids)[ids]
    labels = labels[ids]
    for c0 in range(0, len(X), _CHUNK):             # blocks: n_cells x n_bits can be large
        Xc, lab = X[c0:c0 + _CHUNK], labels[c0:c0 + _CHUNK]
        if isinstance(model, Arrangement):
            z = Xc @ model.A.T - model.b
            scale = np.abs(Xc) @ np.abs(model.A).T + np.abs(model.b)
        else:
            z = _preactivations(model, Xc)
            scale = 1.0 + np.abs(z)
        bad = (np.abs(z) > 1e-9 * scale) & ((z > 0) != lab)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise InvalidInputError(
                f"partition must be of {name}: cell {ids[c0 + i]} has bit {j} = {bool(lab[i, j])} but "
                f"the model gives {bool(z[i, j] > 0)} at its centroid (a partition of another "
                "model?)")
    if partition.classes is not None:
        if isinstance(model, Arrangement):
            raise InvalidInputError("partition has classes; an Arrangement has none")
        want = np.asarray(partition.classes)[ids]
        got = model.classes(X)
        if not np.array_equal(got, want):
            k = int(np.flatnonzero(got != want)[0])
            raise InvalidInputError(
                f"partition must be of {name}: cell {ids[k]} has class {want[k]} but the model "
                f"predicts {got[k]} at its centroid")


def _preactivations(net, X):
    h, out = X, []
    for W, b in zip(net.weights[:-1], net.biases[:-1]):
        z = h @ W.T + b
        out.append(z)
        h = np.where(z > 0, z, net.negative_slope * z)
    return np.hstack(out) if out else np.zeros((len(X), 0))


def _left_multiply(W, M):
    """``W @ M[i]`` for every i, as one GEMM: M (n, p, k) -> (n, W.shape[0], k)."""
    n, p, k = M.shape
    out = np.ascontiguousarray(M.transpose(0, 2, 1)).reshape(n * k, p) @ W.T
    return out.reshape(n, k, W.shape[0]).transpose(0, 2, 1)


def layer_maps(net, labels):
    """Homogeneous affine maps of one block of cells through the network.

    Returns (Z, M): ``Z[l]`` (n, n_out_l, ndim + 1) the pre-activations of ``weights[l]`` as rows
    ``[a, c]`` (``a . x + c``), for every layer including the output; ``M[l]`` (n, n_l, ndim + 1)
    the map ``h^l`` of hidden layer l (``M[0]`` the identity), l = 0 .. L-1.
    """
    n, d = len(labels), net.ndim
    M = np.zeros((n, d, d + 1))
    M[:, np.arange(d), np.arange(d)] = 1.0
    Zs, Ms, start = [], [M], 0
    L = len(net.weights)
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        Z = _left_multiply(W, M)
        Z[:, :, d] += b
        Zs.append(Z)
        if l == L - 1:
            break
        D = np.where(labels[:, start:start + W.shape[0]], 1.0, net.negative_slope)
        M = D[:, :, None] * Z
        Ms.append(M)
        start += W.shape[0]
    return Zs, Ms


def backprop(net, labels, Ms, gZ, dW, db):
    """Accumulate into dW, db the gradient of sum <gZ[l], Z[l]> over a block of cells (gZ[l]
    shaped like Z[l] of :func:`layer_maps`, None for zero), patterns fixed."""
    d = net.ndim
    L = len(net.weights)
    starts = np.r_[0, np.cumsum(net.layer_sizes)]
    gM = None
    for l in range(L - 1, -1, -1):
        g = gZ[l]
        if gM is not None:
            D = np.where(labels[:, starts[l]:starts[l + 1]], 1.0, net.negative_slope)
            g = D[:, :, None] * gM if g is None else g + D[:, :, None] * gM
        if g is None:
            continue
        dW[l] += np.tensordot(g, Ms[l], axes=([0, 2], [0, 2]))
        db[l] += g[:, :, d].sum(axis=0)
        if l > 0:
            gM = _left_multiply(net.weights[l].T, g)


# ---------------------------------------------------------------------------------------------
# facet sources (combinatorics, cached per partition)


def _keys(model, partition):
    """Bool key of each cell: its label, plus a one-hot class for decision regions."""
    labels = np.asarray(partition.labels, dtype=bool)
    if partition.classes is None:
        return labels
    K = n_classes(model)
    return np.hstack([labels, np.eye(K, dtype=bool)[np.asarray(partition.classes)]])


def _wall_sources(model, partition):
    """Source of each wall's facet, seen from cells[:, 0] and from cells[:, 1]."""
    cells = np.asarray(partition.walls.cells, dtype=np.int64)
    if len(cells) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    n_bits = np.asarray(partition.labels).shape[1]
    # the first label bit that flips across each wall, on packed bits
    packed = np.packbits(np.asarray(partition.labels, dtype=bool), axis=1, bitorder="little")
    flip = packed[cells[:, 0]] ^ packed[cells[:, 1]]
    if flip.shape[1] == 0:                                  # no label bits (no hidden layer)
        flip = np.zeros((len(cells), 1), dtype=np.uint8)
    some = flip.any(axis=1)
    byte = np.argmax(flip != 0, axis=1)
    low = flip[np.arange(len(flip)), byte]
    neuron = (8 * byte + _LOWEST_BIT[low]).astype(np.int64)
    if partition.classes is None:
        if not some.all():
            w = int(np.flatnonzero(~some)[0])
            raise InvalidInputError(f"wall {w} joins two cells with the same label")
        return neuron, neuron
    classes = np.asarray(partition.classes, dtype=np.int64)
    ci, cj = classes[cells[:, 0]], classes[cells[:, 1]]
    same_class = ci == cj
    lo = np.where(same_class, neuron, n_bits + cj)          # cell 0 faces class cj
    hi = np.where(same_class, neuron, n_bits + ci)
    if (same_class & ~some).any():
        raise InvalidInputError("a wall joins two cells with the same label and class")
    return lo, hi


def facet_sources(model, partition):
    """Candidate facet sources of every cell (the brief's ``_facet_sources``).

    Returns a dict: ``cell``, ``source`` (int64, one entry per (cell, source) pair, sorted by
    cell then source; model sources ``>= 0``: hyperplane, hidden neuron, or ``n_hidden + j``
    the comparison with class j; domain row r as ``-1 - r``), ``ptr`` (n_cells + 1,) and
    ``wall_source`` (the source of each wall on its lower cell).

    A direct field would replace the derivation: the source row of each facet of
    ``partition.cell(i)``, stacked.
    """
    hit = _cached(partition)
    if hit is not None and hit[0] is model.__class__:
        return hit[1]
    n = partition.n_cells
    cells = np.asarray(partition.walls.cells, dtype=np.int64)
    lo, hi = _wall_sources(model, partition)
    dom_A, _ = domain_halfspaces(partition.domain, partition.ndim)
    n_dom = dom_A.shape[0]
    on_boundary = np.flatnonzero(np.asarray(partition.boundary_areas) > 0)
    cell = np.r_[cells[:, 0], cells[:, 1], np.repeat(on_boundary, n_dom)]
    src = np.r_[lo, hi, np.tile(-1 - np.arange(n_dom), len(on_boundary))]
    n_src = n_model_sources(model, partition)
    key = np.unique(cell * (n_src + n_dom + 1) + (src + n_dom))
    cell, src = key // (n_src + n_dom + 1), key % (n_src + n_dom + 1) - n_dom
    ptr = np.r_[0, np.cumsum(np.bincount(cell, minlength=n))].astype(np.int64)
    out = {"cell": cell.astype(np.int64), "source": src.astype(np.int64), "ptr": ptr,
           "wall_source": lo, "n_dom": n_dom, "n_src": n_src}
    try:
        _cache[partition] = (model.__class__, out)
    except TypeError:                       # a partition that cannot be weakly referenced
        pass
    return out


def _cached(partition):
    try:
        return _cache.get(partition)
    except TypeError:
        return None


# ---------------------------------------------------------------------------------------------
# the measured cells


class Geometry:
    """Every cell of a partition measured from the model's current parameters.

    Attributes (stacked over cells, CSR like a PolytopeBatch): ``batch``; per entry (cell,
    source) ``rows_a`` (E, d), ``rows_b`` (E,), ``sign`` (E,) (+1 where the cell's row is the
    source's own row, -1 where negated; 0 for domain and class rows); per facet ``entry``,
    ``owner``, ``source``, ``norm`` (|a|), ``unit`` (a/|a|); per ridge ``ridge_owner``,
    ``f1``, ``f2`` (stacked facet ids).
    """

    def __init__(self, model, partition):
        self.model, self.partition = model, partition
        self.d = partition.ndim
        self.fs = facet_sources(model, partition)
        self.labels = np.asarray(partition.labels, dtype=bool)
        self._rows()
        batch = polytopes(self.rows_a, self.rows_b, self.fs["ptr"], errors="ignore")
        if (batch.status != 0).any():
            i = int(np.flatnonzero(batch.status != 0)[0])
            raise DegenerateInputError(
                f"cell {i} of the partition has no interior for the model's current parameters "
                "(status {}): the model moved off the partition's combinatorics; rebuild the "
                "partition".format(int(batch.status[i])))
        self.batch = batch
        self.volume = batch.volume
        self.entry = np.asarray(batch.facet_index, dtype=np.int64)
        n_f = len(self.entry)
        self.owner = np.repeat(np.arange(partition.n_cells), np.diff(batch.facet_offsets))
        self.source = self.fs["source"][self.entry]
        a = self.rows_a[self.entry]
        self.norm = np.linalg.norm(a, axis=1)
        self.unit = a / self.norm[:, None]
        self.area = batch.facet_areas
        self.fcentroid = batch.facet_centroids
        self.n_facets = n_f
        self.ridge_owner = np.repeat(np.arange(partition.n_cells), np.diff(batch.ridge_offsets))
        first = batch.facet_offsets[self.ridge_owner]
        self.f1 = first + batch.ridges[:, 0]
        self.f2 = first + batch.ridges[:, 1]
        self.theta = batch.dihedral_angles
        self.rvolume = batch.ridge_volumes
        self._rcentroid = None

    # rows of every (cell, source) entry ------------------------------------------------------

    def _rows(self):
        model, fs, d = self.model, self.fs, self.d
        cell, src = fs["cell"], fs["source"]
        E = len(cell)
        A = np.empty((E, d))
        b = np.empty(E)
        sign = np.zeros(E)
        dom_A, dom_b = domain_halfspaces(self.partition.domain, d)
        dom = src < 0
        A[dom], b[dom] = dom_A[-1 - src[dom]], dom_b[-1 - src[dom]]
        if isinstance(model, Arrangement):
            m = ~dom
            sign[m] = np.where(self.labels[cell[m], src[m]], -1.0, 1.0)
            A[m] = sign[m, None] * model.A[src[m]]
            b[m] = sign[m] * model.b[src[m]]
        else:
            self._network_rows(A, b, sign)
        self.rows_a, self.rows_b, self.sign = A, b, sign

    def _network_rows(self, A, b, sign):
        net, fs = self.model, self.fs
        cell, src, ptr = fs["cell"], fs["source"], fs["ptr"]
        classes = self.partition.classes
        for c0 in range(0, self.partition.n_cells, _CHUNK):
            c1 = min(c0 + _CHUNK, self.partition.n_cells)
            e0, e1 = ptr[c0], ptr[c1]
            if e0 == e1:
                continue
            Zs, _ = layer_maps(net, self.labels[c0:c1])
            a, beta, s = network_rows(net, Zs, self.labels[c0:c1], cell[e0:e1] - c0, src[e0:e1],
                                      None if classes is None else np.asarray(classes)[c0:c1])
            m = src[e0:e1] >= 0
            A[e0:e1][m] = a[m]
            b[e0:e1][m] = beta[m]
            sign[e0:e1] = s

    # derived measures -----------------------------------------------------------------------

    @property
    def ridge_centroid(self):
        """Centroid of every ridge: the mean of the vertices on both of its facets (exact for
        ndim <= 3, where a ridge is a point or a segment)."""
        if self._rcentroid is not None:
            return self._rcentroid
        if self.d > 3:
            raise InvalidInputError(
                f"area gradients need ridge centroids, available for ndim <= 3; got ndim={self.d}")
        batch = self.batch
        n_v = len(batch.vertices)
        vowner = np.repeat(np.arange(self.partition.n_cells), np.diff(batch.vertex_offsets))
        iptr = np.asarray(batch.incidence_indptr)
        inc = np.asarray(batch.incidence_indices)
        k = np.diff(iptr)
        # every pair of facets through each vertex
        ent = np.arange(len(inc))
        ent_v = np.repeat(np.arange(n_v), k)
        after = iptr[ent_v + 1] - ent - 1
        e1 = np.repeat(ent, after)
        within = np.arange(len(e1)) - np.repeat(np.cumsum(after) - after, after)
        e2 = e1 + 1 + within
        v = ent_v[e1]
        base = batch.facet_offsets[vowner[v]]
        g1, g2 = base + inc[e1], base + inc[e2]
        g1, g2 = np.minimum(g1, g2), np.maximum(g1, g2)
        n_f = self.n_facets
        rkey = self.f1 * n_f + self.f2
        order = np.argsort(rkey)
        pos = np.searchsorted(rkey[order], g1 * n_f + g2)
        pos = np.minimum(pos, max(len(order) - 1, 0))
        hit = (rkey[order][pos] == g1 * n_f + g2) if len(order) else np.zeros(len(g1), bool)
        r = order[pos[hit]]
        count = np.bincount(r, minlength=len(rkey))
        total = np.zeros((len(rkey), self.d))
        for a in range(self.d):
            total[:, a] = np.bincount(r, weights=batch.vertices[v[hit], a], minlength=len(rkey))
        if (count == 0).any():
            raise RuntimeError("internal error: a ridge without vertices")
        self._rcentroid = total / count[:, None]
        return self._rcentroid

    def facet_of(self, cells, sources):
        """Stacked facet id of the facet of each cell on each source (-1 if none)."""
        S = self.fs["n_src"] + self.fs["n_dom"] + 1
        fkey = self.owner * S + self.source + self.fs["n_dom"]
        order = np.argsort(fkey, kind="stable")
        want = cells * S + sources + self.fs["n_dom"]
        pos = np.minimum(np.searchsorted(fkey[order], want), max(len(order) - 1, 0))
        hit = fkey[order][pos] == want
        return np.where(hit, order[pos], -1)

    def ridge_of(self, cells, s1, s2):
        """Stacked ridge id of each cell's ridge between its facets on sources s1, s2 (-1)."""
        S = self.fs["n_src"] + self.fs["n_dom"] + 1
        off = self.fs["n_dom"]
        a, b = self.source[self.f1] + off, self.source[self.f2] + off
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        rkey = (self.ridge_owner * S + lo) * S + hi
        order = np.argsort(rkey, kind="stable")
        w1, w2 = np.minimum(s1, s2) + off, np.maximum(s1, s2) + off
        want = (cells * S + w1) * S + w2
        if len(order) == 0:
            return np.full(len(want), -1)
        pos = np.minimum(np.searchsorted(rkey[order], want), len(order) - 1)
        hit = rkey[order][pos] == want
        return np.where(hit, order[pos], -1)

    # gradients with respect to the facet rows ------------------------------------------------

    def row_grads(self, w_volume=None, w_area=None, w_angle=None):
        """Gradient of ``sum_i w_volume[i] vol(C_i) + sum_f w_area[f] area(F_f) + sum_r
        w_angle[r] theta_r`` with respect to every facet row ``a_f . x <= b_f``.

        Returns (g_a (n_facets, d), g_b (n_facets,)).

        Facts (SPEC 10): a facet's normal velocity under a change (da, db) of its row is
        ``u(x) = (db - da . x) / |a|``; ``d vol = sum_F int_F u``; the area of facet F changes
        by ``cot(theta_R) int_R u_F`` at each of its ridges R (its own motion) and by
        ``int_R u_G / sin(theta_R)`` (the motion of the facet G across R); the interior angle
        ``theta = pi - arccos(n_F . n_G)`` has ``d theta / d a_F = (n_G + cos(theta) n_F) /
        (|a_F| sin(theta))``.
        """
        d, n_f = self.d, self.n_facets
        g_a = np.zeros((n_f, d))
        g_b = np.zeros(n_f)
        if w_volume is not None:
            w = w_volume[self.owner] * self.area / self.norm
            g_b += w
            g_a -= w[:, None] * self.fcentroid
        if w_area is not None and len(self.f1) and np.any(w_area):
            cR = self.ridge_centroid
            V, th = self.rvolume, self.theta
            cot, csc = np.cos(th) / np.sin(th), 1.0 / np.sin(th)
            for f, g in ((self.f1, self.f2), (self.f2, self.f1)):
                # area of facet f: its own motion, and the motion of g across the ridge
                w = w_area[f] * V
                own = w * cot / self.norm[f]
                other = w * csc / self.norm[g]
                g_b += np.bincount(f, weights=own, minlength=n_f)
                g_b += np.bincount(g, weights=other, minlength=n_f)
                for k in range(d):
                    g_a[:, k] -= np.bincount(f, weights=own * cR[:, k], minlength=n_f)
                    g_a[:, k] -= np.bincount(g, weights=other * cR[:, k], minlength=n_f)
        if w_angle is not None and len(self.f1) and np.any(w_angle):
            th = self.theta
            s, c = np.sin(th), np.cos(th)
            for f, g in ((self.f1, self.f2), (self.f2, self.f1)):
                coef = w_angle / (self.norm[f] * s)
                vec = coef[:, None] * (self.unit[g] + c[:, None] * self.unit[f])
                for k in range(d):
                    g_a[:, k] += np.bincount(f, weights=vec[:, k], minlength=n_f)
        return g_a, g_b

    def angles(self):
        """Interior angle at each ridge from the current rows (same as the kernel's)."""
        cos = np.einsum("rk,rk->r", self.unit[self.f1], self.unit[self.f2])
        return np.pi - np.arccos(np.clip(cos, -1.0, 1.0))

    # chain rule to the model's parameters ---------------------------------------------------

    def param_grads(self, g_a, g_b):
        """Gradient with respect to the model's parameters from the facet-row gradients:
        (dA, db) for an Arrangement, (list of dW, list of db) for a ReLUNetwork."""
        E = len(self.fs["cell"])
        ga = np.zeros((E, self.d))
        gb = np.zeros(E)
        ga[self.entry] = g_a            # each facet is its own entry (rows are distinct)
        gb[self.entry] = g_b
        src, sign = self.fs["source"], self.sign
        model = self.model
        if isinstance(model, Arrangement):
            m = src >= 0
            dA = np.zeros_like(model.A)
            db = np.zeros_like(model.b)
            for k in range(self.d):
                dA[:, k] = np.bincount(src[m], weights=sign[m] * ga[m, k],
                                       minlength=model.n_hyperplanes)
            db[:] = np.bincount(src[m], weights=sign[m] * gb[m], minlength=model.n_hyperplanes)
            return dA, db
        return self._network_param_grads(ga, gb)

    def _network_param_grads(self, ga, gb):
        net, fs, d = self.model, self.fs, self.d
        cell, src, ptr = fs["cell"], fs["source"], fs["ptr"]
        dW = [np.zeros_like(W) for W in net.weights]
        db = [np.zeros_like(b) for b in net.biases]
        starts = np.r_[0, np.cumsum(net.layer_sizes)]
        n_hidden, L = net.n_hidden, len(net.weights)
        classes = self.partition.classes
        # homogeneous row gradient [g_a, -g_b] of a . x - b <= 0
        gh = np.column_stack([ga, -gb])
        for c0 in range(0, self.partition.n_cells, _CHUNK):
            c1 = min(c0 + _CHUNK, self.partition.n_cells)
            e0, e1 = ptr[c0], ptr[c1]
            if e0 == e1:
                continue
            labels = self.labels[c0:c1]
            Zs, Ms = layer_maps(net, labels)
            ec, es, g = cell[e0:e1] - c0, src[e0:e1], gh[e0:e1]
            gZ = [None] * L
            neuron = (es >= 0) & (es < n_hidden)
            layer = np.searchsorted(starts, es, side="right") - 1
            s = self.sign[e0:e1]
            for l in range(L - 1):
                m = neuron & (layer == l)
                if m.any():
                    gZ[l] = np.zeros_like(Zs[l])
                    np.add.at(gZ[l], (ec[m], es[m] - starts[l]), s[m, None] * g[m])
            cls = es >= n_hidden
            if cls.any():
                K = n_classes(net)
                gF = np.zeros((c1 - c0, K, d + 1))
                k = np.asarray(classes)[cell[e0:e1][cls]]
                j = es[cls] - n_hidden
                np.add.at(gF, (ec[cls], j), g[cls])
                np.subtract.at(gF, (ec[cls], k), g[cls])
                gZ[L - 1] = gF[:, 1:2] if Zs[-1].shape[1] == 1 else gF
            backprop(net, labels, Ms, gZ, dW, db)
        return dW, db


def network_rows(net, Zs, labels, cells, sources, classes=None):
    """Facet rows ``a . x <= b`` of (cell, source) pairs of one block of cells.

    Zs: :func:`layer_maps` of the block; labels (n, n_hidden) and classes (n,) of the block;
    cells: positions in the block; sources: neuron g (row of ``z_g <= 0`` when inactive,
    ``-z_g <= 0`` when active) or ``n_hidden + j`` (``f_j - f_k <= 0`` for the cell's class
    k). Returns (a (p, d), b (p,), sign (p,): +-1 for neurons, 0 otherwise); rows of other
    (domain) sources are nan.
    """
    d, n_hidden = net.ndim, net.n_hidden
    starts = np.r_[0, np.cumsum(net.layer_sizes)]
    rows = np.full((len(cells), d + 1), np.nan)
    neuron = (sources >= 0) & (sources < n_hidden)
    layer = np.searchsorted(starts, sources, side="right") - 1
    for l in range(len(net.layer_sizes)):
        m = neuron & (layer == l)
        rows[m] = Zs[l][cells[m], sources[m] - starts[l]]
    s = np.where(labels[cells, np.clip(sources, 0, max(n_hidden - 1, 0))], -1.0, 1.0) \
        if n_hidden else np.ones(len(cells))
    s = np.where(neuron, s, 0.0)
    # a . x <= b with a = s Z[:d], b = -s Z[d]   (inactive: z <= 0; active: -z <= 0)
    rows[neuron] = s[neuron, None] * rows[neuron]
    cls = sources >= n_hidden
    if cls.any():
        F = _class_rows(Zs[-1])
        k = classes[cells[cls]]
        j = sources[cls] - n_hidden
        rows[cls] = F[cells[cls], j] - F[cells[cls], k]
    return rows[:, :d], -rows[:, d], s


def _class_rows(Zout):
    """Output rows as class scores: a single logit is the binary pair (0, logit)."""
    if Zout.shape[1] == 1:
        return np.concatenate([np.zeros_like(Zout), Zout], axis=1)
    return Zout


# ---------------------------------------------------------------------------------------------
# hinges: each (hinge, cell) entry matched to the cell's ridge (its two facet sources)


def hinge_ridges(geom):
    """For each entry of ``partition.hinges.indices``, the source pair (s1, s2) of the cell's
    ridge at that hinge, or (-1, -1) where the cell has none there (a T-junction, angle pi).

    The sources that vary among a hinge's cells (label bits, classes) are the ones through it;
    the cell's ridge there is the one whose two facets come from those sources or the
    domain's rows (with at least one model source): of these, one with the hinge's angle,
    then with the fewest domain rows.
    """
    part, model = geom.partition, geom.model
    cached = _cached(part)
    if cached is not None and "hinge_pairs" in cached[1]:
        return cached[1]["hinge_pairs"]
    H = part.hinges
    indptr = np.asarray(H.indptr, dtype=np.int64)
    indices = np.asarray(H.indices, dtype=np.int64)
    angles = np.asarray(H.angles, dtype=np.float64)
    nnz = len(indices)
    pairs = np.full((nnz, 2), -1, dtype=np.int64)
    if nnz:
        keys = np.packbits(_keys(model, part), axis=1, bitorder="little")
        hinge = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        first = indices[indptr[:-1]][hinge]
        vary = np.bitwise_or.reduceat(keys[indices] ^ keys[first], indptr[:-1], axis=0)
        # every ridge of each entry's cell
        rptr = np.asarray(geom.batch.ridge_offsets)
        k = rptr[indices + 1] - rptr[indices]
        e = np.repeat(np.arange(nnz), k)
        r = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k) + np.repeat(rptr[indices], k)
        s1, s2 = geom.source[geom.f1[r]], geom.source[geom.f2[r]]
        h = hinge[e]

        def through(s):
            sb = np.maximum(s, 0)
            bit = (vary[h, sb >> 3] >> (sb & 7).astype(np.uint8)) & 1
            return (s < 0) | (bit == 1)

        ok = through(s1) & through(s2) & ((s1 >= 0) | (s2 >= 0))
        e, r, s1, s2 = e[ok], r[ok], s1[ok], s2[ok]
        miss = np.abs(geom.theta[r] - angles[e])
        n_dom = (s1 < 0).astype(np.int64) + (s2 < 0)
        # a ridge of the right angle, then the fewest domain rows, then the closest angle
        order = np.lexsort((miss, n_dom, miss > 1e-7, e))
        e, s1, s2 = e[order], s1[order], s2[order]
        firsts = np.r_[True, e[1:] != e[:-1]] if len(e) else np.zeros(0, bool)
        pairs[e[firsts], 0] = s1[firsts]
        pairs[e[firsts], 1] = s2[firsts]
    if cached is not None:
        cached[1]["hinge_pairs"] = pairs
    return pairs


def cached_hinge_pairs(partition):
    """The hinge entries' source pairs if already matched for this partition, else None."""
    hit = _cached(partition)
    return None if hit is None else hit[1].get("hinge_pairs")


def hinge_entry_ridges(geom):
    """Stacked ridge id in `geom` of each hinge entry (-1 where unmatched)."""
    pairs = hinge_ridges(geom)
    indices = np.asarray(geom.partition.hinges.indices, dtype=np.int64)
    out = np.full(len(indices), -1, dtype=np.int64)
    m = pairs[:, 0] >= 0
    if m.any():
        out[m] = geom.ridge_of(indices[m], pairs[m, 0], pairs[m, 1])
    return out
