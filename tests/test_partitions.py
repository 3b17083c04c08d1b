"""Partitions of arrangements: SPEC worked examples, counts from theory, a brute-force oracle,
conservation invariants, degenerate arrangements and errors."""

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import linprog

from geomcore import DegenerateInputError, InvalidInputError, Polytope
from geomcore.partitions import Arrangement, Box, MaxAffine, Voronoi, partition


def check_invariants(part, domain_volume):
    """Volumes fill the domain; each cell's facets are its walls plus its boundary."""
    assert part.volumes.sum() == pytest.approx(domain_volume, rel=1e-12)
    assert (part.volumes > 0).all()
    facet_area = np.array([part.cell(i).facet_areas.sum() for i in range(part.n_cells)])
    wall_area = np.bincount(part.walls.cells.ravel(), weights=np.repeat(part.walls.areas, 2),
                            minlength=part.n_cells)
    np.testing.assert_allclose(facet_area, wall_area + part.boundary_areas, rtol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(part.walls.normals, axis=1), 1.0, rtol=1e-12)
    assert (part.walls.cells[:, 0] < part.walls.cells[:, 1]).all()
    # the wall normal points from the first cell's centroid side into the second's
    towards = part.centroids[part.walls.cells[:, 1]] - part.centroids[part.walls.cells[:, 0]]
    assert (np.einsum("ij,ij->i", towards, part.walls.normals) > 0).all()


@pytest.mark.parametrize("a, b, volumes, walls", [
    (0.5, 0.5, [0.25] * 4, [0.5] * 4),
    (0.3, 0.6, [0.18, 0.42, 0.12, 0.28], [0.6, 0.3, 0.7, 0.4]),
])
def test_partition_spec_test_vectors(a, b, volumes, walls):
    part = partition(Arrangement([[1, 0], [0, 1]], [a, b]), Box([0, 0], [1, 1]))
    assert part.labels.astype(int).tolist() == [[0, 0], [1, 0], [0, 1], [1, 1]]
    np.testing.assert_allclose(part.volumes, volumes, rtol=1e-14)
    assert part.walls.cells.tolist() == [[0, 1], [0, 2], [1, 3], [2, 3]]
    np.testing.assert_allclose(part.walls.areas, walls, rtol=1e-14)
    check_invariants(part, 1.0)


def generic_hyperplanes(rng, n, d):
    """n hyperplanes through random points of the unit ball with random normals."""
    A = rng.normal(size=(n, d))
    points = rng.uniform(-0.5, 0.5, size=(n, d))
    return A, np.einsum("ij,ij->i", A, points)


@pytest.mark.parametrize("d, n", [(2, 12), (3, 9), (4, 6)])
def test_partition_zaslavsky_count(d, n):
    rng = np.random.default_rng(d)
    A, b = generic_hyperplanes(rng, n, d)
    # a domain big enough to hold every vertex of the arrangement
    part = partition(Arrangement(A, b), Box(np.full(d, -1e4), np.full(d, 1e4)))
    assert part.n_cells == sum(math.comb(n, i) for i in range(d + 1))
    check_invariants(part, 2e4**d)


@pytest.mark.parametrize("n", [2, 3, 7])
def test_partition_lines_through_one_point(n):
    # integer normals and a dyadic point: the offsets are exact, so the lines meet in one point
    A = np.array([[1, 0], [0, 1], [1, 1], [1, -1], [1, 2], [2, 1], [1, -2]], float)[:n]
    point = np.array([0.25, 0.5])
    part = partition(Arrangement(A, A @ point), Box([-1, -1], [1, 1]))
    assert part.n_cells == 2 * n
    check_invariants(part, 4.0)


def test_partition_nearly_concurrent_lines_are_exact():
    # unit normals at 0, 60 and 120 degrees through (0.25, 0.5): the offsets round, the lines
    # miss each other by ~1e-17 and leave a tiny triangle, which an exact partition must keep
    angles = np.pi * np.arange(3) / 3
    A = np.column_stack([np.cos(angles), np.sin(angles)])
    part = partition(Arrangement(A, A @ np.array([0.25, 0.5])), Box([-1, -1], [1, 1]))
    assert part.n_cells == 7
    assert part.volumes.min() < 1e-30
    assert part.volumes.sum() == pytest.approx(4.0, rel=1e-14)


