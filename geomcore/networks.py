"""ReLU networks as partition sources: linear regions found exactly, layer by layer.

The cells of ``h^l = act(W_l h^(l-1) + b_l)`` are the closures of the sets with a fixed
activation pattern (SPEC section 2.2). On a cell the network is affine, so each neuron of the
next layer is a hyperplane there: its row is pulled back through the cell's map (SPEC 11).
"""

import numpy as np

from geomcore._validation import as_float_matrix
from geomcore.errors import DegenerateInputError, InvalidInputError

__all__ = ["ReLUNetwork"]


def _as_layer(W, b, l):
    W = as_float_matrix(W, f"weights[{l}]")
    b = np.asarray(b)
    if b.ndim != 1 or b.shape[0] != W.shape[0]:
        raise InvalidInputError(f"biases[{l}] must have shape ({W.shape[0]},); got {b.shape}")
    b = np.ascontiguousarray(b, dtype=np.float64)
    if not np.isfinite(b).all():
        raise DegenerateInputError(f"biases[{l}] must be finite")
    return W, b


class ReLUNetwork:
    """A ReLU (or Leaky-ReLU) network from numpy weights, in torch layout.

    ``h = act(weights[l] @ h + biases[l])`` for the hidden layers; the last layer is affine.

    Parameters
    ----------
    weights : sequence of array_like, shapes (n_out_l, n_in_l)
    biases : sequence of array_like, shapes (n_out_l,)
    negative_slope : float, optional
        0 (default) for ReLU; the slope of a Leaky ReLU, in [0, 1).

    Attributes
    ----------
    ndim : int
        Input dimension.
    layer_sizes : list of int
        Widths of the hidden layers.
    n_hidden : int
        Number of hidden neurons (the length of an activation pattern).

    Examples
    --------
    >>> net = ReLUNetwork([[[1, 0], [0, 1]], [[1, 1]]], [[-0.5, -0.5], [0]])
    >>> net.patterns([[0.7, 0.2]]).tolist()
    [[True, False]]
    """

    def __init__(self, weights, biases, *, negative_slope=0.0):
        if len(weights) != len(biases) or len(weights) < 1:
            raise InvalidInputError(
                f"weights and biases must be equally long, at least 1; got {len(weights)} and "
                f"{len(biases)}")
        layers = [_as_layer(W, b, l) for l, (W, b) in enumerate(zip(weights, biases))]
        for l in range(1, len(layers)):
            if layers[l][0].shape[1] != layers[l - 1][0].shape[0]:
                raise InvalidInputError(
                    f"weights[{l}] must have {layers[l - 1][0].shape[0]} columns to follow "
                    f"weights[{l - 1}]; got shape {layers[l][0].shape}")
        slope = float(negative_slope)
        if not 0.0 <= slope < 1.0:
            raise InvalidInputError(f"negative_slope must lie in [0, 1); got {negative_slope!r}")
        self.weights = [W for W, _ in layers]
        self.biases = [b for _, b in layers]
        self.negative_slope = slope
        self.ndim = self.weights[0].shape[1]
        self.layer_sizes = [W.shape[0] for W in self.weights[:-1]]
        self.n_hidden = int(sum(self.layer_sizes))

    @classmethod
    def from_torch(cls, module):
        """The network of a torch ``nn.Sequential`` of ``Linear`` and ``ReLU`` / ``LeakyReLU``.

        The layers must alternate Linear, activation, ..., Linear, with one kind of activation
        (and one negative slope) throughout. Weights are read as float64.
        """
        import torch.nn as nn

        if not isinstance(module, nn.Sequential):
            raise InvalidInputError(f"module must be a torch.nn.Sequential; got {type(module).__name__}")
        layers = list(module)
        weights, biases, slopes = [], [], set()
        for i, layer in enumerate(layers):
            expect_linear = i % 2 == 0
            if expect_linear and isinstance(layer, nn.Linear):
                W = layer.weight.detach().cpu().double().numpy()
                b = (layer.bias.detach().cpu().double().numpy() if layer.bias is not None
                     else np.zeros(W.shape[0]))
                weights.append(W)
                biases.append(b)
            elif not expect_linear and isinstance(layer, nn.ReLU):
                slopes.add(0.0)
            elif not expect_linear and isinstance(layer, nn.LeakyReLU):
                slopes.add(float(layer.negative_slope))
            else:
                want = "Linear" if expect_linear else "ReLU or LeakyReLU"
                raise InvalidInputError(
                    f"module[{i}] must be {want} (layers alternate Linear and activation); "
                    f"got {type(layer).__name__}")
        if not layers or not isinstance(layers[-1], nn.Linear):
            raise InvalidInputError("module must end with a Linear layer (the affine output)")
        if len(slopes) > 1:
            raise InvalidInputError(f"module must use one activation slope; got {sorted(slopes)}")
        return cls(weights, biases, negative_slope=slopes.pop() if slopes else 0.0)

    @classmethod
    def from_sklearn(cls, estimator):
        """The network of a fitted scikit-learn ``MLPClassifier`` / ``MLPRegressor`` with
        ``activation="relu"`` (its output layer is kept affine: logits, before any softmax)."""
        if not hasattr(estimator, "coefs_"):
            raise InvalidInputError(
                f"estimator must be a fitted MLPClassifier or MLPRegressor; got "
                f"{type(estimator).__name__} without coefs_ (call fit first)")
        activation = getattr(estimator, "activation", None)
        if activation != "relu":
            raise InvalidInputError(f'estimator must use activation="relu"; got {activation!r}')
        return cls([np.asarray(W).T for W in estimator.coefs_],
                   [np.asarray(b) for b in estimator.intercepts_])

    def _act(self, z):
        return np.where(z > 0, z, self.negative_slope * z)

    def patterns(self, X):
        """Activation patterns, bool (n_points, n_hidden): True where the pre-activation > 0."""
        h = as_float_matrix(np.atleast_2d(X), "X", ncols=self.ndim)
        out = []
        for W, b in zip(self.weights[:-1], self.biases[:-1]):
            z = h @ W.T + b
            out.append(z > 0)
            h = self._act(z)
        return np.hstack(out) if out else np.zeros((h.shape[0], 0), dtype=bool)

    def labels_of(self, X):
        """Activation patterns of the points (the partition source protocol)."""
        return self.patterns(X)

    def __call__(self, X):
        """Outputs, shape (n_points, n_outputs)."""
        h = as_float_matrix(np.atleast_2d(X), "X", ncols=self.ndim)
        for W, b in zip(self.weights[:-1], self.biases[:-1]):
            h = self._act(h @ W.T + b)
        return h @ self.weights[-1].T + self.biases[-1]

    def layer_rows(self, labels, layer):
        """Pre-activations of hidden layer `layer` as affine functions on each cell, from the
        cells' patterns of the earlier layers: shape (n_cells, layer_sizes[layer], ndim + 1),
        rows ``[a, c]`` meaning ``a . x + c``."""
        start = int(sum(self.layer_sizes[:layer]))
        return self.cell_rows(labels, stop=layer + 1)[:, start:, :]

    def cell_rows(self, labels, stop=None):
        """Every hidden neuron's pre-activation as an affine function on each cell.

        Parameters
        ----------
        labels : bool array, shape (n_cells, n_hidden)
            Activation patterns.

        Returns
        -------
        ndarray, shape (n_cells, n_hidden, ndim + 1)
            Row ``[a, c]`` of neuron g on cell i: its pre-activation there is ``a . x + c``.
        """
        n = labels.shape[0]
        M = np.broadcast_to(np.eye(self.ndim), (n, self.ndim, self.ndim))
        v = np.zeros((n, self.ndim))
        rows, start = [], 0
        hidden = list(zip(self.weights[:-1], self.biases[:-1]))
        for W, b in hidden[:stop]:
            Z = np.matmul(W, M)                        # (n, n_out, ndim), batched BLAS
            z = v @ W.T + b
            rows.append(np.concatenate([Z, z[:, :, None]], axis=2))
            D = np.where(labels[:, start:start + W.shape[0]], 1.0, self.negative_slope)
            M, v = D[:, :, None] * Z, D * z
            start += W.shape[0]
        if not rows:
            return np.zeros((n, 0, self.ndim + 1))
        return np.concatenate(rows, axis=1)

    def output_rows(self, labels):
        """The outputs as affine functions on each cell: shape (n_cells, n_outputs, ndim + 1),
        rows ``[a, c]`` meaning ``a . x + c``, from the cells' full activation patterns."""
        n = labels.shape[0]
        M = np.broadcast_to(np.eye(self.ndim), (n, self.ndim, self.ndim))
        v = np.zeros((n, self.ndim))
        start = 0
        for W, b in zip(self.weights[:-1], self.biases[:-1]):
            D = np.where(labels[:, start:start + W.shape[0]], 1.0, self.negative_slope)
            M = D[:, :, None] * np.matmul(W, M)
            v = D * (v @ W.T + b)
            start += W.shape[0]
        W, b = self.weights[-1], self.biases[-1]
        return np.concatenate([np.matmul(W, M), (v @ W.T + b)[:, :, None]], axis=2)

    def classes(self, X):
        """Predicted class of each point: the argmax of the outputs (lowest index on ties), or
        ``output > 0`` for a single output (a binary logit)."""
        out = self(X)
        return (out[:, 0] > 0).astype(np.int64) if out.shape[1] == 1 else np.argmax(out, axis=1)

    def __repr__(self):
        return (f"ReLUNetwork(ndim={self.ndim}, layer_sizes={self.layer_sizes}, "
                f"negative_slope={self.negative_slope})")
