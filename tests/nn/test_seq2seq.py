"""Seq2Seq end to end: gradient checks of every variant with padding, padding invariance, PyTorch parity."""
import numpy as np
import pytest

from rnnscratch import backend, nn
from rnnscratch.functional import IGNORE_INDEX
from rnnscratch.gradcheck import check_gradients, check_module

TOL = 1e-6
SRC_V, TGT_V, S, T, B = 7, 6, 5, 4, 3
LENGTHS = np.array([5, 2, 3])


@pytest.fixture(autouse=True)
def float64():
    with backend.use_backend(dtype="float64"):
        yield


def _batch(rng):
    """Source ids with garbage in the padding, src_lengths, tgt_in (with padding ids) and tgt_out."""
    src = rng.integers(0, SRC_V, size=(S, B))
    tgt_in = rng.integers(0, TGT_V, size=(T, B))
    tgt_out = rng.integers(0, TGT_V, size=(T, B))
    tgt_in[3:, 1] = 0                              # sequence 1 has a 3-token target: padded input ...
    tgt_out[3:, 1] = IGNORE_INDEX                  # ... and an ignored label
    return src, LENGTHS, tgt_in, tgt_out


VARIANTS = {   # id: constructor options (small shapes: embed 3, hidden 4)
    "none": dict(attention="none"),
    "additive": dict(attention="additive"),
    "dot": dict(attention="dot"),
    "general": dict(attention="general"),
    "additive-feeding": dict(attention="additive", input_feeding=True),
    "dot-feeding": dict(attention="dot", input_feeding=True),
    "general-feeding": dict(attention="general", input_feeding=True),
    "bidirectional-lstm-2-layers": dict(attention="dot", bidirectional=True, layers=2),
    "bidirectional-gru-feeding": dict(attention="general", bidirectional=True, cell="gru", input_feeding=True),
    "rnn-2-layers": dict(attention="additive", cell="rnn", layers=2),
    "none-bidirectional": dict(attention="none", bidirectional=True),
}


def _model(options, seed=0, **extra):
    return nn.Seq2Seq(SRC_V, TGT_V, embed=3, hidden=4, rng=seed, **options, **extra).eval()


@pytest.mark.parametrize("options", VARIANTS.values(), ids=VARIANTS.keys())
def test_gradcheck_with_padded_sources_and_targets(options, rng):
    model = _model(options)
    src, lengths, tgt_in, _ = _batch(rng)
    report = check_module(model, lambda: model(src, lengths, tgt_in), lambda d: model.backward(d), max_entries=30)
    assert set(report) == {name for name, _ in model.named_parameters()}
    if options.get("bidirectional"):
        assert any(name.startswith("encoder.bridge_h") for name in report)
    report.assert_ok(TOL)


@pytest.mark.parametrize("options", [VARIANTS["dot-feeding"], VARIANTS["bidirectional-lstm-2-layers"]],
                         ids=["dot-feeding", "bidirectional"])
def test_gradcheck_of_the_loss_ignores_padded_targets(options, rng):
    model = _model(options)
    src, lengths, tgt_in, tgt_out = _batch(rng)
    model.zero_grad()
    loss, d_logits = model.loss(model(src, lengths, tgt_in), tgt_out)
    model.backward(d_logits)
    params = dict(model.named_parameters())
    report = check_gradients(lambda: model.loss(model(src, lengths, tgt_in), tgt_out)[0],
                             {n: p.data for n, p in params.items()}, {n: p.grad.copy() for n, p in params.items()},
                             max_entries=30)
    report.assert_ok(TOL)
    changed = tgt_in.copy()
    changed[3:, 1] = 5                             # what a padded input step holds does not change the loss
    assert model.loss(model(src, lengths, changed), tgt_out)[0] == pytest.approx(loss, abs=1e-14)


@pytest.mark.parametrize("options", VARIANTS.values(), ids=VARIANTS.keys())
def test_padded_source_changes_nothing(options, rng):
    model = _model(options)
    src, lengths, tgt_in, _ = _batch(rng)
    logits = model(src, lengths, tgt_in)
    weights = model.attention_weights
    for b, L in enumerate(lengths):
        alone = model(src[:L, b:b + 1], np.array([L]), tgt_in[:, b:b + 1])
        np.testing.assert_allclose(logits[:, b], alone[:, 0], rtol=0, atol=1e-12)
        if weights is not None:
            np.testing.assert_allclose(weights[:, b, :L], model.attention_weights[:, 0], rtol=0, atol=1e-12)
            assert np.all(weights[:, b, L:] == 0)


