"""Geometry through a ReLU network's layers by pullback (SPEC 11).

On the cell of an activation pattern ``s`` the network is affine up to every layer:
``h^l(x) = A^l x + c^l`` with ``A^0 = I``, ``c^0 = 0``, ``A^l = D_l W_l A^(l-1)``,
``c^l = D_l (W_l c^(l-1) + b_l)`` and ``D_l = diag(s^l)`` (the negative slope for inactive
neurons of a Leaky ReLU). :func:`pullback` returns that map with its pulled-back metric
``G_l = (A^l)^T A^l``, volume factor and k-form pullback; :func:`layer_profile` measures every
cell, wall and hinge angle of a partition in every layer's metric at once.
"""

import itertools
from dataclasses import dataclass

import numpy as np

from geomcore import _cell_faces
from geomcore.errors import InvalidInputError, TooLargeError
from geomcore.networks import ReLUNetwork

__all__ = ["LayerMap", "pullback", "LayerProfile", "layer_profile"]


def _check_network(network):
    if not isinstance(network, ReLUNetwork):
        raise InvalidInputError(
            f"network must be a geomcore.ReLUNetwork; got {type(network).__name__}")


def _check_layer(network, layer, name="layer"):
    L = len(network.weights)
    if isinstance(layer, (bool, np.bool_)) or not isinstance(layer, (int, np.integer)):
        raise InvalidInputError(f"{name} must be an int in [0, {L}]; got {layer!r}")
    if not 0 <= layer <= L:
        raise InvalidInputError(
            f"{name} must lie in [0, {L}] (0 the input, {L - 1} the last hidden layer, {L} the "
            f"output); got {layer}")
    return int(layer)


def _check_pattern(network, pattern):
    p = np.asarray(pattern)
    if p.ndim != 1 or p.shape[0] != network.n_hidden:
        raise InvalidInputError(
            f"pattern must be 1-D of length n_hidden={network.n_hidden} (the hidden layers' "
            f"bits concatenated); got shape {p.shape}")
    if p.dtype != bool:
        if not np.isin(p, (0, 1)).all():
            raise InvalidInputError(f"pattern must hold booleans (or 0/1); got {p.dtype} values")
        p = p.astype(bool)
    return p


@dataclass(frozen=True)
class LayerMap:
    """The affine map ``h^l(x) = A x + c`` of one cell up to one layer.

    Attributes
    ----------
    A : ndarray, shape (n_l, ndim)
    c : ndarray, shape (n_l,)
    metric : ndarray, shape (ndim, ndim)
        The pulled-back metric ``G_l = A^T A``.
    volume_factor : float
        ``sqrt(det G_l)``: how the map scales d-volumes; 0.0 when ``rank A < ndim``.
    """

    A: np.ndarray
    c: np.ndarray
    metric: np.ndarray
    volume_factor: float

    def form(self, k):
        """Pullback of k-forms: the k-th compound matrix of ``A``.

        Parameters
        ----------
        k : int
            Form degree, ``0 <= k <= ndim``.

        Returns
        -------
        ndarray, shape (C(n_l, k), C(ndim, k))
            Entry (I, J) is the minor of ``A`` on rows I and columns J, the k-subsets in
            ``itertools.combinations`` order. A k-form with coefficients ``w`` (over the
            k-subsets of the layer's coordinates) pulls back to ``form(k).T @ w``; compound
            matrices multiply (Cauchy-Binet), so the forms compose layer by layer.

        Examples
        --------
        >>> import numpy as np
        >>> from geomcore.pullback import LayerMap
        >>> m = LayerMap(np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]]), np.zeros(3),
        ...              np.eye(2), 1.0)
        >>> m.form(2).ravel().round(12).tolist()     # rows {0,1}, {0,2}, {1,2}
        [-2.0, 1.0, 3.0]
        """
        n_l, d = self.A.shape
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) \
                or not 0 <= k <= d:
            raise InvalidInputError(f"k must be an int in [0, ndim={d}]; got {k!r}")
        rows = list(itertools.combinations(range(n_l), k))
        cols = list(itertools.combinations(range(d), k))
        if k == 0:
            return np.ones((1, 1))
        size = len(rows) * len(cols) * k * k
        if size > 5e7:
            raise TooLargeError(
                f"form({k}) would need {len(rows)} x {len(cols)} minors of size {k}; too large")
        R, C = np.array(rows), np.array(cols)
        sub = self.A[R[:, None, :, None], C[None, :, None, :]]      # (nR, nC, k, k)
        return np.linalg.det(sub)


