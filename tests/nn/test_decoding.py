"""Greedy and beam search: beam 1 is greedy, beam search beats greedy where it should, EOS, batching."""
import numpy as np
import pytest

from rnnscratch import backend, nn
from rnnscratch.functional import log_softmax

SRC_V, V, S, B = 7, 6, 5, 4
BOS, EOS = 1, 2
LENGTHS = np.array([5, 2, 4, 1])


@pytest.fixture(autouse=True)
def float64():
    with backend.use_backend(dtype="float64"):
        yield


def _random_model(seed, **options):
    """A small random model with peaked output distributions, so that searches take different paths."""
    model = nn.Seq2Seq(SRC_V, V, embed=3, hidden=4, rng=seed, **options)
    model.decoder.head.weight.data *= 6
    return model


def _source(rng):
    return rng.integers(0, SRC_V, size=(S, B)), LENGTHS


def _sequence_score(model, src, length, tokens, max_len):
    """Sum of log p of ``tokens`` (+ EOS when they stopped before max_len), by teacher forcing."""
    ended = len(tokens) < max_len
    tgt_in = np.array([BOS] + tokens[:len(tokens) if ended else len(tokens) - 1])[:, None]
    tgt_out = tokens + ([EOS] if ended else [])
    log_p = log_softmax(model.eval()(src[:length, None], np.array([length]), tgt_in)[:, 0], axis=1)
    return float(log_p[np.arange(len(tgt_out)), tgt_out].sum())


OPTIONS = {"dot": dict(attention="dot"), "none": dict(attention="none"),
           "general-feeding-gru": dict(attention="general", input_feeding=True, cell="gru"),
           "additive-bidirectional": dict(attention="additive", bidirectional=True, layers=2)}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_beam_width_one_is_greedy(options, seed, rng):
    model = _random_model(seed, **options)
    src, lengths = _source(rng)
    greedy = nn.greedy_decode(model, src, lengths, BOS, EOS, max_len=6)
    beam = nn.beam_search(model, src, lengths, BOS, EOS, max_len=6, beam=1, length_penalty=0.0)
    assert beam.tokens == greedy.tokens
    assert beam.scores == greedy.scores
    if greedy.attention is None:
        assert beam.attention is None and model.attention_weights is None
    else:
        for a, b in zip(greedy.attention, beam.attention):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("search", ["greedy", "beam"])
@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_scores_are_the_models_log_probabilities(options, search, rng):
    model = _random_model(3, **options)
    src, lengths = _source(rng)
    if search == "greedy":
        result = nn.greedy_decode(model, src, lengths, BOS, EOS, max_len=5)
    else:
        result = nn.beam_search(model, src, lengths, BOS, EOS, max_len=5, beam=3, length_penalty=0.0)
    for b in range(B):
        assert EOS not in result.tokens[b] and len(result.tokens[b]) <= 5
        expected = _sequence_score(model, src[:, b], lengths[b], result.tokens[b], 5)
        assert result.scores[b] == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_batched_equals_one_by_one(options, rng):
    model = _random_model(4, **options)
    src, lengths = _source(rng)
    greedy = nn.greedy_decode(model, src, lengths, BOS, EOS, max_len=6)
    beam = nn.beam_search(model, src, lengths, BOS, EOS, max_len=6, beam=3, length_penalty=0.7)
    for b, L in enumerate(lengths):
        alone = src[:L, b:b + 1], np.array([L])
        for batched, single in ((greedy, nn.greedy_decode(model, *alone, BOS, EOS, max_len=6)),
                                (beam, nn.beam_search(model, *alone, BOS, EOS, max_len=6, beam=3, length_penalty=0.7))):
            assert batched.tokens[b] == single.tokens[0]
            assert batched.scores[b] == pytest.approx(single.scores[0], abs=1e-12)
            if batched.attention is not None:
                np.testing.assert_allclose(batched.attention[b], single.attention[0], atol=1e-12)


