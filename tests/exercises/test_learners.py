"""Learner code written independently of the package: correct solutions in other styles pass, and
mistakes written another way than the catalogued variants still get their hint."""
import numpy as np
import pytest

from rnnscratch import exercises


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, order="ifgo"):
    a = np.dot(x, W_ih.T) + np.dot(h_prev, W_hh.T) + b_ih + b_hh
    H = h_prev.shape[1]
    gates = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    i, f, o, g = sigmoid(gates["i"]), sigmoid(gates["f"]), sigmoid(gates["o"]), np.tanh(gates["g"])
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, c, (x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, h, c)


def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, h, c = cache
    H = h.shape[1]
    a = x @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh
    i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    dc_total = dc + dh * o * (1 - np.tanh(c) ** 2)
    da = np.hstack([dc_total * g * i * (1 - i), dc_total * c_prev * f * (1 - f),
                    dc_total * i * (1 - g * g), dh * np.tanh(c) * o * (1 - o)])
    db = np.sum(da, axis=0)
    return {"x": da.dot(W_ih), "h_prev": da.dot(W_hh), "c_prev": dc_total * f,
            "W_ih": da.T.dot(x), "W_hh": da.T.dot(h_prev), "b_ih": db, "b_hh": db}


def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    W_ir, W_iz, W_in = W_ih[:H], W_ih[H:2 * H], W_ih[2 * H:]
    W_hr, W_hz, W_hn = W_hh[:H], W_hh[H:2 * H], W_hh[2 * H:]
    r = sigmoid(x @ W_ir.T + b_ih[:H] + h_prev @ W_hr.T + b_hh[:H])
    z = sigmoid(x @ W_iz.T + b_ih[H:2 * H] + h_prev @ W_hz.T + b_hh[H:2 * H])
    n = np.tanh(x @ W_in.T + b_ih[2 * H:] + r * (h_prev @ W_hn.T + b_hh[2 * H:]))
    h = (1 - z) * n + z * h_prev
    return h, (x, h_prev, W_ih, W_hh, b_ih, b_hh, h)


def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        plus, minus = x.copy(), x.copy()
        plus[i] += eps
        minus[i] -= eps
        grad[i] = (f(plus) - f(minus)) / (2 * eps)
        it.iternext()
    return grad


def embedding_forward(ids, W):
    if ids.min() < 0 or ids.max() >= W.shape[0]:
        raise IndexError("id out of range")
    one_hot = np.eye(W.shape[0])[ids]                 # (T, B, V)
    out = one_hot @ W
    return out, (ids, W, out)


def embedding_backward(d_out, cache):
    ids, W, _ = cache
    dW = np.zeros_like(W)
    for t in range(ids.shape[0]):
        for b in range(ids.shape[1]):
            dW[ids[t, b]] += d_out[t, b]
    return {"W": dW}


def sampling_distribution(logits, temperature=1.0, top_k=None):
    z = np.array(logits, dtype=float)
    if top_k is not None:
        z[np.argsort(z)[:-top_k]] = -np.inf
    if temperature == 0:
        p = np.zeros_like(z)
        p[np.argmax(z)] = 1.0
        return p
    z = z / temperature
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def truncated_bptt_windows(T, k1, k2):
    windows, loss_start = [], 0
    while loss_start < T:
        windows.append((max(0, loss_start - (k2 - k1)), loss_start, min(T, loss_start + k1)))
        loss_start += k1
    return windows


def temporal_softmax_loss(logits, targets, ignore_index=-100):
    T, B, V = logits.shape
    z, y = logits.reshape(T * B, V), targets.reshape(T * B)
    mask = (y != ignore_index).astype(float)
    m = z.max(axis=1, keepdims=True)
    log_p = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    y_safe = np.where(mask > 0, y, 0)
    n = mask.sum()
    loss = -np.sum(mask * log_p[np.arange(T * B), y_safe]) / n
    d = np.exp(log_p)
    d[np.arange(T * B), y_safe] -= 1
    d *= mask[:, None] / n
    return loss, d.reshape(T, B, V)


