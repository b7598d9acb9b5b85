"""Input checks shared by the analysis modules (NumPy only).

Every check raises :class:`~latentexplorer.errors.InvalidInputError` with a message that names
the argument and what was expected, so that the CLI and the GUI can show it as is.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from ..errors import InvalidInputError

#: rows per chunk for the streaming passes (8192 x 256 float64 = 16 MiB temporary)
DEFAULT_CHUNK_ROWS = 8192


def as_float_array(x, name: str) -> np.ndarray:
    """``np.asarray(x, dtype=float64)`` with an :class:`InvalidInputError` for non-numbers."""
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}: expected numbers, got {type(x).__name__} "
                                f"{getattr(np.asarray(x, dtype=object), 'shape', '')}") from None


def check_matrix(z, name: str = "z", *, min_rows: int = 1, check_finite: bool = True,
                 chunk_size: int = DEFAULT_CHUNK_ROWS) -> np.ndarray:
    """Return ``z`` as a 2-D floating array without copying when possible.

    Memmaps and float32 arrays are kept as they are (no float64 copy of the data); integer
    input is converted to float64. The finiteness check runs over row chunks so that it
    needs only a chunk-sized temporary.
    """
    if isinstance(z, (list, tuple)):
        z = as_float_array(z, name)
    if not isinstance(z, np.ndarray):
        raise InvalidInputError(f"{name}: expected a NumPy array, got {type(z).__name__}")
    if z.ndim != 2:
        raise InvalidInputError(
            f"{name}: expected a 2-D array (n_points, z_dim), got shape {z.shape}")
    if z.shape[1] < 1:
        raise InvalidInputError(f"{name}: has no components (shape {z.shape})")
    if z.shape[0] < min_rows:
        what = "is empty" if z.shape[0] == 0 else f"has only {z.shape[0]} row(s)"
        raise InvalidInputError(f"{name}: {what}; at least {min_rows} point(s) are needed")
    if not np.issubdtype(z.dtype, np.floating):
        if np.issubdtype(z.dtype, np.number) or z.dtype == np.bool_:
            z = z.astype(np.float64)
        else:
            raise InvalidInputError(f"{name}: expected numbers, got dtype {z.dtype}")
    if check_finite:
        for start, block in iter_chunks(z, chunk_size):
            if not np.isfinite(block).all():
                bad = np.argwhere(~np.isfinite(block))[0]
                raise InvalidInputError(
                    f"{name}: contains NaN or infinite values (first at row {start + bad[0]}, "
                    f"component {bad[1]})")
    return z


def check_vector(v, name: str, *, length: int | None = None, check_finite: bool = True
                 ) -> np.ndarray:
    """Return ``v`` as a 1-D float64 array, optionally of a given length."""
    v = as_float_array(v, name)
    if v.ndim != 1:
        raise InvalidInputError(f"{name}: expected a 1-D array, got shape {v.shape}")
    if length is not None and v.shape[0] != length:
        raise InvalidInputError(f"{name}: expected {length} values, got {v.shape[0]}")
    if check_finite and not np.isfinite(v).all():
        raise InvalidInputError(f"{name}: contains NaN or infinite values")
    return v


def check_positive(value, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}: expected a number, got {value!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise InvalidInputError(f"{name}: expected a finite number > 0, got {value}")
    return value


def check_nonnegative(value, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}: expected a number, got {value!r}") from None
    if not np.isfinite(value) or value < 0:
        raise InvalidInputError(f"{name}: expected a finite number >= 0, got {value}")
    return value


def check_chunk_size(chunk_size) -> int:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) \
            or chunk_size < 1:
        raise InvalidInputError(f"chunk_size: expected an integer >= 1, got {chunk_size!r}")
    return int(chunk_size)


def iter_chunks(z: np.ndarray, chunk_size: int = DEFAULT_CHUNK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start_row, z[start:start + chunk_size])`` views."""
    n = z.shape[0]
    for start in range(0, n, chunk_size):
        yield start, z[start:start + chunk_size]
