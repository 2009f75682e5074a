"""``RNN``, ``LSTM``, ``GRU``: PyTorch's recurrent layers, with an explicit, readable backward.

Same constructor, parameter names, shapes and return values as ``torch.nn.RNN/LSTM/GRU``::

    lstm = LSTM(input_size, hidden_size, num_layers=2, bidirectional=True)
    out, (h_n, c_n) = lstm(x, (h0, c0), lengths=lengths)      # x (T, B, I) or (B, T, I) batch_first
    dx, (dh0, dc0) = lstm.backward(d_out, (d_h_n, d_c_n))       # accumulates every parameter's .grad

``out`` is ``(T, B, D*H)`` (D = 2 when bidirectional), ``h_n``/``c_n`` are ``(num_layers*D, B, H)``,
ordered layer by layer, forward direction first. Parameters ``weight_ih_l{k}``, ``weight_hh_l{k}``,
``bias_ih_l{k}``, ``bias_hh_l{k}``, plus ``..._reverse`` for the backward direction.

Each (layer, direction) is one call of the functional sequence forward/backward. The reverse direction
reads each sequence backwards *within its own length* (``reverse_within_lengths``), so with ``lengths``
it starts at the sequence's last real step, exactly like PyTorch's packed sequences.
"""
from __future__ import annotations

import math

