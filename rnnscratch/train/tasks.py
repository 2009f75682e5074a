"""What differs between training tasks, one object per task: how a batch is trained and evaluated,
and which metrics its sums give. The :class:`~rnnscratch.train.trainer.Trainer` loop is the same for all.

* ``"classify"`` (:class:`ClassificationTask`) — batches ``(ids (T, B), lengths (B,), labels (B,))`` for a
  ``SequenceClassifier``; full BPTT, or truncated in chunks of ``bptt.k1``
  (:func:`~rnnscratch.train.bptt.tbptt_classify`). Metrics: loss and accuracy.
* ``"lm"`` (:class:`LanguageModelTask`) — batches ``(ids (T, B), targets (T, B))`` cut from one continuous
  stream, for a ``LanguageModel``; the recurrent state is carried from batch to batch (values only)
  and each batch is trained with the (k1, k2) schedule (full BPTT within the batch by default).
  Metrics: loss in nats per token and perplexity ``exp(loss)``.

* ``"seq2seq"`` (:class:`Seq2SeqTask`) — batches ``(src (S, B), src_lengths (B,), tgt_in (T, B), tgt_out (T, B))``
  for a ``Seq2Seq`` model, trained with teacher forcing. Metrics: loss per target token, perplexity,
  teacher-forced token accuracy, and in evaluation the exact match of greedily decoded sequences.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

import numpy

from .. import backend
from ..functional.losses import IGNORE_INDEX, softmax_cross_entropy
from ..nn.decoding import greedy_decode
from .bptt import TruncatedBPTT, copy_state, tbptt_classify, tbptt_stream


@dataclass
class Tally:
    """Running sums that an epoch's (or an evaluation's) metrics are computed from, batch by batch.

    Saved inside an interrupted checkpoint, so a resumed epoch reports what an uninterrupted one would.
    """
    loss: float = 0.0          # summed loss over the counted terms
    terms: int = 0             # counted loss terms: sequences (classify) or target tokens (lm, seq2seq)
    correct: int = 0           # classify: right predictions; seq2seq: right target tokens (teacher-forced)
    sequences: int = 0         # classify, seq2seq: sequences seen
    tokens: int = 0            # input tokens processed
    grad_norm: float = 0.0     # training: sum of the pre-clip global gradient norms ...
    updates: int = 0           # ... over this many optimizer steps
    seconds: float = 0.0       # training: time spent so far
    confusion: list | None = field(default=None, repr=False)   # classify evaluation: counts[true][predicted]
    decoded: int = 0           # seq2seq evaluation: sequences decoded ...
    exact: int = 0             # ... and how many of them are the reference, whole

    @property
    def mean_loss(self):
        return self.loss / max(self.terms, 1)

    def to_dict(self):
        return asdict(self)

    def copy(self):
        return replace(self, confusion=None if self.confusion is None else numpy.array(self.confusion))

    def since(self, earlier) -> Tally:
        """The sums added after ``earlier`` (a :meth:`copy` of this tally taken before); no confusion."""
        return Tally(**{name: getattr(self, name) - getattr(earlier, name) for name in _SUMS})

    def plus(self, other) -> Tally:
        """Both tallies' sums together; no confusion."""
        return Tally(**{name: getattr(self, name) + getattr(other, name) for name in _SUMS})

    @classmethod
    def from_dict(cls, d):
        return cls(**d)


_SUMS = tuple(f.name for f in fields(Tally) if f.name != "confusion")


class ClassificationTask:
    """Many-to-one classification: one label per sequence."""
    name = "classify"

    def train_batch(self, model, batch, carry, bptt, update, tally):
        """Train on one batch (``update(loss)`` checks, clips and steps after each backward); returns the
        carry (None)."""
        ids, lengths, labels = batch
        if bptt is None:
            model.zero_grad()
            logits = model(ids, lengths)
            loss, d_logits = softmax_cross_entropy(logits, labels)
            model.backward(d_logits)
            update(loss)
            total, terms = loss * len(labels), len(labels)
        else:
            total, terms, logits = tbptt_classify(model, ids, lengths, labels, bptt.k1, update)
        self._count(tally, total, terms, ids, lengths, labels, logits.argmax(axis=1))
        return None

    def eval_batch(self, model, batch, carry, tally):
        """Loss and predictions of one batch, no update; counts the confusion matrix when the tally has one."""
        ids, lengths, labels = batch
        logits = model(ids, lengths)
        loss, _ = softmax_cross_entropy(logits, labels)
        predicted = logits.argmax(axis=1)
        self._count(tally, loss * len(labels), len(labels), ids, lengths, labels, predicted)
        if tally.confusion is not None:
            numpy.add.at(tally.confusion, (backend.to_numpy(labels), backend.to_numpy(predicted)), 1)
        return carry

    @staticmethod
    def _count(tally, total, terms, ids, lengths, labels, predicted):
        tally.loss += total
        tally.terms += terms
        tally.tokens += int(backend.to_numpy(lengths).sum())
        tally.correct += int((predicted == labels).sum())
        tally.sequences += len(labels)

    @staticmethod
    def new_confusion(num_classes):
        return numpy.zeros((num_classes, num_classes), dtype=numpy.int64)

    def metrics(self, tally):
        """``{"loss", "accuracy"}`` (and ``"confusion"`` as nested lists when counted)."""
        metrics = {"loss": tally.mean_loss, "accuracy": tally.correct / max(tally.sequences, 1)}
        if tally.confusion is not None:
            metrics["confusion"] = numpy.asarray(tally.confusion).tolist()
        return metrics


