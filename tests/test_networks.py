"""ReLU network partitions: SPEC's ReLU layer, a brute-force oracle over activation patterns,
invariants, Leaky ReLU, locate and errors."""

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog
from test_partitions import angle_sums, check_invariants

from geomcore import DegenerateInputError, InvalidInputError
from geomcore.networks import ReLUNetwork
from geomcore.partitions import Arrangement, Box, partition


def random_network(rng, sizes, slope=0.0):
    weights = [rng.normal(size=(n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(size=n_out) * 0.5 for n_out in sizes[1:]]
    return ReLUNetwork(weights, biases, negative_slope=slope)


def brute_force_patterns(net, lo, hi):
    """Patterns whose cell is full-dimensional: for every pattern, pull the neurons back through
    it and maximise the common slack by LP (an independent oracle)."""
    d = net.ndim
    found = []
    for bits in itertools.product([False, True], repeat=net.n_hidden):
        labels = np.array([bits])
        rows = net.cell_rows(labels)[0]                  # pre-activation a . x + c per neuron
        s = np.where(bits, -1.0, 1.0)                    # active: -(a.x + c) + t <= 0
        A = np.vstack([s[:, None] * rows[:, :d], np.eye(d), -np.eye(d)])
        b = np.r_[-s * rows[:, d], hi, -lo]
        res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.column_stack([A, np.ones(len(b))]),
                      b_ub=b, bounds=[(None, None)] * d + [(None, 1.0)], method="highs")
        if res.status == 0 and -res.fun > 1e-9:
            found.append(bits)
    return sorted(found)


@pytest.mark.parametrize("a, b", [(0.5, 0.5), (0.3, 0.6)])
def test_network_spec_relu_layer_reproduces_the_arrangement(a, b):
    box = Box([0, 0], [1, 1])
    net = partition(ReLUNetwork([np.eye(2), [[1.0, 1.0]]], [[-a, -b], [0.0]]), box)
    arr = partition(Arrangement(np.eye(2), [a, b]), box)
    np.testing.assert_array_equal(net.labels, arr.labels)
    np.testing.assert_allclose(net.volumes, arr.volumes, rtol=1e-14)
    np.testing.assert_array_equal(net.walls.cells, arr.walls.cells)
    np.testing.assert_allclose(net.walls.areas, arr.walls.areas, rtol=1e-14)
    assert len(net.hinges) == 1 and net.hinges.indices.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(net.hinges.angles, np.pi / 2, rtol=1e-14)


@pytest.mark.parametrize("sizes, slope", [([2, 4, 3, 1], 0.0), ([2, 3, 3, 2], 0.1),
                                          ([3, 4, 3, 1], 0.0)])
def test_network_matches_brute_force(sizes, slope):
    rng = np.random.default_rng(sum(sizes))
    net = random_network(rng, sizes, slope)
    d = sizes[0]
    lo, hi = -np.ones(d), np.ones(d)
    part = partition(net, Box(lo, hi))
    assert sorted(map(tuple, part.labels.tolist())) == brute_force_patterns(net, lo, hi)
    check_invariants(part, 2.0**d)


@pytest.mark.parametrize("sizes", [[2, 8, 8, 3], [3, 6, 6, 2], [2, 5, 5, 5, 1]])
def test_network_invariants_and_locate(sizes):
    rng = np.random.default_rng(len(sizes) * 10 + sizes[1])
    net = random_network(rng, sizes)
    d = sizes[0]
    part = partition(net, Box(-2 * np.ones(d), 2 * np.ones(d)))
    check_invariants(part, 4.0**d)
    h = part.hinges
    assert h.interior.any()
    np.testing.assert_allclose(angle_sums(part)[h.interior], 2 * np.pi, rtol=1e-10)
    X = rng.uniform(-2, 2, size=(400, d))
    cells = part.locate(X)
    assert (cells >= 0).all()
    np.testing.assert_array_equal(part.labels[cells], net.patterns(X))
    # on each cell the network is the affine map its pattern gives
    rows = net.cell_rows(part.labels[cells])
    pre = np.einsum("nkd,nd->nk", rows[:, :, :d], X) + rows[:, :, d]
    np.testing.assert_array_equal(pre > 0, part.labels[cells])


def test_network_errors():
    with pytest.raises(InvalidInputError, match=r"weights\[1\] must have 3 columns"):
        ReLUNetwork([np.ones((3, 2)), np.ones((1, 4))], [np.zeros(3), np.zeros(1)])
    with pytest.raises(InvalidInputError, match=r"biases\[0\] must have shape \(3,\)"):
        ReLUNetwork([np.ones((3, 2)), np.ones((1, 3))], [np.zeros(2), np.zeros(1)])
    with pytest.raises(DegenerateInputError, match=r"weights\[0\] must be finite"):
        ReLUNetwork([[[np.nan, 0.0]], [[1.0]]], [[0.0], [0.0]])
    with pytest.raises(InvalidInputError, match="negative_slope must lie in"):
        ReLUNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)], negative_slope=1.5)
    net = ReLUNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    with pytest.raises(InvalidInputError, match='regions must be "linear" or "decision"'):
        partition(net, Box([0, 0], [1, 1]), regions="classes")
    with pytest.raises(InvalidInputError, match='regions="decision" needs a network'):
        partition(Arrangement([[1.0, 0.0]], [0.5]), Box([0, 0], [1, 1]), regions="decision")
    with pytest.raises(InvalidInputError, match="X must have 2 columns"):
        net.patterns(np.zeros((2, 3)))


