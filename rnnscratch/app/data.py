"""Data preparation: from a source (a name or a path) to a vocabulary and batches. Knows no model.

Classification (``task="classify"``) reads a labelled source — the embedded phrases, IMDB, a CSV/TSV
file, a fastText file or a folder with one file per class — splits it, builds the vocabulary on the
training part and batches ``(ids (T, B), lengths (B,), labels (B,))``. A language model (``task="lm"``)
reads a plain-text corpus, keeps its end for validation and cuts ``(inputs (T, B), targets (T, B))``
from one stream. A sequence-to-sequence model (``task="seq2seq"``) reads pairs, generated (``addition``,
``dates``) or from a ``source<TAB>target``/CSV file, and batches ``(src, src_lengths, tgt_in, tgt_out)``.
The loaders themselves are :mod:`rnnscratch.data.datasets`, :mod:`~rnnscratch.data.parallel` and
:mod:`~rnnscratch.data.synthetic`.
"""
from __future__ import annotations

import collections
import dataclasses
import math
import os
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy

from ..data import (SYNTHETIC_TASKS, BucketIterator, DataError, PairEncoder, PairIterator, TextDataset, Vocab,
                    datasets, get_tokenizer, parallel_text, stream_batches, synthetic_pairs)
from ..data.vocab import PAD, UNK
from .config import LABELLED_FORMATS, MIN_VAL_EXAMPLES, NAMED_SOURCES, VAL_FRACTION, TrainConfig, auto_val_split

SHOWN_CLASSES = 10        # the data summary names this many classes, the most frequent first

_LABELLED_LOADERS = {"csv": datasets.text_label_file, "tsv": datasets.text_label_file,
                     "fasttext": datasets.fasttext_labels, "folder": datasets.folder_per_class}


def detect_format(path) -> str:
    """One of :data:`~rnnscratch.app.config.FORMATS`, guessed from the path (and a file's first line)."""
    path = str(path)
    if os.path.isdir(path):
        if os.path.basename(os.path.normpath(path)) == "aclImdb" or os.path.isdir(os.path.join(path, "aclImdb")):
            return "imdb"
        return "folder"
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file or folder")
    name = path.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        return "imdb"
    base = name[:-4] if name.endswith(".bz2") else name
    if base.endswith(".csv"):
        return "csv"
    if base.endswith(".tsv"):
        return "tsv"
    first = datasets.read_bytes(path, first_line=True)
    return "fasttext" if first.startswith(b"__label__") else "text"


def read_labelled(source, fmt=None, imdb_split="test", columns=(None, None)) -> TextDataset:
    """Every row of a labelled file or folder (``fmt`` None: detected; an IMDB source gives ``imdb_split``;
    ``columns``: a CSV/TSV's ``(text column, label column)``, None for guessed)."""
    fmt = fmt or detect_format(source)
    if fmt == "imdb":
        return datasets.imdb(imdb_split, path=source)
    if fmt not in _LABELLED_LOADERS:
        raise DataError(f"{source}: format '{fmt}' holds no labels; a classifier needs one of "
                        f"{', '.join(LABELLED_FORMATS)}")
    if fmt in ("csv", "tsv"):
        return datasets.text_label_file(source, text_column=columns[0], label_column=columns[1])
    if columns != (None, None):
        raise DataError(f"{source}: --text-column/--label-column are for CSV/TSV files, not format '{fmt}'")
    return _LABELLED_LOADERS[fmt](source)


def load_labelled(source, fmt, split, seed, test_split, columns=(None, None)) -> TextDataset:
    """The ``split`` (``"train"`` or ``"test"``) of a named source (``embedded``, ``imdb``) or a path.

    A source without its own test split is split here, seeded: ``test_split`` of it is the test part
    (0: every example is in the training part, the test part is empty).
    """
    if source == "embedded":
        return datasets.sentiment_phrases(split)
    if source == "imdb":
        return datasets.imdb(split)
    if (fmt or detect_format(source)) == "imdb":
        return datasets.imdb(split, path=source)
    everything = read_labelled(source, fmt, columns=columns)
    if not test_split:
        return everything if split == "train" else everything.subset([])
    train, test = everything.split(test_split, seed=seed)
    return train if split == "train" else test


