"""Command line: ``geomcore report`` and ``geomcore demo`` (also ``python -m geomcore ...``).

``geomcore report [MODEL_FILE] [--example NAME] [--data FILE] [--out DIR]`` analyses a model
(or the built-in example) and writes ``report.html``, its figures and ``summary.json`` (see
:mod:`geomcore.report`). The demo builds a built-in polytope and prints its geometry, with the
closed form where one is known, so a new install can be checked at a glance.
"""

import argparse
import math
import sys
import time

import numpy as np

__all__ = ["example_polytope", "main"]

EXAMPLES = ("cube", "simplex", "cross", "pyramid", "relu-cell")


def example_polytope(name, ndim):
    """(A, b, description, exact volume or None) of a built-in example."""
    eye = np.eye(ndim)
    if name == "cube":
        return np.vstack([eye, -eye]), np.r_[np.ones(ndim), np.zeros(ndim)], \
            f"unit cube [0, 1]^{ndim}", 1.0
    if name == "simplex":
        return np.vstack([-eye, np.ones(ndim)]), np.r_[np.zeros(ndim), 1.0], \
            f"standard simplex in {ndim}-D", 1.0 / math.factorial(ndim)
    if name == "cross":
        signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * ndim, indexing="ij")).reshape(ndim, -1).T
        return signs, np.ones(len(signs)), f"cross-polytope |x|_1 <= 1 in {ndim}-D", \
            2.0**ndim / math.factorial(ndim)
    if name == "pyramid":
        # a pyramid of height 1 over the cube [-1, 1]^(ndim-1): its apex lies on 2(ndim-1) facets
        base = np.zeros(ndim)
        base[-1] = -1.0
        sides = np.hstack([np.vstack([eye[:-1, :-1], -eye[:-1, :-1]]), np.ones((2 * ndim - 2, 1))])
        return np.vstack([base, sides]), np.r_[0.0, np.ones(2 * ndim - 2)], \
            f"square pyramid over [-1, 1]^{ndim - 1}", 2.0 ** (ndim - 1) / ndim
    if name == "relu-cell":
        # the cell of a point among 200 random hyperplanes (most rows redundant), in a box
        rng = np.random.default_rng(0)
        W, c = rng.normal(size=(200, ndim)), rng.normal(size=200)
        side = -np.sign(W @ np.zeros(ndim) - c)
        return np.vstack([side[:, None] * W, eye, -eye]), np.r_[side * c, np.full(2 * ndim, 3.0)], \
            f"ReLU-like cell of the origin among 200 hyperplanes in {ndim}-D", None
    raise ValueError(f"example must be one of {EXAMPLES}; got {name!r}")


def demo(args):
    from geomcore import Polytope

    A, b, description, closed_form = example_polytope(args.example, args.ndim)
    start = time.perf_counter()
    p = Polytope(A, b)
    seconds = time.perf_counter() - start
    print(f"geomcore demo: {description}")
    print(f"  input rows         {len(b)}")
    print(f"  facets             {p.n_facets}   (rows {p.facet_index[:8].tolist()}"
          f"{' ...' if p.n_facets > 8 else ''})")
    print(f"  vertices           {p.n_vertices}   (facets per vertex: "
          f"{int(p.incidence.sum(axis=1).min())} to {int(p.incidence.sum(axis=1).max())})")
    print(f"  ridges             {p.n_ridges}")
    line = f"  volume             {p.volume:.15g}"
    if closed_form is not None:
        line += f"   (closed form {closed_form:.15g}, relative error {abs(p.volume / closed_form - 1):.1e})"
    print(line)
    print(f"  centroid           {np.array2string(p.centroid, precision=6)}")
    print(f"  facet areas        {p.facet_areas.min():.6g} to {p.facet_areas.max():.6g}, "
          f"sum {p.facet_areas.sum():.6g}")
    if p.n_ridges:
        print(f"  dihedral angles    {np.degrees(p.dihedral_angles.min()):.4f} to "
              f"{np.degrees(p.dihedral_angles.max()):.4f} degrees")
    balance = np.abs(p.facet_areas @ p.facet_normals).max()
    print(f"  |sum area * normal| {balance:.1e}   (zero for a closed surface)")
    print(f"  exact sign checks  {p.n_exact_calls}")
    print(f"  time               {seconds * 1e3:.2f} ms")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="geomcore", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("report", help="analyse a model (or the built-in example) and write an "
                       "HTML report, figures and summary.json")
    from geomcore.report import add_arguments

    add_arguments(r)
    d = sub.add_parser("demo", help="build a built-in polytope and print its geometry")
    d.add_argument("--example", choices=EXAMPLES, default="pyramid")
    d.add_argument("--ndim", type=int, default=3, help="dimension (default 3)")
    args = parser.parse_args(argv)
    if args.command == "report":
        from geomcore.report import run

        return run(args)
    if args.ndim < 1 or (args.example == "pyramid" and args.ndim < 2):
        parser.error(f"--ndim must be at least {2 if args.example == 'pyramid' else 1}; got {args.ndim}")
    return demo(args)


if __name__ == "__main__":
    sys.exit(main())