def test_network_matches_regioncam():
    regioncam = pytest.importorskip("regioncam")
    rng = np.random.default_rng(11)
    sizes = [2, 16, 16, 1]
    # float32-representable weights, so that Regioncam (float32) sees the same network
    W = [rng.normal(size=(o, i)).astype(np.float32).astype(float) for i, o in zip(sizes, sizes[1:])]
    B = [rng.normal(size=o).astype(np.float32).astype(float) * 0.5 for o in sizes[1:]]
    rc = regioncam.Regioncam(size=1.0)                  # the square [-1, 1]^2
    for w, b in zip(W[:-1], B[:-1]):
        rc.linear(np.ascontiguousarray(w.T, dtype=np.float32), b.astype(np.float32))
        rc.relu()
    part = partition(ReLUNetwork(W, B), Box([-1, -1], [1, 1]))
    assert part.n_cells == rc.num_faces
    check_invariants(part, 4.0)


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")
def test_network_from_sklearn_mlp():
    pytest.importorskip("sklearn")
    from sklearn.datasets import make_moons
    from sklearn.neural_network import MLPClassifier

    X, y = make_moons(n_samples=200, noise=0.1, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(8, 8), max_iter=300, random_state=0).fit(X, y)
    net = ReLUNetwork.from_sklearn(clf)
    assert net.layer_sizes == [8, 8] and net.ndim == 2
    # the network's logit decides like the estimator
    np.testing.assert_array_equal((net(X)[:, 0] > 0).astype(int), clf.predict(X))
    part = partition(clf, Box(X.min(0) - 0.1, X.max(0) + 0.1))      # the estimator directly
    check_invariants(part, float(np.prod(X.max(0) - X.min(0) + 0.2)))
    np.testing.assert_array_equal(part.labels[part.locate(X)], net.patterns(X))
    with pytest.raises(InvalidInputError, match='activation="relu"'):
        ReLUNetwork.from_sklearn(MLPClassifier(activation="tanh", max_iter=5).fit(X, y))
    with pytest.raises(InvalidInputError, match="call fit first"):
        ReLUNetwork.from_sklearn(MLPClassifier())


def test_network_from_torch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(2, 6), nn.LeakyReLU(0.05), nn.Linear(6, 6), nn.LeakyReLU(0.05),
                           nn.Linear(6, 3))
    net = ReLUNetwork.from_torch(module)
    assert net.negative_slope == pytest.approx(0.05) and net.layer_sizes == [6, 6]
    X = np.random.default_rng(0).uniform(-1, 1, size=(50, 2))
    with torch.no_grad():
        expected = module(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(net(X), expected, atol=1e-5)
    part = partition(module, Box([-1, -1], [1, 1]))
    check_invariants(part, 4.0)
    with pytest.raises(InvalidInputError, match=r"module\[1\] must be ReLU or LeakyReLU"):
        ReLUNetwork.from_torch(nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1)))


def test_network_decision_regions_closed_form():
    # outputs relu(x - 1/2) and relu(y - 1/2): the region where both are active splits along
    # the diagonal, so five decision regions meet at (1/2, 1/2) with angles 90, 90, 90, 45, 45
    net = ReLUNetwork([np.eye(2), np.eye(2)], [[-0.5, -0.5], [0.0, 0.0]])
    part = partition(net, Box([0, 0], [1, 1]), regions="decision")
    assert part.labels.astype(int).tolist() == [[0, 0], [1, 0], [0, 1], [1, 1], [1, 1]]
    assert part.classes.tolist() == [0, 0, 1, 0, 1]
    np.testing.assert_allclose(part.volumes, [0.25, 0.25, 0.25, 0.125, 0.125], rtol=1e-14)
    check_invariants(part, 1.0)
    h = part.hinges
    k = int(np.flatnonzero(h.interior)[0])
    assert h.indices[h.indptr[k]:h.indptr[k + 1]].tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(np.sort(h.angles[h.indptr[k]:h.indptr[k + 1]]),
                               np.pi * np.array([0.25, 0.25, 0.5, 0.5, 0.5]), rtol=1e-12)
    # the diagonal wall between the two halves of region 11
    assert [3, 4] in part.walls.cells.tolist()
    X = np.random.default_rng(0).uniform(0, 1, size=(300, 2))
    np.testing.assert_array_equal(part.classes[part.locate(X)], net.classes(X))


@pytest.mark.parametrize("n_out", [1, 3])
def test_network_decision_regions_random(n_out):
    rng = np.random.default_rng(40 + n_out)
    net = random_network(rng, [2, 6, 6, n_out])
    net.weights[-1] *= 5                                   # several classes inside the box
    part = partition(net, Box([-1, -1], [1, 1]), regions="decision")
    linear = partition(net, Box([-1, -1], [1, 1]))
    assert part.n_cells >= linear.n_cells
    assert len(np.unique(part.classes)) > 1
    check_invariants(part, 4.0)
    np.testing.assert_allclose(angle_sums(part)[part.hinges.interior], 2 * np.pi, rtol=1e-10)
    X = rng.uniform(-1, 1, size=(500, 2))
    cells = part.locate(X)
    np.testing.assert_array_equal(part.classes[cells], net.classes(X))
    np.testing.assert_array_equal(part.labels[cells], net.patterns(X))
