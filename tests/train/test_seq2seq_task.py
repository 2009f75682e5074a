"""The sequence-to-sequence task: teacher-forced training and its counts, exact match by greedy decoding,
and the trainer around it (learning, interrupt and resume)."""
import numpy as np
import pytest

from rnnscratch import backend, nn, optim
from rnnscratch.data import PairEncoder, PairIterator, ParallelDataset
from rnnscratch.functional.losses import IGNORE_INDEX
from rnnscratch.train import Seq2SeqTask, Tally, Trainer, TruncatedBPTT, get_task


@pytest.fixture(autouse=True)
def float64():
    with backend.use_backend(dtype="float64"):
        yield


# A few reversals of short digit strings: learnable in a few hundred small steps.
PAIRS = ParallelDataset(["12", "345", "6", "78", "901", "23", "4567", "89"],
                        ["21", "543", "6", "87", "109", "32", "7654", "98"])


def encoded(batch_size=4, seed=0, shuffle=True):
    pairs = PairEncoder.build(PAIRS)
    sources, targets = pairs.encode(PAIRS)
    vocab = pairs.target_vocab
    return pairs, PairIterator(sources, targets, batch_size, vocab.bos_index, vocab.eos_index, seed=seed,
                               shuffle=shuffle)


def make_model(pairs, attention="dot", seed=1):
    return nn.Seq2Seq(len(pairs.source_vocab), len(pairs.target_vocab), embed=8, hidden=16, attention=attention,
                      rng=seed)


def test_the_task_is_registered():
    assert isinstance(get_task("seq2seq"), Seq2SeqTask)


def test_train_batch_counts_tokens_and_teacher_forced_accuracy():
    pairs, batches = encoded()
    model, task, tally = make_model(pairs), Seq2SeqTask(), Tally()
    losses = []
    batch = next(iter(batches))
    src, src_lengths, tgt_in, tgt_out = batch
    logits = model(src, src_lengths, tgt_in)
    expected_loss, _ = model.loss(logits, tgt_out)
    counted = tgt_out != IGNORE_INDEX
    expected_correct = int(((logits.argmax(axis=2) == tgt_out) & counted).sum())
    task.train_batch(model, batch, None, None, losses.append, tally)
    assert losses == [pytest.approx(expected_loss)]
    assert tally.terms == int(counted.sum()) and tally.sequences == src.shape[1] and tally.correct == expected_correct
    assert tally.tokens == int(src_lengths.sum()) + int(counted.sum()) and tally.decoded == 0
    assert all(p.grad is not None and np.abs(p.grad).sum() > 0 for p in model.parameters())
    metrics = task.metrics(tally)
    assert set(metrics) == {"loss", "perplexity", "token_accuracy"}
    assert metrics["perplexity"] == pytest.approx(np.exp(metrics["loss"]))
    with pytest.raises(ValueError, match="bptt: a sequence-to-sequence model is trained through whole sequences"):
        task.train_batch(model, batch, None, TruncatedBPTT(2), losses.append, tally)
    with pytest.raises(ValueError, match="num_classes: a sequence-to-sequence model has no confusion matrix"):
        task.new_confusion(3)


def test_references_drop_eos_and_padding():
    tgt_out = np.array([[5, 7], [3, 8], [IGNORE_INDEX, 3]])
    assert Seq2SeqTask.references(tgt_out) == [[5], [7, 8]]


def test_exact_match_is_what_greedy_decoding_reproduces_whole():
    pairs, batches = encoded(shuffle=False)
    model, task, tally = make_model(pairs), Seq2SeqTask(), Tally()
    Trainer(model, optim.Adam(model.parameters(), lr=0.02), "seq2seq", clip=5.0, quiet=True).fit(batches, epochs=12)
    for batch in batches(0):
        task.eval_batch(model, batch, None, tally)
    vocab = pairs.target_vocab
    # the oracle: decode every source alone, with a generous limit, and compare with the target text
    right = 0
    for source, target in zip(PAIRS.sources, PAIRS.targets):
        decoded = nn.greedy_decode(model, np.array(pairs.encode_source(source))[:, None], None, vocab.bos_index,
                                   vocab.eos_index, max_len=20)
        right += pairs.decode_target(decoded.tokens[0]) == target and len(decoded.tokens[0]) == len(target)
    assert 0 < right < len(PAIRS)                       # half trained: some right, some wrong
    assert tally.decoded == len(PAIRS) and tally.exact == right
    assert task.metrics(tally)["exact_match"] == right / len(PAIRS)


def test_the_trainer_learns_the_pairs_to_an_exact_match_of_one():
    pairs, batches = encoded()
    model = make_model(pairs)
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.02), "seq2seq", clip=5.0, quiet=True)
    before = trainer.evaluate(list(batches(0)))
    trainer.fit(batches, epochs=40)
    after = trainer.evaluate(list(batches(0)))
    assert before["exact_match"] < 0.5 and after["exact_match"] == 1.0 and after["token_accuracy"] == 1.0
    assert after["loss"] < before["loss"] / 10


def weights(model):
    return {k: np.array(v) for k, v in model.state_dict().items()}


def test_interrupt_and_resume_equals_uninterrupted(tmp_path):
    pairs, batches = encoded(batch_size=3)

    def trainer(model, out=None):
        return Trainer(model, optim.Adam(model.parameters(), lr=0.01), "seq2seq", clip=1.0, quiet=True, out_dir=out)

    straight = make_model(pairs, attention="general")
    trainer(straight).fit(batches, epochs=3)

    def interrupting(epoch):
        for k, batch in enumerate(batches(epoch)):
            if (epoch, k) == (1, 2):
                raise KeyboardInterrupt
            yield batch

    first = make_model(pairs, attention="general")
    with pytest.raises(KeyboardInterrupt):
        trainer(first, tmp_path).fit(interrupting, epochs=3)
    resumed = make_model(pairs, attention="general", seed=7)        # other weights: they must come from the file
    t = trainer(resumed, tmp_path)
    t.resume(tmp_path / "interrupted.npz")
    t.fit(batches, epochs=3)
    for k, v in weights(straight).items():
        np.testing.assert_array_equal(weights(resumed)[k], v, err_msg=k)
