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

from dataclasses import dataclass

from .. import backend
from .._checks import check_probability, check_shape, describe_shape
from ..functional.cells import get_cell
from ..functional.checkpointing import CheckpointedCache, checkpointed_backward, checkpointed_forward
from ..functional.layers import dropout_backward, dropout_forward
from ..functional.workspace import Workspace
from . import init
from .module import Module, Parameter


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


@dataclass
class _LayerCache:
    """One layer of the stack: the cache of each direction's cell call, and the dropout after it."""
    directions: list
    dropout: dict | None


@dataclass
class StackCache:
    """What :meth:`RNNBase.forward` keeps: every layer's caches, the lengths and the shapes to check."""
    layers: list
    lengths: object
    T: int
    B: int
    num_states: int                  # num_layers * num_directions


class RNNBase(Module):
    """Shared machinery of every recurrent layer; ``cell`` is a registered cell name
    (:data:`~rnnscratch.functional.cells.CELL_NAMES`). ``RNN``, ``LSTM`` and ``GRU`` fix it.

    Any registered cell works here: ``RNNBase("lstm", 10, 20)`` is an LSTM layer (of class RNNBase).
    """

    def __init__(self, cell, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, rng=None, dtype=None):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive int, got {value!r}")
        check_probability("dropout", dropout)
        self.cell = get_cell(cell)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, dropout, bidirectional
        self.num_directions = 2 if bidirectional else 1
        rng = init.generator(rng)
        G, H = self.cell.num_gates, hidden_size
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
        # One workspace per (layer, direction): large internal buffers are reused from call to call, so a
        # forward's cache lives until the next forward. Set False when several forwards' caches must stay
        # alive at once (a decoder that steps one token at a time and backpropagates through every step).
        self.reuse_buffers = True
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

    # -- the cell calls (through the registry's uniform convention: states are tuples) ---------------
    @property
    def has_cell_state(self):
        """True when the state is ``(h, c)`` (an LSTM), so ``hx`` and ``h_n`` are pairs."""
        return self.cell.has_cell_state

    def _cell_forward(self, x, state, suffix, lengths):
        """One (layer, direction): ``-> out (T, B, H), final state tuple, cache``."""
        weights, ws = self._weights(suffix), self._workspaces[suffix] if self.reuse_buffers else None
        if self.checkpoint_every is None:
            return self.cell.run(x, state, weights, lengths=lengths, workspace=ws)
        if lengths is not None:
            raise ValueError("lengths: checkpoint_every is for unpadded sequences; pass lengths=None")
        return checkpointed_forward(self.cell.name, x, state, weights, self.checkpoint_every, ws)

    def _cell_backward(self, d_out, d_state, cache):
        if isinstance(cache, CheckpointedCache):
            return checkpointed_backward(d_out, d_state, cache)
        return self.cell.run_backward(d_out, d_state, cache)

    def _split_state(self, hx, name):
        """``hx`` as a tuple of per-part arrays ``(L*D, B, H)`` (entries None when not given)."""
        parts = len(self.cell.state_names)
        if hx is None:
            return (None,) * parts
        if self.has_cell_state:
            if not isinstance(hx, tuple) or len(hx) != parts:
                raise TypeError(f"{name}: expected a tuple (h, c) for an LSTM, got {type(hx).__name__}")
            return hx
        return (hx,)

    def _join_state(self, parts):
        """The inverse of :meth:`_split_state`: ``h`` alone, or the tuple ``(h, c)``."""
        return tuple(parts) if self.has_cell_state else parts[0]

    def saved_arrays(self):
        """The arrays the last forward keeps for the backward (states, gates, masks, dropout masks):
        not the input, not the weights, not the workspace. What BPTT must hold between the passes."""
        cache = self._require_forward()
        kept = []
        for layer in cache.layers:
            for direction in layer.directions:
                kept.extend(direction.saved_arrays())
            if layer.dropout is not None and layer.dropout["mask"] is not None:
                kept.append(layer.dropout["mask"])
        return kept

    # -- checks -------------------------------------------------------------------------------------
    def _check_inputs(self, x, state, lengths):
        like = self.weight_ih_l0.data
        names = self.cell.initial_names                                   # h0 (, c0)
        backend.array_module(x=x, **dict(zip(names, state)), **{"the module's parameters": like})
        layout = "(B, T, I)" if self.batch_first else "(T, B, I)"
        if not hasattr(x, "ndim"):
            raise TypeError(f"x: expected an array {layout} with I={self.input_size}, got a {type(x).__name__}")
        if x.ndim != 3:
            raise ValueError(f"x: expected a 3-d array {layout} with I={self.input_size}, got shape "
                             f"{describe_shape(getattr(x, 'shape', ()))}")
        if x.shape[2] != self.input_size:
            raise ValueError(f"x: expected feature size I={self.input_size} in {layout}, got shape {describe_shape(x.shape)}")
        if x.dtype != like.dtype:
            raise TypeError(f"x: expected dtype {like.dtype} (the module's), got {x.dtype}")
        B = x.shape[0] if self.batch_first else x.shape[1]
        expected = (self.num_layers * self.num_directions, B, self.hidden_size)
        for name, part in zip(names, state):
            if part is not None:
                check_shape(name, part, expected)
        # lengths go onto the parameters' library (a list or host array is fine); their shape, type and
        # range are checked by the first cell call (functional.masking.length_mask), before any reversal
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
        state = self._split_state(hx, "hx")
        lengths = self._check_inputs(x, state, lengths)
        xp = backend.array_module(x=x)
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        x = xp.ascontiguousarray(x)
        T, B = x.shape[:2]
        layer_input, layer_caches = x, []
        finals = [[] for _ in state]                        # per state part: one (B, H) per (layer, direction)
        for layer in range(self.num_layers):
            direction_outputs, direction_caches = [], []
            for d, suffix in enumerate(self._suffixes(layer)):
                k = layer * self.num_directions + d
                seq = layer_input if d == 0 else reverse_within_lengths(layer_input, lengths, xp)
                start = tuple(None if part is None else part[k] for part in state)
                out, final, cache = self._cell_forward(seq, start, suffix, lengths)
                direction_outputs.append(out if d == 0 else reverse_within_lengths(out, lengths, xp))
                direction_caches.append(cache)
                for collected, part in zip(finals, final):
                    collected.append(part)
            layer_output = direction_outputs[0] if len(direction_outputs) == 1 else xp.concatenate(direction_outputs, axis=2)
            dropout_cache = None
            if self.dropout > 0 and layer < self.num_layers - 1:       # between layers, not after the last
                layer_output, dropout_cache = dropout_forward(layer_output, self.dropout, self.training,
                                                              rng=self.dropout_generator)
            layer_caches.append(_LayerCache(direction_caches, dropout_cache))
            layer_input = layer_output
        out = layer_input.transpose(1, 0, 2) if self.batch_first else layer_input
        self._cache = StackCache(layer_caches, lengths, T, B, self.num_layers * self.num_directions)
        return out, self._join_state([xp.stack(parts) for parts in finals])

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
        lengths, T, B = cache.lengths, cache.T, cache.B
        d_final = self._split_state(d_hx, "d_hx")
        for name, g in zip(("d_h_n", "d_c_n"), d_final):
            if g is not None:
                check_shape(name, g, (cache.num_states, B, self.hidden_size))
        xp = backend.array_module(d_out=d_out, **dict(zip(("d_h_n", "d_c_n"), d_final)), like=self.weight_ih_l0.data)
        d_layer = None                 # None: no gradient at the outputs (the cells skip that term)
        if d_out is not None:
            d_layer = d_out.transpose(1, 0, 2) if self.batch_first else d_out
            check_shape("d_out", d_layer, (T, B, self.num_directions * self.hidden_size))
        d_initial = [[None] * cache.num_states for _ in d_final]       # per state part, per (layer, direction)
        H = self.hidden_size
        for layer in reversed(range(self.num_layers)):
            layer_cache = cache.layers[layer]
            if layer_cache.dropout is not None and d_layer is not None:
                d_layer = dropout_backward(d_layer, layer_cache.dropout)["x"]
            d_input = None
            for d, suffix in enumerate(self._suffixes(layer)):
                k = layer * self.num_directions + d
                d_dir = None
                if d_layer is not None:
                    d_dir = d_layer[:, :, d * H:(d + 1) * H]
                    d_dir = xp.ascontiguousarray(d_dir if d == 0 else reverse_within_lengths(d_dir, lengths, xp))
                d_end = tuple(None if g is None else g[k] for g in d_final)
                grads = self._cell_backward(d_dir, d_end, layer_cache.directions[d])
                self._accumulate(suffix, grads)
                dx = grads["x"] if d == 0 else reverse_within_lengths(grads["x"], lengths, xp)
                d_input = dx if d_input is None else d_input + dx
                for collected, name in zip(d_initial, self.cell.initial_names):
                    collected[k] = grads[name]
            d_layer = d_input
        dx = d_layer.transpose(1, 0, 2) if self.batch_first else d_layer
        self._cache = None                         # used up: the next backward needs a new forward
        return dx, self._join_state([xp.stack(parts) for parts in d_initial])

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        for name, value in self.cell.torch_kwargs.items():
            s += f", {name}={value!r}"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