from .. import backend
from .._checks import check_shape, describe_shape
from ..functional import gru as FG, lstm as FLSTM, rnn as FR
from ..functional.workspace import Workspace
from ..functional.checkpointing import checkpointed_backward, checkpointed_forward
from ..functional.layers import dropout_backward, dropout_forward
from . import init
from .module import Module, Parameter

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def reverse_within_lengths(x, lengths, xp):
    """Reverse ``x (T, B, ...)`` along time, each sequence within its own length.

    Step ``t < L_b`` of sequence b goes to ``L_b - 1 - t``; padding stays where it is. Applying it twice
    is the identity, so the same call maps outputs and gradients back.
    """
    if lengths is None:
        return x[::-1]
    T, B = x.shape[:2]
    t = xp.arange(T)[:, None]
    L = xp.asarray(lengths)[None, :]
    source = xp.where(t < L, L - 1 - t, t)                   # (T, B)
    return x[source, xp.arange(B)[None, :]]


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU. ``mode`` is RNN_TANH, RNN_RELU, LSTM or GRU."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, rng=None, dtype=None):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive int, got {value!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout}")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, dropout, bidirectional
        self.num_directions = 2 if bidirectional else 1
        rng = init.generator(rng)
        G, H = _GATES[mode], hidden_size
        bound = 1.0 / math.sqrt(H)                 # PyTorch: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else H * self.num_directions
            for suffix in self._suffixes(layer):
                setattr(self, "weight_ih" + suffix, Parameter(init.uniform((G * H, layer_input), bound, rng, dtype)))
                setattr(self, "weight_hh" + suffix, Parameter(init.uniform((G * H, H), bound, rng, dtype)))
                if bias:
                    setattr(self, "bias_ih" + suffix, Parameter(init.uniform((G * H,), bound, rng, dtype)))
                    setattr(self, "bias_hh" + suffix, Parameter(init.uniform((G * H,), bound, rng, dtype)))
        self.dropout_generator = init.device_generator(rng)
        self._cache = None
        # Memory-efficient BPTT: with an int S, keep only every S-th state and recompute the rest in the
        # backward (see rnnscratch.functional.checkpointing); for long unpadded sequences.
        self.checkpoint_every = None
        # one workspace per (layer, direction): large internal buffers are reused from call to call
        self._workspaces = {suffix: Workspace() for layer in range(num_layers) for suffix in self._suffixes(layer)}

    def _suffixes(self, layer):
        return [f"_l{layer}", f"_l{layer}_reverse"][:self.num_directions]

    def _weights(self, suffix):
        """The four arrays of one (layer, direction); zero biases stand in when ``bias=False``."""
        W_ih, W_hh = getattr(self, "weight_ih" + suffix).data, getattr(self, "weight_hh" + suffix).data
        if self.bias:
            return W_ih, W_hh, getattr(self, "bias_ih" + suffix).data, getattr(self, "bias_hh" + suffix).data
        zeros = backend.array_module(W=W_ih).zeros(W_ih.shape[0], dtype=W_ih.dtype)
        return W_ih, W_hh, zeros, zeros

    def _accumulate(self, suffix, grads):
        getattr(self, "weight_ih" + suffix).grad += grads["W_ih"]
        getattr(self, "weight_hh" + suffix).grad += grads["W_hh"]
        if self.bias:
            getattr(self, "bias_ih" + suffix).grad += grads["b_ih"]
            getattr(self, "bias_hh" + suffix).grad += grads["b_hh"]

    # -- the cell-specific calls --------------------------------------------------------------------
    @property
    def _has_cell_state(self):
        return self.mode == "LSTM"

    def _cell_forward(self, x, h0, c0, suffix, lengths):
        weights, ws = self._weights(suffix), self._workspaces[suffix]
        if self.checkpoint_every is not None:
            if lengths is not None:
                raise ValueError("lengths: checkpoint_every is for unpadded sequences; pass lengths=None")
            state = (h0, c0) if self.mode == "LSTM" else (h0,)
            out, final, cache = checkpointed_forward(self.mode.lower(), x, state, weights, self.checkpoint_every, ws)
            return out, final[0], (final[1] if self.mode == "LSTM" else None), cache
        if self.mode == "LSTM":
            return FLSTM.lstm_forward(x, h0, c0, *weights, lengths=lengths, workspace=ws)
        if self.mode == "GRU":
            out, h_n, cache = FG.gru_forward(x, h0, *weights, lengths=lengths, workspace=ws)
        else:
            out, h_n, cache = FR.rnn_forward(x, h0, *weights, nonlinearity=self.mode[4:].lower(), lengths=lengths,
                                             workspace=ws)
        return out, h_n, None, cache

    def _cell_backward(self, d_out, d_h_n, d_c_n, cache):
        if "starts" in cache:                                   # a checkpointed forward
            return checkpointed_backward(d_out, (d_h_n, d_c_n) if self.mode == "LSTM" else (d_h_n,), cache)
        if self.mode == "LSTM":
            return FLSTM.lstm_backward(d_out, d_h_n, d_c_n, cache)
        return (FG.gru_backward if self.mode == "GRU" else FR.rnn_backward)(d_out, d_h_n, cache)

    # -- checks -------------------------------------------------------------------------------------
    def _check_inputs(self, x, h0, c0, lengths):
        like = self.weight_ih_l0.data
        backend.array_module(**{"x": x, "h0": h0, "c0": c0, "the module's parameters": like})
        layout = "(B, T, I)" if self.batch_first else "(T, B, I)"
        if getattr(x, "ndim", None) != 3:
            raise ValueError(f"x: expected a 3-d array {layout} with I={self.input_size}, got shape "
                             f"{describe_shape(getattr(x, 'shape', ()))}")
        if x.shape[2] != self.input_size:
            raise ValueError(f"x: expected feature size I={self.input_size} in {layout}, got shape {describe_shape(x.shape)}")
        if x.dtype != like.dtype:
            raise TypeError(f"x: expected dtype {like.dtype} (the module's), got {x.dtype}")
        B = x.shape[0] if self.batch_first else x.shape[1]
        expected = (self.num_layers * self.num_directions, B, self.hidden_size)
        for name, state in (("h0", h0), ("c0", c0)):
            if state is not None:
                check_shape(name, state, expected)
        # lengths go onto the parameters' library (a list or host array is fine); their shape, type and
        # range are checked by the first cell call (functional/_sequence.length_mask), before any reversal
        return None if lengths is None else backend.array_module(like=like).asarray(lengths)

    # -- forward / backward -------------------------------------------------------------------------
    def forward(self, x, hx=None, lengths=None):
        """Run every layer and direction.

        Args:
            x: ``(T, B, I)``, or ``(B, T, I)`` with ``batch_first``.
            hx: initial state ``(L*D, B, H)`` (LSTM: a tuple ``(h0, c0)``), or None for zeros.
            lengths: optional ``(B,)`` true lengths of a padded batch.

        Returns:
            ``out (T, B, D*H)`` (batch first if so constructed) and ``h_n`` (LSTM: ``(h_n, c_n)``).
        """
        h0, c0 = (hx if hx is not None else (None, None)) if self._has_cell_state else (hx, None)
        lengths = self._check_inputs(x, h0, c0, lengths)
        xp = backend.array_module(x=x)
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        x = xp.ascontiguousarray(x)
        layer_input, layer_caches, h_n, c_n = x, [], [], []
        for layer in range(self.num_layers):
            direction_outputs, direction_caches = [], []
            for d, suffix in enumerate(self._suffixes(layer)):
                k = layer * self.num_directions + d
                seq = layer_input if d == 0 else reverse_within_lengths(layer_input, lengths, xp)
                out, h, c, cache = self._cell_forward(seq, None if h0 is None else h0[k],
                                                      None if c0 is None else c0[k], suffix, lengths)
                direction_outputs.append(out if d == 0 else reverse_within_lengths(out, lengths, xp))
                direction_caches.append(cache)
                h_n.append(h)
                c_n.append(c)
            layer_output = direction_outputs[0] if len(direction_outputs) == 1 else xp.concatenate(direction_outputs, axis=2)
            dropout_cache = None
            if self.dropout > 0 and layer < self.num_layers - 1:       # between layers, not after the last
                layer_output, dropout_cache = dropout_forward(layer_output, self.dropout, self.training,
                                                              rng=self.dropout_generator)
            layer_caches.append((direction_caches, dropout_cache))
            layer_input = layer_output
        out = layer_input.transpose(1, 0, 2) if self.batch_first else layer_input
        self._cache = {"layers": layer_caches, "lengths": lengths, "h_shape": (len(h_n),) + h_n[0].shape}
        h_n = xp.stack(h_n)
        return (out, (h_n, xp.stack(c_n))) if self._has_cell_state else (out, h_n)

    def backward(self, d_out, d_hx=None):
        """Backpropagate through every layer and direction.

        Args:
            d_out: gradient of ``out`` (same layout), or None.
            d_hx: gradient of ``h_n`` ``(L*D, B, H)`` (LSTM: a tuple ``(d_h_n, d_c_n)``, either None).

        Returns:
            ``dx`` (same layout as x) and ``dh0`` (LSTM: ``(dh0, dc0)``). Parameter gradients are
            added to each parameter's ``.grad``.
        """
        cache = self._require_forward()
        lengths = cache["lengths"]
        d_h_n, d_c_n = (d_hx if d_hx is not None else (None, None)) if self._has_cell_state else (d_hx, None)
        for name, g in (("d_h_n", d_h_n), ("d_c_n", d_c_n)):
            if g is not None:
                check_shape(name, g, cache["h_shape"])
        like = self.weight_ih_l0.data
        xp = backend.array_module(d_out=d_out, d_h_n=d_h_n, d_c_n=d_c_n, like=like)
        T, B, _ = cache["layers"][0][0][0]["x"].shape
        d_layer = None                 # None: no gradient at the outputs (the cells skip that term)
        if d_out is not None:
            d_layer = d_out.transpose(1, 0, 2) if self.batch_first else d_out
            check_shape("d_out", d_layer, (T, B, self.num_directions * self.hidden_size))
        dh0 = [None] * cache["h_shape"][0]
        dc0 = [None] * cache["h_shape"][0]
        H = self.hidden_size
        for layer in reversed(range(self.num_layers)):
            direction_caches, dropout_cache = cache["layers"][layer]
            if dropout_cache is not None and d_layer is not None:
                d_layer = dropout_backward(d_layer, dropout_cache)["x"]
            d_input = None
            for d, suffix in enumerate(self._suffixes(layer)):
                k = layer * self.num_directions + d
                d_dir = None
                if d_layer is not None:
                    d_dir = d_layer[:, :, d * H:(d + 1) * H]
                    d_dir = xp.ascontiguousarray(d_dir if d == 0 else reverse_within_lengths(d_dir, lengths, xp))
                grads = self._cell_backward(d_dir, None if d_h_n is None else d_h_n[k],
                                            None if d_c_n is None else d_c_n[k], direction_caches[d])
                self._accumulate(suffix, grads)
                dx = grads["x"] if d == 0 else reverse_within_lengths(grads["x"], lengths, xp)
                d_input = dx if d_input is None else d_input + dx
                dh0[k], dc0[k] = grads["h0"], grads.get("c0")
            d_layer = d_input
        dx = d_layer.transpose(1, 0, 2) if self.batch_first else d_layer
        dh0 = xp.stack(dh0)
        return (dx, (dh0, xp.stack(dc0))) if self._has_cell_state else (dx, dh0)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if self.mode.startswith("RNN_"):
            s += f", nonlinearity='{self.mode[4:].lower()}'"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


class RNN(RNNBase):
    """Elman RNN, ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``; ``nonlinearity`` tanh or relu."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, rng=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity: expected 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, rng, dtype)


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o (see :mod:`rnnscratch.functional.lstm`)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, rng=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         rng, dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates r, z, n in PyTorch's form (see :mod:`rnnscratch.functional.gru`)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, rng=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         rng, dtype)