def test_attention_weights_after_forward(rng):
    src, lengths, tgt_in, _ = _batch(rng)
    model = _model(VARIANTS["general"])
    model(src, lengths, tgt_in)
    assert model.attention_weights.shape == (T, B, S)
    np.testing.assert_allclose(model.attention_weights.sum(axis=2), 1.0)
    plain = _model(VARIANTS["none"])
    plain(src, lengths, tgt_in)
    assert plain.attention_weights is None


def test_rebuilds_from_its_config(rng):
    model = _model(VARIANTS["bidirectional-gru-feeding"], dropout=0.1)
    again = nn.build_model("Seq2Seq", model.config)
    again.load_state_dict(model.state_dict())
    src, lengths, tgt_in, _ = _batch(rng)
    np.testing.assert_array_equal(again.eval()(src, lengths, tgt_in), model(src, lengths, tgt_in))


def test_default_dtype_is_float32_and_dropout_only_in_training(rng):
    with backend.use_backend(dtype="float32"):
        model = nn.Seq2Seq(SRC_V, TGT_V, embed=3, hidden=4, dropout=0.5, rng=0)
    src, lengths, tgt_in, _ = _batch(rng)
    assert model(src, lengths, tgt_in).dtype == np.float32
    assert not np.array_equal(model(src, lengths, tgt_in), model(src, lengths, tgt_in))      # dropout draws
    model.eval()
    np.testing.assert_array_equal(model(src, lengths, tgt_in), model(src, lengths, tgt_in))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(attention="cosine"), ValueError, "attention: expected one of none, additive, dot, general, got 'cosine'"),
    (dict(attention="none", input_feeding=True), ValueError, "input_feeding: .* needs an attention"),
    (dict(hidden=5, bidirectional=True), ValueError, "hidden: .* must be even, got 5"),
    (dict(cell="lstmx"), ValueError, "cell: expected one of"),
    (dict(hidden=0), ValueError, "hidden: expected a positive int, got 0"),
])
def test_bad_constructor_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        nn.Seq2Seq(SRC_V, TGT_V, **{"embed": 3, "hidden": 4, **kwargs})


def test_bad_call_arguments(rng):
    model = _model(VARIANTS["dot"])
    src, lengths, tgt_in, _ = _batch(rng)
    with pytest.raises(ValueError, match=r"src_lengths: every source length must be in \[1, 5\] .* got 0"):
        model(src, np.array([5, 0, 3]), tgt_in)
    with pytest.raises(ValueError, match=r"src_lengths: every source length must be in \[1, 5\] .* got 6"):
        model(src, np.array([6, 1, 3]), tgt_in)
    with pytest.raises(ValueError, match=r"src_lengths: expected shape \(3,\), got \(2,\)"):
        model(src, np.array([5, 1]), tgt_in)
    with pytest.raises(IndexError, match=r"src: token id 7 is outside the embedding's range \[0, 6\]"):
        model(np.where(src == 0, SRC_V, src), lengths, tgt_in)
    with pytest.raises(ValueError, match=r"tgt_in: expected shape \(\?, 3\), got \(4, 2\)"):
        model(src, lengths, tgt_in[:, :2])
    with pytest.raises(IndexError, match="tgt_in: token id 6 is outside"):
        model(src, lengths, np.full((T, B), TGT_V))
    logits = model(src, lengths, tgt_in)
    with pytest.raises(ValueError, match=r"d_logits: expected shape \(4, 3, 6\)"):
        model.backward(logits[:2])
    with pytest.raises(RuntimeError, match="backward called before forward"):
        model.backward(logits)


