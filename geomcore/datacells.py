"""Data-containing cells of a ReLU network in any input dimension (SPEC 12).

When the cells of a network cannot all be enumerated (a 64-D or 784-D input), geomcore works
on the cells that contain data: the distinct activation patterns of the points, each with its
H-representation, non-redundant facets, Chebyshev ball and wall neighbours among the data
cells. The per-cell work runs in a local thread pool or on a dask cluster.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from geomcore import _datacells_geometry as _geo
from geomcore._validation import as_float_matrix, as_float_vector
from geomcore.errors import DegenerateInputError, InvalidInputError
from geomcore.networks import ReLUNetwork

__all__ = ["data_cells", "DataCells", "Members", "DataPartition"]

_CHUNK = 8          # cells per task


class Members:
    """CSR lists of the points in each cell: ``indices[indptr[i]:indptr[i + 1]]``, increasing."""

    def __init__(self, indptr, indices):
        self.indptr, self.indices = indptr, indices

    def __repr__(self):
        return f"Members(n_cells={len(self.indptr) - 1}, n_points={len(self.indices)})"


def _as_network(model):
    if isinstance(model, ReLUNetwork):
        return model
    mod = type(model).__module__
    if mod.startswith("torch"):
        return ReLUNetwork.from_torch(model)
    if hasattr(model, "coefs_") or mod.startswith("sklearn"):
        return ReLUNetwork.from_sklearn(model)
    raise InvalidInputError(
        f"model must be a geomcore.ReLUNetwork, a torch nn.Sequential of Linear / ReLU / "
        f"LeakyReLU, or a fitted scikit-learn MLPClassifier / MLPRegressor; got "
        f"{type(model).__name__}")


def _domain_rows(domain, X, ndim):
    """(A, b, box or None, lo, hi, scale) of the domain; None -> bounding box of X, 5% wider
    on every side (a zero-range feature widened by 5% of the largest range, or by 0.5)."""
    if domain is None:
        lo, hi = X.min(axis=0), X.max(axis=0)
        rng = hi - lo
        pad = 0.05 * rng
        zero = rng <= 0
        if zero.any():
            wide = 0.05 * float(rng.max()) if (~zero).any() else 0.0
            pad[zero] = wide if wide > 0 else 0.5 * max(1.0, float(np.abs(lo).max()))
        lo, hi = lo - pad, hi + pad
        box = True
    elif hasattr(domain, "lo") and hasattr(domain, "hi"):
        lo = as_float_vector(domain.lo, "domain.lo", size=ndim)
        hi = as_float_vector(domain.hi, "domain.hi", size=ndim)
        box = True
    elif hasattr(domain, "A") and hasattr(domain, "b"):
        A = as_float_matrix(domain.A, "domain.A", ncols=ndim)
        b = as_float_vector(domain.b, "domain.b", size=A.shape[0])
        V = np.asarray(domain.vertices, np.float64)
        lo, hi = V.min(axis=0), V.max(axis=0)
        return A, b, None, lo, hi, max(1.0, float((hi - lo).max()))
    else:
        raise InvalidInputError(
            f"domain must be None, a geomcore.Box or a geomcore.Polytope; got "
            f"{type(domain).__name__}")
    A = np.vstack([np.eye(ndim), -np.eye(ndim)])
    b = np.r_[hi, -lo]
    return A, b, (lo, hi), lo, hi, max(1.0, float((hi - lo).max()))


def _check_client(client):
    if client is None:
        return None
    try:
        from distributed import Client
    except ImportError as exc:      # pragma: no cover - dask is an optional extra
        raise InvalidInputError(
            "client= needs dask.distributed (pip install 'geomcore[dask]')") from exc
    if not isinstance(client, Client):
        raise InvalidInputError(
            f"client must be a dask.distributed.Client or None; got {type(client).__name__}")
    return client


def _run(fn, net, chunks, extra, client, progress, label):
    """fn(net, chunk, *extra) for every chunk, in order: on a dask client (the network and
    the domain scattered once), or a local thread pool over the machine's cores."""
    n = len(chunks)
    results = [None] * n
    if n == 0:
        return results
    if client is not None:
        from distributed import as_completed

        net_f = client.scatter(net, broadcast=True, hash=False)
        extra_f = [client.scatter(e, broadcast=True, hash=False) if isinstance(e, np.ndarray) else e
                   for e in extra]
        futures = [client.submit(fn, net_f, ch, *extra_f, pure=False) for ch in chunks]
        index = {f.key: i for i, f in enumerate(futures)}
        for done, fut in enumerate(as_completed(futures), 1):
            results[index[fut.key]] = fut.result()
            if progress:
                _report(progress, done, n, label)
        return results
    workers = max(1, min(os.cpu_count() or 1, n))
    if workers == 1:
        for i, ch in enumerate(chunks):
            results[i] = fn(net, ch, *extra)
            if progress:
                _report(progress, i + 1, n, label)
        return results
    with ThreadPoolExecutor(workers) as pool:
        futs = [pool.submit(fn, net, ch, *extra) for ch in chunks]
        for i, f in enumerate(futs):
            results[i] = f.result()
            if progress:
                _report(progress, i + 1, n, label)
    return results


