"""``geomcore report``: the geometric analysis of a model as an HTML page, PNG figures and a JSON
summary.

:func:`build_report` runs the public API on each model (the partition, the nerve and its
certified Betti numbers, the masses, the smallest Laplacian eigenvalues, the cells' curvature,
a spline refinement and, for networks when those modules exist, the layer profile and data
cells) and writes ``report.html``, ``summary.json`` and the figures into one directory.
:func:`main` is the command line behind ``geomcore report`` (see ``geomcore report --help``).

Examples
--------
>>> import os, tempfile
>>> out = tempfile.mkdtemp()
>>> summary = build_report(example="moons-tree", out=out, progress=False)
>>> tree = summary["models"][0]
>>> tree["n_cells"], tree["betti_numbers"], sorted(os.listdir(out))[:3]
(18, [1, 0, 0], ['report.html', 'summary.json', 'tree_curvature.png'])
"""

import json
import os
import sys
import time

from geomcore.report._models import (
    EXAMPLES,
    NPZ_KEYS,
    ReportError,
    example_subjects,
    load_subjects,
)

__all__ = ["EXAMPLES", "NPZ_KEYS", "ReportError", "add_arguments", "build_report", "main"]

_STEPS = ("data cells", "2-D slice", "partition", "nerve", "betti numbers", "masses", "spectrum", "curvature", "spline",
          "regularizers", "layer profile", "figures")


