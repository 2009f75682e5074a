"""Parallel text: pairs of a source text and its target text, for sequence-to-sequence models.

* :class:`ParallelDataset` — the pairs, where each came from, and the rows that were skipped.
* :func:`parallel_text` — a ``source<TAB>target`` TSV file or a two-column CSV file, header optional.
* :class:`PairEncoder` — texts <-> id lists on both sides (tokenizers, vocabularies, reversed source),
  one object used both at training and at translation time, so that the two always agree.

Bad rows (an empty line, an empty source or target, a row with another number of columns than the
first) are skipped and reported as ``file:line: reason`` in ``dataset.problems``, with one warning;
``strict=True`` raises instead. A target longer than a limit is an error naming its ``file:line``
(:meth:`PairEncoder.encode`), never a silent truncation: a cut target would teach the model to stop
early.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .datasets import DataError, _csv_rows, _decode, _finish, _read_text, _sniff_delimiter, split_indices
from .tokenize import TOKENIZERS, get_tokenizer
from .vocab import PAD, TARGET_SPECIALS, UNK, Vocab

_SOURCE_NAMES = ("source", "src", "input", "question", "from")     # header names that say "the source column"
_TARGET_NAMES = ("target", "tgt", "output", "answer", "to", "translation")


@dataclass
class ParallelDataset:
    """Pairs ``(sources[k], targets[k])`` of texts.

    ``where[k]`` is pair k's ``file:line`` (None for generated pairs: :meth:`location` then counts them);
    ``problems`` the rows skipped, as ``file:line: reason``; ``columns`` which columns were read.
    """
    sources: list
    targets: list
    source: str = ""
    where: list | None = None
    problems: list = field(default_factory=list)
    decode_errors: int = 0
    columns: str = ""

    def __len__(self):
        return len(self.sources)

    def location(self, k) -> str:
        """Where pair ``k`` came from: ``file:line``, or ``source: pair k+1`` for generated pairs."""
        return self.where[k] if self.where is not None else f"{self.source}: pair {k + 1}"

    def subset(self, indices) -> ParallelDataset:
        pick = lambda xs: None if xs is None else [xs[i] for i in indices]  # noqa: E731
        return ParallelDataset(pick(self.sources), pick(self.targets), self.source, pick(self.where),
                               columns=self.columns)

    def split(self, test_fraction=0.1, seed=0):
        """A seeded random ``(train, held_out)`` split."""
        train, held_out = split_indices(len(self), test_fraction, seed)
        return self.subset(train), self.subset(held_out)


def parallel_text(path, delimiter=None, header=None, strict=False) -> ParallelDataset:
    """The pairs of a ``source<TAB>target`` file (any name; ``.bz2`` too) or a CSV file (``.csv``).

    ``delimiter``: default ``","``-like (sniffed) for ``.csv`` and a tab otherwise. A tab-separated file
    is split on tabs with no quoting (quotes are text, as in the Tatoeba/manythings files); a CSV file
    is parsed with quoting, strictly. ``header``: default detected (a first row with a column named like
    ``source``/``src``/``input`` or ``target``/``tgt``/``output``); with a header the source and target
    columns are found by those names, else they are columns 0 and 1. The first row fixes the number of
    columns (a third column, such as an attribution, is ignored); a row with another number of columns
    (a stray tab inside a text) is skipped and reported. Source and target are stripped of surrounding
    whitespace; an empty one is skipped and reported.
    """
    data = _read_text(path)
    text, bad = _decode(data)
    if delimiter is None:
        delimiter = _sniff_delimiter(text) if str(path).lower().endswith((".csv", ".csv.bz2")) else "\t"
    rows = _csv_rows(text, delimiter, path) if delimiter != "\t" else _tab_rows(text)
    first_at, first = next(((number, row) for number, row in rows if any(c.strip() for c in row)), (None, None))
    if first is None:
        raise DataError(f"{path}: no row has a source or a target (only delimiters and blanks)")
    if len(first) < 2:
        raise DataError(f"{path}:{first_at}: expected a source and a target separated by {delimiter!r}, got one "
                        f"column: {delimiter.join(first)[:40]!r}")
    names = [c.strip().lower() for c in first]
    if header is None:
        header = any(name in _SOURCE_NAMES + _TARGET_NAMES for name in names)
    src_at, tgt_at = _pair_columns(names if header else [], len(first))
    sources, targets, where, problems = [], [], [], []
    for number, row in rows:
        if header and number == first_at:
            continue
        if not any(c.strip() for c in row):
            problems.append(f"{path}:{number}: empty line (no source, no target)")
        elif len(row) != len(first):
            problems.append(f"{path}:{number}: expected {len(first)} columns like the first row, got {len(row)}")
        elif not row[src_at].strip():
            problems.append(f"{path}:{number}: empty source")
        elif not row[tgt_at].strip():
            problems.append(f"{path}:{number}: empty target")
        else:
            sources.append(row[src_at].strip())
            targets.append(row[tgt_at].strip())
            where.append(f"{path}:{number}")
    shown = (lambda at: repr(first[at].strip())) if header else str
    of = f" of {len(first)}" if len(first) > 2 else ""
    dataset = ParallelDataset(sources, targets, str(path), where, problems, int(bad),
                              columns=f"source: column {shown(src_at)}, target: column {shown(tgt_at)}{of}")
    return _finish(dataset, strict)


def _tab_rows(text):
    """``[(line number, fields)]`` of a tab-separated text: split on tabs and newlines only, no quoting."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()                                     # the newline that ends the last line
    return [(number, line.rstrip("\r").split("\t")) for number, line in enumerate(lines, 1)]


