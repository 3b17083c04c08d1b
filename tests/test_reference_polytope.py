"""Quick checks of the brute-force exact reference for the H-polytope kernel."""

import math
from fractions import Fraction

import numpy as np
import pytest

from geomcore._reference.polytope import polytope_batch


def cube_rows(d=3):
    """Return ``A, b`` of the unit cube ``[0, 1]^d``."""
    eye = np.eye(d)
    return np.vstack([eye, -eye]), np.r_[np.ones(d), np.zeros(d)]


def single(A, b, **kwargs):
    """Run the reference on one polytope."""
    A = np.asarray(A, dtype=np.float64)
    return polytope_batch(A, np.asarray(b, dtype=np.float64), [0, len(A)], **kwargs)


def facets_per_vertex(result):
    """Return the number of facets on each vertex."""
    return np.diff(result["incidence_indptr"]).tolist()


def check_cube(result, number=Fraction):
    assert result["status"].tolist() == [0]
    assert result["vertices"].shape == (8, 3)
    assert result["facet_index"].tolist() == [0, 1, 2, 3, 4, 5]
    assert len(result["ridges"]) == 12
    assert result["exact_volume"] == [number(1, 1)]
    assert result["exact_vertices"][0][0] == (number(0, 1),) * 3
    assert result["exact_vertices"][0][-1] == (number(1, 1),) * 3
    np.testing.assert_array_equal(result["centroid"], [[0.5, 0.5, 0.5]])
    np.testing.assert_array_equal(result["facet_areas"], np.ones(6))
    np.testing.assert_array_equal(result["ridge_volumes"], np.ones(12))
    np.testing.assert_allclose(result["dihedral_angles"], np.full(12, math.pi / 2))
    assert facets_per_vertex(result) == [3] * 8


