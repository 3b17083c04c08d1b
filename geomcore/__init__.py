"""geomcore: exact geometry of the partitions machine-learning models induce on their input.

The foundation is the H-polytope kernel: :class:`Polytope` for one bounded polytope
``{x : A x <= b}`` and :func:`polytopes` for many in one call. :func:`partition` enumerates the
cells of a hyperplane :class:`Arrangement`, a :class:`ReLUNetwork` (linear regions), a
:class:`MaxAffine` model or a :class:`Voronoi` diagram in a :class:`Box` exactly, with their
walls and hinges.
"""

from geomcore.errors import (
    DegenerateInputError,
    GeomcoreError,
    InfeasibleError,
    InvalidInputError,
    PrecisionError,
    UnboundedError,
)
from geomcore import convert
from geomcore.partitions import (
    Arrangement,
    Box,
    Hinges,
    MaxAffine,
    Partition,
    Voronoi,
    Walls,
    partition,
)
from geomcore.networks import ReLUNetwork
from geomcore.polytope import Polytope, PolytopeBatch, polytopes

__version__ = "0.1.0"


def get_include():
    """Directory to put on Cython's include path to ``cimport geomcore._kernels...``.

    Examples
    --------
    In a ``setup.py`` that builds an extension on top of geomcore's kernels::

        cythonize(ext, include_path=[geomcore.get_include()])

    and in the ``.pyx``::

        from geomcore._kernels._polytope cimport PolytopeResult, polytope_compute, polytope_free
    """
    import os

    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = [
    "Polytope",
    "PolytopeBatch",
    "polytopes",
    "Box",
    "Arrangement",
    "MaxAffine",
    "Voronoi",
    "ReLUNetwork",
    "Partition",
    "Walls",
    "Hinges",
    "partition",
    "get_include",
    "convert",
    "GeomcoreError",
    "InvalidInputError",
    "DegenerateInputError",
    "InfeasibleError",
    "UnboundedError",
    "PrecisionError",
]
