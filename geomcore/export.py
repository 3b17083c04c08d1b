"""Export partitions and complexes: a networkx graph, and ``.npz`` files that load back.

:func:`to_networkx` gives the cell graph of a :class:`~geomcore.Partition` (nodes are cells,
edges are walls) or the 1-skeleton of a :class:`~geomcore.SimplicialComplex` or
:class:`~geomcore.RiemannianComplex` (with masses). :func:`save_npz` writes either as plain
arrays (readable without geomcore: ``numpy.load``); :func:`load_npz` reads them back.

Layout of a saved partition (``kind = "partition"``): ``ndim``; the domain as ``domain_lo``,
``domain_hi`` (a Box) or ``domain_A``, ``domain_b`` (a Polytope); ``labels``, ``classes`` (if
any), ``volumes``, ``centroids``, ``boundary_areas``; the walls ``wall_cells``, ``wall_areas``,
``wall_normals``, ``wall_centroids``; the hinges ``hinge_indptr``, ``hinge_indices``,
``hinge_angles``, ``hinge_volumes``, ``hinge_interior``; and every cell's non-redundant
facets as CSR: ``cell_A``, ``cell_b`` with rows ``cell_offsets[i]:cell_offsets[i+1]`` for cell
i. A saved complex (``kind = "complex"``): ``max_dim``, ``truncated``, ``complex_kind``, and per
degree k ``simplices_k``, ``degenerate_k`` and, for a complex built on a partition, the
intersection measures ``measure_k`` (the (ndim-k)-volume of each simplex's cells' common face,
0 where it is degenerate).
"""

import numpy as np

from geomcore.errors import InvalidInputError

__all__ = ["load_npz", "save_npz", "to_networkx"]

_FORMAT = 1


def _is_partition(obj):
    return all(hasattr(obj, a) for a in ("walls", "hinges", "volumes", "centroids", "n_cells"))


def _is_complex(obj):
    return hasattr(obj, "simplices") and hasattr(obj, "f_vector") and hasattr(obj, "max_dim")


def _label(row):
    row = np.asarray(row)
    if row.ndim == 0:
        return row.item()
    return tuple(row.tolist())


def to_networkx(obj):
    """The cell graph of a partition, or the 1-skeleton of a complex, as a networkx graph.

    Parameters
    ----------
    obj : Partition, SimplicialComplex or RiemannianComplex

    Returns
    -------
    networkx.Graph
        Partition: node i for cell i with attributes ``volume`` (float), ``centroid`` (tuple),
        ``label`` (the cell's label row as a tuple, or an int) and ``cls`` when the partition
        has classes; an edge for every wall with ``area``, ``normal`` (from the lower cell
        into the higher) and ``centroid``. Complex: nodes ``0..n_0-1`` and the 1-simplices as
        edges with ``degenerate`` (bool); for a complex built on a partition also ``measure``
        (cell volume, wall area; 0 on a degenerate edge); a RiemannianComplex adds ``mass``
        (the SPEC 6 masses ``m_0``, ``m_1``, floored).

    Raises
    ------
    InvalidInputError
        Anything else.
    ImportError
        networkx is not installed.

    Examples
    --------
    >>> from geomcore import Arrangement, Box, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.3, 0.6]), Box([0, 0], [1, 1]))
    >>> g = to_networkx(part)
    >>> g.number_of_nodes(), g.number_of_edges()
    (4, 4)
    >>> round(g.nodes[0]["volume"], 12), g.nodes[0]["label"], round(g.edges[0, 1]["area"], 12)
    (0.18, (False, False), 0.6)
    """
    import networkx as nx

    g = nx.Graph()
    if _is_partition(obj):
        vol = np.asarray(obj.volumes, float)
        cen = np.asarray(obj.centroids, float)
        labels = np.asarray(obj.labels)
        classes = getattr(obj, "classes", None)
        for i in range(obj.n_cells):
            attrs = {"volume": float(vol[i]), "centroid": tuple(cen[i].tolist()),
                     "label": _label(labels[i])}
            if classes is not None:
                attrs["cls"] = int(classes[i])
            g.add_node(i, **attrs)
        w = obj.walls
        cells = np.asarray(w.cells, np.int64).reshape(-1, 2)
        areas, normals, cents = (np.asarray(w.areas, float), np.asarray(w.normals, float),
                                 np.asarray(w.centroids, float))
        g.add_edges_from(
            (int(a), int(b), {"area": float(areas[j]), "normal": tuple(normals[j].tolist()),
                              "centroid": tuple(cents[j].tolist())})
            for j, (a, b) in enumerate(cells.tolist()))
        return g
    rc = None
    if hasattr(obj, "complex") and hasattr(obj, "masses"):
        rc, obj = obj, obj.complex
    if not _is_complex(obj):
        raise InvalidInputError(
            "obj must be a Partition, SimplicialComplex or RiemannianComplex; got "
            f"{type(obj).__name__}")
    measures = getattr(obj, "_measures", None)
    g.add_nodes_from(range(obj.n_vertices))
    for k in range(min(obj.max_dim, 1) + 1):
        attrs = {"degenerate": obj.degenerate(k)}
        if measures is not None:
            attrs["measure"] = np.asarray(measures[k][0], float)
        if rc is not None:
            attrs["mass"] = np.asarray(rc.masses(k), float)
        rows = obj.simplices(k)
        if k == 0:
            for name, values in attrs.items():
                nx.set_node_attributes(g, {i: (bool(v) if name == "degenerate" else float(v))
                                           for i, v in enumerate(values.tolist())}, name)
        else:
            g.add_edges_from(
                (int(a), int(b), {name: (bool(values[j]) if name == "degenerate"
                                         else float(values[j])) for name, values in attrs.items()})
                for j, (a, b) in enumerate(rows.tolist()))
    return g


