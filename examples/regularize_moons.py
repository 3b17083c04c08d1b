"""Train a small ReLU network on two moons with and without a geometric penalty, and measure
what the penalty does to the partition and to held-out accuracy.

    python examples/regularize_moons.py [--term boundary] [--lam 0.01] [--epochs 400]
                                        [--out regularize_moons.png]

Both runs start from the same weights and see the same data. The penalty
(:class:`geomcore.torch.GeometricPenalty`) is evaluated over the cells that hold training
points, every ``--every`` steps (each evaluation partitions the domain exactly). Reported on
the final networks, over the whole domain:

* cells: linear regions; slivers: cells with volume below 0.1 x the mean;
* boundary: length of the decision boundary (walls between cells of different predicted
  class, from the decision-region partition);
* smallest angles: the minimum and the 5th percentile of the hinge angles (degrees);
* held-out accuracy on a second sample of the moons.

Needs torch, scikit-learn and matplotlib.
"""

import argparse
import time

import numpy as np


def build(seed, width):
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(2, width), torch.nn.ReLU(),
                               torch.nn.Linear(width, width), torch.nn.ReLU(),
                               torch.nn.Linear(width, 2)).double()


def train(module, X, y, *, epochs, lam, penalty, every):
    import torch

    opt = torch.optim.Adam(module.parameters(), lr=0.01)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    ce = torch.nn.CrossEntropyLoss()
    spent = 0.0
    for step in range(epochs):
        opt.zero_grad()
        loss = ce(module(Xt), yt)
        if penalty is not None and lam > 0 and step % every == 0:
            t0 = time.perf_counter()
            # scaled by `every` so the penalty's average pull matches every-step use
            loss = loss + lam * every * penalty(module, Xt)
            spent += time.perf_counter() - t0
        loss.backward()
        opt.step()
    return spent


def measure(module, domain, X_test, y_test):
    import torch

    from geomcore import ReLUNetwork, partition

    net = ReLUNetwork.from_torch(module)
    lin = partition(net, domain)
    dec = partition(net, domain, regions="decision")
    w = dec.walls.cells
    boundary = float(dec.walls.areas[dec.classes[w[:, 0]] != dec.classes[w[:, 1]]].sum())
    angles = np.degrees(lin.hinges.angles) if len(lin.hinges.angles) else np.array([np.nan])
    with torch.no_grad():
        pred = module(torch.as_tensor(X_test)).argmax(dim=1).numpy()
    return {
        "cells": lin.n_cells,
        "slivers": int(np.sum(lin.volumes < 0.1 * lin.volumes.mean())),
        "boundary": boundary,
        "min_angle": float(angles.min()),
        "p5_angle": float(np.percentile(angles, 5)),
        "accuracy": float(np.mean(pred == y_test)),
    }, dec


def draw(ax, dec, X, y, title):
    from scipy.spatial import ConvexHull

    colours = ["#f4c7a1", "#a9c9ef"]
    for i in range(dec.n_cells):
        V = np.asarray(dec.cell(i).vertices)
        V = V[ConvexHull(V).vertices]
        ax.fill(V[:, 0], V[:, 1], color=colours[int(dec.classes[i]) % 2], lw=0)
        ax.plot(np.r_[V[:, 0], V[0, 0]], np.r_[V[:, 1], V[0, 1]], color="0.35", lw=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=np.where(y == 1, "#1f5fa8", "#c0601c"), s=6, lw=0)
    ax.set_title(title, fontsize=9)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--term", default="boundary",
                        choices=["small_cells", "boundary", "sharp_angles", "shape_quality"])
    parser.add_argument("--lam", type=float, default=0.01)
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="regularize_moons.png")
    args = parser.parse_args(argv)

    import torch
    from sklearn.datasets import make_moons

    from geomcore import Box
    from geomcore.torch import GeometricPenalty

    torch.set_num_threads(1)            # tiny tensors: threads only add overhead
    X, y = make_moons(n_samples=200, noise=0.3, random_state=args.seed)
    X_test, y_test = make_moons(n_samples=2000, noise=0.3, random_state=args.seed + 1)
    domain = Box(X.min(axis=0) - 0.5, X.max(axis=0) + 0.5)
    options = {"t": 0.5} if args.term == "small_cells" else {}
    if args.term == "sharp_angles":
        options = {"theta_min": np.pi / 4}
    penalty = GeometricPenalty(args.term, domain=domain, **options)

    rows, parts = {}, {}
    for name, lam in (("plain", 0.0), (f"+{args.term}", args.lam)):
        module = build(args.seed, args.width)
        t0 = time.perf_counter()
        spent = train(module, X, y, epochs=args.epochs, lam=lam, penalty=penalty,
                      every=args.every)
        total = time.perf_counter() - t0
        rows[name], parts[name] = measure(module, domain, X_test, y_test)
        rows[name]["seconds"] = total
        rows[name]["penalty_seconds"] = spent

    keys = ["cells", "slivers", "boundary", "min_angle", "p5_angle", "accuracy", "seconds",
            "penalty_seconds"]
    print(f"two moons (200 train, 2000 held out, noise 0.3), 2-{args.width}-{args.width}-2 ReLU, "
          f"{args.epochs} Adam steps; penalty {args.term} x {args.lam} every {args.every} steps")
    print(f"{'':18s}" + "".join(f"{k:>16s}" for k in keys))
    for name, r in rows.items():
        print(f"{name:18s}" + "".join(
            f"{r[k]:16d}" if isinstance(r[k], int) else f"{r[k]:16.4g}" for k in keys))

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figure")
        return rows
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, (name, r) in zip(axes, rows.items()):
        draw(ax, parts[name], X, y, f"{name}: {r['cells']} cells, boundary {r['boundary']:.2f}, "
                                    f"held-out acc {r['accuracy']:.3f}")
    fig.tight_layout()
    fig.savefig(args.out, dpi=150)
    print(f"figure: {args.out}")
    return rows


if __name__ == "__main__":
    main()
