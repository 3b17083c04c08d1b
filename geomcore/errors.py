"""Exceptions raised by geomcore.

Every error subclasses :class:`GeomcoreError`; the input errors also subclass
:class:`ValueError` so that ``except ValueError`` keeps working for callers that
do not know geomcore.
"""

__all__ = [
    "GeomcoreError",
    "InvalidInputError",
    "DegenerateInputError",
    "InfeasibleError",
    "UnboundedError",
    "PrecisionError",
    "TooLargeError",
]


class GeomcoreError(Exception):
    """Base class of every geomcore error."""


class InvalidInputError(GeomcoreError, ValueError):
    """Input of the wrong shape, dtype or structure."""


class DegenerateInputError(GeomcoreError, ValueError):
    """Input that is well formed but degenerate: NaN, no interior, wrong rank."""


class InfeasibleError(GeomcoreError, ValueError):
    """The halfspaces have no common point."""


class UnboundedError(GeomcoreError, ValueError):
    """The halfspaces do not bound a finite region."""


class PrecisionError(GeomcoreError, ArithmeticError):
    """An exact decision needed more precision than geomcore carries."""


class TooLargeError(GeomcoreError, MemoryError):
    """A computation that would not fit in the memory available (the message gives the size)."""