def relabel(dataset, label_names, source) -> TextDataset:
    """A copy of ``dataset`` whose labels index ``label_names`` (a training set's numbering).

    ``DataError`` naming ``source`` when a label does not occur in ``label_names``.
    """
    index = {name: k for k, name in enumerate(label_names)}
    unknown = sorted({dataset.label_names[y] for y in dataset.labels} - set(index))
    if unknown:
        raise DataError(f"{source}: label {unknown[0]!r} does not occur in the training data ({label_names})")
    return dataclasses.replace(dataset, labels=[index[dataset.label_names[y]] for y in dataset.labels],
                               label_names=list(label_names))


def describe_classes(dataset, most=SHOWN_CLASSES) -> str:
    """``"2 classes: neg 107, pos 109"``: the classes of ``dataset`` with their counts, most frequent first."""
    counts = collections.Counter(dataset.labels).most_common()
    shown = ", ".join(f"{dataset.label_names[k]} {n}" for k, n in counts[:most])
    more = f", and {len(counts) - most} more" if len(counts) > most else ""
    return f"{len(counts)} class{'es' if len(counts) != 1 else ''}: {shown}{more}"


def check_classes(parts, config):
    """Warn when the examples read (``parts``: datasets sharing one label numbering) look mislabelled: a
    class with a single example (a header row read as data?) or more classes than half the examples
    (the wrong label column?)."""
    counts = collections.Counter(label for part in parts for label in part.labels)
    n, names, columns = sum(counts.values()), parts[0].label_names, parts[0].columns
    hint = f" ({columns}; name them with --text-column/--label-column)" if columns else ""
    single = [names[k] for k, count in counts.items() if count == 1]
    if len(counts) > n / 2:
        warnings.warn(f"{config.data}: {len(counts)} classes for {n} examples: is the label column right?{hint}",
                      stacklevel=2)
    elif single:
        shown = ", ".join(map(repr, single[:3])) + (", ..." if len(single) > 3 else "")
        warnings.warn(f"{config.data}: {len(single)} class(es) with a single example ({shown}): a header row read "
                      f"as data, or the wrong label column?{hint}", stacklevel=2)


def check_training_part(train, read, config, val_split=None):
    """``DataError`` for a training part a classifier cannot learn from: no example, or one class.
    ``read``: how many examples were read in all (for the message)."""
    c = config
    if len(train) == 0:
        limited = f", --limit {c.limit}" if c.limit else ""
        raise DataError(f"{c.data}: no training example is left of the {read} read (after --test-split "
                        f"{c.test_split:g}, --val-split {val_split if val_split is not None else c.val_split:g}"
                        f"{limited}); use more examples")
    counts = collections.Counter(train.labels)
    if len(counts) < 2:
        (k, n), = counts.items()
        columns = f" ({train.columns})" if train.columns else ""
        raise DataError(f"{c.data}: every training example has the class {train.label_names[k]!r} ({n} of them); a "
                        f"classifier needs two classes or more: is the label column right?{columns}")


def limit(dataset, n, seed) -> TextDataset:
    """A seeded random subset of ``n`` examples, in their original order (all of them if ``n`` is None)."""
    if not n or n >= len(dataset):
        return dataset
    return dataset.subset(sorted(numpy.random.default_rng(seed).permutation(len(dataset))[:n]))


def encode_texts(texts, tokenizer, vocab) -> list:
    """Token ids per text (``list[list[int]]``); a text with no tokens becomes ``[<unk>]`` (a sequence
    needs a step)."""
    out = []
    for text in texts:
        ids = vocab.encode(tokenizer(text))
        out.append(ids if ids else [vocab.unk_index])
    return out


def encode_stream(text, tokenizer, vocab) -> numpy.ndarray:
    """One text as an ``int64`` id array ``(N,)``: a language model's stream."""
    return numpy.asarray(vocab.encode(tokenizer(text)), dtype=numpy.int64)


def split_corpus(text, val_split):
    """``(training text, held-out end)``: the last ``val_split`` of the characters are held out."""
    n_val = int(len(text) * val_split)
    return text[:len(text) - n_val], text[len(text) - n_val:]