def _bar(total, enabled):
    """A tqdm bar over the steps, shown only once a step takes longer than a second."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, delay=1.0, file=sys.stderr, leave=False, unit="step",
                bar_format="{desc:<34}{bar:20}| {n_fmt}/{total_fmt} [{elapsed}]")


def build_report(model=None, *, example="moons", data=None, arch=None, out="geomcore-report",
                 progress=True):
    """Analyse a model (a file) or the built-in example and write the report.

    Parameters
    ----------
    model : str or None
        Path of a model file (``.pkl`` / ``.joblib`` scikit-learn estimator or geomcore model,
        ``.npz`` network weights, ``.pt`` / ``.pth`` torch module or ``state_dict``); None runs
        the built-in ``example``.
    example : {"moons", "moons-mlp", "moons-tree"}
        "moons": a ReLU MLP (16, 16) and a depth-6 decision tree fitted to ``make_moons``.
    data : str, optional
        ``.npy`` or ``.csv`` of points, shape (n, ndim), or (n, ndim + 1) with a target in the
        last column: the domain (bounding box + 5%), the data measure and the spline's data.
    arch : str, optional
        Layer widths of a torch ``state_dict``, input first: ``"2-16-16-1"``.
    out : str
        Output directory (created).
    progress : bool
        A progress bar on standard error for steps that take more than a second.

    Returns
    -------
    dict
        The content of ``summary.json``: ``{"geomcore": version, "models": [...]}``, one entry
        per model with the headline numbers.

    Raises
    ------
    ReportError
        A model or data file geomcore cannot use (the message says why).

    Examples
    --------
    >>> import tempfile
    >>> s = build_report(example="moons-tree", out=tempfile.mkdtemp(), progress=False)
    >>> m = s["models"][0]
    >>> m["family"], m["n_cells"], m["n_walls"], round(m["volume_sum"], 6)
    ('tree', 18, 39, 8.786404)
    """
    import geomcore
    from geomcore.report._figures import write_figures
    from geomcore.report._html import render
    from geomcore.report._summary import analyse

    if model is None:
        subjects = example_subjects(example)
        if data is not None:
            raise ReportError("--data needs a MODEL_FILE (the built-in example brings its own "
                              "data)")
    else:
        subjects = load_subjects(model, arch=arch, data=data)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"--out: cannot create {out}: {exc.strerror}") from None
    bar = _bar(len(subjects) * len(_STEPS), progress)
    summaries, figures = [], []
    try:
        for subject in subjects:
            done = []

            def step(name, subject=subject, done=done):
                if bar is not None:
                    bar.set_description_str(f"{subject.name}: {name}")
                    if name not in done:
                        done.append(name)
                        bar.update(1)

            analysis = analyse(subject, step=step)
            step("figures")
            start = time.perf_counter()
            figs = write_figures(analysis, out)
            analysis.summary["timings_s"]["figures"] = round(time.perf_counter() - start, 4)
            analysis.summary["figures"] = [f for f, _ in figs]
            if bar is not None:
                bar.update(max(0, len(_STEPS) - len(done)))
            summaries.append(analysis.summary)
            figures.append(figs)
    finally:
        if bar is not None:
            bar.close()
    summary = {"geomcore": geomcore.__version__, "models": summaries}
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    with open(os.path.join(out, "report.html"), "w") as f:
        f.write(render(summaries, figures, version=geomcore.__version__))
    return summary


def _terminal_summary(summary, out):
    lines = []
    for s in summary["models"]:
        lines.append(f"{s['title']}")
        eig = s["smallest_eigenvalues"].get("Delta_0", [])
        nz = [v for v in eig if abs(v) > 1e-8 * max([1.0] + [abs(x) for x in eig])]
        c = s["curvature"]
        lines.append(f"  {s['n_cells']} cells, {s['n_walls']} walls, {s['n_hinges']} hinges; "
                     f"volume sum {s['volume_sum']:.6g} (domain {s['domain']['volume']:.6g})")
        lines.append(f"  Betti numbers {tuple(s['betti_numbers'])}; first non-zero eigenvalue of "
                     f"Delta_0 {nz[0]:.4g}" if nz else
                     f"  Betti numbers {tuple(s['betti_numbers'])}")
        if "q50" in c:
            lines.append(f"  {c['kind']} curvature: median {c['q50']:.3g}, 5-95% "
                         f"[{c['q05']:.3g}, {c['q95']:.3g}]")
        worst = [w for w in s["worst_cells"] if w["reason"] == "sliver"][:1]
        if worst:
            w = worst[0]
            lines.append(f"  thinnest cell {w['cell']}: volume {w['volume']:.3g}, quality "
                         f"{w['quality']:.3g}")
    lines.append(f"wrote {os.path.join(out, 'report.html')}, summary.json and "
                 f"{sum(len(s['figures']) for s in summary['models'])} figures")
    return "\n".join(lines)


def add_arguments(parser):
    """The ``report`` options on an argparse parser.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> add_arguments(p)
    >>> a = p.parse_args(["model.joblib", "--data", "X.npy", "--out", "rep"])
    >>> a.model, a.data, a.out, a.example
    ('model.joblib', 'X.npy', 'rep', 'moons')
    """
    parser.add_argument("model", nargs="?", metavar="MODEL_FILE",
                        help="a model file: .pkl/.joblib (scikit-learn estimator), .npz "
                             f"({NPZ_KEYS}), .pt/.pth (torch module, or state_dict with "
                             "--arch); default: the built-in example")
    parser.add_argument("--example", default="moons", choices=EXAMPLES,
                        help="built-in example when no MODEL_FILE is given (default moons: a "
                             "ReLU MLP and a decision tree on make_moons)")
    parser.add_argument("--data", metavar="FILE",
                        help=".npy or .csv of points (n, ndim), or (n, ndim + 1) with a target "
                             "last: the domain, data measure and spline data")
    parser.add_argument("--arch", metavar="WIDTHS",
                        help='layer widths of a torch state_dict, input first, e.g. "2-16-16-1" '
                             '(":leaky=0.01" for Leaky ReLU)')
    parser.add_argument("--out", metavar="DIR", default="geomcore-report",
                        help="output directory (default ./geomcore-report)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--quiet", action="store_true", help="no terminal summary")


def run(args):
    """Run ``geomcore report`` from parsed arguments: 0 on success; on a bad input one line on
    standard error and exit status 2, no traceback.

    Examples
    --------
    >>> import argparse, contextlib, io
    >>> p = argparse.ArgumentParser()
    >>> add_arguments(p)
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     code = run(p.parse_args(["no-such-model.pkl"]))
    >>> code, err.getvalue().strip()
    (2, 'geomcore report: error: no such model file: no-such-model.pkl')
    """
    from geomcore.errors import GeomcoreError

    try:
        summary = build_report(args.model, example=args.example, data=args.data, arch=args.arch,
                               out=args.out, progress=not args.no_progress)
    except (GeomcoreError, OSError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"geomcore report: error: {msg}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"geomcore report: error: {exc} (pip install 'geomcore[plot]')", file=sys.stderr)
        return 2
    if not args.quiet:
        print(_terminal_summary(summary, args.out))
    return 0


def main(argv=None):
    """``geomcore report`` with the arguments ``argv`` (default ``sys.argv[1:]``); returns the
    exit status.

    Examples
    --------
    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()):
    ...     main(["model.txt"])
    2
    """
    import argparse

    parser = argparse.ArgumentParser(prog="geomcore report", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