def mean_pool_forward(h, lengths):
    p = np.stack([h[:L, b].mean(axis=0) for b, L in enumerate(lengths)])
    return p, (h, lengths, p)


def max_pool_backward(d_p, cache):
    h, lengths, _ = cache
    dh = np.zeros_like(h)
    for b, L in enumerate(lengths):
        for f in range(h.shape[2]):
            dh[np.argmax(h[:L, b, f]), b, f] = d_p[b, f]
    return {"h": dh}


def clip_grad_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    if total > max_norm:
        return [g * (max_norm / total) for g in grads], total
    return [g.copy() for g in grads], total


def rel_error(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


CORRECT = [lstm_step_forward, lstm_step_backward, gru_step_forward, numerical_gradient, embedding_forward,
           embedding_backward, sampling_distribution, truncated_bptt_windows, temporal_softmax_loss,
           mean_pool_forward, max_pool_backward, clip_grad_norm, rel_error]


@pytest.mark.parametrize("fn", CORRECT, ids=[f.__name__ for f in CORRECT])
def test_correct_solutions_in_other_styles_pass(fn):
    result = exercises.grade(fn.__name__, fn)
    assert result.passed, str(result)


def test_realistic_mistakes_get_their_hints():
    def embedding_backward_buffered(d_out, cache):
        ids, W, _ = cache
        dW = np.zeros_like(W)
        dW[ids] += d_out
        return {"W": dW}

    def rnn_backward_cs231n(dout, cache):                 # forgets the gradient coming from t+1
        x, h0, W_ih, W_hh, b_ih, b_hh, out = cache
        dx, dW_ih, dW_hh, db = np.zeros_like(x), np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b_ih)
        dprev = np.zeros_like(h0)
        for t in range(x.shape[0] - 1, -1, -1):
            prev = h0 if t == 0 else out[t - 1]
            da = dout[t] * (1 - out[t] ** 2)
            dx[t], dprev = da @ W_ih, da @ W_hh
            dW_ih += da.T @ x[t]
            dW_hh += da.T @ prev
            db += da.sum(axis=0)
        return {"x": dx, "h0": dprev, "W_ih": dW_ih, "W_hh": dW_hh, "b_ih": db, "b_hh": db}

    def clip_each(grads, max_norm):
        out = []
        for g in grads:
            norm = np.linalg.norm(g)
            out.append(g * max_norm / norm if norm > max_norm else g.copy())
        return out, np.sqrt(sum((g ** 2).sum() for g in grads))

    def loss_over_batch(logits, targets, ignore_index=-100):     # CS231n divides by N, the batch size
        loss, d = temporal_softmax_loss(logits, targets, ignore_index)
        n = (targets != ignore_index).sum()
        return loss * n / logits.shape[1], d * n / logits.shape[1]

    def lstm_cs231n_order(*args):
        return lstm_step_forward(*args, order="ifog")

    expected = {"embedding_backward": (embedding_backward_buffered, "repeated_ids_overwrite"),
                "rnn_backward": (rnn_backward_cs231n, "dh_not_accumulated"),
                "clip_grad_norm": (clip_each, "per_parameter"),
                "temporal_softmax_loss": (loss_over_batch, "mean_over_batch"),
                "lstm_step_forward": (lstm_cs231n_order, "gate_order_ifog")}
    for name, (fn, hint) in expected.items():
        result = exercises.grade(name, fn)
        assert not result.passed and result.hint_ids == [hint], (name, str(result))


# ----------------------------------------------------------------------------- sequence to sequence

def masked_softmax_big_negative(e, lengths):
    """Masks with -1e30 instead of -inf (as many codebases do): the same weights, so it passes."""
    S = e.shape[2]
    keep = np.arange(S)[None, None, :] < np.asarray(lengths)[None, :, None]
    z = np.where(keep, e, -1e30)
    z = np.exp(z - z.max(axis=2, keepdims=True))
    a = z / z.sum(axis=2, keepdims=True)
    return a, (e, lengths, a)