class RNN(RNNBase):
    """Elman RNN, ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``; ``nonlinearity`` tanh or relu."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, rng=None, dtype=None):
        cells = {"tanh": "rnn", "relu": "rnn_relu"}
        if nonlinearity not in cells:
            raise ValueError(f"nonlinearity: expected 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(cells[nonlinearity], input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, rng, dtype)


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o (see :mod:`rnnscratch.functional.lstm`)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, rng=None, dtype=None):
        super().__init__("lstm", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         rng, dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates r, z, n in PyTorch's form (see :mod:`rnnscratch.functional.gru`)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, rng=None, dtype=None):
        super().__init__("gru", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         rng, dtype)


TORCH_NAMED = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}
"""Our module class for each PyTorch class a registered cell corresponds to (``Cell.torch_class``)."""


def make_recurrent(cell, input_size, hidden_size, **options):
    """A recurrent layer for a registered cell name: ``RNN``/``LSTM``/``GRU`` for PyTorch's cells (so
    ``isinstance`` and ``repr`` read as in PyTorch), an :class:`RNNBase` for any other registered cell.
    ``options`` are :class:`RNNBase`'s keyword arguments (num_layers, bias, batch_first, dropout, ...)."""
    spec = get_cell(cell)
    if spec.torch_class in TORCH_NAMED:
        return TORCH_NAMED[spec.torch_class](input_size, hidden_size, **spec.torch_kwargs, **options)
    return RNNBase(spec.name, input_size, hidden_size, **options)