def _partition_arrays(part):
    from geomcore.partitions import Box

    d = part.ndim
    out = {"kind": np.array("partition"), "format": np.array(_FORMAT), "ndim": np.array(d)}
    dom = part.domain
    if isinstance(dom, Box):
        out["domain_lo"], out["domain_hi"] = dom.lo, dom.hi
    else:
        out["domain_A"], out["domain_b"] = np.asarray(dom.A, float), np.asarray(dom.b, float)
    out["labels"] = np.asarray(part.labels)
    if getattr(part, "classes", None) is not None:
        out["classes"] = np.asarray(part.classes, np.int64)
    out["volumes"] = np.asarray(part.volumes, float)
    out["centroids"] = np.asarray(part.centroids, float)
    out["boundary_areas"] = np.asarray(part.boundary_areas, float)
    w, h = part.walls, part.hinges
    out["wall_cells"] = np.asarray(w.cells, np.int64).reshape(-1, 2)
    out["wall_areas"] = np.asarray(w.areas, float)
    out["wall_normals"] = np.asarray(w.normals, float).reshape(-1, d)
    out["wall_centroids"] = np.asarray(w.centroids, float).reshape(-1, d)
    out["hinge_indptr"] = np.asarray(h.indptr, np.int64)
    out["hinge_indices"] = np.asarray(h.indices, np.int64)
    out["hinge_angles"] = np.asarray(h.angles, float)
    out["hinge_volumes"] = np.asarray(h.volumes, float)
    out["hinge_interior"] = np.asarray(h.interior, bool)
    cells = [part.cell(i) for i in range(part.n_cells)]
    out["cell_offsets"] = np.r_[0, np.cumsum([len(c.b) for c in cells])].astype(np.int64)
    out["cell_A"] = np.vstack([c.A for c in cells]) if cells else np.zeros((0, d))
    out["cell_b"] = np.concatenate([c.b for c in cells]) if cells else np.zeros(0)
    return out


def _complex_arrays(cx):
    out = {"kind": np.array("complex"), "format": np.array(_FORMAT),
           "max_dim": np.array(cx.max_dim), "truncated": np.array(bool(cx.truncated)),
           "complex_kind": np.array(cx.kind or "")}
    measures = getattr(cx, "_measures", None)
    for k in range(cx.max_dim + 1):
        out[f"simplices_{k}"] = cx.simplices(k)
        out[f"degenerate_{k}"] = cx.degenerate(k)
        if measures is not None:
            out[f"measure_{k}"] = np.asarray(measures[k][0], float)
    return out


def save_npz(obj, path, *, compressed=True):
    """Write a partition or a complex as named arrays in an ``.npz`` file.

    Parameters
    ----------
    obj : Partition, SimplicialComplex or RiemannianComplex
        A RiemannianComplex is saved as its complex.
    path : str or path-like
        numpy appends ``.npz`` when missing.
    compressed : bool, optional
        ``numpy.savez_compressed`` (default) or ``numpy.savez``.

    Notes
    -----
    The keys are listed in the module docstring (:mod:`geomcore.export`). The model that made
    a partition is not saved (it may not be an array): a loaded partition locates points by
    its cells' halfspaces.

    Examples
    --------
    >>> import os, tempfile
    >>> from geomcore import Arrangement, Box, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.3, 0.6]), Box([0, 0], [1, 1]))
    >>> path = os.path.join(tempfile.mkdtemp(), "square.npz")
    >>> save_npz(part, path)
    >>> back = load_npz(path)
    >>> back.n_cells, back.volumes.round(12).tolist(), back.locate([[0.9, 0.9]]).tolist()
    (4, [0.18, 0.42, 0.12, 0.28], [3])
    """
    if _is_partition(obj):
        arrays = _partition_arrays(obj)
    else:
        if hasattr(obj, "complex") and hasattr(obj, "masses"):
            obj = obj.complex
        if not _is_complex(obj):
            raise InvalidInputError(
                "obj must be a Partition, SimplicialComplex or RiemannianComplex; got "
                f"{type(obj).__name__}")
        arrays = _complex_arrays(obj)
    (np.savez_compressed if compressed else np.savez)(path, **arrays)


