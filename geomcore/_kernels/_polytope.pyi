from typing import Any

import numpy as np
from numpy.typing import NDArray

def polytope_batch(
    A: NDArray[np.float64], b: NDArray[np.float64], offsets: NDArray[np.int64], *, measures: bool = ...
) -> dict[str, NDArray[Any]]: ...
def polytope_measures(
    vertices: NDArray[np.float64],
    vertex_offsets: NDArray[np.int64],
    incidence_indptr: NDArray[np.int64],
    incidence_indices: NDArray[np.int64],
    normals: NDArray[np.float64],
    offsets: NDArray[np.float64],
    facet_offsets: NDArray[np.int64],
) -> dict[str, NDArray[Any]]: ...
def type_sizes() -> dict[str, int]: ...
