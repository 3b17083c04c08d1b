"""geomcore report end to end: the built-in example, saved scikit-learn / npz / torch models, the
summary against the API, every figure referenced by the HTML, bad files as one error line."""

import json
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

import geomcore as gc
from geomcore.__main__ import main
from geomcore.report._models import example_subjects, parse_arch
from geomcore.report._summary import cell_quality, min_hinge_angles


def _moons(n=200, seed=1):
    from sklearn.datasets import make_moons

    return make_moons(n_samples=n, noise=0.1, random_state=seed)


def _domain(X):
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.05 * (hi - lo)
    return gc.Box(lo - pad, hi + pad)


def _check_output(out, n_models):
    html = (out / "report.html").read_text()
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["models"]) == n_models
    pngs = sorted(p.name for p in out.glob("*.png"))
    listed = sorted(f for m in summary["models"] for f in m["figures"])
    assert pngs == listed and len(pngs) >= 2 * n_models
    for name in pngs:                                   # every figure is on the page
        assert f"src='{name}'" in html, name
        assert (out / name).stat().st_size > 5000
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for src in re.findall(r"src='([^']+)'", html):      # and nothing on the page is missing
        assert (out / src).exists(), src
    return summary


def _check_against_api(s, model, domain, X, y):
    part = gc.partition(model, domain)
    assert s["n_cells"] == part.n_cells
    assert s["n_walls"] == len(part.walls.areas)
    assert s["n_hinges"] == len(part.hinges.volumes)
    assert s["volume_sum"] == pytest.approx(float(np.sum(part.volumes)), rel=1e-12)
    assert s["volume_sum"] == pytest.approx(domain.volume, rel=1e-9)
    assert s["domain"]["lo"] == pytest.approx(list(domain.lo), rel=1e-12)
    cx = gc.nerve(part)
    assert tuple(s["betti_numbers"]) == cx.betti_numbers()
    assert s["betti_numbers"][0] == 1 and not any(s["betti_numbers"][1:])   # nerve theorem
    assert s["nerve_f_vector"] == list(cx.f_vector)
    rc = gc.RiemannianComplex(part, X=X)
    w0 = gc.smallest_eigenpairs(rc, 0, n=min(20, part.n_cells), dense_limit=10**6)[0]
    np.testing.assert_allclose(s["smallest_eigenvalues"]["Delta_0"], w0, rtol=1e-8, atol=1e-9)
    assert len(s["smallest_eigenvalues"]["Delta_0"]) >= min(20, part.n_cells)
    assert abs(w0[0]) < 1e-8 and w0[1] > 1e-6          # one component
    K = gc.vertex_curvature(rc, kind=s["curvature"]["kind"])
    K = K[np.isfinite(K)]
    for q in (0, 5, 25, 50, 75, 95, 100):
        assert s["curvature"][f"q{q:02d}"] == pytest.approx(np.quantile(K, q / 100), rel=1e-9,
                                                             abs=1e-12)
    q = cell_quality(part)
    assert q.min() >= 1 - 1e-9                        # isoperimetric inequality
    worst = [r for r in s["worst_cells"] if r["reason"] == "sliver"]
    assert worst[0]["cell"] == int(np.argmax(q))
    sharp = [r for r in s["worst_cells"] if r["reason"] == "sharp angle"]
    if sharp:
        ang = min_hinge_angles(part)
        assert sharp[0]["min_angle_deg"] == pytest.approx(np.degrees(np.nanmin(ang)))
    if "regularizers" in s:              # two independent computations of SPEC 10's terms
        r = s["regularizers"]
        assert r["shape_quality"] == pytest.approx(float(np.sum(q - 1)), rel=1e-9)
        assert r["boundary"] == pytest.approx(float(np.sum(part.walls.areas)), rel=1e-9)
        ang = min_hinge_angles(part)
        assert (r["sharp_angles"] > 0) == bool(np.nanmin(ang) < np.pi / 6)
    refined = gc.refine(model, X, y, domain=domain)
    inside = refined.partition.locate(X) >= 0
    assert s["spline"]["mse_spline"] == pytest.approx(
        float(np.mean((refined.predict(X[inside]) - y[inside]) ** 2)), rel=1e-9)
    return part


# ---------------------------------------------------------------------------------------------
# the built-in example