def brute_force_labels(A, b, lo, hi):
    """Sign vectors of the full-dimensional cells: maximise the slack t of every strict sign
    by LP (an independent oracle)."""
    m, d = A.shape
    found = []
    for signs in itertools.product([False, True], repeat=m):
        s = np.where(signs, -1.0, 1.0)           # True: a.x > b, i.e. -a.x + t <= -b
        rows = np.vstack([s[:, None] * A, np.eye(d), -np.eye(d)])
        rhs = np.r_[s * b, hi, -lo]
        res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.column_stack([rows, np.ones(len(rhs))]),
                      b_ub=rhs, bounds=[(None, None)] * d + [(None, 1.0)], method="highs")
        if res.status == 0 and -res.fun > 1e-9:
            found.append(signs)
    return sorted(found)


@pytest.mark.parametrize("d, m", [(2, 6), (3, 5), (4, 4)])
def test_partition_matches_brute_force(d, m):
    rng = np.random.default_rng(10 + d)
    A, b = generic_hyperplanes(rng, m, d)
    lo, hi = np.full(d, -0.7), np.full(d, 0.7)
    part = partition(Arrangement(A, b), Box(lo, hi))
    assert sorted(map(tuple, part.labels.tolist())) == brute_force_labels(A, b, lo, hi)
    check_invariants(part, 1.4**d)


def test_partition_locate_agrees_with_signs(rng):
    A, b = generic_hyperplanes(rng, 8, 3)
    arr = Arrangement(A, b)
    part = partition(arr, Box([-1, -1, -1], [1, 1, 1]))
    X = rng.uniform(-1, 1, size=(500, 3))
    cells = part.locate(X)
    assert (cells >= 0).all()
    np.testing.assert_array_equal(part.labels[cells], arr.signs(X))
    for i in np.unique(cells)[:10]:
        assert part.cell(i).contains(X[cells == i]).all()
    assert part.locate([[2.0, 0, 0]]).tolist() == [-1]


def test_partition_degenerate_arrangements():
    box = Box([0, 0], [1, 1])
    base = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.5]), box)
    # a duplicated line, the same line reversed and a line missing the domain add no cell
    A = [[1, 0], [0, 1], [2, 0], [-1, 0], [1, 1]]
    part = partition(Arrangement(A, [0.5, 0.5, 1.0, -0.5, 5.0]), box)
    assert part.n_cells == 4
    np.testing.assert_allclose(part.volumes, base.volumes)
    assert (part.labels[:, 2] == part.labels[:, 0]).all()
    assert (part.labels[:, 3] == ~part.labels[:, 0]).all()
    assert not part.labels[:, 4].any()
    np.testing.assert_allclose(part.walls.areas, base.walls.areas)
    check_invariants(part, 1.0)
    # a line through a domain vertex, and parallel lines
    part = partition(Arrangement([[1, 1], [1, 0], [1, 0]], [1.0, 0.25, 0.75]), box)
    assert part.n_cells == 6
    check_invariants(part, 1.0)


def test_partition_thin_and_scaled_cells():
    # two lines 1e-10 apart: a cell thinner than 1e-9 survives and the invariants hold
    part = partition(Arrangement([[1, 0], [1, 0], [0, 1]], [0.5, 0.5 + 1e-10, 0.5]),
                     Box([0, 0], [1, 1]))
    assert part.n_cells == 6
    assert part.volumes.min() == pytest.approx(0.5e-10, rel=1e-5)
    check_invariants(part, 1.0)
    big = partition(Arrangement([[1, 0], [1, 1]], [0.3e6, 1.1e6]), Box([0, 0], [1e6, 1e6]))
    small = partition(Arrangement([[1, 0], [1, 1]], [0.3, 1.1]), Box([0, 0], [1, 1]))
    np.testing.assert_allclose(big.volumes, small.volumes * 1e12, rtol=1e-12)


def test_partition_polytope_domain():
    triangle = Polytope([[-1, 0], [0, -1], [1, 1]], [0, 0, 1])
    part = partition(Arrangement([[1, 0]], [0.5]), triangle)
    assert part.n_cells == 2
    check_invariants(part, 0.5)