class _SavedCells:
    """The 'model' of a loaded partition: labels of points found from the cells' halfspaces
    (one matrix product over every facet row; a point on a wall gets the lower cell)."""

    def __init__(self, ndim, labels, A, b, offsets, classes=None):
        self.ndim = int(ndim)
        self._labels, self._A, self._b = labels, A, b
        self._offsets, self._classes = offsets, classes

    def cell_of(self, X):
        X = np.atleast_2d(np.asarray(X, float))
        n = len(self._offsets) - 1
        if n == 0 or len(X) == 0:
            return np.full(len(X), -1, np.int64)
        scale = 1e-9 * (1.0 + np.abs(self._b))
        viol = (X @ self._A.T - self._b) > scale                       # (n_points, n_rows)
        bad = np.add.reduceat(viol, self._offsets[:-1], axis=1) > 0    # (n_points, n_cells)
        ok = ~bad
        first = np.argmax(ok, axis=1)
        return np.where(ok[np.arange(len(X)), first], first, -1).astype(np.int64)

    def labels_of(self, X):
        return self._labels[np.maximum(self.cell_of(X), 0)]

    def classes(self, X):
        return self._classes[np.maximum(self.cell_of(X), 0)]


def load_npz(path):
    """Read a partition or complex written by :func:`save_npz`.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    Partition or SimplicialComplex
        A partition has every attribute of the saved one (labels, classes, volumes,
        centroids, walls, hinges, boundary areas, ``cell(i)`` rebuilt from the saved facets,
        ``locate``); its ``model`` is a stand-in that locates points by those facets. A
        complex has its simplices, ``degenerate``, ``truncated`` and ``kind``.

    Raises
    ------
    InvalidInputError
        A file that :func:`save_npz` did not write.

    Examples
    --------
    >>> import os, tempfile
    >>> from geomcore import Arrangement, Box, nerve, partition
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.5]), Box([0, 0], [1, 1]))
    >>> path = os.path.join(tempfile.mkdtemp(), "nerve.npz")
    >>> save_npz(nerve(part), path)
    >>> cx = load_npz(path)
    >>> cx.f_vector, cx.truncated, cx.betti_numbers()
    ((4, 6, 4), True, (1, 0))
    """
    from geomcore.complexes import SimplicialComplex
    from geomcore.partitions import Box, Hinges, Partition, Walls
    from geomcore.polytope import Polytope, polytopes

    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    kind = str(data.get("kind", ""))
    if kind == "complex":
        md = int(data["max_dim"])
        rows = [np.asarray(data[f"simplices_{k}"], np.int64) for k in range(md + 1)]
        degenerate = [np.asarray(data[f"degenerate_{k}"], bool) for k in range(md + 1)]
        cx = SimplicialComplex._trusted(rows, degenerate)
        cx.kind = str(data["complex_kind"]) or None
        cx.truncated = bool(data["truncated"])
        if all(f"measure_{k}" in data for k in range(md + 1)):
            cx._measures = [(np.asarray(data[f"measure_{k}"], float), ~degenerate[k])
                            for k in range(md + 1)]
        return cx
    if kind != "partition":
        raise InvalidInputError(
            f"path must be an .npz written by geomcore.export.save_npz; {path} has kind "
            f"{kind or '(none)'}")
    d = int(data["ndim"])
    if "domain_lo" in data:
        domain = Box(data["domain_lo"], data["domain_hi"])
    else:
        domain = Polytope(data["domain_A"], data["domain_b"])
    offsets = np.asarray(data["cell_offsets"], np.int64)
    A, b = np.asarray(data["cell_A"], float).reshape(-1, d), np.asarray(data["cell_b"], float)
    labels = data["labels"]
    batch = polytopes(A, b, offsets)
    walls = Walls(data["wall_cells"], data["wall_areas"], data["wall_normals"],
                  data["wall_centroids"])
    hinges = Hinges(data["hinge_indptr"], data["hinge_indices"], data["hinge_angles"],
                    data["hinge_volumes"], data["hinge_interior"])
    classes = data.get("classes")
    model = _SavedCells(d, labels, A, b, offsets, classes)
    return Partition(model, domain, labels, batch, walls, hinges, data["boundary_areas"],
                     classes=classes, volumes=data["volumes"], centroids=data["centroids"])
