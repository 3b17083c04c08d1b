"""geomcore.torch.GeometricPenalty: its value and backward are the numpy regularizers' over the
cells that contain the batch's points. Skipped without torch."""

import doctest

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import geomcore.torch as gtorch  # noqa: E402
from geomcore import Box, InvalidInputError, ReLUNetwork, partition  # noqa: E402
from geomcore.regularizers import penalty  # noqa: E402
from geomcore.torch import GeometricPenalty  # noqa: E402

OPTIONS = {"small_cells": dict(t=1.0), "boundary": {}, "sharp_angles": dict(theta_min=1.4),
           "shape_quality": {}}


def _module(seed, sizes=(2, 6, 5, 2), dtype=torch.float64, leaky=False):
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.LeakyReLU(0.1) if leaky else torch.nn.ReLU())
    return torch.nn.Sequential(*layers).to(dtype)


def _grads(module):
    return [p.grad.detach().double().numpy().copy() for p in module.parameters()]


@pytest.mark.parametrize("term", list(OPTIONS))
@pytest.mark.parametrize("ndim", [2, 3])
def test_backward_equals_numpy_gradient(term, ndim):
    module = _module(4, sizes=(ndim, 5, 4, 2))
    domain = Box(-np.ones(ndim), np.ones(ndim))
    X = torch.rand(40, ndim, dtype=torch.float64) * 2 - 1
    with torch.no_grad():           # both classes in the box: the decision boundary crosses it
        out = module(X)
        module[-1].bias[1] -= torch.median(out[:, 1] - out[:, 0])
    pen = GeometricPenalty(term, domain=domain, **OPTIONS[term])
    loss = pen(module, X)
    assert loss.dtype == torch.float64 and loss.ndim == 0
    loss.backward()
    net = ReLUNetwork.from_torch(module)
    part = partition(net, domain, regions="decision" if term == "boundary" else "linear")
    cells = np.unique(part.locate(X.numpy()))
    assert 0 < len(cells) < part.n_cells
    ref = penalty(term, net, part, cells=cells, **OPTIONS[term])
    assert loss.item() == pytest.approx(ref.value, rel=1e-12)
    expected = []
    for gW, gb in zip(*ref.grad):
        expected += [gW, gb]
    got = _grads(module)
    assert any(np.any(g != 0) for g in expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


def test_float32_module_and_chain_rule():
    module = _module(5, dtype=torch.float32, leaky=True)
    domain = Box([-1, -1], [1, 1])
    X = torch.rand(30, 2) * 2 - 1
    pen = GeometricPenalty("small_cells", domain=domain, t=1.0)
    loss = 3.0 * pen(module, X) + 0.0 * module(X).sum()
    assert loss.dtype == torch.float32
    loss.backward()
    net = ReLUNetwork.from_torch(module)
    part, mask = pen.last
    ref = penalty("small_cells", net, part, cells=mask, t=1.0)
    for p, g in zip(module.parameters(), [x for pair in zip(*ref.grad) for x in pair]):
        assert p.grad.dtype == torch.float32
        np.testing.assert_allclose(p.grad.numpy(), 3.0 * g, rtol=1e-6, atol=1e-7)


def test_points_outside_the_domain_give_zero():
    module = _module(1)
    pen = GeometricPenalty("shape_quality", domain=Box([-1, -1], [1, 1]))
    loss = pen(module, torch.full((5, 2), 7.0, dtype=torch.float64))
    loss.backward()
    assert loss.item() == 0.0
    assert all(not p.grad.any() for p in module.parameters())


def test_bias_free_layer():
    torch.manual_seed(2)
    module = torch.nn.Sequential(torch.nn.Linear(2, 5, bias=False), torch.nn.ReLU(),
                                 torch.nn.Linear(5, 1)).double()
    pen = GeometricPenalty("boundary", domain=Box([-1, -1], [1, 1]), regions="linear")
    loss = pen(module, torch.rand(20, 2, dtype=torch.float64) * 2 - 1)
    loss.backward()
    assert loss.item() > 0 and module[0].weight.grad.abs().sum() > 0


def test_errors():
    box = Box([-1, -1], [1, 1])
    with pytest.raises(InvalidInputError, match="term must be one of"):
        GeometricPenalty("wiggles", domain=box)
    with pytest.raises(InvalidInputError, match="unknown option 'theta_min'"):
        GeometricPenalty("small_cells", domain=box, theta_min=0.3)
    with pytest.raises(InvalidInputError, match="regions must be"):
        GeometricPenalty("boundary", domain=box, regions="all")
    pen = GeometricPenalty("small_cells", domain=box)
    with pytest.raises(InvalidInputError, match="must be a torch.nn.Sequential"):
        pen(torch.nn.Linear(2, 2), torch.zeros(1, 2))


def test_docstring_examples():
    result = doctest.testmod(gtorch, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
