"""The examples in the docstrings run and print what they say."""

import doctest

import pytest

import geomcore
import geomcore._kernels._exact
import geomcore.convert
import geomcore.networks
import geomcore.partitions._dispatch
import geomcore.partitions._model
import geomcore.partitions.arrangement
import geomcore.partitions.maxaffine
import geomcore.partitions.sklearn_linear
import geomcore.polytope


@pytest.mark.parametrize("module", [geomcore.polytope, geomcore.convert, geomcore.partitions._dispatch,
                                    geomcore.partitions._model, geomcore.partitions.arrangement,
                                    geomcore.partitions.maxaffine, geomcore.partitions.sklearn_linear,
                                    geomcore.networks,
                                    geomcore._kernels._exact])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE,
                             extraglobs=vars(geomcore))
    assert result.attempted > 0 and result.failed == 0


def test_convert_round_trips():
    import numpy as np

    A, b = np.array([[1.0, 2.0], [-3.0, 0.5]]), np.array([1.0, -2.0])
    A2, b2 = geomcore.convert.from_scipy_halfspaces(geomcore.convert.to_scipy_halfspaces(A, b))
    assert (A2 == A).all() and (b2 == b).all()
    A3, b3 = geomcore.convert.from_cdd_matrix(geomcore.convert.to_cdd_matrix(A, b))
    assert (A3 == A).all() and (b3 == b).all()