def test_partition_progress_and_limits(capsys):
    rng = np.random.default_rng(0)
    A, b = generic_hyperplanes(rng, 10, 2)
    partition(Arrangement(A, b), Box([-1, -1], [1, 1]), progress=True)
    assert "hyperplane 10/10" in capsys.readouterr().err
    with pytest.raises(DegenerateInputError, match=r"exceeds max_cells=5 .* up to 56 in all"):
        partition(Arrangement(A, b), Box([-1, -1], [1, 1]), max_cells=5)


def test_partition_errors():
    arr = Arrangement([[1, 0]], [0.5])
    with pytest.raises(DegenerateInputError, match=r"A\[1\] is zero"):
        Arrangement([[1, 0], [0, 0]], [0.5, 1])
    with pytest.raises(DegenerateInputError, match="must be finite"):
        Arrangement([[1, np.nan]], [0.5])
    with pytest.raises(InvalidInputError, match="domain is required"):
        partition(arr)
    with pytest.raises(InvalidInputError, match="domain must have ndim=2"):
        partition(arr, Box([0, 0, 0], [1, 1, 1]))
    with pytest.raises(DegenerateInputError, match=r"lo\[1\]=1.0 >= hi\[1\]=1.0"):
        Box([0, 1], [1, 1])
    with pytest.raises(InvalidInputError, match="model must be a geomcore.Arrangement"):
        partition(np.eye(2), Box([0, 0], [1, 1]))
    with pytest.raises(InvalidInputError, match=r"cells\[0\] must be a geomcore.Polytope"):
        partition([np.eye(2)], Box([0, 0], [1, 1]))
    with pytest.raises(InvalidInputError, match="max_cells must be a positive int"):
        partition(arr, Box([0, 0], [1, 1]), max_cells=0)


def test_partition_matches_shapely_polygonize():
    shapely = pytest.importorskip("shapely")
    from shapely.geometry import LineString

    rng = np.random.default_rng(5)
    A, b = generic_hyperplanes(rng, 15, 2)
    square = shapely.box(-1, -1, 1, 1)
    segments = []
    for a, c in zip(A, b):
        foot = a * c / (a @ a)
        along = np.array([-a[1], a[0]]) * (10 / np.linalg.norm(a))
        segments.append(LineString([foot - along, foot + along]).intersection(square))
    faces = shapely.polygonize(shapely.unary_union(segments + [square.boundary]).geoms).geoms
    part = partition(Arrangement(A, b), Box([-1, -1], [1, 1]))
    assert part.n_cells == len(faces)
    np.testing.assert_allclose(np.sort(part.volumes), np.sort([f.area for f in faces]),
                               rtol=1e-9, atol=1e-12)


def angle_sums(part):
    return np.add.reduceat(part.hinges.angles, part.hinges.indptr[:-1])


@pytest.mark.parametrize("d, n", [(2, 8), (3, 6), (4, 5)])
def test_partition_hinge_angles_sum_to_two_pi(d, n):
    rng = np.random.default_rng(20 + d)
    A, b = generic_hyperplanes(rng, n, d)
    part = partition(Arrangement(A, b), Box(-np.ones(d), np.ones(d)))
    h = part.hinges
    assert len(h) > 0 and h.interior.any()
    sums = angle_sums(part)
    np.testing.assert_allclose(sums[h.interior], 2 * np.pi, rtol=1e-12)
    # on the boundary: pi inside a domain facet, pi/2 along a box edge
    assert np.isin(np.round(sums[~h.interior] / np.pi, 9), [0.5, 1.0]).all()
    np.testing.assert_array_equal(np.diff(h.indptr) >= 3, True)
    assert (h.volumes > 0).all()
    if d == 2:
        # generic lines: every crossing inside the box is one interior hinge of four cells
        inside = 0
        for i, j in itertools.combinations(range(n), 2):
            x = np.linalg.solve(A[[i, j]], b[[i, j]])
            inside += bool((np.abs(x) < 1).all())
        assert h.interior.sum() == inside
        assert (np.diff(h.indptr)[h.interior] == 4).all()


