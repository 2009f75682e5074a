"""Using a trained model: load a checkpoint written by the training job, predict, sample, translate, evaluate.

Everything comes from the checkpoint: the weights, the vocabulary and the run's
:class:`~rnnscratch.app.config.RunInfo` (tokenizer, label names, maximum length, where the data came
from and how it was split; seq2seq: the target's tokenizer and vocabulary, whether the source is read
reversed). Checkpoints written before the task names were ``classify``/``lm`` work too.
"""
from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass

import numpy

from .. import backend
from ..data import EOS, UNK, DataError, PairEncoder, Vocab, datasets, get_tokenizer, pad_sequences
from ..nn.decoding import beam_search, greedy_decode
from ..train import Checkpoint, CheckpointError, Trainer, load_checkpoint
from .config import DEFAULT_TEST_SPLIT, RunInfo, check_choice
from .data import (classification_batches, encode_stream, encode_texts, limit, load_labelled, load_pairs,
                   pair_batches, read_labelled, read_pairs, relabel, split_corpus, stream_eval_batches)

EVAL_BATCH_SIZE = 64          # classifiers: sequences per evaluation batch (any size gives the same metrics)
SPLITS = ("train", "test")    # what evaluate can measure
# what each task's checkpoint is, and the command that uses it
_USES = {"classify": ("a classifier", "rnnscratch predict"), "lm": ("a language model", "rnnscratch sample"),
         "seq2seq": ("a sequence-to-sequence model", "rnnscratch translate")}


@dataclass
class TrainedModel:
    """A checkpoint ready for use: ``model`` (in eval mode), its ``vocab``, ``tokenizer`` and ``run`` record;
    seq2seq: ``pairs``, the :class:`~rnnscratch.data.PairEncoder` of both sides (else None)."""
    checkpoint: Checkpoint
    vocab: Vocab
    tokenizer: object
    run: RunInfo
    pairs: PairEncoder | None = None

    @property
    def model(self):
        return self.checkpoint.model


def model_checkpoint(path) -> str:
    """The checkpoint that ``path`` names: ``path`` itself, or in a run folder its ``best.npz`` (the weights
    chosen on validation), else its ``last.npz`` (a run without a validation part keeps the last weights)."""
    if not os.path.isdir(path):
        return path
    for name in ("best.npz", "last.npz"):
        if os.path.exists(os.path.join(path, name)):
            return os.path.join(path, name)
    raise CheckpointError(f"{path}: the folder holds no best.npz or last.npz (not a finished run folder)")


def load_trained(path, task=None) -> TrainedModel:
    """Load a checkpoint written by the training job (or a run folder's, :func:`model_checkpoint`); with
    ``task``, insist that it holds that task's model.

    ``CheckpointError`` for a checkpoint without a run record or vocabulary; ``DataError`` for the wrong task.
    """
    path = model_checkpoint(path)
    ckpt = load_checkpoint(path)
    record = ckpt.meta.get("extra") or {}
    if "task" not in record or ckpt.vocab is None:
        raise CheckpointError(f"{path}: not written by `rnnscratch train` (no task or vocabulary inside)")
    run = RunInfo.from_dict(record)
    if task is not None and run.task != task:
        kind, use = _USES[run.task]
        raise DataError(f"{path} holds {kind}; use `{use}`")
    pairs = None
    if run.task == "seq2seq":
        if run.target_vocab is None:
            raise CheckpointError(f"{path}: a sequence-to-sequence checkpoint without its target vocabulary")
        pairs = PairEncoder(Vocab.from_dict(ckpt.vocab), Vocab.from_dict(run.target_vocab), run.tokenizer,
                            run.target_tokenizer, run.reverse_source)
    ckpt.model.eval()
    return TrainedModel(ckpt, Vocab.from_dict(ckpt.vocab), get_tokenizer(run.tokenizer), run, pairs)


def predict(path, texts) -> list:
    """``[(label name, its probability, all probabilities (C,))]``, one per text, from a classifier.

    A text with no token the model knows (empty, or every word unseen in training) is still classified,
    with a warning: the answer says what the model guesses from nothing. A text most of whose tokens are
    unknown gets a warning naming them.
    """
    trained = load_trained(path, task="classify")
    vocab, out = trained.vocab, []
    for k, text in enumerate(texts, 1):
        tokens = trained.tokenizer(text)
        unknown = [t for t in tokens if t not in vocab]
        if len(unknown) == len(tokens):
            what = "is empty" if not text.strip() else "has no token the model has seen"
            warnings.warn(f"text {k} {what}: its prediction is the model's guess from nothing", stacklevel=2)
        elif len(unknown) * 2 > len(tokens):
            shown = ", ".join(map(repr, dict.fromkeys(unknown[:5])))
            warnings.warn(f"text {k}: {len(unknown)} of its {len(tokens)} {trained.run.tokenizer}s are unknown to the "
                          f"model ({shown}): they are read as <unk>, and the prediction rests on the others",
                          stacklevel=2)
    for ids in encode_texts(texts, trained.tokenizer, vocab):
        if trained.run.max_len:
            ids = ids[-trained.run.max_len:]
        p = backend.to_numpy(trained.model.predict_proba(numpy.array(ids)[:, None], numpy.array([len(ids)])))[0]
        k = int(p.argmax())
        out.append((trained.run.label_names[k], float(p[k]), p))
    return out


