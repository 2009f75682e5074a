"""Sequence to sequence in the application: options and their defaults, data preparation, the training job,
translation and evaluation from the checkpoint alone (from Python; the command line: tests/test_cli_seq2seq.py)."""
import json

import numpy as np
import pytest

from rnnscratch import backend, nn
from rnnscratch.app import TrainConfig, evaluate, load_trained, translate, train
from rnnscratch.app.config import TASK_DEFAULTS, ConfigError, RunInfo
from rnnscratch.app.data import load_pairs, prepare, read_pairs
from rnnscratch.data import DataError, Vocab
from rnnscratch.train import load_checkpoint


# -- options -----------------------------------------------------------------------------------------
def test_the_defaults_are_dlfs2s_and_depend_on_the_data():
    dates = TrainConfig(task="seq2seq").resolved()
    assert (dates.data, dates.model, dates.layers, dates.embed, dates.hidden, dates.lr, dates.batch_size, dates.clip) \
        == ("dates", "lstm", 1, 16, 256, 1e-3, 128, 5.0)
    assert dates.reverse_source is True and dates.attention == "dot" and dates.target_tokenizer == "char"
    addition = TrainConfig(task="seq2seq", data="addition").resolved()
    assert addition.hidden == 128 and addition.epochs == 50 and addition.embed == 16
    assert TrainConfig(task="seq2seq", data="addition", hidden=64, epochs=3).resolved().hidden == 64
    assert TrainConfig(task="seq2seq", tokenizer="word").resolved().target_tokenizer == "word"
    assert TrainConfig(task="seq2seq", tokenizer="word", target_tokenizer="char").resolved().target_tokenizer == "char"
    assert TrainConfig(task="seq2seq").resolved() == TrainConfig(task="seq2seq").resolved().resolved()


@pytest.mark.parametrize("options, message", [
    (dict(attention="dot"), "--attention: for --task seq2seq only"),
    (dict(reverse_source=False), "--no-reverse-source: for --task seq2seq only"),
    (dict(reverse_source=True), "--reverse-source: for --task seq2seq only"),
    (dict(input_feeding=True), "--input-feeding: for --task seq2seq only"),
    (dict(target_tokenizer="word"), "--target-tokenizer: for --task seq2seq only"),
])
def test_seq2seq_options_are_refused_for_the_other_tasks(options, message):
    with pytest.raises(ConfigError, match=f"{message} \\(this run is --task classify\\)"):
        TrainConfig(**options).resolved()


