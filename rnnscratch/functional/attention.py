r"""Attention over a padded source: scores, a masked softmax over source positions, the context vector.

A decoder with queries ``q (T, B, Hq)`` (its recurrent outputs, all T target steps at once, or T = 1
for one decoding step) attends to the encoder's outputs ``h (S, B, Hk)``, which serve as both keys
and values. ``L_b`` = ``lengths[b]`` is the true length of source b; positions ``s >= L_b`` are padding.
Three scores (Bahdanau 2015; Luong 2015)::

    additive:  e[t,b,s] = v . tanh(W_q q[t,b] + W_k h[s,b])      W_q (A, Hq), W_k (A, Hk), v (A,)
    dot:       e[t,b,s] = q[t,b] . h[s,b]                        (Hq = Hk)
    general:   e[t,b,s] = q[t,b] . (W h[s,b]) = q^T W h          W (Hq, Hk)

then the weights and the context::

    a[t,b,:] = softmax over s < L_b of e[t,b,:]   (a[t,b,s] = 0 exactly for s >= L_b)
    c[t,b]   = sum_s a[t,b,s] h[s,b]                             c (T, B, Hk)

Backward, with ``d_c`` and ``d_a`` the gradients arriving at the outputs::

    d_a[t,b,s] += d_c[t,b] . h[s,b]           d_h[s,b] = sum_t a[t,b,s] d_c[t,b]       (context)
    d_e[t,b,s]  = a[t,b,s] (d_a[t,b,s] - sum_r a[t,b,r] d_a[t,b,r])                    (softmax)

A padded position has ``a = 0``, so its ``d_e`` and its ``d_h`` from the context are exact zeros, and
the score backwards give it no gradient through the keys either (every term carries its ``d_e``).

Every sum over t or s is a batched matrix product over B (``(B, T, H) @ (B, H, S)``), never a Python
loop over time. ``*_forward(...) -> out(s), cache`` and ``*_backward(d_out(s), cache) -> dict`` like the
cells; :func:`attention_forward` / :func:`attention_backward` chain the three stages.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import backend
from .._checks import check_same_float_dtype, check_shape
from .activations import softmax
from .masking import length_mask

SCORES = ("additive", "dot", "general")
"""The score functions, by the name the models and the command line use."""


def _batch_major(x):
    """``(T, B, H)`` -> ``(B, T, H)`` (a view): the layout of the batched matrix products."""
    return x.transpose(1, 0, 2)


def _check_pair(q, k):
    """``q (T, B, Hq)``, ``k (S, B, Hk)`` on one backend with one float dtype; returns xp."""
    xp = backend.array_module(q=q, k=k)
    check_shape("q", q, (None, None, None))
    check_shape("k", k, (None, q.shape[1], None))
    check_same_float_dtype(q=q, k=k)
    return xp


# -- scores -----------------------------------------------------------------------------------------------
@dataclass
class DotScoreCache:
    """What the dot score keeps: the queries and keys."""
    q: object
    k: object


def dot_score_forward(q, k):
    """The dot score ``e[t,b,s] = q[t,b]·k[s,b]``: ``q (T, B, H)``, ``k (S, B, H)`` -> ``e (T, B, S)``, cache."""
    _check_pair(q, k)
    if q.shape[2] != k.shape[2]:
        raise ValueError(f"k: the dot score needs keys of the queries' size {q.shape[2]}, got shape {tuple(k.shape)}")
    e = _batch_major(q) @ k.transpose(1, 2, 0)                             # (B, T, H) @ (B, H, S) = (B, T, S)
    return _batch_major(e), DotScoreCache(q, k)


def dot_score_backward(d_e, cache):
    """``d_q[t,b] = sum_s d_e[t,b,s] k[s,b]``, ``d_k[s,b] = sum_t d_e[t,b,s] q[t,b]``. Returns q, k."""
    d_e = _batch_major(d_e)                                                 # (B, T, S)
    return {"q": _batch_major(d_e @ _batch_major(cache.k)),                # (B, T, S) @ (B, S, H)
            "k": _batch_major(d_e.transpose(0, 2, 1) @ _batch_major(cache.q))}


@dataclass
class GeneralScoreCache:
    """What the general score keeps: queries, keys, ``W`` and the projected keys ``k W^T (S, B, Hq)``."""
    q: object
    k: object
    W: object
    k_proj: object


def general_score_forward(q, k, W):
    """``e[t,b,s] = q[t,b]^T W k[s,b]``: ``q (T, B, Hq)``, ``k (S, B, Hk)``, ``W (Hq, Hk)`` -> ``e (T, B, S)``."""
    _check_pair(q, k)
    check_shape("W", W, (q.shape[2], k.shape[2]))
    check_same_float_dtype(q=q, W=W)
    k_proj = k @ W.T                                                        # (S, B, Hq): W k[s,b]
    e, _ = dot_score_forward(q, k_proj)
    return e, GeneralScoreCache(q, k, W, k_proj)


def general_score_backward(d_e, cache):
    """The dot score's backward to ``q`` and ``W k``, then ``d_k = d_(Wk) W``, ``d_W = sum d_(Wk)^T k``.

    Returns q, k, W.
    """
    grads = dot_score_backward(d_e, DotScoreCache(cache.q, cache.k_proj))
    d_k_proj = grads["k"]                                                   # (S, B, Hq)
    Hq, Hk = cache.W.shape
    return {"q": grads["q"], "k": d_k_proj @ cache.W,
            "W": d_k_proj.reshape(-1, Hq).T @ cache.k.reshape(-1, Hk)}


@dataclass
class AdditiveScoreCache:
    """What the additive score keeps: inputs, weights and ``z = tanh(W_q q + W_k k)``, ``(B, T, S, A)``."""
    q: object
    k: object
    W_q: object
    W_k: object
    v: object
    z: object


def additive_score_forward(q, k, W_q, W_k, v):
    """Bahdanau's additive score ``e[t,b,s] = v·tanh(W_q q[t,b] + W_k k[s,b])``.

    ``q (T, B, Hq)``, ``k (S, B, Hk)``, ``W_q (A, Hq)``, ``W_k (A, Hk)``, ``v (A,)`` -> ``e (T, B, S)``, cache.
    The sum inside the tanh has one entry per (t, b, s, a): memory ``T*B*S*A``, the price of this score.
    """
    xp = _check_pair(q, k)
    check_shape("W_q", W_q, (None, q.shape[2]))
    A = W_q.shape[0]
    check_shape("W_k", W_k, (A, k.shape[2]))
    check_shape("v", v, (A,))
    check_same_float_dtype(q=q, W_q=W_q, W_k=W_k, v=v)
    q_proj = _batch_major(q @ W_q.T)                                         # (B, T, A)
    k_proj = _batch_major(k @ W_k.T)                                         # (B, S, A)
    z = q_proj[:, :, None, :] + k_proj[:, None, :, :]                        # u (B, T, S, A): the big array ...
    xp.tanh(z, out=z)                                                        # ... so tanh runs in place
    e = z @ v                                                                # (B, T, S)
    return _batch_major(e), AdditiveScoreCache(q, k, W_q, W_k, v, z)


def additive_score_backward(d_e, cache):
    """Through ``e = z v`` and ``z = tanh(u)``, ``u = W_q q + W_k k``::

        d_v = sum_{t,b,s} d_e z       d_u = d_e v (1 - z^2)
        d_q = (sum_s d_u) W_q         d_W_q = sum_{t,b} (sum_s d_u)^T q
        d_k = (sum_t d_u) W_k         d_W_k = sum_{s,b} (sum_t d_u)^T k

    Returns q, k, W_q, W_k, v.
    """
    z, A = cache.z, cache.v.shape[0]
    xp = backend.array_module(d_e=d_e, z=z)
    d_e = _batch_major(d_e)                                                  # (B, T, S)
    d_v = d_e.reshape(-1) @ z.reshape(-1, A)
    d_u = z * z                                                              # (B, T, S, A), built in place:
    xp.subtract(1, d_u, out=d_u)                                             # 1 - z^2
    d_u *= d_e[..., None]
    d_u *= cache.v                                                           # d_u = d_e v (1 - z^2)
    d_q_proj = _batch_major(d_u.sum(axis=2))                                 # (T, B, A)
    d_k_proj = _batch_major(d_u.sum(axis=1))                                 # (S, B, A)
    q, k = cache.q, cache.k
    return {"q": d_q_proj @ cache.W_q, "k": d_k_proj @ cache.W_k,
            "W_q": d_q_proj.reshape(-1, A).T @ q.reshape(-1, q.shape[2]),
            "W_k": d_k_proj.reshape(-1, A).T @ k.reshape(-1, k.shape[2]),
            "v": d_v}


# -- masked softmax over source positions -----------------------------------------------------------------
def source_mask(lengths, S, B, xp):
    """``(B, S)`` bool, True where ``s < lengths[b]``; None when ``lengths`` is None or every length is S.

    ``lengths (B,)`` ints in ``[1, S]``: a source of length 0 has no position to attend to, so its
    softmax would be 0/0; it is refused here rather than turned into NaN.
    """
    if lengths is not None and getattr(lengths, "size", 0):
        host = backend.to_numpy(lengths)
        if host.min() < 1:
            b = int(host.argmin())
            raise ValueError(f"lengths: every source needs at least one position to attend to, "
                             f"got lengths[{b}] = {host[b]}")
    mask = length_mask(lengths, S, B, xp)                                    # (S, B, 1), checks the rest
    return None if mask is None else mask[:, :, 0].T


@dataclass
class MaskedSoftmaxCache:
    """The weights ``a (T, B, S)`` (zero at padding): all the backward needs."""
    a: object


def masked_softmax_forward(e, lengths=None):
    """``a[t,b,:] = softmax(e[t,b,:])`` over the source positions ``s < lengths[b]``, 0 elsewhere.

    ``e (T, B, S)`` scores, ``lengths (B,)`` ints in [1, S] or None -> ``a (T, B, S)``, cache. Padded
    scores are replaced by -inf before the softmax, so their weights are exact zeros whatever the
    scores held there (even inf or NaN from the padding's garbage).
    """
    xp = backend.array_module(e=e, lengths=lengths)
    check_shape("e", e, (None, None, None))
    T, B, S = e.shape
    valid = source_mask(lengths, S, B, xp)
    if valid is not None:
        e = xp.where(valid[None], e, -xp.inf)
    a = softmax(e, axis=-1)
    return a, MaskedSoftmaxCache(a)


def masked_softmax_backward(d_a, cache):
    """``d_e = a (d_a - sum_s a d_a)``: exact zeros where ``a`` is (the padding). Returns ``{"e": d_e}``."""
    a = cache.a
    check_shape("d_a", d_a, a.shape)
    return {"e": a * (d_a - (a * d_a).sum(axis=-1, keepdims=True))}


# -- the context vector ----------------------------------------------------------------------------------
@dataclass
class ContextCache:
    """The weights and the values the context was built from."""
    a: object
    h: object


def context_forward(a, h):
    """``c[t,b] = sum_s a[t,b,s] h[s,b]``: ``a (T, B, S)``, ``h (S, B, H)`` -> ``c (T, B, H)``, cache."""
    backend.array_module(a=a, h=h)
    check_shape("a", a, (None, None, None))
    check_shape("h", h, (a.shape[2], a.shape[1], None))
    check_same_float_dtype(a=a, h=h)
    c = _batch_major(a) @ _batch_major(h)                                   # (B, T, S) @ (B, S, H)
    return _batch_major(c), ContextCache(a, h)


def context_backward(d_c, cache):
    """The context's backward ``d_a[t,b,s] = d_c[t,b]·h[s,b]``, ``d_h[s,b] = sum_t a[t,b,s] d_c[t,b]``. Returns a, h."""
    check_shape("d_c", d_c, (cache.a.shape[0], cache.a.shape[1], cache.h.shape[2]))
    d_c = _batch_major(d_c)                                                  # (B, T, H)
    return {"a": _batch_major(d_c @ cache.h.transpose(1, 2, 0)),            # (B, T, H) @ (B, H, S)
            "h": _batch_major(_batch_major(cache.a).transpose(0, 2, 1) @ d_c)}  # (B, S, T) @ (B, T, H)


# -- the three stages chained ----------------------------------------------------------------------------
SCORE_FUNCTIONS = {
    "additive": (additive_score_forward, additive_score_backward, ("W_q", "W_k", "v")),
    "dot": (dot_score_forward, dot_score_backward, ()),
    "general": (general_score_forward, general_score_backward, ("W",)),
}


def check_score(score):
    """``score`` if it names a score function; a clear error naming the choices otherwise."""
    if score not in SCORE_FUNCTIONS:
        raise ValueError(f"attention: expected one of {', '.join(SCORES)}, got {score!r}")
    return score


@dataclass
class AttentionCache:
    """The three stages' caches, and which score was used."""
    score: str
    score_cache: object
    softmax_cache: MaskedSoftmaxCache
    context_cache: ContextCache


def attention_forward(q, h, lengths=None, score="dot", **weights):
    """Score, masked softmax, context: the whole attention in one call.

    Args:
        q: ``(T, B, Hq)`` queries (T = 1 for one decoding step).
        h: ``(S, B, Hk)`` encoder outputs: the keys and the values.
        lengths: ``(B,)`` source lengths in [1, S], or None when no source is padded.
        score: ``"additive"``, ``"dot"`` or ``"general"``.
        weights: the score's parameters by name: ``W_q, W_k, v`` (additive), ``W`` (general), none (dot).

    Returns:
        ``c (T, B, Hk)`` the context vectors, ``a (T, B, S)`` the weights, cache.
    """
    forward, _, names = SCORE_FUNCTIONS[check_score(score)]
    if set(weights) != set(names):
        raise TypeError(f"attention {score!r}: expected the weights {list(names) or 'none'}, got {sorted(weights)}")
    e, score_cache = forward(q, h, **weights)
    a, softmax_cache = masked_softmax_forward(e, lengths)
    c, context_cache = context_forward(a, h)
    return c, a, AttentionCache(score, score_cache, softmax_cache, context_cache)


def attention_backward(d_c, d_a, cache):
    """Backward of :func:`attention_forward`: ``d_c (T, B, Hk)``, ``d_a (T, B, S)`` or None (the weights
    are usually only looked at). Returns q, h and the score's weights."""
    grads = context_backward(d_c, cache.context_cache)
    d_a = grads["a"] if d_a is None else grads["a"] + d_a
    d_e = masked_softmax_backward(d_a, cache.softmax_cache)["e"]
    score_grads = SCORE_FUNCTIONS[cache.score][1](d_e, cache.score_cache)
    score_grads["h"] = score_grads.pop("k") + grads["h"]                     # h is both the keys and the values
    return score_grads
