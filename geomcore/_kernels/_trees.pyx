# cython: language_level=3
"""Kernel: push boxes down an axis-aligned decision tree (the cells of tree partitions).

Every box is descended depth first; a box that straddles a node's threshold is cut there and
both halves go on. Comparisons of doubles only, so the result is exact. Two passes over the
boxes, both without the GIL: one counts the leaf boxes, one writes them.
"""

import numpy as np

from geomcore._kernels._types cimport float64_t, index_t

__all__ = ["refine_by_tree"]


cdef index_t _descend(index_t node, float64_t* lo, float64_t* hi, Py_ssize_t d,
                      const index_t* feature, const float64_t* threshold,
                      const index_t* left, const index_t* right,
                      index_t parent, index_t count, bint write,
                      float64_t* out_lo, float64_t* out_hi, index_t* out_parent,
                      index_t* out_leaf) noexcept nogil:
    """Leaf boxes under `node` for the box lo/hi (restored on return); returns the new count."""
    cdef index_t f
    cdef float64_t t, saved
    cdef Py_ssize_t k
    while left[node] >= 0:
        f = feature[node]
        t = threshold[node]
        if hi[f] <= t:                  # x_f <= t goes left
            node = left[node]
        elif lo[f] >= t:
            node = right[node]
        else:                           # straddles: both halves, each with positive width
            saved = hi[f]
            hi[f] = t
            count = _descend(left[node], lo, hi, d, feature, threshold, left, right, parent,
                             count, write, out_lo, out_hi, out_parent, out_leaf)
            hi[f] = saved
            saved = lo[f]
            lo[f] = t
            count = _descend(right[node], lo, hi, d, feature, threshold, left, right, parent,
                             count, write, out_lo, out_hi, out_parent, out_leaf)
            lo[f] = saved
            return count
    if write:
        for k in range(d):
            out_lo[count * d + k] = lo[k]
            out_hi[count * d + k] = hi[k]
        out_parent[count] = parent
        out_leaf[count] = node
    return count + 1


cdef index_t _leaf_boxes(const float64_t[:, ::1] lo, const float64_t[:, ::1] hi,
                        float64_t* box_lo, float64_t* box_hi,
                        const index_t* feature, const float64_t* threshold,
                        const index_t* left, const index_t* right, bint write,
                        float64_t* out_lo, float64_t* out_hi, index_t* out_parent,
                        index_t* out_leaf) noexcept nogil:
    """Descend every input box (copied into the scratch box_lo/box_hi); returns the count of
    leaf boxes, written to the outputs when `write`."""
    cdef Py_ssize_t n = lo.shape[0], d = lo.shape[1], i, k
    cdef index_t count = 0
    for i in range(n):
        for k in range(d):
            box_lo[k] = lo[i, k]
            box_hi[k] = hi[i, k]
        count = _descend(0, box_lo, box_hi, d, feature, threshold, left, right, i, count,
                         write, out_lo, out_hi, out_parent, out_leaf)
    return count


def refine_by_tree(const float64_t[:, ::1] lo, const float64_t[:, ::1] hi,
                   const index_t[::1] feature, const float64_t[::1] threshold,
                   const index_t[::1] left, const index_t[::1] right):
    """Leaf boxes of every input box: (lo, hi (m, d), parent (m,), leaf node id (m,)).

    Leaves have ``left == -1``; a point goes left when ``x[feature] <= threshold``.
    """
    cdef Py_ssize_t d = lo.shape[1]
    cdef index_t count
    cdef float64_t[::1] box_lo = np.empty(d), box_hi = np.empty(d)
    with nogil:                         # pass 1: count
        count = _leaf_boxes(lo, hi, &box_lo[0], &box_hi[0], &feature[0], &threshold[0],
                            &left[0], &right[0], False, NULL, NULL, NULL, NULL)
    out_lo_arr = np.empty((count, d))
    out_hi_arr = np.empty((count, d))
    out_parent_arr = np.empty(count, dtype=np.int64)
    out_leaf_arr = np.empty(count, dtype=np.int64)
    if count == 0:
        return out_lo_arr, out_hi_arr, out_parent_arr, out_leaf_arr
    cdef float64_t[:, ::1] out_lo = out_lo_arr, out_hi = out_hi_arr
    cdef index_t[::1] out_parent = out_parent_arr, out_leaf = out_leaf_arr
    with nogil:                         # pass 2: write
        _leaf_boxes(lo, hi, &box_lo[0], &box_hi[0], &feature[0], &threshold[0], &left[0],
                    &right[0], True, &out_lo[0, 0], &out_hi[0, 0], &out_parent[0],
                    &out_leaf[0])
    return out_lo_arr, out_hi_arr, out_parent_arr, out_leaf_arr
