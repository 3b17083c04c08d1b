"""Models for ``geomcore report``: the built-in examples and model files read from disk.

Every loader returns :class:`Subject` objects: the model as :func:`geomcore.partition` takes it,
its family, the domain, and the points (with targets) used for the data measure and the spline.
A file that cannot be used raises :class:`ReportError` with one sentence that says why.
"""

import os
import pickle
import re
from dataclasses import dataclass, field

import numpy as np

from geomcore.errors import GeomcoreError

__all__ = [
    "EXAMPLES",
    "NPZ_KEYS",
    "ReportError",
    "Subject",
    "example_subjects",
    "load_data",
    "load_subjects",
    "parse_arch",
]

#: names accepted by ``--example``
EXAMPLES = ("moons", "moons-mlp", "moons-tree")

#: keys of a network ``.npz`` (documented in docs/user-guide.md)
NPZ_KEYS = "W0, b0, W1, b1, ... (torch layout: W_l of shape (n_out, n_in)); optional " \
    "negative_slope, lo, hi"


class ReportError(GeomcoreError):
    """A model file, data file or option that ``geomcore report`` cannot use."""


@dataclass
class Subject:
    """One model to report on.

    Attributes
    ----------
    name : str
        Short identifier, used as the prefix of its figure files.
    title : str
        One line for people.
    family : {"network", "tree", "other"}
    model : object
        What :func:`geomcore.partition` takes (a :class:`ReLUNetwork` for networks).
    domain : Box
    X : ndarray (n, ndim) or None
    y : ndarray (n,) or None
        Targets for the spline; the model's own output where the data had none.
    y_source : str
        Where ``y`` came from.
    network : ReLUNetwork or None
    estimator : object or None
        The scikit-learn estimator when there is one.
    """

    name: str
    title: str
    family: str
    model: object
    domain: object
    X: np.ndarray = None
    y: np.ndarray = None
    y_source: str = ""
    network: object = None
    estimator: object = None
    notes: list = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# the built-in examples


def _moons():
    from sklearn.datasets import make_moons

    return make_moons(n_samples=300, noise=0.12, random_state=0)


def example_subjects(name="moons"):
    """The built-in example(s): a ReLU MLP (16, 16) and a depth-6 decision tree fitted to
    ``make_moons(300, noise=0.12, random_state=0)``, deterministic (``random_state=0``).

    Parameters
    ----------
    name : {"moons", "moons-mlp", "moons-tree"}

    Returns
    -------
    list of Subject

    Examples
    --------
    >>> [(s.name, s.family, s.X.shape) for s in example_subjects("moons")]
    [('mlp', 'network', (300, 2)), ('tree', 'tree', (300, 2))]
    """
    if name not in EXAMPLES:
        raise ReportError(f"--example must be one of {', '.join(EXAMPLES)}; got {name!r}")
    try:
        from sklearn.neural_network import MLPClassifier
        from sklearn.tree import DecisionTreeClassifier
    except ImportError:
        raise ReportError("the built-in examples need scikit-learn: pip install "
                          "'geomcore[sklearn]'") from None
    import warnings

    from geomcore import Box, ReLUNetwork

    X, y = _moons()
    domain = _data_domain(X)
    out = []
    if name in ("moons", "moons-mlp"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mlp = MLPClassifier((16, 16), max_iter=2000, random_state=0).fit(X, y)
        net = ReLUNetwork.from_sklearn(mlp)
        out.append(Subject(
            "mlp", f"ReLU network 2-16-16-1 (scikit-learn MLPClassifier, train accuracy "
            f"{mlp.score(X, y):.3f}) on make_moons", "network", net, domain, X, y.astype(float),
            "make_moons labels", net, mlp))
    if name in ("moons", "moons-tree"):
        tree = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X, y)
        out.append(Subject(
            "tree", f"decision tree, depth 6, {tree.get_n_leaves()} leaves (train accuracy "
            f"{tree.score(X, y):.3f}) on make_moons", "tree", tree, domain, X, y.astype(float),
            "make_moons labels", None, tree))
    assert all(isinstance(s.domain, Box) for s in out)
    return out


# ---------------------------------------------------------------------------------------------
# data files


def _data_domain(X, margin=0.05):
    """The bounding box of X widened by ``margin`` of its range on every side (0.5 for a
    constant coordinate)."""
    from geomcore import Box

    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = np.where(hi > lo, margin * (hi - lo), 0.5)
    return Box(lo - pad, hi + pad)