@pytest.fixture(scope="module")
def builtin(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main(["report", "--out", str(out), "--no-progress"]) == 0
    return out


def test_builtin_example_writes_a_complete_report(builtin, capsys):
    summary = _check_output(builtin, 2)
    names = [m["name"] for m in summary["models"]]
    assert names == ["mlp", "tree"]
    html = (builtin / "report.html").read_text()
    assert "Most problematic cells" in html and "activation regions" in html
    for m in summary["models"]:
        assert m["title"] in html
        assert len(m["worst_cells"]) >= 5


def test_builtin_example_numbers_equal_the_api(builtin):
    summary = json.loads((builtin / "summary.json").read_text())
    subjects = example_subjects("moons")
    for s, subj in zip(summary["models"], subjects):
        _check_against_api(s, subj.model, subj.domain, subj.X, subj.y)
    mlp = summary["models"][0]
    assert mlp["family"] == "network" and mlp["ndim"] == 2
    try:
        from geomcore.pullback import layer_profile
    except ImportError:
        layer_profile = None
    if layer_profile is not None:        # the optional sections appear once their modules exist
        assert "regularizers" in mlp and "layer_profile" in mlp
        assert "mlp_layers.png" in mlp["figures"]
        lp = layer_profile(gc.partition(subjects[0].model, subjects[0].domain),
                           subjects[0].network)
        np.testing.assert_allclose(mlp["layer_profile"]["volume_sum"],
                                   np.asarray(lp.volumes).sum(axis=1), rtol=1e-12)
        assert mlp["layer_profile"]["volume_sum"][0] == pytest.approx(mlp["volume_sum"])
    # the network's cells are activation regions: one per distinct pattern of the centroids
    part = gc.partition(subjects[0].model, subjects[0].domain)
    pats = subjects[0].network.patterns(part.centroids)
    assert len(np.unique(pats, axis=0)) == mlp["n_cells"]


def test_builtin_example_terminal_summary(tmp_path, capsys):
    assert main(["report", "--example", "moons-tree", "--out", str(tmp_path / "r"),
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  \d+ cells, \d+ walls, \d+ hinges", out, re.MULTILINE)
    assert "Betti numbers (1, 0" in out and "report.html" in out
    _check_output(tmp_path / "r", 1)


# ---------------------------------------------------------------------------------------------
# saved models


def test_saved_sklearn_tree_with_csv_targets(tmp_path):
    import joblib
    from sklearn.tree import DecisionTreeRegressor

    X, y = _moons()
    t = y + 0.3 * X[:, 0]
    tree = DecisionTreeRegressor(max_depth=5, random_state=0).fit(X, t)
    joblib.dump(tree, tmp_path / "tree.joblib")
    np.savetxt(tmp_path / "data.csv", np.column_stack([X, t]), delimiter=",",
               header="x1,x2,target", comments="")
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "tree.joblib"), "--data", str(tmp_path / "data.csv"),
                 "--out", str(out), "--no-progress", "--quiet"]) == 0
    s = _check_output(out, 1)["models"][0]
    assert s["family"] == "tree" and "data.csv" in s["target"]
    part = _check_against_api(s, tree, _domain(X), X, t)
    assert part.n_cells == tree.get_n_leaves()


def test_saved_sklearn_mlp_pickle_with_npy_points(tmp_path):
    import warnings

    from sklearn.neural_network import MLPClassifier

    X, y = _moons()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier((8, 8), max_iter=500, random_state=0).fit(X, y)
    with open(tmp_path / "mlp.pkl", "wb") as f:
        pickle.dump(mlp, f)
    np.save(tmp_path / "X.npy", X)
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "mlp.pkl"), "--data", str(tmp_path / "X.npy"),
                 "--out", str(out), "--no-progress", "--quiet"]) == 0
    s = _check_output(out, 1)["models"][0]
    assert s["family"] == "network" and s["target"] == "the model's probability of class 1"
    _check_against_api(s, gc.ReLUNetwork.from_sklearn(mlp), _domain(X), X,
                       mlp.predict_proba(X)[:, 1])


def _small_net(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(6, 2)), rng.normal(size=(5, 6)), rng.normal(size=(1, 5))], \
        [rng.normal(size=6) * 0.5, rng.normal(size=5) * 0.5, np.zeros(1)]