def sample(path, prefix, length, temperature=1.0, top_k=None, seed=None) -> str:
    """``prefix`` followed by ``length`` tokens generated by a language model (``temperature`` 0: greedy)."""
    trained = load_trained(path, task="lm")
    vocab, tokenizer = trained.vocab, trained.tokenizer
    tokens = tokenizer(prefix)
    if not tokens:
        raise DataError(f"--prefix {prefix!r}: no {trained.run.tokenizer} token to start from; give at least one")
    unknown = [t for t in tokens if t not in vocab]
    if unknown and vocab.unk_index is None:
        raise DataError(f"--prefix: {unknown[0]!r} never occurs in the training text")
    if top_k is not None and top_k > len(vocab):
        raise DataError(f"--top-k {top_k}: the model knows {len(vocab)} tokens")
    ids = trained.model.sample(vocab.encode(tokens), length, temperature=temperature, top_k=top_k, seed=seed)
    return tokenizer.detokenize(tokens + vocab.decode(ids))


def evaluate(path, data=None, fmt=None, split="test", quiet=False) -> dict:
    """The trained model's metrics on ``split`` (``"train"`` or ``"test"``) of its own data or of ``data``.

    Classifiers: ``loss``, ``accuracy``, ``confusion`` (C, C), ``examples`` and ``labels``. Language
    models: ``loss`` and ``perplexity``; ``"test"`` is the held-out end of the text used in training.
    Sequence to sequence: ``loss``, ``perplexity``, ``token_accuracy`` (teacher-forced), ``exact_match``
    (greedy decoding, whole sequences) and ``examples``; ``data`` (a pairs file) is measured whole.
    The run's own CSV/TSV data is read with the run's columns and cut to the run's ``--limit`` (the same
    seeded subset as in training); the columns of ``data`` are guessed.
    Progress on stderr (:mod:`rnnscratch.train.progress`) unless ``quiet``.
    """
    check_choice("split", split, SPLITS)
    trained = load_trained(path)
    run = trained.run
    trainer = Trainer(trained.model, None, run.task, quiet=quiet)
    if run.task == "seq2seq":
        return _evaluate_seq2seq(path, trained, trainer, data, fmt, split)
    source = data or run.data
    if run.task == "lm":
        train_text, held_out = split_corpus(datasets.text_corpus(source, "all"), run.val_split)
        ids = encode_stream(train_text if split == "train" else held_out, trained.tokenizer, trained.vocab)
        batches = stream_eval_batches(ids, run.batch_size, run.max_len)
        if batches is None:
            raise DataError(f"{source}: the {split} part of the text ({len(ids)} tokens) is too short to evaluate")
        return trainer.evaluate(batches, desc=split)
    columns = (run.text_column, run.label_column) if data is None else (None, None)
    if data is None and split == "test" and run.test_data:
        dataset = read_labelled(run.test_data, run.test_format, columns=columns)
    else:                                 # --data without a test split of its own, for a run that held none out:
        test_split = run.test_split if data is None else (run.test_split or DEFAULT_TEST_SPLIT)   # the usual 20%
        dataset = load_labelled(source, fmt if data else run.format, split, run.seed, test_split, columns)
    if data is None:                      # the run's own examples: the subset it used, as in training
        dataset = limit(dataset, run.options().get("limit"), run.seed + (split == "test"))
    _check_not_empty(dataset, path, split, source)
    dataset = relabel(dataset, run.label_names, source)
    batches = classification_batches(dataset, trained.tokenizer, trained.vocab, EVAL_BATCH_SIZE, run.max_len)
    metrics = trainer.evaluate(list(batches(0)), num_classes=len(run.label_names), desc=split)
    metrics.update({"examples": len(dataset), "labels": run.label_names})
    return metrics


def _check_not_empty(dataset, path, split, source):
    """``DataError`` for an empty evaluation set: a run that kept no test part (``--test-split 0``) has none
    to measure, and metrics of nothing would read as a result."""
    if len(dataset) == 0:
        raise DataError(f"{path}: its run kept no {split} part of {source} (--test-split 0); evaluate another "
                        "--split, or --data FILE")


