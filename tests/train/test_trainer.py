"""Trainer and checkpoints: reproducibility, resume == uninterrupted, faults, atomic writes."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from rnnscratch import backend, nn, optim
from rnnscratch.train import (CheckpointError, NonFiniteError, Trainer, TruncatedBPTT, epoch_rows, load_checkpoint,
                              save_checkpoint, step_rows)


@pytest.fixture(autouse=True)
def float64():
    with backend.use_backend(dtype="float64"):
        yield


def classify_batches(seed, n_batches=6, T=7, B=4, V=9):
    """Label = 1 when token 3 occurs in the sequence; lengths vary."""
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(n_batches):
        lengths = rng.integers(1, T + 1, size=B)
        ids = rng.integers(1, V, size=(T, B))
        ids[np.arange(T)[:, None] >= lengths[None, :]] = 0
        labels = (ids == 3).any(axis=0).astype(np.int64)
        batches.append((ids, lengths, labels))
    return batches


def lm_batches(T=5, B=2, n=4, V=6):
    stream = np.random.default_rng(0).integers(0, V, size=B * (T * n + 1)).reshape(B, -1).T
    return [(stream[k * T:(k + 1) * T], stream[k * T + 1:(k + 1) * T + 1]) for k in range(n)]


def make_classifier(seed=0):
    return nn.SequenceClassifier(9, 2, embed_dim=4, hidden_size=5, cell="lstm", dropout=0.3, rng=seed)


def make_trainer(model, out_dir=None, task="classify", bptt=None, lr=0.05, log_every=5):
    opt = optim.Adam(model.parameters(), lr=lr)
    return Trainer(model, opt, task, bptt=bptt, clip=1.0, scheduler=optim.StepLR(opt, 1, 0.9),
                   out_dir=out_dir, quiet=True, vocab={"tokens": ["<pad>", "a"]}, log_every=log_every)


def untimed(rows):
    """History rows without their timings (which differ from run to run)."""
    return [{k: v for k, v in row.items() if "second" not in k} for row in rows]


def data_for_epoch(epoch):
    return classify_batches(100 + epoch)


def weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def test_training_reduces_loss_and_writes_history(tmp_path):
    model = make_classifier()
    trainer = make_trainer(model, tmp_path)
    history = trainer.fit(data_for_epoch, classify_batches(7), epochs=4)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "tokens_per_second",
            "grad_norm"} <= set(history[0])
    rows = json.loads((tmp_path / "history.json").read_text())
    assert epoch_rows(rows) == history and step_rows(rows) == trainer.step_history
    assert [row["step"] for row in rows] == sorted(row["step"] for row in rows)          # in step order
    assert (tmp_path / "history.csv").read_text().splitlines()[0].startswith("kind,step,epoch,lr,seconds,")
    assert len((tmp_path / "history.csv").read_text().splitlines()) == len(rows) + 1
    assert (tmp_path / "last.npz").exists() and (tmp_path / "best.npz").exists()
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_same_seed_same_weights_bit_for_bit():
    a, b = make_classifier(3), make_classifier(3)
    make_trainer(a).fit(data_for_epoch, epochs=2)
    make_trainer(b).fit(data_for_epoch, epochs=2)
    for k, v in weights(a).items():
        np.testing.assert_array_equal(v, weights(b)[k])


class Interrupting:
    """Batches of an epoch that raise KeyboardInterrupt (like Ctrl-C) before batch ``at``."""

    def __init__(self, epoch_to_interrupt, at, make):
        self.epoch_to_interrupt, self.at, self.make = epoch_to_interrupt, at, make

    def __call__(self, epoch):
        batches = self.make(epoch)
        if epoch != self.epoch_to_interrupt:
            return batches

        def generate():
            for k, batch in enumerate(batches):
                if k == self.at:
                    raise KeyboardInterrupt
                yield batch
        return generate()


def _setup(task):
    """(make_model, data, trainer task, bptt) for "classify" (full BPTT), "classify-tbptt" and "lm"."""
    if task == "lm":
        make_model = lambda: nn.LanguageModel(6, hidden_size=4, embed_dim=3, cell="gru", dropout=0.2, rng=1)  # noqa: E731
        return make_model, (lambda epoch: lm_batches()), "lm", TruncatedBPTT(2, 3)
    return make_classifier, data_for_epoch, "classify", TruncatedBPTT(3) if task == "classify-tbptt" else None


@pytest.mark.parametrize("task", ["classify", "classify-tbptt", "lm"])
def test_interrupt_and_resume_equals_uninterrupted(task, tmp_path):
    make_model, data, kind, bptt = _setup(task)
    straight = make_model()
    straight_trainer = make_trainer(straight, task=kind, bptt=bptt)
    straight_trainer.fit(data, epochs=3)

    first = make_model()
    with pytest.raises(KeyboardInterrupt):
        make_trainer(first, tmp_path, task=kind, bptt=bptt).fit(Interrupting(1, 2, data), epochs=3)
    assert (tmp_path / "interrupted.npz").exists()
    resumed = make_model()                      # a fresh process would start exactly like this
    for p in resumed.parameters():
        p.data[...] = 0                         # prove the weights come from the checkpoint
    trainer = make_trainer(resumed, tmp_path, task=kind, bptt=bptt)
    trainer.resume(tmp_path / "interrupted.npz")
    assert trainer.epoch == 1
    trainer.fit(data, epochs=3)
    for k, v in weights(straight).items():
        np.testing.assert_array_equal(weights(resumed)[k], v, err_msg=k)
    assert len(trainer.history) == 3
    # the step rows too, the one whose window spans the interruption included
    assert len(trainer.step_history) >= 3
    assert untimed(trainer.step_history) == untimed(straight_trainer.step_history)
    rows = json.loads((tmp_path / "history.json").read_text())
    assert untimed(rows) == untimed(straight_trainer.history_rows)


def _signalling_step(trainer, at_step, times=1):
    """Make the optimizer send this process SIGINT (like Ctrl-C) ``times`` times during step ``at_step``."""
    step = trainer.optimizer.step

    def wrapped():
        if trainer.step + 1 == at_step:
            for _ in range(times):
                os.kill(os.getpid(), signal.SIGINT)
        step()
    trainer.optimizer.step = wrapped


@pytest.mark.parametrize("task", ["classify-tbptt", "lm"])
def test_ctrl_c_inside_a_batch_stops_at_its_end_and_resumes_exactly(task, tmp_path):
    make_model, data, kind, bptt = _setup(task)
    straight = make_model()
    straight_trainer = make_trainer(straight, task=kind, bptt=bptt)
    starts = []                                   # (epoch, batch, optimizer steps taken before it)

    def recorded(epoch):
        for index, batch in enumerate(data(epoch)):
            starts.append((epoch, index, straight_trainer.step))
            yield batch
    straight_trainer.fit(recorded, epochs=3)
    ends = [s[2] for s in starts[1:]] + [straight_trainer.step]
    # a batch of epoch 2 (not its first) trained in two or more TBPTT windows, i.e. optimizer steps
    k = next(k for k, (epoch, index, step) in enumerate(starts)
             if epoch == 1 and index > 0 and ends[k] - step >= 2)
    epoch, index, before = starts[k]

    first = make_model()
    trainer = make_trainer(first, tmp_path, task=kind, bptt=bptt)
    _signalling_step(trainer, before + 1)         # Ctrl-C during that batch's first window
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(data, epochs=3)
    ckpt = load_checkpoint(tmp_path / "interrupted.npz")
    # the batch in progress was finished (all its windows), then training stopped at the boundary
    assert (ckpt.meta["epoch"], ckpt.meta["batch_in_epoch"], ckpt.meta["step"]) == (epoch, index + 1, ends[k])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler        # handlers restored

    resumed = make_model()
    trainer = make_trainer(resumed, tmp_path, task=kind, bptt=bptt)
    trainer.resume(tmp_path / "interrupted.npz")
    trainer.fit(data, epochs=3)
    for k, v in weights(straight).items():
        np.testing.assert_array_equal(weights(resumed)[k], v, err_msg=k)
    same = ("train_loss", "train_accuracy", "grad_norm", "lr")       # not the timings
    assert [{k: h[k] for k in same if k in h} for h in trainer.history] == \
        [{k: h[k] for k in same if k in h} for h in straight_trainer.history]


def test_ctrl_c_during_validation_saves_the_finished_epoch_and_resumes_exactly(tmp_path):
    straight = make_classifier()
    straight_trainer = make_trainer(straight)
    straight_trainer.fit(data_for_epoch, lambda epoch: classify_batches(7), epochs=3)

    def validation(epoch):
        for k, batch in enumerate(classify_batches(7)):
            if epoch == 1 and k == 1:
                os.kill(os.getpid(), signal.SIGINT)
            yield batch
    model = make_classifier()
    with pytest.raises(KeyboardInterrupt):
        make_trainer(model, tmp_path).fit(data_for_epoch, validation, epochs=3)
    ckpt = load_checkpoint(tmp_path / "interrupted.npz")
    assert (ckpt.meta["epoch"], ckpt.meta["batch_in_epoch"]) == (1, len(data_for_epoch(1)))

    resumed = make_classifier()
    trainer = make_trainer(resumed, tmp_path)
    trainer.resume(tmp_path / "interrupted.npz")
    trainer.fit(data_for_epoch, lambda epoch: classify_batches(7), epochs=3)
    for k, v in weights(straight).items():
        np.testing.assert_array_equal(weights(resumed)[k], v, err_msg=k)
    same = ("train_loss", "train_accuracy", "grad_norm", "val_loss", "val_accuracy")
    assert [{k: h[k] for k in same} for h in trainer.history] == \
        [{k: h[k] for k in same} for h in straight_trainer.history]
    # the step row after the interruption covers steps of both epochs around it (rows every 5 of 6 steps)
    assert untimed(trainer.step_history) == untimed(straight_trainer.step_history)


def test_a_second_ctrl_c_stops_at_once_without_a_half_updated_checkpoint(tmp_path, capsys):
    model = make_classifier()
    trainer = make_trainer(model, tmp_path, bptt=TruncatedBPTT(3))
    trainer.quiet = False
    _signalling_step(trainer, 2, times=2)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(data_for_epoch, epochs=1)
    assert not (tmp_path / "interrupted.npz").exists()
    err = capsys.readouterr().err
    assert "SIGINT: stopping after this batch" in err and "no interrupted.npz written" in err
    assert trainer.step == 1                  # the second signal landed before step 2 was applied


def test_exploding_learning_rate_stops_with_a_clear_message_and_keeps_the_last_checkpoint(tmp_path):
    model = nn.SequenceClassifier(9, 2, embed_dim=4, hidden_size=5, cell="rnn_relu", rng=0)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.01), "classify", out_dir=tmp_path, quiet=True)
    trainer.fit(data_for_epoch, epochs=1)
    trainer.optimizer.lr = 1e6              # a ReLU RNN with no clipping diverges at once
    with np.errstate(all="ignore"), pytest.raises(NonFiniteError, match=r"non-finite gradient in parameter '[\w.]+' at epoch [23], step \d+") as stopped:
        trainer.fit(data_for_epoch, epochs=3)
    named = str(stopped.value).split("'")[1]
    assert named in dict(model.named_parameters())          # a real parameter, not 'None' or '?'
    # the bad gradient was caught before the optimizer step: the weights in memory are still finite
    assert all(np.isfinite(v).all() for v in weights(model).values())
    ckpt = load_checkpoint(tmp_path / "last.npz")          # the last completed epoch's checkpoint
    assert ckpt.meta["epoch"] == len(trainer.history) >= 1
    assert all(np.isfinite(v).all() for v in ckpt.model.state_dict().values())
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_checkpoint_rebuilds_the_model_with_no_other_input(tmp_path):
    model = nn.LanguageModel(7, hidden_size=4, embed_dim=3, cell="lstm", num_layers=2, rng=0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for p in model.parameters():
        p.grad[...] = 1.0
    opt.step()
    path = save_checkpoint(tmp_path / "m.npz", model, opt, epoch=3, step=11, vocab={"itos": list("abcdefg")})
    ckpt = load_checkpoint(path)
    ids = np.array([[1], [2], [3]])
    np.testing.assert_array_equal(ckpt.model(ids)[0], model(ids)[0])
    assert ckpt.meta["epoch"] == 3 and ckpt.vocab == {"itos": list("abcdefg")}
    other = optim.SGD(ckpt.model.parameters(), lr=0.1, momentum=0.9)
    ckpt.restore_optimizer(other)
    np.testing.assert_array_equal(other.state[0]["momentum_buffer"], opt.state[0]["momentum_buffer"])


def test_truncated_and_foreign_checkpoints_are_refused(tmp_path):
    model = make_classifier()
    path = save_checkpoint(tmp_path / "c.npz", model)
    data = (tmp_path / "c.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="unreadable \\(truncated or damaged\\)"):
        load_checkpoint(tmp_path / "cut.npz")
    np.savez(tmp_path / "plain.npz", a=np.zeros(2))
    with pytest.raises(CheckpointError, match="not an rnnscratch checkpoint"):
        load_checkpoint(tmp_path / "plain.npz")
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "missing.npz")
    other = nn.SequenceClassifier(9, 2, embed_dim=4, hidden_size=6)
    with pytest.raises(ValueError, match="holds a SequenceClassifier with config"):
        make_trainer(other).resume(path)


def test_no_checkpoint_is_written_from_non_finite_arrays(tmp_path):
    model = make_classifier()
    opt = optim.Adam(model.parameters(), lr=0.1)
    save_checkpoint(tmp_path / "c.npz", model, opt)
    good = (tmp_path / "c.npz").read_bytes()
    opt.state[0]["exp_avg"] = np.full_like(model.parameters()[0].data, np.inf)
    with pytest.raises(CheckpointError, match="not written: optimizer buffer 'exp_avg' of parameter 0 holds NaN or inf"):
        save_checkpoint(tmp_path / "c.npz", model, opt)
    name, p = next(iter(model.named_parameters()))
    p.data[0] = np.nan
    with pytest.raises(CheckpointError, match=f"not written: parameter '{name}' holds NaN or inf"):
        save_checkpoint(tmp_path / "c.npz", model)
    assert (tmp_path / "c.npz").read_bytes() == good and os.listdir(tmp_path) == ["c.npz"]


def test_a_failed_write_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    model = make_classifier()
    save_checkpoint(tmp_path / "c.npz", model)
    before = (tmp_path / "c.npz").read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"partial")
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path / "c.npz", model)
    assert (tmp_path / "c.npz").read_bytes() == before
    assert os.listdir(tmp_path) == ["c.npz"]


def test_early_stopping():
    model = make_classifier()
    trainer = make_trainer(model, lr=0.0)              # nothing improves after epoch 1
    history = trainer.fit(data_for_epoch, classify_batches(7), epochs=10)
    trainer.patience = 2
    trainer.history, trainer.epoch = [], 0
    history = trainer.fit(data_for_epoch, classify_batches(7), epochs=10)
    assert len(history) == 3


def test_sigterm_saves_a_resumable_checkpoint(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {os.getcwd()!r})
        from rnnscratch import nn, optim
        from rnnscratch.train import Trainer
        from tests.train.test_trainer import classify_batches
        model = nn.SequenceClassifier(9, 2, embed_dim=4, hidden_size=5, rng=0)
        def slow(epoch):
            for b in classify_batches(epoch, n_batches=1000):
                time.sleep(0.01)
                yield b
        print("ready", flush=True)
        Trainer(model, optim.Adam(model.parameters()), "classify", out_dir={str(tmp_path)!r}, quiet=True).fit(slow, epochs=1)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    ckpt = load_checkpoint(tmp_path / "interrupted.npz")
    assert ckpt.meta["batch_in_epoch"] > 0 and ckpt.meta["epoch"] == 0


def test_bad_task():
    with pytest.raises(ValueError, match="task: expected one of"):
        Trainer(make_classifier(), None, "regress")


def test_evaluate_counts_a_confusion_matrix_in_the_same_pass():
    model = make_classifier()
    batches = classify_batches(3)
    metrics = make_trainer(model).evaluate(batches, num_classes=2)
    confusion = np.array(metrics["confusion"])
    labels = np.concatenate([b[2] for b in batches])
    assert confusion.sum() == len(labels)
    assert confusion.sum(axis=1).tolist() == [int((labels == 0).sum()), int((labels == 1).sum())]
    assert np.trace(confusion) / len(labels) == pytest.approx(metrics["accuracy"])


def test_a_step_that_makes_the_weights_non_finite_saves_nothing_from_them(tmp_path):
    """The update of epoch 2's last batch turns a weight into NaN: training stops naming the step and the
    parameter, last.npz keeps epoch 1 (finite, loadable), and no checkpoint holds the bad weights."""
    model = make_classifier()
    trainer = make_trainer(model, tmp_path)
    step = trainer.optimizer.step
    steps_per_epoch = len(data_for_epoch(0))

    def poisoned():
        step()
        if trainer.step + 1 == 2 * steps_per_epoch:
            model.head.weight.data[0, 0] = np.nan
    trainer.optimizer.step = poisoned
    with pytest.raises(NonFiniteError, match=rf"update at epoch 2, step {2 * steps_per_epoch} made parameter "
                                             r"'head.weight' non-finite"):
        trainer.fit(data_for_epoch, classify_batches(7), epochs=3)
    ckpt = load_checkpoint(tmp_path / "last.npz")
    assert ckpt.meta["epoch"] == 1
    assert all(np.isfinite(v).all() for v in ckpt.model.state_dict().values())
    assert load_checkpoint(tmp_path / "best.npz").meta["epoch"] == 1
    assert not (tmp_path / "interrupted.npz").exists()


def test_a_non_finite_loss_stops_before_the_step():
    model = make_classifier()
    trainer = make_trainer(model)
    before = weights(model)
    with np.errstate(all="ignore"), pytest.raises(NonFiniteError, match=r"non-finite loss \(nan\) at epoch 1, step 1"):
        trainer._update(float("nan"))
    assert all(np.array_equal(before[k], v) for k, v in weights(model).items())
    assert trainer.step == 0


@pytest.mark.parametrize("kwargs", [dict(clip=0), dict(clip=-1.0), dict(clip=float("nan")), dict(clip_value=0)])
def test_clipping_thresholds_are_checked_before_training(kwargs):
    model = make_classifier()
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=rf"{name}: expected a finite number > 0, or None for no clipping"):
        Trainer(model, optim.SGD(model.parameters(), lr=0.1), "classify", **kwargs)


# -- frozen parameters ---------------------------------------------------------------------------------
def test_a_frozen_embedding_stays_bit_identical_through_training_checkpoints_and_resume(tmp_path):
    model = make_classifier()
    model.embedding.weight.requires_grad = False
    frozen = model.embedding.weight.data.copy()
    trained = model.head.weight.data.copy()
    make_trainer(model, out_dir=tmp_path).fit(data_for_epoch, classify_batches(7, n_batches=2), epochs=2)
    np.testing.assert_array_equal(model.embedding.weight.data, frozen)
    assert not np.array_equal(model.head.weight.data, trained)          # the rest did train
    for name in ("last.npz", "best.npz"):
        ckpt = load_checkpoint(tmp_path / name)
        assert ckpt.meta["frozen"] == ["embedding.weight"]
        assert not ckpt.model.embedding.weight.requires_grad and ckpt.model.head.weight.requires_grad
        np.testing.assert_array_equal(ckpt.model.embedding.weight.data, frozen)
    fresh = make_classifier(seed=1)                        # built without the flag: resuming restores it
    trainer = make_trainer(fresh, out_dir=tmp_path)
    trainer.resume(tmp_path / "last.npz")
    assert not fresh.embedding.weight.requires_grad
    trainer.fit(data_for_epoch, epochs=3)
    np.testing.assert_array_equal(fresh.embedding.weight.data, frozen)


def test_a_checkpoint_naming_a_frozen_parameter_its_model_lacks_is_refused(tmp_path):
    model = make_classifier()
    path = save_checkpoint(tmp_path / "c.npz", model)
    assert load_checkpoint(path).meta["frozen"] == []
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    meta["frozen"] = ["embedding.wieght"]
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(CheckpointError, match="lists the frozen parameter 'embedding.wieght'"):
        load_checkpoint(tmp_path / "bad.npz")
    meta["frozen"] = "embedding.weight"
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(CheckpointError, match="its list of frozen parameters is 'embedding.weight'"):
        load_checkpoint(tmp_path / "bad.npz")
    del meta["frozen"]                                      # written before the flag was recorded: all trainable
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "old.npz", **arrays)
    assert all(p.requires_grad for p in load_checkpoint(tmp_path / "old.npz").model.parameters())


def test_a_non_finite_gradient_in_a_frozen_parameter_does_not_stop_training_but_a_trainable_one_does():
    model = make_classifier()
    model.embedding.weight.requires_grad = False
    trainer = make_trainer(model)
    model.zero_grad()
    model.embedding.weight.grad[...] = np.nan              # never read: frozen gradients are ignored
    before = model.embedding.weight.data.copy()
    trainer._update(0.5)
    np.testing.assert_array_equal(model.embedding.weight.data, before)
    model.head.bias.grad[0] = np.inf
    with pytest.raises(NonFiniteError, match="non-finite gradient in parameter 'head.bias'"):
        trainer._update(0.5)