def classification_batches(dataset, tokenizer, vocab, batch_size, max_len=None, shuffle=False, seed=0):
    """A :class:`~rnnscratch.data.BucketIterator` over ``dataset``: ``iterator(epoch)`` yields
    ``(ids (T, B), lengths (B,), labels (B,))``, texts cut to their last ``max_len`` tokens."""
    return BucketIterator(encode_texts(dataset.texts, tokenizer, vocab), dataset.labels, batch_size,
                          max_len=max_len, shuffle=shuffle, seed=seed)


def stream_eval_batches(ids, batch_size, seq_len):
    """Evaluation batches ``[(inputs (T, B), targets (T, B))]`` of a (short) held-out stream, with as many
    parallel rows as it fills (at most ``batch_size``); None when it is too short for one batch."""
    rows = min(batch_size, max(1, (len(ids) - 1) // seq_len))
    if len(ids) <= rows + 1:
        return None
    return list(stream_batches(ids, rows, seq_len))


@dataclass
class PreparedData:
    """What the training job needs from the data.

    Attributes:
        task: ``"classify"`` or ``"lm"``.
        vocab: the :class:`~rnnscratch.data.Vocab` built on the training part.
        label_names: classify: class names, label k is ``label_names[k]``; lm: None.
        train: ``epoch -> iterable of batches`` (seeded, so a resumed epoch sees the same batches).
        val, test: lists of batches, or None when there is no such part.
        sizes: ``(train, validation, test)`` sizes, in examples (classify) or tokens (lm).
        summary: lines that say what was read (classify: the examples, the columns, the classes with counts,
            why there is no validation part).
        val_split: the validation fraction used (a classifier's, chosen by the data when none was given).
        batches_per_epoch: training batches in one epoch.
        pairs: seq2seq: the :class:`~rnnscratch.data.PairEncoder` (``vocab`` is its source vocabulary).
    """
    task: str
    vocab: Vocab
    label_names: list | None
    train: Callable
    val: list | None
    test: list | None
    sizes: tuple
    summary: list = dataclasses.field(default_factory=list)
    val_split: float | None = None
    batches_per_epoch: int | None = None
    pairs: PairEncoder | None = None


def prepare_classification(config: TrainConfig) -> PreparedData:
    """Load, split, limit, check, tokenize and batch a labelled source (``config`` resolved).

    ``DataError`` when no training example is left or they have one class or no token; a warning when a
    class of the examples read has a single example or there are more classes than half of them.
    """
    c = config
    columns = (c.text_column, c.label_column)
    train = load_labelled(c.data, c.format, "train", c.seed, c.test_split, columns)
    test_source = c.test_data or c.data
    if c.test_data:
        test = read_labelled(c.test_data, c.test_format, columns=columns)
    else:
        test = load_labelled(c.data, c.format, "test", c.seed, c.test_split, columns)
    read = len(train) + (0 if c.test_data else len(test))
    check_classes([train] if c.test_data else [train, test], c)
    train, test = limit(train, c.limit, c.seed), limit(test, c.limit, c.seed + 1)
    val, val_split, summary = None, c.val_split, []
    if val_split is None:
        val_split = auto_val_split(len(train))
        if not val_split and len(train):
            summary.append(f"validation: none, {len(train)} training examples are too few to choose a model by "
                           f"({VAL_FRACTION:.0%} would be {round(len(train) * VAL_FRACTION)}, fewer than "
                           f"{MIN_VAL_EXAMPLES}); training on all of them and keeping the last epoch's weights")
    if val_split > 0 and len(train):
        train, val = train.split(val_split, seed=c.seed)
    check_training_part(train, read, c, val_split)
    test = relabel(test, train.label_names, test_source)
    tokenizer = get_tokenizer(c.tokenizer)
    vocab = Vocab.build((tokenizer(t) for t in train.texts), max_size=c.vocab_size, min_freq=c.min_freq)
    if all(index in (vocab.pad_index, vocab.unk_index) for index in range(len(vocab))):
        why = "are the texts empty?" if c.min_freq == 1 else f"none occurs --min-freq {c.min_freq} times"
        raise DataError(f"{c.data}: the training texts give no {c.tokenizer} token for the vocabulary ({why})")

    def batches(dataset, shuffle):
        return classification_batches(dataset, tokenizer, vocab, c.batch_size, c.max_len, shuffle, c.seed)

    summary = [f"data: {read} examples read from {c.data}" + (f" ({train.columns})" if train.columns else ""),
               f"training part: {describe_classes(train)}"] + summary
    return PreparedData("classify", vocab, train.label_names, train=batches(train, True),
                        val=None if val is None else list(batches(val, False)(0)),
                        test=list(batches(test, False)(0)) if len(test) else None,
                        sizes=(len(train), 0 if val is None else len(val), len(test)), summary=summary,
                        val_split=val_split, batches_per_epoch=math.ceil(len(train) / c.batch_size))


def prepare_language_model(config: TrainConfig) -> PreparedData:
    """Read a plain-text corpus, hold out its end, tokenize it and cut it into streams (``config`` resolved)."""
    c = config
    if c.data in ("embedded", "imdb"):
        raise DataError(f"--data {c.data}: a language model trains on a plain-text corpus "
                        "('tinyshakespeare' or a .txt path)")
    fmt = c.format or ("text" if c.data == "tinyshakespeare" else detect_format(c.data))
    if fmt != "text":
        raise DataError(f"{c.data}: format '{fmt}' is not plain text; a language model needs a text corpus")
    text = datasets.text_corpus(c.data, "all")
    train_text, val_text = split_corpus(text, c.val_split)
    if c.limit:
        train_text, val_text = train_text[:c.limit], val_text[:max(c.limit // 10, c.max_len * 2 + 2)]
    tokenizer = get_tokenizer(c.tokenizer)
    if c.tokenizer == "char":       # every character of the corpus gets an id: no <unk> needed
        vocab = Vocab.build([tokenizer(text)], specials=())
    else:
        vocab = Vocab.build([tokenizer(train_text)], max_size=c.vocab_size, min_freq=c.min_freq,
                            specials=(PAD, UNK))
    # arrays once here, not a list converted again by stream_batches at every epoch
    train_ids, val_ids = encode_stream(train_text, tokenizer, vocab), encode_stream(val_text, tokenizer, vocab)
    if len(train_ids) < c.batch_size * 2 + 1:
        raise DataError(f"{c.data}: the training text has {len(train_ids)} tokens, too few for "
                        f"--batch-size {c.batch_size}")
    return PreparedData("lm", vocab, None, train=lambda epoch: stream_batches(train_ids, c.batch_size, c.max_len),
                        val=stream_eval_batches(val_ids, c.batch_size, c.max_len), test=None,
                        sizes=(len(train_ids), len(val_ids), 0), val_split=c.val_split,
                        batches_per_epoch=math.ceil(((len(train_ids) - 1) // c.batch_size) / c.max_len))


# -- sequence to sequence ----------------------------------------------------------------------------
SYNTHETIC_TRAIN_PAIRS = 45000      # a generated task's training pairs without --limit (DLFS2: 45,000 + 5,000 held out)
PAIR_FORMATS = ("tsv", "csv")      # the --format values a pairs file may be forced to
_PAIR_DELIMITERS = {"tsv": "\t", "csv": ","}


def read_pairs(source, fmt=None, format_flag="--format"):
    """Every pair of a ``source<TAB>target`` or CSV file (``fmt`` None: by the file name, else one of
    :data:`PAIR_FORMATS`; ``format_flag`` names the option that gave it, in the error)."""
    if fmt is not None and fmt not in PAIR_FORMATS:
        raise DataError(f"{format_flag} {fmt}: a sequence-to-sequence run reads pairs, as {' or '.join(PAIR_FORMATS)}")
    return parallel_text(source, delimiter=_PAIR_DELIMITERS.get(fmt))


def load_pairs(source, fmt, seed, test_split, val_split, limit=None):
    """``(train, validation or None, test)`` pairs (:class:`~rnnscratch.data.ParallelDataset`) of a
    generated task or a pairs file, the same for the same arguments (a run's record re-creates them).

    A generated task (``addition``, ``dates``): ``limit`` training pairs (default 45,000) and, drawn
    apart from them, a test part of a ninth as many (5,000) and, when ``val_split > 0``, a validation
    part of the same size; no source occurs in two parts. A file: ``test_split`` of it is the test part
    and ``val_split`` of the rest the validation part (both seeded), then at most ``limit`` training pairs.
    """
    if source in SYNTHETIC_TASKS:
        n_train = limit or SYNTHETIC_TRAIN_PAIRS
        n_test = -(-n_train // 9)
        n_val = n_test if val_split > 0 else 0
        train, held_out = synthetic_pairs(source, n_train, n_test + n_val, seed=seed)
        val = held_out.subset(range(n_test, n_test + n_val)) if n_val else None
        return train, val, held_out.subset(range(n_test))
    if source in NAMED_SOURCES:
        raise DataError(f"--data {source}: a sequence-to-sequence run needs pairs: {', '.join(SYNTHETIC_TASKS)}, or a "
                        "source<TAB>target (or CSV) file")
    everything = read_pairs(source, fmt)
    train, test = everything.split(test_split, seed=seed) if test_split else (everything, everything.subset([]))
    val = None
    if val_split > 0:
        train, val = train.split(val_split, seed=seed)
    if limit and limit < len(train):
        train = train.subset(sorted(numpy.random.default_rng(seed).permutation(len(train))[:limit]))
    return train, val, test


def pair_batches(dataset, pairs, batch_size, max_len=None, shuffle=False, seed=0, bucket=True):
    """A :class:`~rnnscratch.data.PairIterator` over ``dataset`` encoded by ``pairs`` (a
    :class:`~rnnscratch.data.PairEncoder`): ``iterator(epoch)`` yields ``(src, src_lengths, tgt_in,
    tgt_out)``; a target over ``max_len`` tokens is a ``DataError`` naming its line and ``--max-len``.
    ``bucket``: sources of similar length share a batch (else plain random batches)."""
    sources, targets = pairs.encode(dataset, max_target_len=max_len, limit_name="--max-len")
    vocab = pairs.target_vocab
    return PairIterator(sources, targets, batch_size, vocab.bos_index, vocab.eos_index, pad=vocab.pad_index,
                        bucket=bucket, shuffle=shuffle, seed=seed)


def prepare_seq2seq(config: TrainConfig) -> PreparedData:
    """Generate or read pairs, split them, build both vocabularies on the training part and batch them
    (``config`` resolved). A target longer than ``--max-len`` tokens is a ``DataError`` naming its line."""
    c = config
    train, val, test = load_pairs(c.data, c.format, c.seed, c.test_split, c.val_split, c.limit)
    if c.test_data:
        test = read_pairs(c.test_data, c.test_format, "--test-format")
    pairs = PairEncoder.build(train, c.tokenizer, c.target_tokenizer, c.reverse_source, max_size=c.vocab_size,
                              min_freq=c.min_freq)

    def batches(dataset, shuffle):
        # Training batches are plain random ones: bucketed by source length, each batch holds only the few
        # formats of one length (on the dates), and the model learns markedly slower per epoch (DLFS2's
        # settings, seed 0: 97.7% exact match after 3 epochs bucketed, 99.7% random; benchmarks/seq2seq_compare.py
        # --batching). Held-out batches change no weight, so they keep the less padded bucketed batches.
        return pair_batches(dataset, pairs, c.batch_size, c.max_len, shuffle, c.seed, bucket=not shuffle)

    train_batches = batches(train, True)
    longest = max(len(t) for t in train_batches.targets)
    read = f"data: {len(train)} training pairs from {train.source}" + (f" ({train.columns})" if train.columns else "")
    summary = [read, f"vocabularies: source {len(pairs.source_vocab)} {c.tokenizer} tokens"
                     f"{' (read reversed)' if c.reverse_source else ''}, target {len(pairs.target_vocab)} "
                     f"{c.target_tokenizer} tokens; the longest target has {longest} (--max-len {c.max_len})"]
    return PreparedData("seq2seq", pairs.source_vocab, None, train=train_batches,
                        val=None if val is None else list(batches(val, False)(0)),
                        test=list(batches(test, False)(0)) if len(test) else None,
                        sizes=(len(train), 0 if val is None else len(val), len(test)), summary=summary, pairs=pairs)


def prepare(config: TrainConfig) -> PreparedData:
    """:func:`prepare_classification`, :func:`prepare_language_model` or :func:`prepare_seq2seq`, by
    ``config.task``."""
    if config.task == "seq2seq":
        return prepare_seq2seq(config)
    if config.data in SYNTHETIC_TASKS:
        raise DataError(f"--data {config.data}: a generated sequence-to-sequence task; train it with --task seq2seq")
    return prepare_language_model(config) if config.task == "lm" else prepare_classification(config)