def test_unit_cube():
    result = single(*cube_rows())
    check_cube(result)
    # Vertices in lexicographic order; incidence lists local facet positions.
    assert result["vertices"][:3].tolist() == [[0, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert result["incidence_indices"][:3].tolist() == [3, 4, 5]
    np.testing.assert_array_equal(result["facet_normals"], np.vstack([np.eye(3), -np.eye(3)]))
    np.testing.assert_array_equal(result["facet_centroids"][0], [1.0, 0.5, 0.5])
    assert result["ridges"][:2].tolist() == [[0, 1], [0, 2]]
    assert result["vertex_offsets"].tolist() == [0, 8]
    assert result["ridge_offsets"].tolist() == [0, 12]


def test_unit_cube_with_gmpy2():
    gmpy2 = pytest.importorskip("gmpy2")
    result = single(*cube_rows(), number=gmpy2.mpq)
    check_cube(result, number=gmpy2.mpq)
    assert isinstance(result["exact_volume"][0], type(gmpy2.mpq(1, 2)))


def test_standard_simplex():
    A = np.vstack([-np.eye(3), np.ones(3)])
    result = single(A, [0, 0, 0, 1])
    assert result["status"].tolist() == [0]
    assert result["exact_volume"] == [Fraction(1, 6)]
    np.testing.assert_allclose(result["centroid"], [[0.25] * 3])
    np.testing.assert_allclose(result["facet_areas"], [0.5, 0.5, 0.5, math.sqrt(3) / 2])
    np.testing.assert_allclose(result["facet_centroids"][3], [1 / 3] * 3)
    assert len(result["ridges"]) == 6


def test_cross_polytope():
    A = np.array(list(np.ndindex(2, 2, 2)), dtype=float) * 2 - 1
    result = single(A, np.ones(8))
    assert result["status"].tolist() == [0]
    assert len(result["facet_index"]) == 8
    assert len(result["vertices"]) == 6
    assert facets_per_vertex(result) == [4] * 6
    assert result["exact_volume"] == [Fraction(8, 6)]
    assert len(result["ridges"]) == 12
    np.testing.assert_allclose(result["ridge_volumes"], np.full(12, math.sqrt(2)))
    np.testing.assert_allclose(result["dihedral_angles"], math.pi - math.acos(1 / 3))
    np.testing.assert_allclose(result["facet_areas"], np.full(8, math.sqrt(3) / 2))


def test_square_pyramid():
    # Base [-1, 1]^2 at z = 0, apex (0, 0, 1).
    A = [[0, 0, -1], [1, 0, 1], [-1, 0, 1], [0, 1, 1], [0, -1, 1]]
    result = single(A, [0, 1, 1, 1, 1])
    assert result["status"].tolist() == [0]
    assert len(result["vertices"]) == 5
    assert len(result["facet_index"]) == 5
    assert len(result["ridges"]) == 8
    apex = result["vertices"].tolist().index([0.0, 0.0, 1.0])
    assert sorted(facets_per_vertex(result)) == [3, 3, 3, 3, 4]
    assert facets_per_vertex(result)[apex] == 4
    assert result["exact_volume"] == [Fraction(4, 3)]
    np.testing.assert_allclose(result["centroid"], [[0, 0, 0.25]], atol=1e-15)
    np.testing.assert_allclose(result["facet_areas"][0], 4.0)


def test_interval_and_triangle():
    interval = single([[1.0], [-1.0]], [2.0, 1.0])
    assert interval["status"].tolist() == [0]
    assert interval["exact_volume"] == [Fraction(3)]
    assert interval["vertices"].ravel().tolist() == [-1.0, 2.0]
    assert interval["facet_areas"].tolist() == [1.0, 1.0]
    assert interval["facet_centroids"].ravel().tolist() == [2.0, -1.0]
    assert interval["ridges"].shape == (0, 2)

    triangle = single([[-1, 0], [0, -1], [1, 1]], [0, 0, 1])
    assert triangle["exact_volume"] == [Fraction(1, 2)]
    assert triangle["ridge_volumes"].tolist() == [1.0, 1.0, 1.0]
    angles = sorted(triangle["dihedral_angles"])
    np.testing.assert_allclose(angles, [math.pi / 4, math.pi / 4, math.pi / 2])


@pytest.mark.parametrize(
    "A, b, status",
    [
        ([[1.0], [-1.0]], [0.0, -1.0], 1),  # x <= 0 and x >= 1
        ([[1, 0], [0, 1]], [0, 0], 2),  # a pair of half-planes: a quadrant
        ([[1, 0], [-1, 0]], [1, 0], 4),  # a strip: rank 1 < d
        ([[1, 0], [-1, 0]], [0, -1], 1),  # rank deficient and empty: infeasible (issue 12)
        (np.zeros((0, 2)), np.zeros(0), 4),  # no rows at all
        ([[1, 0], [-1, 0], [0, 1], [0, -1]], [0, 0, 1, 0], 3),  # a segment
        ([[1, 0], [-1, 0], [0, 1], [0, -1]], [0, 0, 0, 0], 3),  # a point
    ],
)
def test_status_codes(A, b, status):
    result = single(A, b)
    assert result["status"].tolist() == [status]
    assert len(result["vertices"]) == 0
    assert len(result["facet_index"]) == 0
    assert np.isnan(result["volume"][0])
    assert np.isnan(result["centroid"]).all()
    assert result["exact_volume"] == [None]


def test_duplicated_redundant_and_zero_rows():
    A, b = cube_rows()
    extra_A = np.vstack([A, [0, 0, 0], [2, 0, 0], [1, 1, 1], A[:1]])
    extra_b = np.r_[b, 1, 2, 3, b[:1]]
    result = single(extra_A, extra_b)
    check_cube(result)  # copies, zero rows and a vertex-only plane add nothing

    # The lowest of two equivalent rows is the facet.
    result = single(np.vstack([[2, 0, 0], A]), np.r_[2, b])
    assert result["facet_index"].tolist() == [0, 2, 3, 4, 5, 6]

    result = single(np.vstack([A, [0, 0, 0]]), np.r_[b, -1])
    assert result["status"].tolist() == [1]


def test_batch_stacking():
    cube_A, cube_b = cube_rows()
    A = np.vstack([[[1, 0, 0], [0, 1, 0]], cube_A, cube_A / 2])
    b = np.r_[1, 1, cube_b, cube_b]
    result = polytope_batch(A, b, np.array([0, 2, 8, 8, 14]))
    assert result["status"].tolist() == [4, 0, 4, 0]
    assert result["vertex_offsets"].tolist() == [0, 0, 8, 8, 16]
    assert result["facet_offsets"].tolist() == [0, 0, 6, 6, 12]
    assert result["facet_index"].tolist() == list(range(2, 14))
    assert result["ridge_offsets"].tolist() == [0, 0, 12, 12, 24]
    assert result["exact_volume"] == [None, 1, None, 8]
    assert len(result["incidence_indptr"]) == 17
    assert result["incidence_indices"].max() == 5
    np.testing.assert_array_equal(result["centroid"][3], [1.0, 1.0, 1.0])
    assert [len(v) for v in result["exact_vertices"]] == [0, 8, 0, 8]


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        polytope_batch(np.eye(2), np.array([1.0, np.nan]), [0, 2])
    with pytest.raises(ValueError):
        polytope_batch(np.eye(2), np.ones(2), [0, 3])
