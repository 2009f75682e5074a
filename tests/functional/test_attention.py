"""Attention: gradient checks with padded sources, exact zeros at padding, parity with PyTorch autograd."""
import numpy as np
import pytest

from rnnscratch import functional as F
from rnnscratch.functional import attention as A
from rnnscratch.gradcheck import check_function

TOL = 1e-6
T, B, S, HQ, HK, ATT = 3, 4, 5, 3, 6, 2          # every size different, so a transposed weight cannot pass
LENGTHS = np.array([5, 2, 4, 1])                 # padded sources, including a source of one position


def _weights(score, rng, Hq=HQ, Hk=HK):
    if score == "additive":
        return {"W_q": rng.standard_normal((ATT, Hq)), "W_k": rng.standard_normal((ATT, Hk)),
                "v": rng.standard_normal(ATT)}
    if score == "general":
        return {"W": rng.standard_normal((Hq, Hk))}
    return {}


def _inputs(score, rng, T=T):
    Hq = HK if score == "dot" else HQ          # dot needs H_q = H_k; the others are checked with H_q != H_k
    return {"q": rng.standard_normal((T, B, Hq)), "h": rng.standard_normal((S, B, HK)), **_weights(score, rng, Hq)}


def _padding():
    """``(S, B)`` True at the padded source positions of LENGTHS."""
    return np.arange(S)[:, None] >= LENGTHS[None, :]


# -- gradient checks ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("score", A.SCORES)
def test_score_gradients(score, rng):
    inputs = _inputs(score, rng)
    inputs["k"] = inputs.pop("h")
    forward, backward, _ = A.SCORE_FUNCTIONS[score]
    report = check_function(forward, backward, inputs)
    assert set(report) == set(inputs)
    report.assert_ok(TOL)


def test_masked_softmax_gradient_with_padding(rng):
    report = check_function(lambda e: A.masked_softmax_forward(e, LENGTHS), A.masked_softmax_backward,
                            {"e": rng.standard_normal((T, B, S))})
    report.assert_ok(TOL)


def test_context_gradient(rng):
    a = A.masked_softmax_forward(rng.standard_normal((T, B, S)), LENGTHS)[0]
    report = check_function(A.context_forward, A.context_backward, {"a": a, "h": rng.standard_normal((S, B, HK))})
    assert set(report) == {"a", "h"}
    report.assert_ok(TOL)


@pytest.mark.parametrize("steps", [T, 1], ids=["all-steps", "one-step"])
@pytest.mark.parametrize("score", A.SCORES)
def test_attention_gradients_with_padded_sources(score, steps, rng):
    inputs = _inputs(score, rng, T=steps)
    report = check_function(lambda **kw: A.attention_forward(lengths=LENGTHS, score=score, **kw),
                            A.attention_backward, inputs)
    assert set(report) == set(inputs)
    report.assert_ok(TOL)


# -- padding ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("score", A.SCORES)
def test_padding_gets_exactly_zero_weight_and_zero_gradient(score, rng):
    inputs = _inputs(score, rng)
    c, a, cache = A.attention_forward(lengths=LENGTHS, score=score, **inputs)
    pad = _padding()                                            # (S, B)
    assert np.all(a.transpose(0, 2, 1)[:, pad] == 0.0)          # a (T, B, S) -> (T, S, B)
    np.testing.assert_allclose(a.sum(axis=2), 1.0, rtol=0, atol=1e-12)
    grads = A.attention_backward(rng.standard_normal(c.shape), rng.standard_normal(a.shape), cache)
    assert np.all(grads["h"][pad] == 0.0)                       # no gradient reaches a padded encoder output
    assert np.any(grads["h"][~pad] != 0.0)

    garbage = {**inputs, "h": np.where(pad[:, :, None], 1e3 * rng.standard_normal(inputs["h"].shape), inputs["h"])}
    c2, a2, _ = A.attention_forward(lengths=LENGTHS, score=score, **garbage)
    np.testing.assert_array_equal(a2, a)                        # what the padding holds changes nothing
    np.testing.assert_array_equal(c2, c)


def test_masked_softmax_zero_gradient_at_padding_and_none_means_full(rng):
    e = rng.standard_normal((T, B, S))
    a, cache = A.masked_softmax_forward(e, LENGTHS)
    d_e = A.masked_softmax_backward(rng.standard_normal(e.shape), cache)["e"]
    assert np.all(d_e.transpose(0, 2, 1)[:, _padding()] == 0.0)
    full, _ = A.masked_softmax_forward(e, None)
    np.testing.assert_allclose(full, F.softmax(e, axis=2))
    np.testing.assert_array_equal(A.masked_softmax_forward(e, np.full(B, S))[0], full)