def test_npz_network_with_its_own_domain(tmp_path):
    W, b = _small_net()
    np.savez(tmp_path / "net.npz", W0=W[0], b0=b[0], W1=W[1], b1=b[1], W2=W[2], b2=b[2],
             lo=[-1.0, -1.0], hi=[1.0, 1.0])
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "net.npz"), "--out", str(out), "--no-progress",
                 "--quiet"]) == 0
    s = _check_output(out, 1)["models"][0]
    net = gc.ReLUNetwork(W, b)
    assert s["n_cells"] == gc.partition(net, gc.Box([-1, -1], [1, 1])).n_cells
    assert s["domain"]["volume"] == pytest.approx(4.0)
    assert s["target"] == "the network's output" and s["n_points"] == 2000


def test_torch_state_dict_with_arch_and_sequential(tmp_path):
    torch = pytest.importorskip("torch")
    W, b = _small_net(1)
    seq = torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.ReLU(), torch.nn.Linear(6, 5),
                              torch.nn.ReLU(), torch.nn.Linear(5, 1)).double()
    with torch.no_grad():
        for layer, Wl, bl in zip(seq[::2], W, b):
            layer.weight.copy_(torch.from_numpy(Wl))
            layer.bias.copy_(torch.from_numpy(bl))
    torch.save(seq.state_dict(), tmp_path / "sd.pt")
    torch.save(seq, tmp_path / "seq.pt")
    X = np.random.default_rng(0).uniform(-1, 1, size=(300, 2))
    np.save(tmp_path / "X.npy", X)
    expected = gc.partition(gc.ReLUNetwork(W, b), _domain(X)).n_cells
    for args in ([str(tmp_path / "sd.pt"), "--arch", "2-6-5-1"], [str(tmp_path / "seq.pt")]):
        out = tmp_path / f"out{len(args)}"
        assert main(["report", *args, "--data", str(tmp_path / "X.npy"), "--out", str(out),
                     "--no-progress", "--quiet"]) == 0
        assert _check_output(out, 1)["models"][0]["n_cells"] == expected


def test_parse_arch():
    assert parse_arch("2-16-16-1") == ([2, 16, 16, 1], 0.0)
    assert parse_arch("3 - 4 - 2:leaky=0.1") == ([3, 4, 2], 0.1)
    with pytest.raises(gc.GeomcoreError, match="--arch must look like"):
        parse_arch("2x16")


# ---------------------------------------------------------------------------------------------
# bad input: one line on stderr, exit status 2, no traceback


def _bad_files(tmp_path):
    import joblib
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    X, y = _moons(60)
    (tmp_path / "text.pkl").write_text("this is not a pickle\n")
    joblib.dump(SVC().fit(X, y), tmp_path / "svc.joblib")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        joblib.dump(MLPClassifier((4,), activation="tanh", max_iter=50, random_state=0).fit(X, y),
                    tmp_path / "tanh.joblib")
    np.savez(tmp_path / "nokeys.npz", weights=np.eye(2))
    (tmp_path / "model.onnx").write_bytes(b"\x08\x01")
    np.save(tmp_path / "X3.npy", np.zeros((5, 3)))
    cases = [
        ([str(tmp_path / "missing.pkl")], "no such model file"),
        ([str(tmp_path / "text.pkl")], "not a pickle/joblib file"),
        ([str(tmp_path / "svc.joblib")], "SVC, which geomcore cannot partition"),
        ([str(tmp_path / "tanh.joblib"), "--data", str(tmp_path / "X3.npy")],
         "activation='tanh'"),
        ([str(tmp_path / "nokeys.npz")], "must hold the keys W0, b0"),
        ([str(tmp_path / "model.onnx")], "unknown model file type '.onnx'"),
    ]
    try:
        import torch

        torch.save({"0.weight": torch.zeros(4, 2), "0.bias": torch.zeros(4),
                    "2.weight": torch.zeros(1, 4), "2.bias": torch.zeros(1)}, tmp_path / "sd.pt")
        torch.save(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(),
                                       torch.nn.Linear(3, 1)), tmp_path / "tanh.pt")
        torch.save(torch.nn.Sequential(torch.nn.Conv1d(1, 1, 2)), tmp_path / "conv.pt")
        cases += [
            ([str(tmp_path / "sd.pt")], "state_dict: give its architecture with --arch"),
            ([str(tmp_path / "sd.pt"), "--arch", "2-5-1"], "needs Linear weights of shapes"),
            ([str(tmp_path / "tanh.pt")], "must be ReLU or LeakyReLU"),
            ([str(tmp_path / "conv.pt")], "must be Linear"),
        ]
    except ImportError:
        pass
    return cases


