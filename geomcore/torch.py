"""Geometric regularizers as a torch loss term (needs the optional ``torch`` extra).

:class:`GeometricPenalty` partitions a torch ``nn.Sequential`` of ``Linear`` and ``ReLU`` /
``LeakyReLU`` layers exactly on every call, evaluates one of :mod:`geomcore.regularizers` over
the cells that contain points of a batch, and hands torch the exact gradient with respect to
every weight and bias (activation patterns fixed, SPEC 10) through an autograd function.
"""

import numpy as np

try:
    import torch                      # the real torch: absolute import (this is geomcore.torch)
    from torch import nn
except ImportError as exc:            # pragma: no cover - exercised without torch only
    raise ImportError(
        "geomcore.torch needs PyTorch: pip install 'geomcore[torch]' (or torch)") from exc

from geomcore.errors import InvalidInputError
from geomcore.networks import ReLUNetwork
from geomcore.partitions import partition
from geomcore.regularizers import TERMS

__all__ = ["GeometricPenalty"]

_OPTIONS = {"small_cells": ("t",), "boundary": (), "sharp_angles": ("theta_min",),
            "shape_quality": ()}


class _Penalty(torch.autograd.Function):
    """Value computed outside torch; backward scales the precomputed exact gradients."""

    @staticmethod
    def forward(ctx, value, grads, *params):
        ctx.grads = grads
        return torch.as_tensor(value, dtype=params[0].dtype, device=params[0].device)

    @staticmethod
    def backward(ctx, grad_output):
        return (None, None) + tuple(grad_output * g for g in ctx.grads)


class GeometricPenalty(nn.Module):
    """A geometric regularizer of a ReLU network as a differentiable torch scalar.

    Parameters
    ----------
    term : {"small_cells", "boundary", "sharp_angles", "shape_quality"}
        The regularizer (SPEC 10), see :mod:`geomcore.regularizers`.
    domain : Box or Polytope
        Where the network's partition is built.
    regions : {"linear", "decision"}, optional
        The partition's cells: linear regions, or linear regions cut by the predicted class.
        Default "decision" for ``"boundary"`` (the decision boundary's area), else "linear".
    **options
        The term's options: ``t`` (small_cells), ``theta_min`` (sharp_angles).

    Notes
    -----
    ``penalty(module, X)`` reads the module's weights as float64, partitions the domain, keeps
    the cells containing points of X (points outside the domain are ignored), and returns the
    term over them (``n`` in small_cells stays the partition's cell count; boundary counts
    walls with at least one such cell). Its backward gives the regularizer's exact gradient,
    cast to each parameter's dtype. The partition is rebuilt on every call: its cost, not
    torch's, dominates.

    Examples
    --------
    >>> import torch
    >>> from geomcore import Box
    >>> from geomcore.torch import GeometricPenalty
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    >>> penalty = GeometricPenalty("boundary", domain=Box([-1, -1], [1, 1]), regions="linear")
    >>> loss = penalty(net, torch.rand(50, 2) * 2 - 1)
    >>> loss.backward()
    >>> bool(loss > 0), net[0].weight.grad.shape
    (True, torch.Size([4, 2]))
    """

    def __init__(self, term, *, domain, regions=None, **options):
        super().__init__()
        if term not in TERMS:
            raise InvalidInputError(f"term must be one of {', '.join(TERMS)}; got {term!r}")
        unknown = sorted(set(options) - set(_OPTIONS[term]))
        if unknown:
            allowed = ", ".join(_OPTIONS[term] + ("regions",))
            raise InvalidInputError(
                f"GeometricPenalty({term!r}) got an unknown option {unknown[0]!r}; its options "
                f"are {allowed}")
        if regions is None:
            regions = "decision" if term == "boundary" else "linear"
        if regions not in ("linear", "decision"):
            raise InvalidInputError(f'regions must be "linear" or "decision"; got {regions!r}')
        self.term, self.domain, self.regions, self.options = term, domain, regions, options
        self.last = None        # the last call's Partition and cell mask, for inspection

    def forward(self, module, X):
        """The penalty of `module` over the cells of its partition that contain points of X.

        Parameters
        ----------
        module : torch.nn.Sequential
            Linear / ReLU (or LeakyReLU) layers, ending with a Linear layer.
        X : torch.Tensor or array_like, shape (n_points, ndim)

        Returns
        -------
        torch.Tensor
            A scalar with the dtype of the module's parameters; its gradient flows into every
            Linear layer's weight and bias.
        """
        net = ReLUNetwork.from_torch(module)
        part = partition(net, self.domain, regions=self.regions)
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().double().numpy()
        found = part.locate(np.asarray(X, dtype=np.float64))
        mask = np.zeros(part.n_cells, dtype=bool)
        mask[found[found >= 0]] = True
        result = TERMS[self.term](net, part, cells=mask, **self.options)
        self.last = (part, mask)
        dW, db = result.grad
        params, grads = [], []
        linears = [layer for layer in module if isinstance(layer, nn.Linear)]
        for layer, gW, gb in zip(linears, dW, db):
            params.append(layer.weight)
            grads.append(torch.as_tensor(gW, dtype=layer.weight.dtype, device=layer.weight.device))
            if layer.bias is not None:
                params.append(layer.bias)
                grads.append(torch.as_tensor(gb, dtype=layer.bias.dtype, device=layer.bias.device))
        return _Penalty.apply(result.value, tuple(grads), *params)

    def extra_repr(self):
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"{self.term!r}, domain={self.domain!r}, regions={self.regions!r}{opts}"