def pullback(network, pattern, layer):
    """The affine map of one activation pattern's cell up to a layer.

    Parameters
    ----------
    network : ReLUNetwork
    pattern : array_like of bool, shape (n_hidden,)
        The hidden layers' bits concatenated, as in partition labels (True: active).
    layer : int
        0 the input, ``L - 1`` the last hidden layer, ``L = len(network.weights)`` the output
        (affine, no activation).

    Returns
    -------
    LayerMap
        ``A`` (n_l, ndim), ``c`` (n_l,), ``metric``, ``volume_factor``, ``form(k)``.

    Raises
    ------
    InvalidInputError
        Not a ReLUNetwork, a pattern of the wrong length, a layer out of range.

    Examples
    --------
    SPEC 14's layer: ``W_1 = I``, ``b_1 = (-0.3, -0.6)``; on the cell 10 only neuron 0 is on.

    >>> import numpy as np
    >>> from geomcore import ReLUNetwork
    >>> from geomcore.pullback import pullback
    >>> net = ReLUNetwork([np.eye(2), [[1.0, 1.0]]], [[-0.3, -0.6], [0.0]])
    >>> m = pullback(net, [True, False], 1)
    >>> m.A.tolist(), m.c.tolist(), m.volume_factor
    ([[1.0, 0.0], [0.0, 0.0]], [-0.3, 0.0], 0.0)
    >>> pullback(net, [True, True], 2).A.tolist()
    [[1.0, 1.0]]
    """
    _check_network(network)
    p = _check_pattern(network, pattern)
    layer = _check_layer(network, layer)
    d = network.ndim
    A, c, start = np.eye(d), np.zeros(d), 0
    for l in range(layer):
        W, b = network.weights[l], network.biases[l]
        A, c = W @ A, W @ c + b
        if l < len(network.weights) - 1:
            D = np.where(p[start:start + W.shape[0]], 1.0, network.negative_slope)
            A, c = D[:, None] * A + 0.0, D * c + 0.0      # + 0.0: no -0.0 entries
            start += W.shape[0]
    G = A.T @ A
    full = A.shape[0] >= d and np.linalg.matrix_rank(A) == d
    factor = float(abs(np.prod(np.diag(np.linalg.qr(A, mode="r"))))) if full else 0.0
    return LayerMap(A, c, G, factor)


@dataclass(frozen=True)
class LayerProfile:
    """A partition measured in every layer's pulled-back metric.

    Attributes
    ----------
    volumes : ndarray, shape (L, n_cells)
        Row l: each cell's volume in ``G_l`` (the volume of its image under ``h^l`` when the
        map is injective on it, 0 where ``rank G_l < ndim``); row 0 is Euclidean.
    wall_areas : ndarray, shape (L, n_walls)
        Aligned with ``partition.walls``: each wall's image area.
    hinge_angles : ndarray, shape (L, nnz)
        Aligned with ``partition.hinges.angles``: each cell's dihedral angle at the hinge in
        the cell's own ``G_l``; nan where that ``G_l`` has rank below ndim.
    """

    volumes: np.ndarray
    wall_areas: np.ndarray
    hinge_angles: np.ndarray