def dot_attention_batch_major(q, h, lengths):
    """Batched matrix products in (B, T, H) layout, the mask added as -inf."""
    qb, hb = q.transpose(1, 0, 2), h.transpose(1, 0, 2)                 # (B, T, H), (B, S, H)
    e = qb @ hb.transpose(0, 2, 1)                                      # (B, T, S)
    e = e + np.where(np.arange(h.shape[0])[None, :] < lengths[:, None], 0.0, -np.inf)[:, None, :]
    a = np.exp(e - e.max(axis=2, keepdims=True))
    a /= a.sum(axis=2, keepdims=True)
    c = (a @ hb).transpose(1, 0, 2)
    a = a.transpose(1, 0, 2)
    return c, a, (q, h, lengths, c, a)


def beam_search_step_vectorised(scores, log_probs, eos, length, alpha):
    B, k, V = log_probs.shape
    flat = (scores[:, :, None] + log_probs).reshape(B, -1)
    order = np.argsort(-flat, axis=1, kind="stable")
    best = np.take_along_axis(flat, order, axis=1)
    eos_at = order % V == eos
    finished = np.full((B, k), -np.inf)
    for b, r in zip(*np.nonzero(eos_at[:, :k] & np.isfinite(best[:, :k]))):
        finished[b, order[b, r] // V] = best[b, r] / length ** alpha
    live = np.array([np.flatnonzero(~row)[:k] for row in eos_at])
    chosen = np.take_along_axis(order, live, axis=1)
    return chosen // V, chosen % V, np.take_along_axis(best, live, axis=1), finished


@pytest.mark.parametrize("fn", [masked_softmax_big_negative, dot_attention_batch_major, beam_search_step_vectorised],
                         ids=lambda f: f.__name__)
def test_seq2seq_solutions_in_other_styles_pass(fn):
    name = {"masked_softmax_big_negative": "masked_softmax_forward",
            "dot_attention_batch_major": "dot_attention_forward",
            "beam_search_step_vectorised": "beam_search_step"}[fn.__name__]
    result = exercises.grade(name, fn)
    assert result.passed, str(result)


def test_realistic_seq2seq_mistakes_get_their_hints():
    def transformer_habit(q, h, lengths):                  # scaled dot product, otherwise right
        c, a, _ = dot_attention_batch_major(q / np.sqrt(q.shape[2]), h, lengths)
        c = np.einsum("tbs,sbh->tbh", a, h)
        return c, a, (q, h, lengths, c, a)

    def zero_the_padding_afterwards(e, lengths):           # softmax over everything, then the padding set to 0
        a = np.exp(e - e.max(axis=2, keepdims=True))
        a /= a.sum(axis=2, keepdims=True)
        a = a * (np.arange(e.shape[2])[None, None, :] < lengths[None, :, None])
        return a, (e, lengths, a)

    def greedy_per_beam(scores, log_probs, eos, length, alpha):   # "beam search" as k greedy searches
        masked = np.where(np.arange(log_probs.shape[2]) == eos, -np.inf, log_probs)
        tokens = masked.argmax(axis=2)
        total = scores + np.take_along_axis(log_probs, tokens[:, :, None], axis=2)[:, :, 0]
        order = np.argsort(-total, axis=1, kind="stable")
        return (order, np.take_along_axis(tokens, order, axis=1), np.take_along_axis(total, order, axis=1),
                np.full(scores.shape, -np.inf))

    expected = {"dot_attention_forward": (transformer_habit, "scaled_scores"),
                "masked_softmax_forward": (zero_the_padding_afterwards, "mask_after_softmax"),
                "beam_search_step": (greedy_per_beam, "one_per_beam")}
    for name, (fn, hint) in expected.items():
        result = exercises.grade(name, fn)
        assert not result.passed and hint in result.hint_ids, (name, str(result))