def _report(progress, step, total, label):
    from geomcore._progress import report

    report(step, total, label, step, line=step == total or step % max(1, total // 20) == 0)


def _zobrist(patterns, seed=12345):
    z = np.random.default_rng(seed).integers(0, 2**63, size=patterns.shape[1], dtype=np.int64)
    return np.bitwise_xor.reduce(np.where(patterns, z, 0), axis=1), z


def _flip_pairs(patterns):
    """Pairs (i, j), i < j, of rows that differ in exactly one bit g: (pairs, g), by hashing
    each row (random 64-bit word per bit, XOR) and checking candidates bit for bit."""
    n, h = patterns.shape
    if n < 2 or h == 0:
        return np.zeros((0, 2), np.int64), np.zeros(0, np.int64)
    keys, z = _zobrist(patterns)
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    out_i, out_j, out_g = [], [], []
    for g in range(h):
        fk = keys ^ z[g]
        pos = np.searchsorted(sk, fk)
        pos = np.minimum(pos, n - 1)
        hit = sk[pos] == fk
        i = np.flatnonzero(hit)
        j = order[pos[hit]]
        keep = i < j
        out_i.append(i[keep])
        out_j.append(j[keep])
        out_g.append(np.full(keep.sum(), g))
    i, j, g = np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_g)
    if i.size:       # hash collisions: keep rows that really differ in bit g only
        diff = patterns[i] != patterns[j]
        ok = (diff.sum(axis=1) == 1) & diff[np.arange(i.size), g]
        i, j, g = i[ok], j[ok], g[ok]
    order = np.lexsort((g, j, i))
    return np.column_stack([i, j])[order].astype(np.int64), g[order].astype(np.int64)


def data_cells(model, X, *, domain=None, client=None, progress=False):
    """The cells of a ReLU network that contain data, with their facets, Chebyshev balls and
    wall neighbours, in any input dimension (SPEC 12).

    Parameters
    ----------
    model : ReLUNetwork, torch ``nn.Sequential`` or fitted scikit-learn MLP
        Linear / ReLU / LeakyReLU layers (:meth:`ReLUNetwork.from_torch`,
        :meth:`ReLUNetwork.from_sklearn`).
    X : array_like of float, shape (n_points, ndim)
        The data; finite, at least one point.
    domain : Box or Polytope, optional
        Every cell is cut by it. None (default): the bounding box of X widened by 5% of its
        range on every side; a feature with zero range in X is widened by 5% of the largest
        range (or by 0.5 when every feature is constant), so the domain is always bounded
        with a non-empty interior. X must lie in the domain.
    client : dask.distributed.Client, optional
        Spread the per-cell work over the client's workers. None (default) runs a thread pool
        over this machine's cores and never starts a cluster. The results do not depend on it.
    progress : bool, optional
        Report the chunks done on standard error.

    Returns
    -------
    DataCells

    Raises
    ------
    InvalidInputError
        X not 2-D, of the wrong width or empty; a model or layer geomcore does not support;
        a client that is not a ``dask.distributed.Client``; a domain of the wrong kind.
    DegenerateInputError
        X with NaN or infinite entries; points outside the given domain.

    Notes
    -----
    *Exact*: the patterns (``z > 0`` on the network's float64 forward pass, as
    :meth:`ReLUNetwork.patterns`), counts, members and the candidate neighbour pairs (data
    patterns that differ in one bit). A cell's rows are every hidden neuron's pre-activation
    pulled back through the cell (``W_l D_{l-1} ... W_1`` in float64), oriented by its bit,
    then the domain rows.

    *Decided in floating point*: facets. Rows are scaled to unit normals and the Chebyshev
    centre c is found by one HiGHS LP. A row is certified a facet when some ray from c hits it
    strictly first (the second hit farther by a relative 1e-9): the rows' normals, whitened
    normals, and then simplex walks over the cell's own rows (a dense primal simplex in
    Cython, :mod:`geomcore._kernels._datacells`, with a NumPy reference) that head for each
    undecided row from where the last walk stopped; every row entering the basis at a simple
    vertex is tested by a ray from c to a point just outside that row only. A row is certified
    redundant when it cannot reach the domain box, or when a walk ends at a vertex optimal for
    it (reduced costs >= -1e-12 relative) below it by more than 1e-7 * scale (scale =
    max(1, domain extent)). Rows still undecided get one HiGHS LP each (max a_j.x over the
    other rows; a facet when it exceeds b_j by 1e-7 * scale). Bit-identical scaled rows count
    once (the first). A cell whose Chebyshev radius is at most 1e-9 * scale (a pattern
    realised only on a lower-dimensional set) is *flat*: no facets, no neighbours.

    *Neighbours*: two data cells whose patterns differ only in neuron g share a wall of
    positive (d-1)-area when the Chebyshev ball of the wall inside g's hyperplane (one LP over
    both cells' rows) has radius above 1e-9 * scale; that is a tolerance decision. Each such
    wall is then checked exactly (``neighbor_exact``): the LP's centre is moved onto g's
    hyperplane in rational arithmetic and every other neuron's exact pre-activation (the
    network's float64 weights as rationals) must be strictly of the pattern's sign, and every
    domain row strict. A pair that passes has a wall of positive area without any tolerance.
    A wall across which two neurons switch together (a deeper neuron whose hyperplane contains
    the wall) joins patterns that differ in two bits and is not reported.

    Parallelism: cells go in chunks of 8 to a thread pool over ``os.cpu_count()`` threads (the
    compiled walks and HiGHS release the GIL; the NumPy glue does not, so threads scale
    below linearly), or to the dask client. Work sent to dask workers: the network once
    (scattered to every worker), the domain rows once, then chunks of patterns (bool arrays)
    and of neighbour pairs. To use a cluster on several machines, connect a client to its
    scheduler address: ``Client("tcp://scheduler-host:8786")``; every worker needs geomcore
    installed.

    Examples
    --------
    >>> from geomcore.networks import ReLUNetwork
    >>> net = ReLUNetwork([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]]], [[-0.5, -0.5], [0.0]])
    >>> cells = data_cells(net, [[0.2, 0.2], [0.8, 0.3], [0.7, 0.9], [0.9, 0.6]])
    >>> cells.patterns.tolist(), cells.counts.tolist()
    ([[False, False], [True, False], [True, True]], [1, 1, 2])
    >>> cells.neighbors.tolist(), cells.neighbor_neurons.tolist()
    ([[0, 1], [1, 2]], [0, 1])
    >>> [int(k) for k in cells.n_facets]
    [4, 4, 4]
    """
    net = _as_network(model)
    d = net.ndim
    Xa = np.asarray(X) if not isinstance(X, np.ndarray) else X
    if Xa.ndim == 2 and Xa.shape[0] == 0:
        raise InvalidInputError(f"X must have at least one point; got shape {Xa.shape}")
    X = as_float_matrix(X, "X", ncols=d)
    client = _check_client(client)
    dom_A, dom_b, box, lo, hi, scale = _domain_rows(domain, X, d)
    outside = (X @ dom_A.T > dom_b + 1e-12 * scale).any(axis=1)
    if outside.any():
        k = int(np.argmax(outside))
        raise DegenerateInputError(
            f"X must lie in the domain; point {k} ({outside.sum()} in all) is outside it")
    pats = net.patterns(X)
    patterns, cell_of, counts = np.unique(pats, axis=0, return_inverse=True, return_counts=True)
    cell_of = np.asarray(cell_of).reshape(-1).astype(np.int64)
    order = np.argsort(cell_of, kind="stable").astype(np.int64)
    indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    n = len(patterns)
    chunks = [patterns[i:i + _CHUNK] for i in range(0, n, _CHUNK)]
    res = _run(_geo.geometry_chunk, net, chunks, (dom_A, dom_b, box, scale), client,
               progress, "cells")
    facets = [f for r in res for f in r[0]]
    centers = np.array([c for r in res for c in r[1]], np.float64).reshape(n, d)
    inradii = np.array([x for r in res for x in r[2]], np.float64)
    n_lp = np.array([x for r in res for x in r[3]], np.int64)
    flat = np.array([x for r in res for x in r[4]], bool)
    n_facets = np.array([len(f) for f in facets], np.int64)
    facet_indptr = np.r_[0, np.cumsum(n_facets)].astype(np.int64)
    facet_rows = (np.concatenate(facets) if facets else np.zeros(0)).astype(np.int64)

    pairs, neurons = _flip_pairs(patterns)
    keep = ~(flat[pairs[:, 0]] | flat[pairs[:, 1]]) if len(pairs) else np.zeros(0, bool)
    pairs, neurons = pairs[keep], neurons[keep]
    wchunks = [(patterns[pairs[i:i + _CHUNK]], neurons[i:i + _CHUNK])
               for i in range(0, len(pairs), _CHUNK)]
    wres = _run(_wall_task, net, wchunks, (dom_A, dom_b, scale), client, progress, "walls")
    radii = np.array([x for r in wres for x in r[0]], np.float64)
    exact = np.array([x for r in wres for x in r[1]], bool)
    wall = radii > 0
    return DataCells(net, X, patterns, counts.astype(np.int64), cell_of,
                     Members(indptr, order), facet_indptr, facet_rows, centers, inradii,
                     pairs[wall], neurons[wall], exact[wall], radii[wall], flat, n_lp,
                     dom_A, dom_b, lo, hi, scale)


def _wall_task(net, chunk, dom_A, dom_b, scale):
    pattern_pairs, neurons = chunk
    return _geo.wall_chunk(net, pattern_pairs, neurons, dom_A, dom_b, scale)


class DataCells:
    """The data-containing cells of a network (from :func:`data_cells`).

    Attributes
    ----------
    network : ReLUNetwork
    ndim, n_cells, n_points : int
    patterns : ndarray of bool, shape (n_cells, n_hidden)
        Distinct activation patterns of X (True: pre-activation > 0), rows in lexicographic
        order, False < True.
    counts : ndarray of int64, shape (n_cells,)
    cell_of : ndarray of int64, shape (n_points,)
        Each point's cell.
    members : Members
        CSR ``indptr`` (n_cells + 1,), ``indices`` (n_points,): the points of each cell.
    n_facets : ndarray of int64, shape (n_cells,)
    facet_indptr, facet_rows : ndarray of int64
        CSR: the rows of cell i's full system (hidden neurons 0..n_hidden-1, then domain rows)
        that are facets, ``facet_rows[facet_indptr[i]:facet_indptr[i + 1]]``, increasing.
    centers : ndarray, shape (n_cells, ndim)
    inradii : ndarray, shape (n_cells,)
        Chebyshev balls (largest inscribed balls).
    neighbors : ndarray of int64, shape (n_pairs, 2)
        Data cells sharing a wall of positive area, rows sorted, lexicographic order.
    neighbor_neurons : ndarray of int64, shape (n_pairs,)
        The hidden neuron (pattern column) whose hyperplane carries the wall.
    neighbor_exact : ndarray of bool, shape (n_pairs,)
        Whether the wall was confirmed in exact arithmetic (see :func:`data_cells`).
    wall_radii : ndarray, shape (n_pairs,)
        Radius of the wall's largest (d-1)-ball inside its hyperplane.
    flat : ndarray of bool, shape (n_cells,)
        Patterns realised only on a lower-dimensional set (no facets, no neighbours).
    n_lps : ndarray of int64, shape (n_cells,)
        LPs solved for each cell's facets (the Chebyshev LP included).
    lo, hi : ndarray, shape (ndim,)
        The domain's bounding box.
    """

    def __init__(self, network, X, patterns, counts, cell_of, members, facet_indptr,
                 facet_rows, centers, inradii, neighbors, neighbor_neurons, neighbor_exact,
                 wall_radii, flat, n_lps, dom_A, dom_b, lo, hi, scale):
        self.network = network
        self._X = X
        self.patterns, self.counts, self.cell_of, self.members = patterns, counts, cell_of, members
        self.facet_indptr, self.facet_rows = facet_indptr, facet_rows
        self.n_facets = np.diff(facet_indptr)
        self.centers, self.inradii = centers, inradii
        self.neighbors, self.neighbor_neurons = neighbors, neighbor_neurons
        self.neighbor_exact, self.wall_radii = neighbor_exact, wall_radii
        self.flat, self.n_lps = flat, n_lps
        self._dom_A, self._dom_b = dom_A, dom_b
        self.lo, self.hi, self._scale = lo, hi, scale
        self.ndim = network.ndim
        self.n_cells = len(patterns)
        self.n_points = len(cell_of)

    def _check_cell(self, i):
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)) \
                or not -self.n_cells <= i < self.n_cells:
            raise InvalidInputError(
                f"i must be a cell index in [0, {self.n_cells}); got {i!r}")
        return int(i) % self.n_cells

    def all_halfspaces(self, i):
        """Every row of cell i: ``(A, b)``, one row per hidden neuron, then the domain rows."""
        i = self._check_cell(i)
        return _geo.cell_halfspaces(self.network, self.patterns[i], self._dom_A, self._dom_b)

    def halfspaces(self, i):
        """Cell i's non-redundant facets ``A x <= b``, domain rows included: A (n_facets,
        ndim), b (n_facets,), in row order (neurons, then domain)."""
        A, b = self.all_halfspaces(i)
        rows = self.facet_rows[self.facet_indptr[self._check_cell(i)]:
                               self.facet_indptr[self._check_cell(i) + 1]]
        return A[rows], b[rows]

    def volume_estimates(self, *, n_samples=10000, seed=0, client=None):
        """Monte-Carlo estimates of the cells' volumes with standard errors; see
        :func:`geomcore._datacells_volume.estimate_volume` for what is estimated."""
        from geomcore._datacells_volume import volume_chunk

        if not isinstance(n_samples, (int, np.integer)) or isinstance(n_samples, bool) \
                or n_samples < 100:
            raise InvalidInputError(f"n_samples must be an integer >= 100; got {n_samples!r}")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise InvalidInputError(f"seed must be an integer; got {seed!r}")
        client = _check_client(client)
        jobs = []
        for i in range(self.n_cells):
            A, b = self.halfspaces(i) if not self.flat[i] else (None, None)
            jobs.append((i, A, b, self.centers[i], self.inradii[i]))
        chunks = [jobs[k:k + _CHUNK] for k in range(0, len(jobs), _CHUNK)]
        res = _run(_volume_task, None, chunks, (self.lo, self.hi, int(n_samples), int(seed)),
                   client, False, "volumes")
        est = np.array([e for r in res for e in r[0]], np.float64)
        se = np.array([e for r in res for e in r[1]], np.float64)
        return est, se

    def slice(self, x0, U, lo, hi):
        """The exact partition of the network on the affine slice ``x = x0 + U t``, t in
        ``Box(lo, hi)``, labelled with the full network's activation patterns.

        Parameters
        ----------
        x0 : array_like, shape (ndim,)
        U : array_like, shape (ndim, k), k = 2 or 3
        lo, hi : array_like, shape (k,)

        Returns
        -------
        Partition
            Of the sliced network ``W_1 U t + (b_1 + W_1 x0)`` (the other layers unchanged),
            by the public :func:`geomcore.partition`; its labels are the full network's
            patterns (the sliced network has the same hidden neurons).
        """
        from geomcore import partition
        from geomcore.partitions import Box

        d = self.ndim
        x0 = as_float_vector(x0, "x0", size=d)
        U = as_float_matrix(U, "U")
        if U.shape[0] != d or U.shape[1] not in (1, 2, 3):
            raise InvalidInputError(f"U must have shape ({d}, k) with k in 1..3; got {U.shape}")
        net = self.network
        W1, b1 = net.weights[0], net.biases[0]
        sliced = ReLUNetwork([W1 @ U] + net.weights[1:], [b1 + W1 @ x0] + net.biases[1:],
                             negative_slope=net.negative_slope)
        return partition(sliced, Box(lo, hi))

    def to_partition(self, *, wall_areas="radius"):
        """An adapter with the fields :class:`geomcore.RiemannianComplex` reads (cells = the
        data cells, walls = the confirmed neighbours); see :class:`DataPartition`."""
        return DataPartition(self, wall_areas=wall_areas)

    def __repr__(self):
        return (f"DataCells(ndim={self.ndim}, n_cells={self.n_cells}, "
                f"n_points={self.n_points}, n_pairs={len(self.neighbors)})")


