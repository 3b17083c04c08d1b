"""Reference for geomcore._kernels._trees: the same descent as numpy passes, level by level."""

import numpy as np

__all__ = ["refine_by_tree"]


def refine_by_tree(lo, hi, feature, threshold, left, right):
    """Push every box down one tree. Returns the boxes reaching the leaves, with the index of
    the box each came from and the leaf's node id."""
    out_lo, out_hi, out_parent, out_leaf = [], [], [], []
    parent = np.arange(len(lo))
    node = np.zeros(len(lo), dtype=np.int64)
    while len(node):
        leaf = left[node] < 0
        out_lo.append(lo[leaf]), out_hi.append(hi[leaf])
        out_parent.append(parent[leaf]), out_leaf.append(node[leaf])
        lo, hi, parent, node = lo[~leaf], hi[~leaf], parent[~leaf], node[~leaf]
        f, t = feature[node], threshold[node]
        rows = np.arange(len(node))
        # x_f <= t goes left; a side keeps the box only if it has positive width there
        to_left = lo[rows, f] < t
        to_right = hi[rows, f] > t
        left_hi = hi[to_left]
        left_hi[np.arange(len(left_hi)), f[to_left]] = np.minimum(
            left_hi[np.arange(len(left_hi)), f[to_left]], t[to_left])
        right_lo = lo[to_right]
        right_lo[np.arange(len(right_lo)), f[to_right]] = np.maximum(
            right_lo[np.arange(len(right_lo)), f[to_right]], t[to_right])
        lo = np.concatenate([lo[to_left], right_lo])
        hi = np.concatenate([left_hi, hi[to_right]])
        parent = np.concatenate([parent[to_left], parent[to_right]])
        node = np.concatenate([left[node[to_left]], right[node[to_right]]])
    return (np.concatenate(out_lo), np.concatenate(out_hi), np.concatenate(out_parent),
            np.concatenate(out_leaf))
