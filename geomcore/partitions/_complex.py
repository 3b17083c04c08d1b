"""The cell complex that ReLU networks and hyperplane arrangements are split on, exactly.

The complex is kept whole from the domain to the last neuron:

* **vertices**: float coordinates ``X`` with a proven error radius ``R`` (max-norm distance to
  the exact vertex), and per vertex the bitset of the *sources* it lies on (domain rows
  ``0..n_dom-1``, then neuron or hyperplane ``g`` as ``n_dom + g``);
* **cells**: their vertices and their facet sources (CSR), and their labels (bits).

A source splits every cell it crosses in place: each crossed edge gets one new vertex, shared
by every cell around that edge, so neighbouring cells agree by construction. Which vertices lie
on which side is the only geometric decision (:meth:`CellComplex._signs`); everything else --
which pairs of vertices span an edge, which facets survive on each side, walls and hinges --
is set arithmetic on the exact incidences (``geomcore/_kernels/_complex.pyx``).

The sign predicate. A source's value at a vertex is its pre-activation ``z`` (for a hyperplane
``a . x - b``), a continuous function that is affine on every current cell. The float value
``Z`` of ``z`` at a vertex comes with a bound ``E >= |Z - z(x*)|`` (``x*`` the exact vertex):
the first layer's ``Z`` is ``W x + b`` at the exact domain vertices, and each later layer's is
``W act(Z) + b`` from the previous layer's values at the same vertices (no coordinates, so no
coordinate error), each with the classical dot-product rounding bound
``gamma_n (|W| |h| + |b|)`` plus the previous bound propagated through ``|W|``. Within a layer a
new vertex ``v = u + t (w - u)`` gets every value of the layer by interpolation (the layer is
affine along the edge), with ``t`` enclosed in an interval from the enclosures of ``z(u)`` and
``z(w)``. A sign is taken from ``Z`` only when ``|Z| > E``; otherwise the vertex's values are
computed exactly (``gmpy2``: the weights and biases taken as the exact rationals they are, the
vertex as the exact point on its edge; memoised per vertex and layer). So the combinatorics are exact for the model's own float64
numbers; no rounded row ever decides which cells, walls or hinges exist.
"""

import operator

import numpy as np

from geomcore._kernels import _complex as _kernel
from geomcore.partitions._model import _csr_positions

#: "kernel" (Cython) or "reference" (plain Python, geomcore._reference.complex); tests run both
_implementation = "kernel"


def _impl():
    if _implementation == "kernel":
        return _kernel
    from geomcore._reference import complex as reference

    return reference

__all__ = ["AffineSources", "CellComplex"]

_U = 2.0 ** -53
_SIDE_CODE = np.array([1, 0, 2], dtype=np.uint8)       # sign -1, 0, +1 -> below, on, above