def test_bad_model_files_give_one_error_line(tmp_path, capsys):
    for args, message in _bad_files(tmp_path):
        code = main(["report", *args, "--out", str(tmp_path / "out"), "--no-progress"])
        err = capsys.readouterr().err
        assert code == 2, args
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("geomcore report: error: ") and message in lines[0], err
        assert "Traceback" not in err


def test_bad_data_files(tmp_path, capsys):
    import joblib
    from sklearn.tree import DecisionTreeClassifier

    X, y = _moons(60)
    joblib.dump(DecisionTreeClassifier(max_depth=2).fit(X, y), tmp_path / "t.joblib")
    np.save(tmp_path / "X5.npy", np.zeros((4, 5)))
    np.save(tmp_path / "nan.npy", np.full((4, 2), np.nan))
    for data, message in [("nope.npy", "no such file"), ("X5.npy", "must have 2 columns"),
                          ("nan.npy", "NaN")]:
        code = main(["report", str(tmp_path / "t.joblib"), "--data", str(tmp_path / data),
                     "--out", str(tmp_path / "o"), "--no-progress"])
        err = capsys.readouterr().err
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_console_script_bad_file_exit_status(tmp_path):
    # python -m geomcore, away from the source tree: one line, status 2, no traceback
    out = subprocess.run([sys.executable, "-m", "geomcore", "report", "missing.joblib"],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    assert out.returncode == 2
    assert out.stderr.strip() == "geomcore report: error: no such model file: missing.joblib"
    assert out.stdout == ""


@pytest.mark.parametrize("name", ["geomcore.report", "geomcore.report._summary",
                                  "geomcore.report._models", "geomcore.report._figures"])
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_user_guide_examples():
    import doctest
    import os
    import warnings

    guide = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "user-guide.md")
    if not os.path.exists(guide):
        pytest.skip("docs/ not shipped (installed package without the source tree)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # scikit-learn convergence warnings
        result = doctest.testfile(guide, module_relative=False,
                                  optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 40 and result.failed == 0


# ---------------------------------------------------------------------------------------------
# more than two input dimensions


def test_three_dimensional_forest_report(tmp_path):
    import joblib
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(0)
    X = rng.uniform(size=(150, 3))
    y = X[:, 0] * X[:, 1] + X[:, 2]
    forest = RandomForestRegressor(n_estimators=2, max_depth=3, random_state=0).fit(X, y)
    joblib.dump(forest, tmp_path / "rf.joblib")
    np.save(tmp_path / "Xy.npy", np.column_stack([X, y]))
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "rf.joblib"), "--data", str(tmp_path / "Xy.npy"),
                 "--out", str(out), "--no-progress", "--quiet"]) == 0
    s = _check_output(out, 1)["models"][0]
    assert s["figures"] == ["rf_distributions.png", "rf_spectrum.png"]
    _check_against_api(s, forest, _domain(X), X, y)


def test_high_dimensional_network_reports_data_cells_and_a_slice(tmp_path):
    datacells = pytest.importorskip("geomcore.datacells")
    import warnings

    import joblib
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 5))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPRegressor(hidden_layer_sizes=(8, 8), max_iter=300, random_state=0).fit(X, y)
    joblib.dump(mlp, tmp_path / "mlp5.joblib")
    np.save(tmp_path / "Xy.npy", np.column_stack([X, y]))
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "mlp5.joblib"), "--data", str(tmp_path / "Xy.npy"),
                 "--out", str(out), "--no-progress", "--quiet"]) == 0
    s = _check_output(out, 1)["models"][0]
    assert s["input_ndim"] == 5 and s["ndim"] == 2
    net = gc.ReLUNetwork.from_sklearn(mlp)
    dc = datacells.data_cells(net, X, domain=_domain(X))
    assert s["data_cells"]["n_cells"] == dc.n_cells == len(np.unique(net.patterns(X), axis=0))
    assert s["data_cells"]["n_points"] == 120
    # the maps are the exact slice through the data mean along the first two principal axes
    x0 = X.mean(axis=0)
    U = np.linalg.svd(X - x0, full_matrices=False)[2][:2].T
    T = (X - x0) @ U
    lo, hi = T.min(axis=0), T.max(axis=0)
    box = gc.Box(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
    sl = dc.slice(x0, U, box.lo, box.hi)
    _check_against_api(s, sl.model, box, T, y)
    assert "slice through the data" in (out / "report.html").read_text()