@pytest.mark.parametrize("score", A.SCORES)
def test_one_step_equals_the_row_of_the_whole_sequence(score, rng):
    inputs = _inputs(score, rng)
    c, a, _ = A.attention_forward(lengths=LENGTHS, score=score, **inputs)
    for t in range(T):
        c_t, a_t, _ = A.attention_forward(lengths=LENGTHS, score=score, **{**inputs, "q": inputs["q"][t:t + 1]})
        np.testing.assert_allclose(c_t[0], c[t], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(a_t[0], a[t], rtol=1e-12, atol=1e-14)


def test_scores_match_their_definitions(rng):
    q, k = rng.standard_normal((T, B, HQ)), rng.standard_normal((S, B, HK))
    w = _weights("general", rng) | _weights("additive", rng)
    t, b, s = 2, 1, 3
    np.testing.assert_allclose(A.general_score_forward(q, k, w["W"])[0][t, b, s], q[t, b] @ w["W"] @ k[s, b])
    additive = w["v"] @ np.tanh(w["W_q"] @ q[t, b] + w["W_k"] @ k[s, b])
    np.testing.assert_allclose(A.additive_score_forward(q, k, w["W_q"], w["W_k"], w["v"])[0][t, b, s], additive)
    k2 = rng.standard_normal((S, B, HQ))
    np.testing.assert_allclose(A.dot_score_forward(q, k2)[0][t, b, s], q[t, b] @ k2[s, b])


# -- bad input ------------------------------------------------------------------------------------------------
def test_a_source_of_length_zero_is_an_error(rng):
    with pytest.raises(ValueError, match=r"lengths: every source needs at least one position .* lengths\[1\] = 0"):
        A.masked_softmax_forward(rng.standard_normal((T, 2, S)), np.array([3, 0]))
    with pytest.raises(ValueError, match=r"lengths: every length must be in \[1, T=5\], got 6"):
        A.masked_softmax_forward(rng.standard_normal((T, 2, S)), np.array([6, 1]))


def test_bad_arguments_are_named(rng):
    q, h = rng.standard_normal((T, B, HQ)), rng.standard_normal((S, B, HK))
    with pytest.raises(ValueError, match="k: the dot score needs keys of the queries' size 3"):
        A.attention_forward(q, h, score="dot")
    with pytest.raises(ValueError, match="attention: expected one of additive, dot, general, got 'cosine'"):
        A.attention_forward(q, h, score="cosine")
    with pytest.raises(TypeError, match=r"attention 'general': expected the weights \['W'\]"):
        A.attention_forward(q, h, score="general")
    with pytest.raises(ValueError, match=r"W: expected shape \(3, 6\)"):
        A.general_score_forward(q, h, rng.standard_normal((6, 3)))
    with pytest.raises(ValueError, match=r"k: expected shape \(\?, 4, \?\)"):
        A.dot_score_forward(q, rng.standard_normal((S, 2, HQ)))
    with pytest.raises(TypeError, match="dtype float32 does not match"):
        A.dot_score_forward(q, h[..., :HQ].astype(np.float32))


# -- PyTorch autograd as the oracle ---------------------------------------------------------------------------
def _torch_attention(torch, q, h, lengths, score, w):
    """The equations of the module docstring in PyTorch, time-major like ours."""
    if score == "dot":
        e = torch.einsum("tbh,sbh->tbs", q, h)
    elif score == "general":
        e = torch.einsum("tbi,ij,sbj->tbs", q, w["W"], h)
    else:
        u = (q @ w["W_q"].T)[:, :, None, :] + (h @ w["W_k"].T).transpose(0, 1)[None]     # (T, B, S, A)
        e = torch.tanh(u) @ w["v"]
    pad = torch.arange(h.shape[0])[None, :] >= torch.tensor(lengths)[:, None]         # (B, S)
    a = torch.softmax(e.masked_fill(pad[None], float("-inf")), dim=2)
    return torch.einsum("tbs,sbh->tbh", a, h), a


@pytest.mark.parametrize("score", A.SCORES)
def test_matches_pytorch_autograd(score, rng):
    torch = pytest.importorskip("torch")
    inputs = _inputs(score, rng)
    c, a, cache = A.attention_forward(lengths=LENGTHS, score=score, **inputs)
    d_c, d_a = rng.standard_normal(c.shape), rng.standard_normal(a.shape)
    grads = A.attention_backward(d_c, d_a, cache)

    theirs = {name: torch.tensor(x, requires_grad=True) for name, x in inputs.items()}
    weights = {n: x for n, x in theirs.items() if n not in ("q", "h")}
    c_t, a_t = _torch_attention(torch, theirs["q"], theirs["h"], LENGTHS, score, weights)
    ((c_t * torch.tensor(d_c)).sum() + (a_t * torch.tensor(d_a)).sum()).backward()

    assert np.abs(c - c_t.detach().numpy()).max() < 1e-10
    assert np.abs(a - a_t.detach().numpy()).max() < 1e-10
    assert set(grads) == set(inputs)
    for name, x in theirs.items():
        assert np.abs(grads[name] - x.grad.numpy()).max() < 1e-10, name