class AffineSources:
    """Hidden layers ``z_l = W_l h_{l-1} + b_l``, ``h_l = act(z_l)``: the functions whose zero
    sets cut the domain (an arrangement is one layer with ``W = A``, ``b = -b``).

    Parameters
    ----------
    weights, biases : lists of float arrays, shapes (n_l, n_{l-1}) and (n_l,)
    negative_slope : float
        0 for ReLU.
    """

    def __init__(self, weights, biases, negative_slope=0.0, *, outputs=None):
        self.weights = [np.ascontiguousarray(W, dtype=np.float64) for W in weights]
        self.biases = [np.ascontiguousarray(b, dtype=np.float64) for b in biases]
        self.slope = float(negative_slope)
        self.ndim = self.weights[0].shape[1] if self.weights else outputs[0].shape[1]
        self.sizes = [W.shape[0] for W in self.weights]
        # optional last layer of sources: the comparisons f_k - f_j (j < k) of the affine
        # outputs f = W h + b, evaluated as outputs, then differences (never rounded rows)
        self.pairs = None
        if outputs is not None:
            W_out, b_out = (np.ascontiguousarray(a, dtype=np.float64) for a in outputs)
            if W_out.shape[0] == 1:            # a binary logit: class 1 where f > 0 = f_0
                W_out, b_out = np.vstack([np.zeros_like(W_out), W_out]), np.r_[0.0, b_out]
            K = W_out.shape[0]
            self.n_classes = K
            self.pairs = np.array([(j, k) for k in range(K) for j in range(k)],
                                  dtype=np.int64).reshape(-1, 2)
            self.weights.append(W_out)
            self.biases.append(b_out)
            self.sizes.append(len(self.pairs))
        self.starts = np.r_[0, np.cumsum(self.sizes)].astype(np.int64)
        self.n = int(self.starts[-1])
        self._abs = [np.abs(W) for W in self.weights]
        # |z_0(x) - z_0(y)| <= lipschitz0 * |x - y|_inf, for domain vertices that are rounded
        self.lipschitz0 = self._abs[0].sum(axis=1) * (1 + 1e-12)
        if self.pairs is not None and len(self.weights) == 1:
            self.lipschitz0 = self.lipschitz0[self.pairs[:, 0]] + self.lipschitz0[self.pairs[:, 1]]
        self._exact = None

    def _compare(self, layer, F, E=None):
        """Comparison values f_k - f_j from the outputs F (and their error bound)."""
        j, k = self.pairs[:, 0], self.pairs[:, 1]
        if E is None:
            return [F[b] - F[a] for a, b in zip(j, k)]
        Z = F[:, k] - F[:, j]
        return Z, E[:, k] + E[:, j] + _U * np.abs(Z)

    def first_values(self, X):
        """Pre-activations of the first layer at the float points X (taken as exact), and a
        bound on the rounding error of that evaluation."""
        return self._affine_with_bound(X, np.zeros_like(X), 0)

    def propagate(self, Z, E, layer):
        """Pre-activations of layer `layer` from those of layer `layer - 1` at the same points
        (Z, with error bounds E): ``W act(Z) + b``, with the bound ``|W| E`` plus the rounding
        of the product. No coordinates are involved, so no coordinate error enters."""
        h = np.where(Z > 0, Z, self.slope * Z)
        eh = E + _U * np.abs(h) if self.slope else E
        return self._affine_with_bound(h, eh, layer)

    def _affine_with_bound(self, h, eh, layer):
        """``W h + b`` for layer `layer` (or its output comparisons), with the bound
        ``|W| eh + gamma_n (|W| |h| + |b|)`` on its error, eh bounding the error of h."""
        W, b, A = self.weights[layer], self.biases[layer], self._abs[layer]
        z = h @ W.T + b
        gamma = 1.5 * (W.shape[1] + 2) * _U / (1 - (W.shape[1] + 2) * _U)
        # (the bound's own rounding, a relative gamma_n of a sum of non-negative terms, is
        # covered by the factor 1 + 2 gamma)
        err = ((eh + gamma * np.abs(h)) @ A.T + gamma * np.abs(b)) * (1 + 2 * gamma) + 1e-300
        if self.pairs is not None and layer == len(self.weights) - 1:
            return self._compare(layer, z, err)
        return z, err

    def exact_layer_values(self, x, layer):
        """The pre-activations of layer `layer` at the exact rational point x (list of mpq)."""
        z = self._exact_affine(0, list(x))
        for l in range(1, layer + 1):
            z = self._exact_affine(l, [v if v > 0 else self._slope * v for v in z])
        if self.pairs is not None and layer == len(self.weights) - 1:
            return self._compare(layer, z)
        return z

    def exact_next(self, z, layer):
        """Exact pre-activations of `layer` from the exact ones z of layer `layer - 1`."""
        self._exact_weights()
        out = self._exact_affine(layer, [v if v > 0 else self._slope * v for v in z])
        if self.pairs is not None and layer == len(self.weights) - 1:
            return self._compare(layer, out)
        return out

    def _exact_affine(self, layer, h):
        """``W h + b`` exactly for rational h (list of mpq): the float64 weights are integers
        times one power of two per layer, and h is brought to one denominator, so the dot
        products are integer ones (no normalisation per term)."""
        import gmpy2

        self._exact_weights()
        Wn, scale, bq = self._exact[layer]
        den = gmpy2.mpz(1)
        for v in h:
            den = gmpy2.lcm(den, v.denominator)
        hn = [v.numerator * (den // v.denominator) for v in h]
        denom = scale * den
        return [gmpy2.mpq(sum(map(operator.mul, row, hn)), denom) + bb
                for row, bb in zip(Wn, bq)]

    def _exact_weights(self):
        import gmpy2

        if self._exact is None:
            self._exact = []
            for W, b in zip(self.weights, self.biases):
                ratios = [float(v).as_integer_ratio() for v in W.ravel()]
                scale = max((d for _, d in ratios), default=1)       # a power of two
                Wn = [gmpy2.mpz(n * (scale // d)) for n, d in ratios]
                Wn = [Wn[i * W.shape[1]:(i + 1) * W.shape[1]] for i in range(W.shape[0])]
                self._exact.append((Wn, gmpy2.mpz(scale), [gmpy2.mpq(float(v)) for v in b]))
            self._slope = gmpy2.mpq(self.slope)

    def rows_of(self, labels, cells, neurons):
        """The pre-activation of source ``neurons[i]`` as an affine function on the cell with
        labels ``labels[cells[i]]``: shape (len(neurons), ndim + 1), rows ``[a, c]`` meaning
        ``a . x + c``. One GEMM per layer over all the cells (their pulled-back maps stacked),
        gathering only the rows asked for."""
        n, d = labels.shape[0], self.ndim
        out = np.empty((len(neurons), d + 1))
        M = np.broadcast_to(np.eye(d)[:, None, :], (d, n, d)).reshape(d, n * d)  # (n_in, n d)
        v = np.zeros((n, d))
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            Z = (W @ M).reshape(W.shape[0], n, d)                 # (n_out, n, d)
            z = v @ W.T + b                                        # (n, n_out)
            last = self.pairs is not None and l == len(self.weights) - 1
            lo, hi = self.starts[l], self.starts[l + 1]
            mine = np.flatnonzero((neurons >= lo) & (neurons < hi))
            if mine.size:
                k, c = neurons[mine] - lo, cells[mine]
                if last:
                    j, k = self.pairs[k, 0], self.pairs[k, 1]
                    out[mine, :d] = Z[k, c] - Z[j, c]
                    out[mine, d] = z[c, k] - z[c, j]
                else:
                    out[mine, :d] = Z[k, c]
                    out[mine, d] = z[c, k]
            if last or l == len(self.weights) - 1:
                break
            D = np.where(labels[:, lo:hi], 1.0, self.slope)       # (n, n_out)
            M = (Z * D.T[:, :, None]).reshape(W.shape[0], n * d)
            v = D * z
        return out


class _Table:
    """Rows that grow by appending, in a buffer that doubles (amortised O(1) per row)."""

    def __init__(self, rows, spare=0.0):
        rows = np.asarray(rows)
        self.n = len(rows)
        self.buf = np.empty((self.n + int(spare * self.n),) + rows.shape[1:], rows.dtype)
        self.buf[:self.n] = rows

    @property
    def rows(self):
        return self.buf[:self.n]

    def append(self, rows):
        need = self.n + len(rows)
        if need > len(self.buf):
            grown = np.empty((max(need, 2 * len(self.buf)),) + self.buf.shape[1:], self.buf.dtype)
            grown[:self.n] = self.buf[:self.n]
            self.buf = grown
        self.buf[self.n:need] = rows
        self.n = need


class CellComplex:
    """The cells of a domain cut by sources, with shared vertices (see the module docstring).

    Parameters
    ----------
    sources : AffineSources
    dom_A, dom_b : the domain's halfspaces ``dom_A x <= dom_b``
    """

    def __init__(self, sources, dom_A, dom_b):
        from geomcore.polytope import polytopes

        self.sources = sources
        self.d = dom_A.shape[1]
        self.n_dom = n_dom = len(dom_b)
        self.dom_A, self.dom_b = dom_A, dom_b
        self.n_words = (n_dom + sources.n + 63) // 64
        first = polytopes(dom_A, dom_b, np.array([0, n_dom]), measures=False)
        nv = len(first.vertices)
        self._X = _Table(np.array(first.vertices, dtype=np.float64))
        self._VB = _Table(np.zeros((nv, self.n_words), dtype=np.uint64))
        cell = first[0]
        incidence = cell.incidence.tocoo()
        self._set_bits(incidence.row, cell.facet_index[incidence.col])
        # exact domain vertices (a box's are doubles already)
        self._exact = {}                # exact coordinates of the domain vertices
        self._exact_z = {}              # (vertex, layer) -> exact pre-activations
        self._recipe = _Table(np.full((nv, 3), -1, dtype=np.int64))  # (u, w, source), new ones
        self._R = _Table(np.zeros(nv))
        self._domain_exact(first)
        self.n_bits = sources.n
        self._store(np.array([0, nv], dtype=np.int64), np.arange(nv, dtype=np.int64),
                    np.array([0, len(cell.facet_index)], dtype=np.int64),
                    np.ascontiguousarray(cell.facet_index, dtype=np.int64),
                    np.zeros((1, (sources.n + 7) // 8), dtype=np.uint8))
        self.n_exact = 0

    # -- vertices ---------------------------------------------------------------------------

    @property
    def X(self):
        """Vertex coordinates (float, within R of the exact vertices)."""
        return self._X.rows

    @property
    def R(self):
        """Proven max-norm error radius of each vertex's coordinates."""
        return self._R.rows

    @property
    def VB(self):
        """Bitsets (uint64 words) of the sources through each vertex."""
        return self._VB.rows

    def _set_bits(self, vertices, source_ids):
        words, bits = np.divmod(np.asarray(source_ids, dtype=np.int64), 64)
        np.bitwise_or.at(self.VB, (vertices, words), np.left_shift(np.uint64(1),
                                                                    bits.astype(np.uint64)))

    def _domain_exact(self, first):
        """Exact coordinates of the domain's vertices: a vertex whose float coordinates satisfy
        its rows exactly is exact; otherwise solve its rows in rationals."""
        import gmpy2

        A, b = self.dom_A, self.dom_b
        for v in range(len(self.X)):
            on = self._sources_of(v)
            xq = [gmpy2.mpq(float(t)) for t in self.X[v]]
            rows = [r for r in on if r < self.n_dom]
            if all(sum((gmpy2.mpq(float(A[r, k])) * xq[k] for k in range(self.d)),
                       gmpy2.mpq(0)) == gmpy2.mpq(float(b[r])) for r in rows):
                self._exact[v] = xq
                continue
            xq = _solve_exact([[gmpy2.mpq(float(t)) for t in A[r]] for r in rows],
                              [gmpy2.mpq(float(b[r])) for r in rows], self.d)
            self._exact[v] = xq
            self.X[v] = [float(t) for t in xq]
            self.R[v] = 2 * _U * np.abs(self.X[v]).max()

    def _sources_of(self, v):
        bits = np.unpackbits(self.VB[v].view(np.uint8), bitorder="little")
        return np.flatnonzero(bits)

    def _exact_values(self, v, layer):
        """Exact pre-activations (list of mpq) of `layer` at vertex v, memoised.

        A domain vertex: a forward pass from its exact coordinates. A vertex made on edge u w
        by source s of layer l_s: for layers up to l_s every value is affine along the edge,
        so it is the interpolation of u's and w's at ``t = z_s(u) / (z_s(u) - z_s(w))``;
        later layers follow by ``W act(z) + b``. Only O(width) rational operations a layer
        per vertex, except one forward step per later layer."""
        memo, stack = self._exact_z, [(v, layer)]
        while stack:
            key = stack[-1]
            if key in memo:
                stack.pop()
                continue
            top, lay = key
            u, w, src = self._recipe.rows[top]
            if u < 0:                                       # a domain vertex
                if lay == 0:
                    memo[key] = self.sources.exact_layer_values(self._exact[top], 0)
                elif (top, lay - 1) in memo:
                    memo[key] = self.sources.exact_next(memo[(top, lay - 1)], lay)
                else:
                    stack.append((top, lay - 1))
                continue
            ls, _ = self._layer_of(src)
            if lay > ls:
                if (top, lay - 1) in memo:
                    memo[key] = self.sources.exact_next(memo[(top, lay - 1)], lay)
                else:
                    stack.append((top, lay - 1))
                continue
            need = [q for q in ((u, ls), (w, ls), (u, lay), (w, lay)) if q not in memo]
            if need:
                stack.extend(need)
                continue
            k = src - self.n_dom - self.sources.starts[ls]
            zu, zw = memo[(u, ls)][k], memo[(w, ls)][k]
            t = zu / (zu - zw)
            memo[key] = [a + t * (c - a) for a, c in zip(memo[(u, lay)], memo[(w, lay)])]
        return memo[(v, layer)]

    def _layer_of(self, src):
        g = src - self.n_dom
        layer = int(np.searchsorted(self.sources.starts, g, side="right") - 1)
        return layer, g

    # -- splitting ---------------------------------------------------------------------------

    def insert_layer(self, layer, on_neuron=None):
        """Split the complex by every neuron of a hidden layer, in order (layers in order).

        The layer's values at the vertices come from the previous layer's values (kept from
        its insertion) by :meth:`AffineSources.propagate`; the first layer's from the exact
        domain vertices. New vertices get them by interpolation along their edge."""
        if layer == 0:
            Z, E = self.sources.first_values(self.X)
            E = E + self.sources.lipschitz0[None, :] * self.R[:, None]
        else:
            Z, E = self.sources.propagate(self._Z, self._E, layer)
        Z, E = _Table(Z, spare=1.0), _Table(E, spare=1.0)      # room for the new vertices
        for k in range(self.sources.sizes[layer]):
            self._insert(layer, k, Z, E)
            if on_neuron is not None:
                on_neuron(k)
        self._Z, self._E = Z.rows, E.rows

    def _signs(self, layer, k, Z, E):
        """Exact signs of neuron k of `layer` at every vertex (int8), refining Z, E in place
        where the exact path ran."""
        Z, E = Z.rows, E.rows
        z = Z[:, k]
        s = np.sign(z).astype(np.int8)
        unsure = np.flatnonzero(~(np.abs(z) > E[:, k]))
        for v in unsure:
            zq = self._exact_values(v, layer)
            self.n_exact += 1
            s[v] = (zq[k] > 0) - (zq[k] < 0)
            # the values are now known exactly: tighten them for the layer's later neurons
            Z[v] = [float(t) for t in zq]
            E[v] = _U * np.abs(Z[v]) + 1e-300
        return s

    def _insert(self, layer, k, Z, E):
        """Split every cell that neuron k of `layer` crosses (vertices strictly on both sides);
        a cell on one side gets that side's label bit, vertices on the neuron get its bit."""
        src = self.n_dom + self.sources.starts[layer] + k
        bit = int(self.sources.starts[layer] + k)
        s = self._signs(layer, k, Z, E)
        zero = np.flatnonzero(s == 0)
        if zero.size:
            self._set_bits(zero, np.full(zero.size, src))
        cv_ptr, cv_idx = self._cv_ptr.rows, self._cv_idx.rows
        sv = s[cv_idx]
        # per cell, in one pass: bit 0 set if a vertex is below, bit 1 if one is above
        side = np.bitwise_or.reduceat(_SIDE_CODE[sv + 1], cv_ptr[:-1]) * self._alive.rows
        self._labels.rows[side == 2, bit >> 3] |= np.uint8(1 << (bit & 7))
        cut = np.flatnonzero(side == 3)
        if not cut.size:
            return
        cf_ptr, cf_idx = self._cf_ptr.rows, self._cf_idx.rows
        ecell, eu, ew, nptr, nfac, pptr, pfac = _impl().split_cells(
            cv_ptr, cv_idx, cf_ptr, cf_idx, self.VB, s, cut, self.d)
        # one new vertex per crossed edge, shared by every cell around it
        nv = len(self.X)
        key = eu * nv + ew
        ukey, edge_vertex = np.unique(key, return_inverse=True)
        u, w = ukey // nv, ukey % nv
        new = nv + np.arange(len(ukey))
        self._new_vertices(layer, k, src, u, w, Z, E)
        # children: the negative side of cut cell i is child 2 i, the positive side 2 i + 1
        occ, occ_ptr = _csr_positions(cv_ptr, cut)
        occ_cut = np.repeat(np.arange(cut.size), np.diff(occ_ptr))
        occ_v, occ_s = cv_idx[occ], sv[occ]
        neg, pos = occ_s <= 0, occ_s >= 0
        child = np.concatenate([2 * occ_cut[neg], 2 * occ_cut[pos] + 1,
                                2 * ecell, 2 * ecell + 1])
        verts = np.concatenate([occ_v[neg], occ_v[pos], new[edge_vertex], new[edge_vertex]])
        order = np.argsort(child, kind="stable")
        child_vptr = np.cumsum(np.bincount(child, minlength=2 * cut.size))
        # facets: the surviving ones, then the new source
        fchild = np.concatenate([2 * np.repeat(np.arange(cut.size), np.diff(nptr)),
                                 2 * np.repeat(np.arange(cut.size), np.diff(pptr)) + 1,
                                 np.arange(2 * cut.size)])
        facets = np.concatenate([nfac, pfac, np.full(2 * cut.size, src)])
        forder = np.argsort(fchild, kind="stable")
        child_fptr = np.cumsum(np.bincount(fchild, minlength=2 * cut.size))
        # the children are appended as new slots; the cut cells' slots die
        self._cv_ptr.append(cv_ptr[-1] + child_vptr)
        self._cv_idx.append(verts[order])
        self._cf_ptr.append(cf_ptr[-1] + child_fptr)
        self._cf_idx.append(facets[forder])
        child_labels = np.repeat(self._labels.rows[cut], 2, axis=0)
        child_labels[1::2, bit >> 3] |= np.uint8(1 << (bit & 7))
        self._labels.append(child_labels)
        self._alive.rows[cut] = False
        self._alive.append(np.ones(2 * cut.size, dtype=bool))
        self._n_alive += cut.size

    def _new_vertices(self, layer, k, src, u, w, Z, E):
        """Append the vertices where neuron k of `layer` crosses the edges u w (z(u) < 0 <
        z(w)), with their coordinates, error radii, sources and this layer's values."""
        Zt, Et = Z.rows, E.rows
        a, c = -Zt[u, k], Zt[w, k]                    # both > their bounds
        ea, ec = Et[u, k], Et[w, k]
        t = a / (a + c)
        t_lo = (a - ea) / ((a - ea) + (c + ec))
        t_hi = (a + ea) / ((a + ea) + (c - ec))
        dt = np.maximum(t_hi - t, t - t_lo) * (1 + 8 * _U) + 8 * _U
        Xu, Xw = self.X[u], self.X[w]
        X = Xu + t[:, None] * (Xw - Xu)
        R = (np.maximum(self.R[u], self.R[w]) + dt * np.abs(Xw - Xu).max(axis=1)
             + 4 * _U * (np.abs(Xu).max(axis=1) + np.abs(Xw).max(axis=1)))
        Zu, Zw = Zt[u], Zt[w]
        Zn = Zu + t[:, None] * (Zw - Zu)
        En = (np.maximum(Et[u], Et[w]) + dt[:, None] * (np.abs(Zw - Zu) + Et[u] + Et[w])
              + 4 * _U * (np.abs(Zu) + np.abs(Zw)))
        Zn[:, k], En[:, k] = 0.0, 0.0                 # on the source, exactly
        VB = (self.VB[u] & self.VB[w])
        nv = len(self.X)
        self._X.append(X)
        self._R.append(R)
        self._VB.append(VB)
        self._set_bits(nv + np.arange(len(u)), np.full(len(u), src))
        self._recipe.append(np.column_stack([u, w, np.full(len(u), src)]))
        Z.append(Zn)
        E.append(En)

    # -- reading the complex ----------------------------------------------------------------

    def _store(self, cv_ptr, cv_idx, cf_ptr, cf_idx, packed_labels):
        """(Re)start the cell storage: slots that grow by appending the children of cut cells
        (a cut cell's slot dies); every slot's vertices and facets are contiguous, in slot
        order, so the storage is CSR over the slots. Labels are packed bits."""
        self._cv_ptr, self._cv_idx = _Table(cv_ptr), _Table(cv_idx)
        self._cf_ptr, self._cf_idx = _Table(cf_ptr), _Table(cf_idx)
        self._labels = _Table(packed_labels)
        self._alive = _Table(np.ones(len(cv_ptr) - 1, dtype=bool))
        self._n_alive = len(cv_ptr) - 1

    @property
    def n_cells(self):
        return self._n_alive

    def _compact(self):
        """Drop the dead slots (cells in slot order)."""
        if self._n_alive == len(self._alive.rows):
            return
        self.take(np.flatnonzero(self._alive.rows), compact=False)

    def take(self, order, *, compact=True):
        """Keep the cells `order` (indices among the live cells), in that order."""
        if compact:
            self._compact()
        cv_idx, cv_ptr = _csr_take(self._cv_ptr.rows, self._cv_idx.rows, order)
        cf_idx, cf_ptr = _csr_take(self._cf_ptr.rows, self._cf_idx.rows, order)
        self._store(cv_ptr, cv_idx, cf_ptr, cf_idx, self._labels.rows[order])

    @property
    def labels(self):
        """bool (n_cells, n_bits): each cell's bits (activation pattern or sign vector)."""
        self._compact()
        bits = np.unpackbits(self._labels.rows, axis=1, bitorder="little")
        return bits[:, :self.n_bits].astype(bool)

    @property
    def cv_ptr(self):
        self._compact()
        return self._cv_ptr.rows

    @property
    def cv_idx(self):
        self._compact()
        return self._cv_idx.rows

    @property
    def cf_ptr(self):
        self._compact()
        return self._cf_ptr.rows

    @property
    def cf_idx(self):
        self._compact()
        return self._cf_idx.rows

    def incidence(self):
        """Each cell vertex's facets, as positions in the cell's facet list (CSR over the
        stacked cell vertices)."""
        return _impl().cell_incidence(self.cv_ptr, self.cv_idx, self.cf_ptr, self.cf_idx,
                                      self.VB)

    def ridge_vertices(self, cells, f, g):
        """The vertices of the ridges between facets f and g (positions) of the cells (CSR)."""
        return _impl().ridge_vertices(self.cv_ptr, self.cv_idx, self.cf_ptr, self.cf_idx,
                                      self.VB, cells, f, g)


def _csr_take(ptr, idx, rows):
    """The rows `rows` of a CSR array: (indices, indptr)."""
    positions, new_ptr = _csr_positions(ptr, rows)
    return idx[positions], new_ptr


def _solve_exact(rows, rhs, d):
    """A rational solution of the consistent system rows x = rhs of rank d (Gauss-Jordan)."""
    M = [list(r) + [c] for r, c in zip(rows, rhs)]
    piv_rows, r = [], 0
    for col in range(d):
        p = next((i for i in range(r, len(M)) if M[i][col] != 0), None)
        if p is None:
            continue
        M[r], M[p] = M[p], M[r]
        for i in range(len(M)):
            if i != r and M[i][col] != 0:
                f = M[i][col] / M[r][col]
                M[i] = [a - f * b for a, b in zip(M[i], M[r])]
        piv_rows.append((r, col))
        r += 1
    x = [None] * d
    for i, col in piv_rows:
        x[col] = M[i][d] / M[i][col]
    return x