def test_partition_hinges_of_concurrent_lines():
    A = np.array([[1, 0], [0, 1], [1, 1]], float)
    part = partition(Arrangement(A, A @ np.array([0.25, 0.5])), Box([-1, -1], [1, 1]))
    h = part.hinges
    assert h.interior.sum() == 1
    k = int(np.flatnonzero(h.interior)[0])
    assert h.indptr[k + 1] - h.indptr[k] == 6           # six sectors around the point
    assert angle_sums(part)[k] == pytest.approx(2 * np.pi, rel=1e-12)


def test_partition_hinges_spec_vectors():
    part = partition(Arrangement([[1, 0], [0, 1]], [0.5, 0.5]), Box([0, 0], [1, 1]))
    h = part.hinges
    assert len(h) == 1 and h.interior.tolist() == [True]
    assert h.indices.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(h.angles, np.pi / 2, rtol=1e-14)
    assert h.volumes.tolist() == [1.0]


def test_voronoi_matches_scipy():
    from scipy.spatial import Voronoi as ScipyVoronoi

    rng = np.random.default_rng(3)
    sites = rng.uniform(-1, 1, size=(40, 2))
    part = partition(Voronoi(sites), Box([-1, -1], [1, 1]))
    check_invariants(part, 4.0)
    assert part.labels.tolist() == list(range(40))
    ref = ScipyVoronoi(sites)
    # regions wholly inside the box have scipy's area
    for i, region_index in enumerate(ref.point_region):
        region = ref.regions[region_index]
        if -1 in region or not region:
            continue
        poly = ref.vertices[region]
        if (np.abs(poly) < 1).all():
            x, y = poly[:, 0], poly[:, 1]
            area = 0.5 * abs(x @ np.roll(y, -1) - y @ np.roll(x, -1))
            assert part.volumes[i] == pytest.approx(area, rel=1e-9)
    # Voronoi vertices inside the box are the interior hinges, each where three cells meet
    inside = (np.abs(ref.vertices) < 1).all(axis=1).sum()
    assert part.hinges.interior.sum() == inside
    np.testing.assert_allclose(angle_sums(part)[part.hinges.interior], 2 * np.pi, rtol=1e-12)
    # every wall is a scipy ridge
    theirs = {tuple(sorted(p)) for p in ref.ridge_points.tolist()}
    assert {tuple(w) for w in part.walls.cells.tolist()} <= theirs


