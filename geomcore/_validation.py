"""Input checks shared by the public API: one place that turns user input into the
C-contiguous float64 / int64 arrays the kernels expect, or raises an error that names the
argument, what was expected and what was received."""

import numpy as np

from geomcore.errors import DegenerateInputError, InvalidInputError

__all__ = ["as_float_matrix", "as_float_vector", "as_offsets", "as_halfspaces", "scaled_rows"]


def _describe(x):
    arr = np.asarray(x) if not isinstance(x, np.ndarray) else x
    return f"array of shape {arr.shape} and dtype {arr.dtype}"


def _as_float(x, name):
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise InvalidInputError(f"{name} must be an array of real numbers; got {type(x).__name__}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InvalidInputError(f"{name} must hold real numbers; got {_describe(arr)}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise InvalidInputError(f"{name} must be real; got {_describe(arr)}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _check_finite(arr, name):
    bad = ~np.isfinite(arr)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DegenerateInputError(
            f"{name} must be finite; got {arr[where]} at index {where if len(where) > 1 else where[0]}"
        )


def as_float_matrix(x, name, *, ncols=None):
    """Return x as a finite C-contiguous float64 array of shape (n, ncols)."""
    arr = _as_float(x, name)
    if arr.ndim != 2:
        raise InvalidInputError(f"{name} must be 2-D, shape (n, ndim); got {_describe(arr)}")
    if ncols is not None and arr.shape[1] != ncols:
        raise InvalidInputError(f"{name} must have {ncols} columns; got {_describe(arr)}")
    _check_finite(arr, name)
    return arr


def as_float_vector(x, name, *, size=None):
    """Return x as a finite C-contiguous float64 array of shape (size,)."""
    arr = _as_float(x, name)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D; got {_describe(arr)}")
    if size is not None and arr.shape[0] != size:
        raise InvalidInputError(f"{name} must have length {size}; got {_describe(arr)}")
    _check_finite(arr, name)
    return arr


def as_halfspaces(A, b, *, allow_empty=False):
    """Return (A, b) of A x <= b as float64 (m, ndim) and (m,), checked; with allow_empty,
    m = 0 is accepted (an arrangement of no hyperplanes)."""
    A = as_float_matrix(A, "A")
    if (A.shape[0] == 0 and not allow_empty) or A.shape[1] == 0:
        raise InvalidInputError(f"A must have at least one row and one column; got shape {A.shape}")
    b = as_float_vector(b, "b", size=A.shape[0])
    return A, b


def as_offsets(offsets, n_rows):
    """Return CSR row offsets as int64 (n + 1,), from 0 to n_rows, non-decreasing."""
    arr = np.asarray(offsets)
    if arr.ndim != 1 or arr.size < 1 or not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInputError(f"offsets must be a 1-D integer array of length n + 1; got {_describe(arr)}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr[0] != 0 or arr[-1] != n_rows:
        raise InvalidInputError(
            f"offsets must start at 0 and end at the number of rows of A ({n_rows}); "
            f"got {arr[0]} ... {arr[-1]}"
        )
    if np.any(np.diff(arr) < 0):
        i = int(np.argmax(np.diff(arr) < 0))
        raise InvalidInputError(f"offsets must be non-decreasing; got {arr[i]} then {arr[i + 1]} at {i}")
    return arr


def scaled_rows(A, b):
    """Scale each row of [A | b] by a power of two so its largest entry is in [0.5, 1).

    Powers of two are exact in binary floating point, so each halfspace is unchanged, and
    the kernel never meets overflowing norms. A row whose smallest non-zero entry would
    lose bits (become subnormal) is left as it is.
    """
    Ab = np.column_stack([A, b])
    big = np.abs(Ab).max(axis=1)
    _, e_big = np.frexp(big)
    tiny = np.where(Ab != 0, np.abs(Ab), np.inf).min(axis=1)
    _, e_tiny = np.frexp(np.where(np.isfinite(tiny), tiny, 1.0))
    shift = np.where((big > 0) & (e_tiny - e_big > -1000), -e_big, 0)
    Ab = np.ldexp(Ab, shift[:, None])
    return np.ascontiguousarray(Ab[:, :-1]), np.ascontiguousarray(Ab[:, -1])
