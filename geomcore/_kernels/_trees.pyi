import numpy as np
from numpy.typing import NDArray

def refine_by_tree(
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    feature: NDArray[np.int64],
    threshold: NDArray[np.float64],
    left: NDArray[np.int64],
    right: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]: ...
