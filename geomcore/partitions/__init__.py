"""Partitions of a bounded domain into convex cells (SPEC 2 and 4).

One module per idea:

* ``_model``: the data model, :class:`Box`, :class:`Partition`, :class:`Walls`, :class:`Hinges`;
* ``_complex``: the cell complex that networks and arrangements are split on, exactly;
* one module per source, each registering itself with ``_dispatch``: ``arrangement``
  (hyperplanes), ``network`` (ReLU networks), ``maxaffine`` (max-affine models, Voronoi
  diagrams), ``sklearn_linear`` (scikit-learn 1-NN, nearest-centroid and linear classifiers, as
  Voronoi or max-affine models), ``trees`` (scikit-learn trees and ensembles), ``cells`` (lists of user cells);
* ``_dispatch``: :func:`partition`, which recognises the model and calls its source.

A source is a model object with ``ndim`` and ``labels_of(X)`` (the labels a cell containing each
point carries, for :meth:`Partition.locate`), and a build function registered with
:func:`_dispatch.register`.
"""

from geomcore.partitions._dispatch import partition
from geomcore.partitions._model import Box, Hinges, Partition, Walls
from geomcore.partitions.arrangement import Arrangement
from geomcore.partitions.maxaffine import MaxAffine, Voronoi

__all__ = [
           "Arrangement",
           "Box",
           "Hinges",
           "MaxAffine",
           "Partition",
           "Voronoi",
           "Walls",
           "partition",
]

# the remaining sources register themselves on import
from geomcore.partitions import cells as _cells  # noqa: F401
from geomcore.partitions import network as _network  # noqa: F401
from geomcore.partitions import trees as _trees  # noqa: F401