def _volume_task(_net, chunk, lo, hi, n_samples, seed):
    from geomcore._datacells_volume import volume_chunk

    return volume_chunk(chunk, lo, hi, n_samples, seed)


class _Walls:
    def __init__(self, cells, areas, normals, centroids):
        self.cells, self.areas, self.normals, self.centroids = cells, areas, normals, centroids


class _Hinges:
    def __init__(self, ndim):
        self.indptr = np.zeros(1, np.int64)
        self.indices = np.zeros(0, np.int64)
        self.angles = np.zeros(0)
        self.volumes = np.zeros(0)
        self.interior = np.zeros(0, bool)


class _NoVertices:
    """No vertex table: the nerve then has walls only (vertices of 64-D cells are not known)."""

    def __init__(self, n, ndim):
        self.vertices = np.zeros((0, ndim))
        self.vertex_offsets = np.zeros(n + 1, np.int64)
        self.facet_index = np.zeros(0, np.int64)
        self.facet_offsets = np.zeros(n + 1, np.int64)


class DataPartition:
    """The data cells seen as a partition, for :class:`geomcore.RiemannianComplex` with
    ``measure="data"``: cells = the data cells, walls = the confirmed neighbour pairs.

    Only what the complex and the Laplacians read is here: ``ndim``, ``n_cells``,
    ``volumes``, ``centroids`` (the cells' data means), ``walls`` (``cells``, ``areas``,
    ``normals``, ``centroids``), ``hinges`` (empty: the (d-2)-faces of high-dimensional data
    cells are not computed, so the complex has no triangles), ``locate``.

    Parameters
    ----------
    cells : DataCells
    wall_areas : {"radius", "unit"}
        ``"radius"``: the (d-1)-volume of the wall's largest inscribed (d-1)-ball (a lower
        bound of the wall's area, exact geometry); ``"unit"``: 1 per wall (the graph
        Laplacian).

    Notes
    -----
    ``volumes`` are the data fractions ``counts / n_points`` (the cells' true volumes in
    high dimension are only estimates); use ``measure="data"``. ``locate`` maps a point to
    its data cell through its activation pattern, -1 for a pattern no data point has.
    """

    def __init__(self, cells, *, wall_areas="radius"):
        if wall_areas not in ("radius", "unit"):
            raise InvalidInputError(f'wall_areas must be "radius" or "unit"; got {wall_areas!r}')
        from math import gamma, pi

        self.cells = cells
        self.ndim, self.n_cells = cells.ndim, cells.n_cells
        self.domain = None
        self.labels = cells.patterns
        self.volumes = cells.counts / cells.n_points
        X = cells._X
        sums = np.zeros((cells.n_cells, cells.ndim))
        np.add.at(sums, cells.cell_of, X)
        self.centroids = sums / cells.counts[:, None]
        d = cells.ndim
        r = cells.wall_radii
        if wall_areas == "unit":
            areas = np.ones(len(r))
        else:   # (d-1)-ball volume, by logs to avoid overflow
            k = d - 1
            log_unit = 0.5 * k * np.log(pi) - np.log(gamma(0.5 * k + 1)) if k > 0 else 0.0
            areas = np.exp(log_unit + k * np.log(np.maximum(r, 1e-300))) if k > 0 else np.ones(len(r))
        normals = np.zeros((len(r), d))
        for w, ((i, j), g) in enumerate(zip(cells.neighbors, cells.neighbor_neurons)):
            A, _ = cells.all_halfspaces(i)
            a = A[g]
            normals[w] = a / np.linalg.norm(a)     # row of cell i points out of i, into j
        self.walls = _Walls(np.asarray(cells.neighbors, np.int64).reshape(-1, 2), areas,
                            normals, self.centroids[cells.neighbors].mean(axis=1)
                            if len(r) else np.zeros((0, d)))
        self.hinges = _Hinges(d)
        self._batch = _NoVertices(self.n_cells, d)
        self.boundary_areas = np.zeros(self.n_cells)

    def locate(self, X):
        """Data cell of each point by its activation pattern, -1 where no data cell has it."""
        P = self.cells.network.patterns(X)
        keys, _ = _zobrist(self.cells.patterns)
        qk, _ = _zobrist(P)
        order = np.argsort(keys, kind="stable")
        pos = np.minimum(np.searchsorted(keys[order], qk), len(keys) - 1)
        idx = order[pos]
        ok = (keys[idx] == qk) & (self.cells.patterns[idx] == P).all(axis=1)
        return np.where(ok, idx, -1).astype(np.int64)

    def __repr__(self):
        return f"DataPartition(n_cells={self.n_cells}, n_walls={len(self.walls.cells)})"