def _rank_full(M_block, d, prev_ok):
    """Whether each cell's map A (the first d columns of M_block) has rank ndim, its metric
    and volume factor. The rank test is exact for the pattern: at least ndim rows not
    identically zero here and full rank in the layer before (a ReLU's inactive rows are
    exact zeros); the factor ``sqrt(det A^T A)`` is ``|det R|`` of a QR of A, which does not
    square small singular values away."""
    A = M_block[:, :, :d]
    ok = prev_ok & ((A != 0).any(axis=2).sum(axis=1) >= d)
    G = np.matmul(A.transpose(0, 2, 1), A)
    factor = np.zeros(len(A))
    if ok.any():
        R = np.linalg.qr(A[ok], mode="r")
        factor[ok] = np.abs(np.prod(np.diagonal(R, axis1=1, axis2=2), axis=1))
    return ok, G, factor


def layer_profile(partition, network):
    """Volumes, wall areas and hinge angles of every cell in every layer's metric.

    Parameters
    ----------
    partition : Partition
        A partition of `network` (linear or decision regions).
    network : ReLUNetwork

    Returns
    -------
    LayerProfile
        ``volumes`` (L, n_cells), ``wall_areas`` (L, n_walls), ``hinge_angles`` (L, nnz), with
        ``L = len(network.weights)``: row 0 the input, rows 1 .. L-1 the hidden layers.

    Notes
    -----
    Vectorised over blocks of cells (batched QR and matrix products; no Python work per
    cell). A cell's volume scales by ``sqrt(det G) = |det R|`` for ``A = QR``; it is 0 where
    the pattern forces ``rank A < ndim`` (fewer than ndim rows not identically zero in some
    layer up to l; exact for generic weights). A wall's area scales by
    ``sqrt(det(U^T G U))`` with U an orthonormal basis of the wall's plane and G the metric
    of its lower cell (both cells' maps agree on the wall); a hinge angle is ``pi - arccos`` of the facets' conormals in ``G^-1``:
    ``n_a^T G^-1 n_b / sqrt(n_a^T G^-1 n_a n_b^T G^-1 n_b)``. Each hinge entry's two facets
    are found from the sources that vary around the hinge (see ``_cell_faces``).

    Examples
    --------
    >>> import numpy as np
    >>> from geomcore import Box, ReLUNetwork, partition
    >>> from geomcore.pullback import layer_profile
    >>> net = ReLUNetwork([2 * np.eye(2), [[1.0, 1.0]]], [[-0.6, -1.2], [0.0]])
    >>> part = partition(net, Box([0, 0], [1, 1]))
    >>> prof = layer_profile(part, net)
    >>> prof.volumes.round(6).tolist()          # the cell 11 is scaled by det(2 I) = 4
    [[0.18, 0.42, 0.12, 0.28], [0.0, 0.0, 0.0, 1.12]]
    """
    _check_network(network)
    _cell_faces.check_model(network, partition, "network")
    d, n = network.ndim, partition.n_cells
    L = len(network.weights)
    labels = np.asarray(partition.labels, dtype=bool)
    W = partition.walls
    wcells = np.asarray(W.cells, dtype=np.int64)
    normals = np.asarray(W.normals, dtype=np.float64)
    # orthonormal bases of the walls' planes: the last d-1 columns of a QR of [n, I]
    if len(wcells) and d > 1:
        Q, _ = np.linalg.qr(np.concatenate([normals[:, :, None],
                                            np.broadcast_to(np.eye(d), (len(normals), d, d))],
                                           axis=2))
        U = Q[:, :, 1:]
    else:
        U = np.zeros((len(wcells), d, max(d - 1, 0)))
    H = partition.hinges
    hcells = np.asarray(H.indices, dtype=np.int64)
    h_angles = np.asarray(H.angles, dtype=np.float64)
    if len(hcells):
        # each hinge entry's two facet sources (matched once per partition, then cached)
        pairs = _cell_faces.cached_hinge_pairs(partition)
        if pairs is None:
            pairs = _cell_faces.hinge_ridges(_cell_faces.Geometry(network, partition))
        matched_all = pairs[:, 0] >= 0
        dom_A, _ = _cell_faces.domain_halfspaces(partition.domain, d)
        classes = None if partition.classes is None else np.asarray(partition.classes)
    volumes = np.zeros((L, n))
    wall_areas = np.zeros((L, len(wcells)))
    hinge_angles = np.full((L, len(hcells)), np.nan)
    volumes[0] = partition.volumes
    wall_areas[0] = W.areas
    hinge_angles[0] = h_angles
    # per cell, per layer: full rank, metric; chunked over cells
    chunk = max(1, min(n, 4096))
    w_order = np.argsort(wcells[:, 0], kind="stable") if len(wcells) else np.zeros(0, np.int64)
    w_sorted = wcells[w_order, 0] if len(wcells) else np.zeros(0, np.int64)
    h_order = np.argsort(hcells, kind="stable")
    h_sorted = hcells[h_order]
    for c0 in range(0, n, chunk):
        c1 = min(c0 + chunk, n)
        Zs, Ms = _cell_faces.layer_maps(network, labels[c0:c1])
        ok = np.ones(c1 - c0, dtype=bool)
        # the walls whose lower cell, and the hinge entries whose cell, is in this block
        wsel = w_order[slice(*np.searchsorted(w_sorted, [c0, c1]))]
        hsel = h_order[slice(*np.searchsorted(h_sorted, [c0, c1]))]
        if len(hsel):
            # the two facet normals of each hinge entry's cell (input space)
            nrm = []
            for col in (0, 1):
                src = pairs[hsel, col]
                a = np.full((len(hsel), d), np.nan)
                dom = matched_all[hsel] & (src < 0)
                a[dom] = dom_A[-1 - src[dom]]
                mod = matched_all[hsel] & (src >= 0)
                a[mod] = _cell_faces.network_rows(
                    network, Zs, labels[c0:c1], hcells[hsel][mod] - c0, src[mod],
                    None if classes is None else classes[c0:c1])[0]
                nrm.append(a / np.linalg.norm(a, axis=1)[:, None])
            na_blk, nb_blk = nrm
        for l in range(1, L):
            ok, G, factor = _rank_full(Ms[l], d, ok)
            volumes[l, c0:c1] = partition.volumes[c0:c1] * factor
            if len(wsel):
                if d > 1:
                    # |det R| of a QR of A U: the wall's (d-1)-volume factor
                    AU = np.matmul(Ms[l][wcells[wsel, 0] - c0, :, :d], U[wsel])
                    if AU.shape[1] >= d - 1:
                        R = np.linalg.qr(AU, mode="r")
                        scale = np.abs(np.prod(np.diagonal(R, axis1=1, axis2=2), axis=1))
                    else:
                        scale = np.zeros(len(wsel))
                else:
                    scale = np.ones(len(wsel))
                wall_areas[l, wsel] = W.areas[wsel] * scale
            if len(hsel):
                loc = hcells[hsel] - c0
                full = ok[loc]
                out = np.full(len(hsel), np.nan)
                matched = matched_all[hsel]
                pick = full & matched
                if pick.any():
                    Gi = np.linalg.inv(G[loc[pick]])
                    u, v = na_blk[pick], nb_blk[pick]
                    uv = np.einsum("pi,pij,pj->p", u, Gi, v)
                    uu = np.einsum("pi,pij,pj->p", u, Gi, u)
                    vv = np.einsum("pi,pij,pj->p", v, Gi, v)
                    out[pick] = np.pi - np.arccos(np.clip(uv / np.sqrt(uu * vv), -1, 1))
                # an unmatched entry is a T-junction (angle pi), pi in every injective map
                flat = full & ~matched & (np.abs(h_angles[hsel] - np.pi) < 1e-9)
                out[flat] = np.pi
                hinge_angles[l, hsel] = out
    return LayerProfile(volumes, wall_areas, hinge_angles)


