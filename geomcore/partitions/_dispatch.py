"""`partition`: the one entry point, dispatching a model to its source module."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from geomcore.errors import InvalidInputError

__all__ = ["partition", "register"]


@dataclass(frozen=True)
class _Source:
    """A registered partition source: ``matches(model)`` says whether it handles a model,
    ``adapt(model)`` turns the model into its source object (with ``ndim`` and
    ``labels_of(X)``), ``build(source, domain, *, regions, progress, max_cells)`` returns the
    :class:`Partition`; ``decision`` says whether ``regions="decision"`` applies."""

    name: str
    matches: Callable
    adapt: Callable
    build: Callable
    decision: bool = False


_SOURCES = []


def register(name, matches, adapt, build, *, decision=False):
    """Add a partition source; later registrations are tried first."""
    _SOURCES.insert(0, _Source(name, matches, adapt, build, decision))


def _source_of(model):
    for source in _SOURCES:
        if source.matches(model):
            return source
    raise InvalidInputError(
        f"model must be a geomcore.Arrangement, MaxAffine, Voronoi or ReLUNetwork, a torch "
        f"or scikit-learn network, a scikit-learn tree model, a KNeighbors (n_neighbors=1), "
        f"NearestCentroid or linear scikit-learn classifier, or a list of Polytope cells; "
        f"got {type(model).__name__}"
    )


def partition(model, domain=None, *, regions="linear", exact="auto", progress=False,
              max_cells=None):
    """Every cell of the partition a model induces on a bounded domain, exactly.

    Parameters
    ----------
    model : Arrangement, ReLUNetwork, MaxAffine, Voronoi, torch or scikit-learn model, or list
        The partition source: a torch ``nn.Sequential`` or a fitted scikit-learn MLP is read
        through :meth:`ReLUNetwork.from_torch` / :meth:`ReLUNetwork.from_sklearn`; a fitted
        scikit-learn decision tree, extra tree, random forest, extra trees or gradient
        boosting model gives the common refinement of its leaves (labels: int (n_cells,
        n_trees) leaf ids as ``apply`` gives them, gradient boosting's trees stage-major); a
        list of :class:`Polytope` is checked to partition the domain (labels: list index).
    domain : Box or Polytope
        Required: these models define none. Trees need a Box.
    regions : {"linear", "decision"}
        "decision" (networks only) cuts every linear region by the argmax of the outputs (a
        single output is a binary logit: class 1 where it is positive) and sets
        ``Partition.classes``.
    exact : "auto" or bool
        Combinatorics are always exact; measures are floating point ("auto", False). True
        also computes every cell in rational arithmetic (brute force over the cells' facets,
        for small partitions): ``Partition.exact_volumes`` holds the volumes as
        ``fractions.Fraction`` (they sum to the domain's volume exactly), and ``volumes``,
        ``centroids`` and ``cell(i)`` are the correctly rounded rationals. Wall areas and
        angles stay floating point.
    progress : bool
        Print one line per hyperplane (arrangements), hidden layer (networks) or tree to
        stderr.
    max_cells : int, optional
        Stop with an error once the partition would exceed this many cells. Independently,
        :class:`~geomcore.TooLargeError` stops an enumeration whose cells would not fit in
        the available memory.

    Returns
    -------
    Partition

    Notes
    -----
    Hyperplane j splits the cells whose vertices it does not clearly avoid (a float test with a
    wide margin); each such cell is recomputed as its two sides by one batch call of the exact
    polytope kernel, keeping only sides with interior and only their facet rows. Cost: one
    kernel evaluation per (cut cell, side) pair. Memory before an enumeration is bounded by
    Zaslavsky's count ``sum_{i<=d} C(m, i)``, which ``max_cells`` errors quote.

    Examples
    --------
    >>> part = partition(Arrangement([[1, 0], [0, 1]], [0.3, 0.6]), Box([0, 0], [1, 1]))
    >>> part.volumes.round(12).tolist()
    [0.18, 0.42, 0.12, 0.28]
    >>> part.walls.cells.tolist(), part.walls.areas.round(12).tolist()
    ([[0, 1], [0, 2], [1, 3], [2, 3]], [0.6, 0.3, 0.7, 0.4])

    Cells that do not meet face to face (a T-junction), given as a list:

    >>> import numpy as np
    >>> box = lambda lo, hi: Polytope(np.vstack([np.eye(2), -np.eye(2)]), np.r_[hi, -np.r_[lo]])
    >>> part = partition([box([0, 0], [0.5, 1]), box([0.5, 0], [1, 0.25]),
    ...                   box([0.5, 0.25], [1, 1])], Box([0, 0], [1, 1]))
    >>> part.walls.cells.tolist(), part.walls.areas.tolist()
    ([[0, 1], [0, 2], [1, 2]], [0.25, 0.75, 0.5])
    >>> (part.hinges.angles / np.pi).tolist()     # the whole box has a straight angle
    [1.0, 0.5, 0.5]
    """
    if regions not in ("linear", "decision"):
        raise InvalidInputError(f'regions must be "linear" or "decision"; got {regions!r}')
    if exact not in ("auto", True, False):
        raise InvalidInputError(f'exact must be "auto", True or False; got {exact!r}')
    if max_cells is not None and (not isinstance(max_cells, (int, np.integer)) or max_cells < 1):
        raise InvalidInputError(f"max_cells must be a positive int; got {max_cells!r}")
    source = _source_of(model)
    if regions == "decision" and not source.decision:
        raise InvalidInputError(
            f'regions="decision" needs a network; a {type(model).__name__} has no outputs to cut by')
    if domain is None:
        raise InvalidInputError(
            f"domain is required: a {type(model).__name__} defines no domain (pass a Box)")
    part = source.build(source.adapt(model), domain, regions=regions, progress=progress,
                        max_cells=max_cells)
    if exact is True:
        part._measure_exactly()
    return part


