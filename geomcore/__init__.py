"""geomcore: exact geometry of the partitions machine-learning models induce on their input.

The foundation is the H-polytope kernel: :class:`Polytope` for one bounded polytope
``{x : A x <= b}`` and :func:`polytopes` for many in one call. :func:`partition` enumerates the
cells of a hyperplane :class:`Arrangement`, a :class:`ReLUNetwork` (linear or decision regions),
a scikit-learn tree or tree ensemble, a :class:`MaxAffine` model, a :class:`Voronoi` diagram or
a list of user cells in a :class:`Box` exactly, with their walls and hinges. :func:`nerve` and
:class:`RiemannianComplex` turn a partition into a weighted simplicial complex, and
:func:`hodge_laplacian` and its relatives build the operators on it; :func:`spline` and
:func:`refine` smooth a model's per-cell values over it, and :func:`ollivier_ricci`,
:func:`forman_ricci` and :func:`vertex_curvature` measure how data curves it. For networks in
any input dimension, :func:`data_cells` works on the cells that contain data (locally or on a
Dask cluster), :func:`pullback` and :func:`layer_profile` follow the geometry through the layers,
and :mod:`geomcore.regularizers` (with ``geomcore.torch.GeometricPenalty``) turns it into
training penalties with exact gradients. :mod:`geomcore.export` writes partitions to networkx and
``.npz``; ``geomcore report`` makes the whole analysis a page of figures.
"""

from geomcore import convert, export, regularizers
from geomcore.complexes import SimplicialComplex, adjacency_complex, nerve
from geomcore.curvature import (
    angle_defects,
    forman_ricci,
    ollivier_ricci,
    vertex_curvature,
)
from geomcore.datacells import DataCells, data_cells
from geomcore.errors import (
    DegenerateInputError,
    GeomcoreError,
    InfeasibleError,
    InvalidInputError,
    PrecisionError,
    TooLargeError,
    UnboundedError,
)
from geomcore.export import load_npz, save_npz, to_networkx
from geomcore.laplacians import (
    dirac_operator,
    dirichlet_energy,
    extended_laplacian,
    hodge_laplacian,
    smallest_eigenpairs,
)
from geomcore.networks import ReLUNetwork
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
from geomcore.polytope import Polytope, PolytopeBatch, polytopes
from geomcore.pullback import LayerMap, LayerProfile, layer_profile, pullback
from geomcore.regularizers import Penalty
from geomcore.riemannian import RiemannianComplex
from geomcore.splines import RefinedModel, refine, spline, spline_stiffness

__version__ = "0.1.0"


def __getattr__(name):
    # the scikit-learn estimator is built on first use, so importing geomcore does not import
    # scikit-learn (and it stays out of __all__: a star import must work without it)
    if name == "GeometricSplineRegressor":
        from geomcore import splines

        return splines.GeometricSplineRegressor
    raise AttributeError(f"module 'geomcore' has no attribute {name!r}")


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
    "Arrangement",
    "Box",
    "DataCells",
    "DegenerateInputError",
    "GeomcoreError",
    "Hinges",
    "InfeasibleError",
    "InvalidInputError",
    "LayerMap",
    "LayerProfile",
    "MaxAffine",
    "Partition",
    "Penalty",
    "Polytope",
    "PolytopeBatch",
    "PrecisionError",
    "ReLUNetwork",
    "RefinedModel",
    "RiemannianComplex",
    "SimplicialComplex",
    "TooLargeError",
    "UnboundedError",
    "Voronoi",
    "Walls",
    "adjacency_complex",
    "angle_defects",
    "convert",
    "data_cells",
    "dirac_operator",
    "dirichlet_energy",
    "export",
    "extended_laplacian",
    "forman_ricci",
    "get_include",
    "hodge_laplacian",
    "layer_profile",
    "load_npz",
    "nerve",
    "ollivier_ricci",
    "partition",
    "polytopes",
    "pullback",
    "refine",
    "regularizers",
    "save_npz",
    "smallest_eigenpairs",
    "spline",
    "spline_stiffness",
    "to_networkx",
    "vertex_curvature",
]