def _pair_columns(header, width):
    """``(source column, target column)``: found by name in ``header`` (lower-case names, may be empty),
    else the first columns not taken."""
    src = next((header.index(n) for n in _SOURCE_NAMES if n in header), None)
    tgt = next((header.index(n) for n in _TARGET_NAMES if n in header), None)
    if src is None:
        src = next(i for i in range(width) if i != tgt)
    if tgt is None:
        tgt = next(i for i in range(width) if i != src)
    return src, tgt


class PairEncoder:
    """Texts <-> id lists for both sides of a pair: what a sequence-to-sequence model reads and writes.

    Args:
        source_vocab, target_vocab: :class:`~rnnscratch.data.Vocab`; the target's holds ``<bos>`` and
            ``<eos>`` (built with ``specials=TARGET_SPECIALS``), both hold ``<unk>``.
        source_tokenizer, target_tokenizer: names in :data:`~rnnscratch.data.TOKENIZERS` (``"char"``,
            ``"word"``), so that :meth:`to_dict` can record them.
        reverse_source: feed the source's tokens last to first (Sutskever et al., 2014): the first
            target tokens then sit a few steps from the source tokens they depend on, which makes
            the first gradients short and training faster. Only the real tokens are reversed;
            padding stays after them.
    """

    def __init__(self, source_vocab, target_vocab, source_tokenizer="char", target_tokenizer="char",
                 reverse_source=False):
        for name, tokenizer in (("source_tokenizer", source_tokenizer), ("target_tokenizer", target_tokenizer)):
            if tokenizer not in TOKENIZERS:
                raise ValueError(f"{name}: expected one of {', '.join(map(repr, TOKENIZERS))}, got {tokenizer!r}")
        if target_vocab.bos_index is None or target_vocab.eos_index is None:
            raise ValueError("target_vocab: expected <bos> and <eos> among its tokens (build it with "
                             "specials=TARGET_SPECIALS)")
        for name, vocab in (("source_vocab", source_vocab), ("target_vocab", target_vocab)):
            if vocab.unk_index is None or vocab.pad_index is None:
                raise ValueError(f"{name}: expected {PAD} and {UNK} among its tokens")
        self.source_vocab, self.target_vocab = source_vocab, target_vocab
        self.source_tokenizer, self.target_tokenizer = source_tokenizer, target_tokenizer
        self.reverse_source = bool(reverse_source)
        self._tokenize_source, self._tokenize_target = get_tokenizer(source_tokenizer), get_tokenizer(target_tokenizer)

    @classmethod
    def build(cls, dataset, source_tokenizer="char", target_tokenizer="char", reverse_source=False, max_size=None,
              min_freq=1) -> PairEncoder:
        """Vocabularies built on ``dataset`` (a :class:`ParallelDataset`, the training pairs): each side
        keeps its ``max_size`` most frequent tokens seen at least ``min_freq`` times."""
        tokenize_source, tokenize_target = get_tokenizer(source_tokenizer), get_tokenizer(target_tokenizer)
        source_vocab = Vocab.build((tokenize_source(s) for s in dataset.sources), max_size=max_size, min_freq=min_freq)
        target_vocab = Vocab.build((tokenize_target(t) for t in dataset.targets), max_size=max_size,
                                   min_freq=min_freq, specials=TARGET_SPECIALS)
        return cls(source_vocab, target_vocab, source_tokenizer, target_tokenizer, reverse_source)

    def source_tokens(self, text) -> list:
        """The source's tokens in the order the encoder reads them (reversed with ``reverse_source``)."""
        tokens = self._tokenize_source(text)
        return tokens[::-1] if self.reverse_source else tokens

    def encode_source(self, text) -> list:
        """Source text -> ids; unseen tokens become ``<unk>``, and a text with no token ``[<unk>]`` (an
        encoder needs a step)."""
        return self.source_vocab.encode(self.source_tokens(text)) or [self.source_vocab.unk_index]

    def encode_target(self, text) -> list:
        """Target text -> ids, without ``<bos>``/``<eos>`` (the batches add them)."""
        return self.target_vocab.encode(self._tokenize_target(text))

    def unknown_source_tokens(self, text) -> list:
        """The distinct tokens of a source text that the source vocabulary lacks, in reading order."""
        return list(dict.fromkeys(t for t in self._tokenize_source(text) if t not in self.source_vocab))

    def decode_target(self, ids) -> str:
        """Target ids -> text: up to the first ``<eos>``, ``<bos>`` and padding left out."""
        vocab, tokens = self.target_vocab, []
        for i in ids:
            i = int(i)
            if i == vocab.eos_index:
                break
            if i not in (vocab.bos_index, vocab.pad_index):
                tokens.append(vocab.itos[i])
        return self._tokenize_target.detokenize(tokens)

    def encode(self, dataset, max_target_len=None, limit_name="max_target_len"):
        """``(source ids, target ids)``: two lists of id lists, one entry per pair of ``dataset``.

        ``max_target_len`` (tokens, without ``<bos>``/``<eos>``): a longer target is a
        :class:`DataError` naming the first one's ``file:line`` and how many there are (``limit_name``:
        how the caller names the limit, e.g. a command-line option).
        """
        sources = [self.encode_source(s) for s in dataset.sources]
        targets = [self.encode_target(t) for t in dataset.targets]
        if max_target_len is not None:
            long = [k for k, t in enumerate(targets) if len(t) > max_target_len]
            if long:
                k = long[0]
                more = f" ({len(long)} targets are longer)" if len(long) > 1 else ""
                raise DataError(f"{dataset.location(k)}: the target has {len(targets[k])} {self.target_tokenizer} "
                                f"tokens, more than {limit_name} {max_target_len}{more}; raise {limit_name} or "
                                "shorten the target (targets are never cut: a cut target teaches the model to "
                                "stop early)")
        return sources, targets

    def to_dict(self) -> dict:
        """A JSON-ready record: both vocabularies, both tokenizers' names, ``reverse_source``."""
        return {"source_vocab": self.source_vocab.to_dict(), "target_vocab": self.target_vocab.to_dict(),
                "source_tokenizer": self.source_tokenizer, "target_tokenizer": self.target_tokenizer,
                "reverse_source": self.reverse_source}

    @classmethod
    def from_dict(cls, d) -> PairEncoder:
        return cls(Vocab.from_dict(d["source_vocab"]), Vocab.from_dict(d["target_vocab"]), d["source_tokenizer"],
                   d["target_tokenizer"], d["reverse_source"])

    def __repr__(self):
        return (f"PairEncoder(source={self.source_tokenizer} x {len(self.source_vocab)}, "
                f"target={self.target_tokenizer} x {len(self.target_vocab)}, reverse_source={self.reverse_source})")
