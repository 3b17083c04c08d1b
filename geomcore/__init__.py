"""geomcore: exact geometry of the partitions machine-learning models induce on their input.

The foundation is the H-polytope kernel: :class:`Polytope` for one bounded polytope
``{x : A x <= b}`` and :func:`polytopes` for many in one call.
"""

from geomcore.errors import (
    DegenerateInputError,
    GeomcoreError,
    InfeasibleError,
    InvalidInputError,
    PrecisionError,
    UnboundedError,
)
from geomcore.polytope import Polytope, PolytopeBatch, polytopes

__version__ = "0.1.0"

__all__ = [
    "Polytope",
    "PolytopeBatch",
    "polytopes",
    "GeomcoreError",
    "InvalidInputError",
    "DegenerateInputError",
    "InfeasibleError",
    "UnboundedError",
    "PrecisionError",
]