def test_voronoi_3d_and_locate(rng):
    sites = rng.uniform(-1, 1, size=(25, 3))
    part = partition(Voronoi(sites), Box(-np.ones(3), np.ones(3)))
    check_invariants(part, 8.0)
    np.testing.assert_allclose(angle_sums(part)[part.hinges.interior], 2 * np.pi, rtol=1e-12)
    X = rng.uniform(-1, 1, size=(300, 3))
    nearest = np.argmin(((X[:, None, :] - sites[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(part.labels[part.locate(X)], nearest)


def test_max_affine_skips_functions_that_never_win():
    # f2 = -1 is below max(x, -x) >= 0 everywhere: it has no cell
    part = partition(MaxAffine([[1, 0], [-1, 0], [0, 0]], [0, 0, -1]), Box([-1, -1], [1, 1]))
    assert part.labels.tolist() == [0, 1]
    np.testing.assert_allclose(part.volumes, [2.0, 2.0])
    assert part.walls.cells.tolist() == [[0, 1]] and part.walls.areas.tolist() == [2.0]
    assert part.locate([[0.5, 0], [-0.5, 0]]).tolist() == [0, 1]
    # four functions equal at the origin: one hinge of four right angles
    A = [[1, 1], [-1, 1], [1, -1], [-1, -1]]
    part = partition(MaxAffine(A, [0, 0, 0, 0]), Box([-1, -1], [1, 1]))
    assert len(part.hinges) == 1 and np.diff(part.hinges.indptr).tolist() == [4]
    np.testing.assert_allclose(part.hinges.angles, np.pi / 2)


def test_max_affine_errors():
    with pytest.raises(DegenerateInputError, match="functions 0 and 2 are identical"):
        MaxAffine([[1, 0], [0, 1], [1, 0]], [0, 0, 0])
    with pytest.raises(DegenerateInputError, match="identical"):
        Voronoi([[0, 0], [1, 1], [0, 0]])
    with pytest.raises(InvalidInputError, match="points must be 2-D"):
        Voronoi([0, 1])


@pytest.mark.parametrize("source", ["arrangement", "voronoi", "tree", "network", "cells"])
def test_partition_exact_volumes_sum_to_the_domain_exactly(source):
    from fractions import Fraction

    from geomcore import Polytope, ReLUNetwork, Voronoi

    rng = np.random.default_rng(5)
    dom = Box([0, 0], [1, 1])
    if source == "arrangement":
        model = Arrangement(rng.normal(size=(5, 2)), rng.normal(size=5) * 0.3 + 0.5)
    elif source == "voronoi":
        # dyadic sites: the rows A_j - A_k are exact (random sites are rounded once, and their
        # exact cells then miss each other by about 1e-17)
        model = Voronoi(np.unique(rng.integers(0, 32, size=(6, 2)), axis=0) / 32)
    elif source == "tree":
        sklearn = pytest.importorskip("sklearn")  # noqa: F841
        from sklearn.tree import DecisionTreeRegressor

        X = rng.random((50, 2))
        model = DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, X.sum(axis=1))
    elif source == "network":
        # dyadic weights keep the pulled-back rows exact
        model = ReLUNetwork([rng.integers(-4, 5, size=(4, 2)) / 4, rng.integers(-4, 5, (1, 4)) / 4],
                            [rng.integers(-4, 5, size=4) / 8, np.zeros(1)])
    else:
        cut = np.vstack([np.eye(2), -np.eye(2)])
        model = [Polytope(cut, [0.3, 1, 0, 0]), Polytope(cut, [1, 1, -0.3, 0])]
    part = partition(model, dom, exact=True)
    assert all(isinstance(v, Fraction) for v in part.exact_volumes)
    assert sum(part.exact_volumes) == 1                  # exactly, not to rounding
    np.testing.assert_array_equal(part.volumes, [float(v) for v in part.exact_volumes])
    assert part.cell(0).exact_volume == part.exact_volumes[0]
    assert partition(model, dom).exact_volumes is None


def test_partition_rejects_bad_exact():
    with pytest.raises(InvalidInputError, match="exact must be"):
        partition(Arrangement([[1, 0]], [0.5]), Box([0, 0], [1, 1]), exact="yes")


def test_partition_stops_before_exhausting_memory(monkeypatch):
    import geomcore._memory
    from geomcore import ReLUNetwork, TooLargeError

    monkeypatch.setattr(geomcore._memory, "available_bytes", lambda: 50_000)
    dom = Box([0, 0], [1, 1])
    lines = Arrangement([[1, 0], [0, 1], [1, 1], [1, -1]], [0.3, 0.6, 1.0, 0.1])
    with pytest.raises(TooLargeError, match=r"4 cells after 2 of 4 hyperplanes; it may reach 11 "
                                            r"cells; that needs about .* GiB"):
        partition(lines, dom)
    net = ReLUNetwork([np.eye(2), np.ones((1, 2))], [[-0.3, -0.6], [0.0]])
    with pytest.raises(TooLargeError, match="after 2 of 2 neurons"):
        partition(net, dom)
    assert isinstance(TooLargeError("x"), MemoryError)
    monkeypatch.setattr(geomcore._memory, "available_bytes", lambda: None)   # unknown: no guard
    assert partition(lines, dom).n_cells == 11


def test_partition_progress_bar_on_a_terminal(monkeypatch):
    import io
    import sys

    from geomcore import ReLUNetwork

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    rng = np.random.default_rng(0)
    net = ReLUNetwork([rng.normal(size=(4, 2)), rng.normal(size=(3, 4)), np.ones((1, 3))],
                      [rng.normal(size=4) * 0.2, rng.normal(size=3) * 0.2, [0.0]])
    part = partition(net, Box([-1, -1], [1, 1]), progress=True)
    text = term.getvalue()
    # redrawn in place once per neuron, ending full and on a new line
    assert text.count("\r") == 7 and text.endswith(f", {part.n_cells} cells\n")
    assert f"[{'#' * 30}] layer 2/2, neuron 7/7" in text
    log = io.StringIO()                                   # not a terminal: a line per layer
    monkeypatch.setattr(sys, "stderr", log)
    partition(net, Box([-1, -1], [1, 1]), progress=True)
    assert log.getvalue().count("\n") == 2 and "\r" not in log.getvalue()