def load_data(path, ndim=None):
    """Points (and targets) from ``.npy`` or ``.csv``: shape (n, ndim) or (n, ndim + 1), the
    last column the target. A header row in a csv is skipped.

    Parameters
    ----------
    path : str
    ndim : int, optional
        The model's input dimension (None: every column is a coordinate).

    Returns
    -------
    X : ndarray, shape (n, ndim)
    y : ndarray, shape (n,), or None

    Raises
    ------
    ReportError
        A missing or unreadable file, the wrong number of columns, NaN or infinite entries.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "points.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("x1,x2,target\\n0.5,1.0,3\\n1.5,2.0,4\\n")
    >>> X, y = load_data(path, ndim=2)
    >>> X.tolist(), y.tolist()
    ([[0.5, 1.0], [1.5, 2.0]], [3.0, 4.0])
    >>> load_data(path, ndim=5)
    Traceback (most recent call last):
    ...
    geomcore.report._models.ReportError: --data must have 5 columns (or 6, the last a target) for this 5-D model; got 3
    """
    if not os.path.exists(path):
        raise ReportError(f"--data: no such file: {path}")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".npy":
            arr = np.load(path, allow_pickle=False)
        elif ext in (".csv", ".txt"):
            with open(path) as f:
                first = f.readline()
            skip = 1 if re.search(r"[A-Za-df-z_]", first) else 0
            arr = np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2)
        else:
            raise ReportError(f"--data must be a .npy or .csv file; got {path}")
    except ReportError:
        raise
    except Exception as exc:  # noqa: BLE001 (numpy's many parse errors: one line for the user)
        raise ReportError(f"--data: cannot read {path}: {exc}") from None
    arr = np.asarray(arr, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or len(arr) == 0:
        raise ReportError(f"--data must hold a 2-D array of points; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ReportError(f"--data must be finite; {path} has NaN or infinite entries")
    if ndim is None or arr.shape[1] == ndim:
        return arr, None
    if arr.shape[1] == ndim + 1:
        return arr[:, :-1], arr[:, -1]
    raise ReportError(f"--data must have {ndim} columns (or {ndim + 1}, the last a target) for "
                      f"this {ndim}-D model; got {arr.shape[1]}")


# ---------------------------------------------------------------------------------------------
# model files


_TREES = ("DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier",
          "ExtraTreeRegressor", "RandomForestClassifier", "RandomForestRegressor",
          "ExtraTreesClassifier", "ExtraTreesRegressor", "GradientBoostingClassifier",
          "GradientBoostingRegressor")
_LINEAR = ("LogisticRegression", "LinearSVC", "RidgeClassifier", "SGDClassifier",
           "NearestCentroid", "KNeighborsClassifier", "KNeighborsRegressor")


def _read_pickle(path):
    """Unpickle a model file. Like any pickle, it runs code the file names: load only files
    you trust."""
    try:
        import joblib
    except ImportError:
        joblib = None
    if joblib is not None:
        try:
            return joblib.load(path)
        except Exception:  # noqa: BLE001, S110 (not a joblib file: plain pickle below)
            pass
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception as exc:  # noqa: BLE001 (any unreadable file is one error line)
        raise ReportError(f"{path} is not a pickle/joblib file geomcore can read "
                          f"({type(exc).__name__}: {exc})") from None


def _check_estimator(obj, path):
    kind = type(obj).__name__
    if kind in ("MLPClassifier", "MLPRegressor"):
        if not hasattr(obj, "coefs_"):
            raise ReportError(f"{path}: the {kind} is not fitted (no coefs_)")
        if obj.activation != "relu":
            raise ReportError(f"{path}: the {kind} uses activation={obj.activation!r}; geomcore "
                              "needs piecewise-linear networks (activation='relu')")
        return "network"
    if kind in _TREES:
        if not (hasattr(obj, "tree_") or hasattr(obj, "estimators_")):
            raise ReportError(f"{path}: the {kind} is not fitted")
        return "tree"
    if kind in _LINEAR:
        return "other"
    raise ReportError(
        f"{path} holds a {type(obj).__module__}.{kind}, which geomcore cannot partition; "
        "supported: scikit-learn MLP (relu), decision trees and tree ensembles, linear "
        "classifiers, 1-nearest-neighbour, or an .npz / torch file of a ReLU network")


def _tree_domain(est, ndim):
    """A box around every threshold of a tree or ensemble, widened by 10% of its range."""
    from geomcore import Box

    trees = [est] if hasattr(est, "tree_") else list(np.ravel(est.estimators_))
    lo, hi = np.full(ndim, np.inf), np.full(ndim, -np.inf)
    for t in trees:
        inner = t.tree_.feature >= 0
        f, thr = t.tree_.feature[inner], t.tree_.threshold[inner]
        np.minimum.at(lo, f, thr)
        np.maximum.at(hi, f, thr)
    lo = np.where(np.isfinite(lo), lo, 0.0)
    hi = np.where(np.isfinite(hi), hi, 1.0)
    pad = np.where(hi > lo, 0.1 * (hi - lo), 0.5)
    return Box(lo - pad, hi + pad)


def _network_from_npz(path):
    from geomcore import ReLUNetwork

    try:
        z = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 (any unreadable file is one error line)
        raise ReportError(f"{path} is not a readable .npz file ({type(exc).__name__}: {exc})") \
            from None
    keys = set(z.files)
    n = 0
    while f"W{n}" in keys:
        n += 1
    if n == 0 or any(f"b{l}" not in keys for l in range(n)):
        raise ReportError(f"{path} must hold the keys {NPZ_KEYS}; got {sorted(keys)}")
    slope = float(z["negative_slope"]) if "negative_slope" in keys else 0.0
    try:
        net = ReLUNetwork([z[f"W{l}"] for l in range(n)], [z[f"b{l}"] for l in range(n)],
                          negative_slope=slope)
    except GeomcoreError as exc:
        raise ReportError(f"{path}: {exc}") from None
    box = None
    if "lo" in keys and "hi" in keys:
        from geomcore import Box

        box = Box(np.asarray(z["lo"], float), np.asarray(z["hi"], float))
    return net, box


def parse_arch(arch):
    """``"2-16-16-1"`` (optionally ``":leaky=0.01"``) -> (sizes, negative_slope).

    Examples
    --------
    >>> parse_arch("2-16-16-1"), parse_arch("3-8-1:leaky=0.2")
    (([2, 16, 16, 1], 0.0), ([3, 8, 1], 0.2))
    """
    m = re.fullmatch(r"\s*(\d+(?:\s*-\s*\d+)+)\s*(?::\s*(relu|leaky(?:=([0-9.eE+-]+))?))?\s*",
                     arch or "")
    if not m:
        raise ReportError(f'--arch must look like "2-16-16-1" (layer widths, input first), '
                          f'optionally ":leaky=0.01"; got {arch!r}')
    sizes = [int(s) for s in re.split(r"\s*-\s*", m.group(1))]
    slope = 0.0
    if m.group(2) and m.group(2).startswith("leaky"):
        slope = float(m.group(3)) if m.group(3) else 0.01
    return sizes, slope


def _network_from_torch(path, arch):
    from geomcore import ReLUNetwork

    try:
        import torch
    except ImportError:
        raise ReportError(f"{path}: reading torch files needs torch (pip install "
                          "'geomcore[torch]')") from None
    obj = None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 (a whole pickled module: the full unpickler below)
        try:
            obj = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:  # noqa: BLE001 (any unreadable file is one error line)
            raise ReportError(f"{path} is not a torch file geomcore can read "
                              f"({type(exc).__name__}: {exc})") from None
    if isinstance(obj, torch.nn.Module):
        try:
            return ReLUNetwork.from_torch(obj)
        except GeomcoreError as exc:
            raise ReportError(f"{path}: {exc}") from None
    if not isinstance(obj, dict):
        raise ReportError(f"{path} must hold a torch state_dict or nn.Sequential; got "
                          f"{type(obj).__name__}")
    if arch is None:
        raise ReportError(f"{path} is a state_dict: give its architecture with --arch, e.g. "
                          '--arch "2-16-16-1" (Linear layer widths, ReLU between them)')
    sizes, slope = parse_arch(arch)
    tensors = [(k, v) for k, v in obj.items() if hasattr(v, "shape")]
    weights = [(k, v) for k, v in tensors if k.endswith("weight")]
    biases = {k[:-len("weight")]: None for k, _ in weights}
    for k, v in tensors:
        if k.endswith("bias"):
            biases[k[:-len("bias")]] = v
    others = [k for k, _ in tensors if not k.endswith(("weight", "bias"))]
    if others or any(len(v.shape) != 2 for _, v in weights):
        bad = others[0] if others else next(k for k, v in weights if len(v.shape) != 2)
        raise ReportError(f"{path}: unsupported layer {bad!r}; --arch networks are Linear "
                          "layers with ReLU between them")
    want = [(sizes[l + 1], sizes[l]) for l in range(len(sizes) - 1)]
    got = [tuple(v.shape) for _, v in weights]
    if got != want:
        raise ReportError(f"{path}: --arch {arch!r} needs Linear weights of shapes {want}; the "
                          f"state_dict has {got}")
    Ws = [v.detach().double().numpy() for _, v in weights]
    bs = [biases[k[:-len("weight")]] for k, _ in weights]
    bs = [np.zeros(W.shape[0]) if b is None else b.detach().double().numpy() for W, b in zip(Ws, bs)]
    return ReLUNetwork(Ws, bs, negative_slope=slope)


def load_subjects(path, *, arch=None, data=None):
    """The subject of a model file (a list of one), with data from ``data`` (a path) if given.

    Formats by extension: ``.pkl``, ``.pickle``, ``.joblib`` (a scikit-learn estimator or a
    geomcore model), ``.npz`` (a network, keys :data:`NPZ_KEYS`), ``.pt``, ``.pth``
    (a torch ``nn.Sequential``, or a ``state_dict`` with ``arch``). Pickles run code named in
    the file: load only files you trust.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> np.savez(path, W0=np.eye(2), b0=[-0.3, -0.6], W1=np.ones((1, 2)), b1=[0.0],
    ...          lo=[0, 0], hi=[1, 1])
    >>> (s,) = load_subjects(path)
    >>> s.family, s.title, s.domain
    ('network', 'ReLU network 2-2-1 from net.npz', Box(lo=[0.0, 0.0], hi=[1.0, 1.0]))
    """
    from geomcore import Arrangement, MaxAffine, ReLUNetwork, Voronoi

    if not os.path.exists(path):
        raise ReportError(f"no such model file: {path}")
    if os.path.isdir(path):
        raise ReportError(f"{path} is a directory, not a model file")
    ext = os.path.splitext(path)[1].lower()
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", os.path.splitext(os.path.basename(path))[0]) or "model"
    net = est = box = None
    if ext in (".pkl", ".pickle", ".joblib"):
        obj = _read_pickle(path)
        if isinstance(obj, ReLUNetwork):
            net = obj
            family = "network"
        elif isinstance(obj, (Arrangement, MaxAffine, Voronoi)):
            model, family = obj, "other"
        else:
            family = _check_estimator(obj, path)
            est = obj
            if family == "network":
                net = ReLUNetwork.from_sklearn(obj)
    elif ext == ".npz":
        net, box = _network_from_npz(path)
        family = "network"
    elif ext in (".pt", ".pth"):
        net = _network_from_torch(path, arch)
        family = "network"
    else:
        raise ReportError(f"{path}: unknown model file type {ext or '(none)'!r}; expected .pkl, "
                          ".joblib, .npz, .pt or .pth")
    if net is not None:
        model = net
        if net.negative_slope:
            title = f"Leaky-ReLU network {'-'.join(map(str, [net.ndim, *net.layer_sizes]))}"
        else:
            title = f"ReLU network {'-'.join(map(str, [net.ndim, *net.layer_sizes, net.weights[-1].shape[0]]))}"
    elif est is not None:
        model = est
        title = type(est).__name__
    else:
        title = type(model).__name__
    ndim = net.ndim if net is not None else _ndim_of(model, path)
    X = y = None
    y_source = ""
    if data is not None:
        X, y = load_data(data, ndim)
        y_source = f"the last column of {os.path.basename(data)}" if y is not None else ""
    if X is not None:
        domain = _data_domain(X)
    elif box is not None:
        domain = box
    elif family == "tree":
        domain = _tree_domain(est, ndim)
    elif isinstance(model, Voronoi):
        domain = _data_domain(np.asarray(model.points, float), 0.1)
    else:
        raise ReportError(f"{path}: this model defines no input domain; pass --data FILE "
                          "(points whose bounding box is the domain)")
    subject = Subject(base, f"{title} from {os.path.basename(path)}", family, model, domain, X,
                      y, y_source, net, est)
    return [subject]


def _ndim_of(model, path):
    for attr in ("n_features_in_", "ndim"):
        v = getattr(model, attr, None)
        if v is not None:
            return int(v)
    raise ReportError(f"{path}: cannot tell the model's input dimension")