@pytest.mark.parametrize("options, message", [
    (dict(bptt=5), "--bptt: truncated BPTT is for --task classify and lm"),
    (dict(k1=5), "--k1: truncated BPTT is for --task classify and lm"),
    (dict(embed=0), "--embed 0: a sequence-to-sequence model needs an embedding size >= 1"),
    (dict(attention="luong"), "attention: expected one of none, additive, dot, general, got 'luong'"),
    (dict(target_tokenizer="bpe"), "target_tokenizer: expected one of char, word, got 'bpe'"),
])
def test_options_a_seq2seq_run_cannot_take(options, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(task="seq2seq", **options).resolved()


def test_the_run_record_holds_what_translation_needs():
    config = TrainConfig(task="seq2seq", data="addition", reverse_source=False).resolved()
    target = Vocab.build([["1", "2"]], specials=("<pad>", "<unk>", "<bos>", "<eos>"))
    info = RunInfo.of_run(config, target_vocab=target.to_dict())
    assert (info.task, info.tokenizer, info.target_tokenizer, info.reverse_source) == ("seq2seq", "char", "char", False)
    assert Vocab.from_dict(info.target_vocab).itos == target.itos and info.settings["attention"] == "dot"
    assert RunInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info
    assert set(TASK_DEFAULTS["seq2seq"]) <= {f for f in TrainConfig.__dataclass_fields__}


# -- data ------------------------------------------------------------------------------------------------
def test_generated_pairs_hold_out_a_test_and_a_validation_part():
    train_part, val, test = load_pairs("addition", None, seed=0, test_split=0.2, val_split=0.1, limit=90)
    assert (len(train_part), len(val), len(test)) == (90, 10, 10)
    parts = [set(train_part.sources), set(val.sources), set(test.sources)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    again, no_val, same_test = load_pairs("addition", None, seed=0, test_split=0.2, val_split=0.0, limit=90)
    assert no_val is None and same_test.sources == test.sources and len(again) == 90
    full = load_pairs("dates", None, seed=0, test_split=0.2, val_split=0.1)
    assert [len(part) for part in full] == [45000, 5000, 5000]
    small = load_pairs("dates", None, seed=0, test_split=0.2, val_split=0.1, limit=90)
    assert small[2].sources == full[2].sources[:10]             # the held-out pairs lead the seeded stream


def test_a_pairs_file_is_split_by_the_fractions(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{k}+{k}\t{2 * k}\n" for k in range(40)))
    train_part, val, test = load_pairs(str(path), None, seed=1, test_split=0.25, val_split=0.2)
    assert (len(train_part), len(val), len(test)) == (24, 6, 10)
    assert sorted(train_part.sources + val.sources + test.sources) == sorted(f"{k}+{k}" for k in range(40))
    assert len(load_pairs(str(path), None, seed=1, test_split=0.25, val_split=0.2, limit=5)[0]) == 5
    assert read_pairs(str(path), "tsv").targets[:2] == ["0", "2"]
    with pytest.raises(DataError, match="--format fasttext: a sequence-to-sequence run reads pairs, as tsv or csv"):
        read_pairs(str(path), "fasttext")
    with pytest.raises(DataError, match="--data embedded: a sequence-to-sequence run needs pairs: addition, dates"):
        load_pairs("embedded", None, 0, 0.2, 0.1)


def test_prepare_batches_pairs_with_both_vocabularies():
    data = prepare(TrainConfig(task="seq2seq", data="dates", limit=200, batch_size=16).resolved())
    assert data.task == "seq2seq" and data.sizes == (200, 23, 23) and data.vocab is data.pairs.source_vocab
    assert data.pairs.reverse_source and "<eos>" in data.pairs.target_vocab and "<eos>" not in data.vocab
    src, src_lengths, tgt_in, tgt_out = next(iter(data.train(0)))
    assert src.shape[1] == src_lengths.shape[0] == tgt_in.shape[1] <= 16 and tgt_in.shape == tgt_out.shape == (11, 16)
    assert sum(b[0].shape[1] for b in data.test) == 23
    assert data.summary[0] == "data: 200 training pairs from dates(seed=0)"
    assert "the longest target has 10 (--max-len 100)" in data.summary[1]


def test_training_batches_mix_source_lengths_and_held_out_batches_are_bucketed():
    # random training batches (bucketed ones each hold a few date formats and train slower per epoch)
    data = prepare(TrainConfig(task="seq2seq", data="dates", limit=400, batch_size=16).resolved())

    def spread(batches):
        """The mean over batches of (longest - shortest) source."""
        return np.mean([int(lengths.max() - lengths.min()) for _, lengths, _, _ in batches])

    assert spread(data.train(0)) > 10                       # dates' sources have 6 to 29 characters
    assert spread(data.test) < spread(data.train(0)) / 2


def test_prepare_refuses_a_long_target_and_a_generated_task_for_another_task(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"q{k}\tshort\n" for k in range(20)) + "q\t" + "x" * 23 + "\n")
    with pytest.raises(DataError, match=r"pairs.tsv:21: the target has 23 char tokens, more than --max-len 10; raise "
                                        "--max-len"):
        prepare(TrainConfig(task="seq2seq", data=str(path), max_len=10, test_split=0.01, val_split=0.0).resolved())
    with pytest.raises(DataError, match="--data dates: a generated sequence-to-sequence task; train it with --task "
                                        "seq2seq"):
        prepare(TrainConfig(task="classify", data="dates").resolved())


# -- the job, translation, evaluation ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seq2seq_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("seq2seq")
    metrics = train(TrainConfig(task="seq2seq", data="dates", limit=300, epochs=1, hidden=24, batch_size=32,
                                out=str(out), quiet=True))
    return out, metrics


def test_the_job_writes_seq2seq_metrics_and_records_both_vocabularies(seq2seq_run):
    out, metrics = seq2seq_run
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert {"test_loss", "test_perplexity", "test_token_accuracy", "test_exact_match", "val_exact_match"} <= set(metrics)
    ckpt = load_checkpoint(out / "best.npz")
    info = RunInfo.from_dict(ckpt.meta["extra"])
    assert ckpt.meta["model"] == "Seq2Seq" and ckpt.model.config["attention"] == "dot"
    assert info.reverse_source is True and info.target_tokenizer == "char" and "<bos>" in info.target_vocab["itos"]
    assert Vocab.from_dict(ckpt.vocab).itos == load_trained(out / "best.npz").pairs.source_vocab.itos


def test_evaluate_recreates_the_runs_held_out_pairs(seq2seq_run):
    out, metrics = seq2seq_run
    measured = evaluate(out / "best.npz")
    assert measured["examples"] == 34
    for key in ("loss", "token_accuracy", "exact_match"):
        assert measured[key] == pytest.approx(metrics[f"test_{key}"], rel=1e-6), key
    assert evaluate(out / "best.npz", split="train")["examples"] == 300


def test_evaluate_a_pairs_file(seq2seq_run, tmp_path):
    path = tmp_path / "more.tsv"
    path.write_text("september 27, 1994\t1994-09-27\n1/2/03\t2003-01-02\n")
    measured = evaluate(seq2seq_run[0] / "best.npz", data=str(path))
    assert measured["examples"] == 2 and 0 <= measured["exact_match"] <= 1


def test_translate_gives_attention_over_the_source_as_written(seq2seq_run):
    path = seq2seq_run[0] / "best.npz"
    out = translate(path, ["sep 27, 1994", "1994.09.27"])
    trained = load_trained(path)
    pairs, vocab = trained.pairs, trained.pairs.target_vocab
    for text, t in zip(["sep 27, 1994", "1994.09.27"], out):
        assert t.source_tokens == list(text)
        assert t.attention.shape == (len(t.target_tokens), len(text))
        np.testing.assert_allclose(t.attention.sum(axis=1), 1.0, rtol=1e-5)
        ids = np.array(pairs.encode_source(text))[:, None]
        alone = nn.greedy_decode(trained.model, ids, None, vocab.bos_index, vocab.eos_index, trained.run.max_len + 1)
        assert t.text == pairs.decode_target(alone.tokens[0])
        np.testing.assert_allclose(t.attention, np.asarray(alone.attention[0])[:, ::-1], atol=1e-6)   # un-reversed
    beam_one = translate(path, ["sep 27, 1994", "1994.09.27"], beam=1)
    assert [t.text for t in beam_one] == [t.text for t in out]
    assert len(translate(path, ["1/2/03"], beam=3)) == 1


def test_translate_warns_about_unseen_characters_and_empty_texts(seq2seq_run):
    path = seq2seq_run[0] / "best.npz"
    with pytest.warns(UserWarning, match=r"text 1: '\u00e9', '#' never seen in training: read as <unk>"):
        out = translate(path, ["\u00e9t\u00e9 #1"])
    assert out[0].source_tokens == list("\u00e9t\u00e9 #1")
    with pytest.warns(UserWarning, match="text 2 is empty"):
        out = translate(path, ["1/2/03", ""])
    assert len(out) == 2 and out[1].source_tokens == ["<unk>"]


@pytest.mark.parametrize("kwargs, message", [(dict(beam=0), "--beam 0: expected a beam width >= 1"),
                                             (dict(beam=2, length_penalty=-1.0), "--length-penalty -1.0: expected")])
def test_translate_refuses_bad_decoding_options(seq2seq_run, kwargs, message):
    with pytest.raises(ValueError, match=message):
        translate(seq2seq_run[0] / "best.npz", ["1/2/03"], **kwargs)


def test_translate_refuses_another_kind_of_model(tmp_path):
    out = tmp_path / "c"
    train(TrainConfig(epochs=1, out=str(out), quiet=True))
    with pytest.raises(DataError, match="holds a classifier; use `rnnscratch predict`"):
        translate(out / "best.npz", ["x"])


def test_a_run_trains_on_the_backend_chosen(seq2seq_run):
    assert backend.get_backend() == "numpy"
