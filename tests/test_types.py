import numpy as np

from geomcore._kernels._polytope import type_sizes


def test_types_match_numpy_dtypes():
    sizes = type_sizes()
    assert sizes["float64_t"] == np.dtype(np.float64).itemsize
    assert sizes["index_t"] == np.dtype(np.int64).itemsize
    assert sizes["word_t"] == np.dtype(np.uint64).itemsize