def format_confusion(confusion, labels) -> str:
    """A confusion matrix (rows: true label, columns: predicted) as an aligned text table."""
    width = max(8, max(len(x) for x in labels) + 1)
    lines = [" " * width + "predicted".center(width * len(labels))]
    lines.append("true".ljust(width) + "".join(x.rjust(width) for x in labels))
    for name, row in zip(labels, confusion):
        lines.append(name.ljust(width) + "".join(str(v).rjust(width) for v in row))
    return "\n".join(lines)


# -- sequence to sequence ----------------------------------------------------------------------------
@dataclass
class Translation:
    """One source text's translation.

    Attributes:
        text: the translation (detokenized, up to ``<eos>``).
        score: its log probability (greedy), or that divided by ``length ** length_penalty`` (beam).
        source_tokens: the source's tokens as written (``[<unk>]`` for a text with none).
        target_tokens: the emitted tokens, ``<eos>`` included when the model emitted it.
        attention: ``(len(target_tokens), len(source_tokens))`` weights, columns in the order written
            (un-reversed when the model reads the source reversed); None for a model without attention.
    """
    text: str
    score: float
    source_tokens: list
    target_tokens: list
    attention: numpy.ndarray | None


def _check_beam_options(beam, length_penalty):
    if beam is not None and (isinstance(beam, bool) or not isinstance(beam, int) or beam < 1):
        raise ValueError(f"--beam {beam}: expected a beam width >= 1 (1 is greedy search)")
    if isinstance(length_penalty, bool) or not isinstance(length_penalty, (int, float)) \
            or not math.isfinite(length_penalty) or length_penalty < 0:
        raise ValueError(f"--length-penalty {length_penalty}: expected a finite number >= 0")


def translate(path, texts, beam=None, length_penalty=1.0, batch_size=EVAL_BATCH_SIZE) -> list:
    """A :class:`Translation` of each text by a sequence-to-sequence checkpoint, in order.

    ``beam`` None: greedy search; ``k >= 1``: beam search of width k (1 equals greedy), ranking finished
    hypotheses by score / length ** ``length_penalty``. Tokens never seen in training are read as
    ``<unk>`` with a warning naming the text; an empty text is translated too, with a warning. At most
    the run's ``max_len`` target tokens are written.
    """
    _check_beam_options(beam, length_penalty)
    trained = load_trained(path, task="seq2seq")
    pairs, model = trained.pairs, trained.model
    texts = list(texts)
    for k, text in enumerate(texts, 1):
        unknown = pairs.unknown_source_tokens(text)
        if not text.strip():
            warnings.warn(f"text {k} is empty: its translation is the model's guess from nothing", stacklevel=2)
        elif unknown:
            shown = ", ".join(map(repr, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
            warnings.warn(f"text {k}: {shown} never seen in training: read as {UNK}", stacklevel=2)
    vocab = pairs.target_vocab
    max_len = (trained.run.max_len or 100) + 1                    # the tokens, then <eos>
    out = []
    for start in range(0, len(texts), batch_size):
        chunk = texts[start:start + batch_size]
        src, lengths = pad_sequences([pairs.encode_source(t) for t in chunk], value=pairs.source_vocab.pad_index)
        src, lengths = backend.to_device(src), backend.to_device(lengths)
        if beam is None:
            decoded = greedy_decode(model, src, lengths, vocab.bos_index, vocab.eos_index, max_len)
        else:
            decoded = beam_search(model, src, lengths, vocab.bos_index, vocab.eos_index, max_len, beam=beam,
                                  length_penalty=length_penalty)
        for b, text in enumerate(chunk):
            tokens = decoded.tokens[b]
            attention = None if decoded.attention is None else numpy.asarray(decoded.attention[b])
            target_tokens = vocab.decode(tokens)
            if attention is not None and len(attention) > len(tokens):
                target_tokens.append(EOS)
            source_tokens = pairs.source_tokens(text) or [UNK]        # in the order the encoder read them
            if pairs.reverse_source:
                source_tokens = source_tokens[::-1]
                attention = None if attention is None else attention[:, ::-1]
            out.append(Translation(pairs.decode_target(tokens), decoded.scores[b], source_tokens, target_tokens,
                                   attention))
    return out


def _evaluate_seq2seq(path, trained, trainer, data, fmt, split):
    """Loss, perplexity, token accuracy and exact match on ``split`` of the run's pairs, or on every pair of
    the file ``data``."""
    run = trained.run
    if data is not None:
        dataset = read_pairs(data, fmt)
    elif split == "test" and run.test_data:
        dataset = read_pairs(run.test_data, run.test_format)
    else:
        train, _, test = load_pairs(run.data, run.format, run.seed, run.test_split, run.val_split,
                                    run.options().get("limit"))
        dataset = train if split == "train" else test
    _check_not_empty(dataset, path, split, data or run.data)
    batches = pair_batches(dataset, trained.pairs, run.batch_size)
    metrics = trainer.evaluate(list(batches(0)))
    metrics["examples"] = len(dataset)
    return metrics