# -- PyTorch parity ---------------------------------------------------------------------------------------------
def _torch_model(torch, options, hidden, embed=3):
    """The same architecture in PyTorch, with our parameter names (so state dicts pass straight through)."""
    tnn = torch.nn
    attention, bidirectional = options.get("attention", "dot"), options.get("bidirectional", False)
    feeding, layers = options.get("input_feeding", False), options.get("layers", 1)

    class Part(tnn.Module):
        pass

    model = tnn.Module()
    model.encoder, model.decoder = Part(), Part()
    enc, dec = model.encoder, model.decoder
    enc.embedding, dec.embedding = tnn.Embedding(SRC_V, embed), tnn.Embedding(TGT_V, embed)
    enc.rnn = tnn.LSTM(embed, hidden // 2 if bidirectional else hidden, layers, bidirectional=bidirectional)
    if bidirectional:
        enc.bridge_h, enc.bridge_c = tnn.Linear(hidden, hidden), tnn.Linear(hidden, hidden)
    dec.rnn = tnn.LSTM(embed + (hidden if feeding else 0), hidden, layers)
    if attention != "none":
        dec.attention = Part()
        if attention == "general":
            dec.attention.W = tnn.Parameter(torch.zeros(hidden, hidden))
        if attention == "additive":
            for name, shape in (("W_q", (hidden, hidden)), ("W_k", (hidden, hidden)), ("v", (hidden,))):
                setattr(dec.attention, name, tnn.Parameter(torch.zeros(shape)))
    dec.head = tnn.Linear(hidden * (1 if attention == "none" else 2), TGT_V)

    def attend(q, memory, lengths):                    # q (T, B, H), memory (S, B, H)
        w = dec.attention
        if attention == "dot":
            e = torch.einsum("tbh,sbh->tbs", q, memory)
        elif attention == "general":
            e = torch.einsum("tbi,ij,sbj->tbs", q, w.W, memory)
        else:
            e = torch.tanh((q @ w.W_q.T)[:, :, None] + (memory @ w.W_k.T).transpose(0, 1)[None]) @ w.v
        pad = torch.arange(memory.shape[0])[None, :] >= torch.tensor(lengths)[:, None]
        a = torch.softmax(e.masked_fill(pad[None], float("-inf")), dim=2)
        return torch.einsum("tbs,sbh->tbh", a, memory)

    def forward(src, lengths, tgt_in):
        packed = tnn.utils.rnn.pack_padded_sequence(enc.embedding(torch.tensor(src)), torch.tensor(lengths),
                                                    enforce_sorted=False)
        memory, (h, c) = enc.rnn(packed)
        memory, _ = tnn.utils.rnn.pad_packed_sequence(memory, total_length=src.shape[0])
        if bidirectional:
            def join(s):              # (2L, B, H/2) -> (L, B, H) = [forward; backward] of each layer
                return s.view(layers, 2, s.shape[1], -1).permute(0, 2, 1, 3).reshape(layers, s.shape[1], -1)
            h, c = torch.tanh(enc.bridge_h(join(h))), torch.tanh(enc.bridge_c(join(c)))
        x = dec.embedding(torch.tensor(tgt_in))
        if not feeding:
            out, _ = dec.rnn(x, (h, c))
            features = out if attention == "none" else torch.cat([attend(out, memory, lengths), out], dim=2)
        else:
            context, steps, state = torch.zeros(x.shape[1], hidden), [], (h, c)
            for t in range(x.shape[0]):
                out, state = dec.rnn(torch.cat([x[t], context], dim=1)[None], state)
                context = attend(out, memory, lengths)[0]
                steps.append(torch.cat([context, out[0]], dim=1))
            features = torch.stack(steps)
        return dec.head(features)

    return model, forward


PARITY = {k: VARIANTS[k] for k in ("none", "dot", "general", "additive", "dot-feeding", "bidirectional-lstm-2-layers")}


@pytest.mark.parametrize("options", PARITY.values(), ids=PARITY.keys())
def test_matches_pytorch(options, rng):
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    try:
        hidden = 6
        ours = nn.Seq2Seq(SRC_V, TGT_V, embed=3, hidden=hidden, rng=1, **options)
        theirs, their_forward = _torch_model(torch, options, hidden)
        state = ours.state_dict()
        assert set(state) == set(theirs.state_dict())
        theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
        src, lengths, tgt_in, tgt_out = _batch(rng)

        logits = ours(src, lengths, tgt_in)
        loss, d_logits = ours.loss(logits, tgt_out)
        ours.backward(d_logits)
        logits_t = their_forward(src, lengths, tgt_in)
        loss_t = torch.nn.functional.cross_entropy(logits_t.reshape(-1, TGT_V), torch.tensor(tgt_out).reshape(-1),
                                                   ignore_index=IGNORE_INDEX)
        loss_t.backward()
    finally:
        torch.set_default_dtype(torch.float32)
    assert np.abs(logits - logits_t.detach().numpy()).max() < 1e-10
    assert loss == pytest.approx(loss_t.item(), abs=1e-12)
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert np.abs(p.grad - their_params[name].grad.numpy()).max() < 1e-10, name