class LanguageModelTask:
    """Next-token prediction over a continuous stream, the state carried between batches."""
    name = "lm"

    def train_batch(self, model, batch, carry, bptt, update, tally):
        """Train on one ``(ids, targets)`` batch with the (k1, k2) schedule; returns the state to carry on."""
        ids, targets = batch
        schedule = bptt or TruncatedBPTT(ids.shape[0])
        total, counted, carry = tbptt_stream(model, ids, targets, carry, schedule, update)
        self._count(tally, total, counted, ids)
        return carry

    def eval_batch(self, model, batch, carry, tally):
        """Loss of one batch from the carried state, no update; returns the new state (values only)."""
        ids, targets = batch
        logits, carry = model(ids, carry)
        loss, _ = model.loss(logits, targets)
        counted = int((targets != IGNORE_INDEX).sum())
        self._count(tally, loss * counted, counted, ids)
        return copy_state(carry)

    @staticmethod
    def _count(tally, total, counted, ids):
        tally.loss += total
        tally.terms += counted
        tally.tokens += int(ids.size)

    @staticmethod
    def new_confusion(num_classes):
        raise ValueError("num_classes: a language model has no confusion matrix")

    def metrics(self, tally):
        """``{"loss" (nats per token), "perplexity" = exp(loss)}``."""
        return {"loss": tally.mean_loss, "perplexity": math.exp(min(tally.mean_loss, 700))}


class Seq2SeqTask:
    """Sequence to sequence: an encoder reads the source, a decoder writes the target (teacher forcing).

    A batch is ``(src (S, B), src_lengths (B,), tgt_in (T, B), tgt_out (T, B))`` as
    :class:`rnnscratch.data.PairIterator` cuts it: ``tgt_in`` is ``<bos>`` followed by the target,
    ``tgt_out`` the target followed by ``<eos>`` and padded with ``IGNORE_INDEX``. The batch itself says
    which ids are ``<bos>`` (``tgt_in``'s first row) and ``<eos>`` (each column's last counted token of
    ``tgt_out``), so the task needs no vocabulary.

    Metrics: ``loss`` (nats per target token, ``<eos>`` included), ``perplexity = exp(loss)``,
    ``token_accuracy`` (teacher-forced: the most likely token at each step, given the true tokens before
    it); in evaluation also ``exact_match``: the share of sequences that greedy decoding reproduces
    whole, every token and the ``<eos>`` where the reference ends (decoding stops after ``T`` steps, as
    no longer output can match).
    """
    name = "seq2seq"

    def train_batch(self, model, batch, carry, bptt, update, tally):
        """Teacher-forced forward, backward, ``update(loss)``; returns the carry (None)."""
        if bptt is not None:
            raise ValueError("bptt: a sequence-to-sequence model is trained through whole sequences; truncated "
                             "BPTT is for classify and lm")
        src, src_lengths, tgt_in, tgt_out = batch
        model.zero_grad()
        logits = model(src, src_lengths, tgt_in)
        loss, d_logits = model.loss(logits, tgt_out)
        model.backward(d_logits)
        update(loss)
        self._count(tally, loss, logits, src_lengths, tgt_out)
        return None

    def eval_batch(self, model, batch, carry, tally):
        """Teacher-forced loss and token accuracy, then greedy decoding for the exact match; no update."""
        src, src_lengths, tgt_in, tgt_out = batch
        logits = model(src, src_lengths, tgt_in)
        loss, _ = model.loss(logits, tgt_out)
        self._count(tally, loss, logits, src_lengths, tgt_out)
        references = self.references(tgt_out)
        bos, eos = int(backend.to_numpy(tgt_in[0, 0])), int(backend.to_numpy(tgt_out)[len(references[0]), 0])
        decoded = greedy_decode(model, src, src_lengths, bos, eos, max_len=tgt_out.shape[0])
        tally.exact += sum(hypothesis == reference for hypothesis, reference in zip(decoded.tokens, references))
        tally.decoded += len(references)
        return carry

    @staticmethod
    def references(tgt_out):
        """The target of each column of ``tgt_out (T, B)`` as an id list, without its ``<eos>``."""
        host = backend.to_numpy(tgt_out)
        counted = (host != IGNORE_INDEX).sum(axis=0)
        return [host[:n - 1, b].tolist() for b, n in enumerate(counted)]

    @staticmethod
    def _count(tally, loss, logits, src_lengths, tgt_out):
        counted = tgt_out != IGNORE_INDEX
        n = int(counted.sum())
        tally.loss += loss * n
        tally.terms += n
        tally.correct += int(((logits.argmax(axis=2) == tgt_out) & counted).sum())
        tally.sequences += tgt_out.shape[1]
        tally.tokens += int(backend.to_numpy(src_lengths).sum()) + n

    @staticmethod
    def new_confusion(num_classes):
        raise ValueError("num_classes: a sequence-to-sequence model has no confusion matrix")

    def metrics(self, tally):
        """``{"loss", "perplexity", "token_accuracy"}`` and, when sequences were decoded, ``"exact_match"``."""
        metrics = {"loss": tally.mean_loss, "perplexity": math.exp(min(tally.mean_loss, 700)),
                   "token_accuracy": tally.correct / max(tally.terms, 1)}
        if tally.decoded:
            metrics["exact_match"] = tally.exact / tally.decoded
        return metrics


TASKS = {task.name: task for task in (ClassificationTask(), LanguageModelTask(), Seq2SeqTask())}
TASK_NAMES = tuple(TASKS)


def get_task(task):
    """A task object from its name (``"classify"``, ``"lm"``, ``"seq2seq"``), or the object itself."""
    if isinstance(task, str):
        if task not in TASKS:
            raise ValueError(f"task: expected one of {', '.join(TASK_NAMES)}, got {task!r}")
        return TASKS[task]
    return task
