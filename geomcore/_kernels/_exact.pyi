import numpy as np
from numpy.typing import NDArray

def det_sign(M: NDArray[np.float64]) -> int: ...