def test_attention_of_the_chosen_hypothesis(rng):
    model = _random_model(5, attention="dot")
    src, lengths = _source(rng)
    result = nn.greedy_decode(model, src, lengths, BOS, EOS, max_len=6)
    weights = model.attention_weights                                  # (steps, B, S)
    for b, L in enumerate(lengths):
        rows = len(result.tokens[b]) + (len(result.tokens[b]) < 6)     # one row per emitted token, EOS included
        assert result.attention[b].shape == (rows, L)
        np.testing.assert_allclose(result.attention[b].sum(axis=1), 1.0)
        np.testing.assert_array_equal(weights[:rows, b, :L], result.attention[b])
        assert np.all(weights[rows:, b] == 0) and np.all(weights[:, b, L:] == 0)


# -- a hand-built model: a Markov chain over the target tokens --------------------------------------------------
A_, B_, C_ = 3, 4, 5
CHAIN = {   # previous token -> probabilities of the next (the rest get ~e^-30)
    BOS: {A_: 0.6, B_: 0.4},
    A_: {EOS: 0.34, B_: 0.33, C_: 0.33},
    B_: {EOS: 0.9, C_: 0.1},
    C_: {C_: 1.0},                              # C never ends: only max_len stops it
}


def _chain_model():
    """Decoder: a tanh RNN with W_hh = 0 whose state is the previous token (one-hot), so the head's column
    for token j holds the log probabilities of what follows j. The encoder does not matter."""
    model = nn.Seq2Seq(SRC_V, V, embed=V, hidden=V, cell="rnn", attention="none", rng=0)
    decoder, scale = model.decoder, np.tanh(3.0)
    decoder.embedding.weight.data[...] = 3.0 * np.eye(V)
    decoder.rnn.weight_ih_l0.data[...] = np.eye(V)
    for name in ("weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "bias_ih_l0"):
        getattr(decoder.rnn, name).data[...] = 0
    decoder.head.bias.data[...] = 0
    logits = np.full((V, V), -30.0)                         # logits[next, previous]
    for previous, following in CHAIN.items():
        for token, p in following.items():
            logits[token, previous] = np.log(p)
    decoder.head.weight.data[...] = logits / scale
    return model


def test_beam_search_finds_the_better_sequence_where_greedy_does_not(rng):
    model = _chain_model()
    src, lengths = _source(rng)
    greedy = nn.greedy_decode(model, src, lengths, BOS, EOS, max_len=5)
    beam = nn.beam_search(model, src, lengths, BOS, EOS, max_len=5, beam=2, length_penalty=0.0)
    assert greedy.tokens == [[A_]] * B                      # 0.6 first, then EOS: p = 0.6 * 0.34 = 0.204
    assert beam.tokens == [[B_]] * B                        # 0.4 * 0.9 = 0.36
    np.testing.assert_allclose(greedy.scores, np.log(0.6 * 0.34), atol=1e-9)
    np.testing.assert_allclose(beam.scores, np.log(0.4 * 0.9), atol=1e-9)
    assert all(b > g for b, g in zip(beam.scores, greedy.scores))


def test_eos_stops_a_hypothesis_and_max_len_stops_the_rest(rng):
    model = _chain_model()
    src, lengths = _source(rng)
    model.decoder.head.weight.data[EOS, B_] = -30.0 / np.tanh(3.0)   # after B: C for sure, and C never ends
    beam = nn.beam_search(model, src, lengths, BOS, EOS, max_len=4, beam=2, length_penalty=0.0)
    # live after step 0: A, B. Step 1: B->C (0.4) and A->EOS (0.204, finished), A->B ...; C continues to max_len
    assert beam.tokens[0] == [B_, C_, C_, C_]
    np.testing.assert_allclose(beam.scores[0], np.log(0.4), atol=1e-9)
    greedy = nn.greedy_decode(model, src, lengths, BOS, EOS, max_len=4)
    assert greedy.tokens[0] == [A_]                         # stopped at EOS, which is not returned
    never = _chain_model()
    never.decoder.head.weight.data[:, BOS] = never.decoder.head.weight.data[:, C_]   # start with C: no end
    result = nn.greedy_decode(never, src, lengths, BOS, EOS, max_len=3)
    assert result.tokens == [[C_] * 3] * B


def test_length_penalty_prefers_longer_hypotheses_per_token(rng):
    model = _chain_model()
    src, lengths = _source(rng)
    w = model.decoder.head.weight.data
    scale = np.tanh(3.0)
    w[:, BOS] = -30.0 / scale
    w[EOS, BOS], w[C_, BOS] = np.log(0.55) / scale, np.log(0.45) / scale       # "" (0.55) or C ...
    w[:, C_] = -30.0 / scale
    w[EOS, C_], w[C_, C_] = np.log(0.95) / scale, np.log(0.05) / scale         # ... C EOS: 0.45 * 0.95 = 0.4275
    raw = nn.beam_search(model, src, lengths, BOS, EOS, max_len=4, beam=2, length_penalty=0.0)
    mean = nn.beam_search(model, src, lengths, BOS, EOS, max_len=4, beam=2, length_penalty=1.0)
    assert raw.tokens[0] == [] and mean.tokens[0] == [C_]
    np.testing.assert_allclose(mean.scores[0], np.log(0.45 * 0.95) / 2, atol=1e-9)


@pytest.mark.parametrize("kwargs, message", [
    (dict(beam=0), "beam: expected a beam width >= 1, got 0"),
    (dict(beam=-2), "beam: expected a beam width >= 1, got -2"),
    (dict(beam=2.5), "beam: expected a beam width >= 1, got 2.5"),
    (dict(length_penalty=-1.0), "length_penalty: expected a finite number >= 0, got -1.0"),
    (dict(max_len=0), "max_len: expected a positive int, got 0"),
    (dict(eos=V), r"eos: expected a token id in \[0, 5\], got 6"),
])
def test_bad_decoding_arguments(kwargs, message, rng):
    model = _random_model(0, attention="dot")
    src, lengths = _source(rng)
    arguments = {"bos": BOS, "eos": EOS, "max_len": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        nn.beam_search(model, src, lengths, **arguments)
    if "beam" not in kwargs and "length_penalty" not in kwargs:
        with pytest.raises(ValueError, match=message):
            nn.greedy_decode(model, src, lengths, **arguments)


def test_decoding_restores_training_mode(rng):
    model = _random_model(0, attention="dot", dropout=0.3)
    src, lengths = _source(rng)
    first = nn.greedy_decode(model, src, lengths, BOS, EOS, max_len=4)
    assert model.training
    assert nn.greedy_decode(model, src, lengths, BOS, EOS, max_len=4).tokens == first.tokens   # no dropout inside


def test_beam_step_ranks_all_extensions_together_and_ends_hypotheses_at_eos():
    from rnnscratch.nn.decoding import beam_step
    log = np.log
    scores = np.array([[log(0.5), log(0.3)]])                     # k = 2, V = 4, eos = 2
    probs = np.array([[[0.05, 0.6, 0.3, 0.05],                   # 0.30 0.15(eos) ...
                       [0.1, 0.0, 0.8, 0.1]]])                   # 0.24(eos) 0.03 0.03
    with np.errstate(divide="ignore"):
        parents, tokens, new_scores, finished = beam_step(scores, log(probs), eos=2, length=3, alpha=1.0)
    # ranked: (0,1) .30, (1,2) .24 eos, (0,2) .15 eos, (1,0) .03, (1,3) .03, (0,0) .025, ...
    assert parents.tolist() == [[0, 1]] and tokens.tolist() == [[1, 0]]          # the best two that are not eos
    np.testing.assert_allclose(new_scores, log([[0.30, 0.03]]))                  # raw sums
    np.testing.assert_allclose(finished, [[-np.inf, log(0.24) / 3]])  # rank 1 ends; rank 2 is not in the top 2
    empty = np.array([[0.0, -np.inf]])                                           # the first step: one start hypothesis
    uniform = log(np.full((1, 2, 3), 1 / 3))
    parents, tokens, new_scores, finished = beam_step(empty, uniform, eos=0, length=1, alpha=0.0)
    assert parents.tolist() == [[0, 0]] and tokens.tolist() == [[1, 2]] and np.isfinite(new_scores).all()
    assert finished[0, 1] == -np.inf and np.isclose(finished[0, 0], log(1 / 3))  # eos ties first: lowest index
