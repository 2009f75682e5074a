"""From id lists to padded, time-major batches.

* :func:`pad_sequences` — pad/truncate to one length (``"pre"`` or ``"post"``), lengths returned.
* :class:`BucketIterator` — batches of similar lengths (less padding), shuffled with a seed.
* :class:`PairIterator` — the same for sequence-to-sequence pairs: source, its lengths, target in and out.
* :func:`bucket_batches` — the batch order both iterators share.
* :func:`stream_batches` — one long stream cut into ``B`` parallel streams for language modelling.

Batches are host NumPy arrays, time-major like the models: ids ``(T, B)``, lengths ``(B,)``.
"""
from __future__ import annotations

import numpy

from .. import backend
from ..functional.losses import IGNORE_INDEX


def pad_sequences(sequences, max_len=None, padding="post", truncating="post", value=0):
    """Stack id lists into ``(ids (T, B), lengths (B,))``.

    Sequences longer than ``max_len`` are cut (``truncating="pre"`` keeps their end, which is where a
    review's verdict often is); shorter ones are padded with ``value`` before or after. ``lengths``
    are the real lengths after truncation; with ``padding="pre"`` the real tokens sit at the end.
    """
    for name, v in (("padding", padding), ("truncating", truncating)):
        if v not in ("pre", "post"):
            raise ValueError(f"{name}: expected 'pre' or 'post', got {v!r}")
    sequences = [list(s) for s in sequences]
    if not sequences:
        raise ValueError("sequences: expected at least one sequence, got none")
    if any(len(s) == 0 for s in sequences):
        raise ValueError("sequences: every sequence needs at least one token (an empty one cannot be run)")
    T = max(len(s) for s in sequences) if max_len is None else max_len
    if T < 1:
        raise ValueError(f"max_len: expected >= 1, got {max_len}")
    ids = numpy.full((T, len(sequences)), value, dtype=numpy.int64)
    lengths = numpy.empty(len(sequences), dtype=numpy.int64)
    for b, s in enumerate(sequences):
        s = s[-T:] if truncating == "pre" else s[:T]
        lengths[b] = len(s)
        if padding == "post":
            ids[:len(s), b] = s
        else:
            ids[T - len(s):, b] = s
    return ids, lengths


def bucket_batches(lengths, batch_size, seed=0, epoch=0, bucket=True, shuffle=True, pool=50):
    """The example indices of every batch of one epoch (a list of int arrays), for examples of ``lengths``.

    With ``bucket``, a randomly chosen pool of ``batch_size * pool`` examples is sorted by length
    (longest first) and cut into batches, so similar lengths share a batch; the batches are then
    shuffled, so the order still changes every epoch. ``seed`` + ``epoch`` make every epoch reproducible.
    """
    lengths = numpy.asarray(lengths)
    rng = numpy.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths)) if shuffle else numpy.arange(len(lengths))
    if not bucket:
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    batches = []
    chunk = batch_size * pool
    for start in range(0, len(order), chunk):
        part = order[start:start + chunk]
        part = part[numpy.argsort(-lengths[part], kind="stable")]
        batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


class _LengthBucketed:
    """What :class:`BucketIterator` and :class:`PairIterator` share: batches of examples of similar length
    (``self.lengths``, see :func:`bucket_batches`), each ordered longest first, an epoch at a time; a subclass
    says how the examples of one batch become arrays (``batch(indices)``)."""

    def __len__(self):
        return -(-len(self.lengths) // self.batch_size)

    def batch_indices(self, epoch=0):
        """The example indices of every batch of an epoch."""
        return bucket_batches(self.lengths, self.batch_size, self.seed, epoch, self.bucket, self.shuffle, self.pool)

    def __call__(self, epoch=0):
        for idx in self.batch_indices(epoch):
            idx = idx[numpy.argsort(-self.lengths[idx], kind="stable")]     # longest first within a batch
            yield tuple(backend.to_device(a) for a in self.batch(idx))

    def __iter__(self):
        return self(0)

    def padding_fraction(self, epoch=0):
        """Share of the padded ``T x B`` cells that are padding, over one epoch's batches."""
        cells = real = 0
        for idx in self.batch_indices(epoch):
            cells += self.lengths[idx].max() * len(idx)
            real += self.lengths[idx].sum()
        return 1.0 - real / cells


class BucketIterator(_LengthBucketed):
    """Batches of ``(ids (T, B), lengths (B,), labels (B,))`` with little padding.

    Sort a randomly chosen pool of ``batch_size * pool`` examples by length, cut it into batches (each
    sorted longest first) and shuffle the batches: similar lengths share a batch, while the order still
    changes every epoch. ``bucket=False`` gives plain random batches. ``seed`` + the epoch make every
    epoch reproducible: ``iterator(epoch)`` is an epoch's batches.
    """

    def __init__(self, sequences, labels, batch_size, max_len=None, bucket=True, shuffle=True, seed=0,
                 pool=50, truncating="pre"):
        if len(sequences) != len(labels):
            raise ValueError(f"labels: expected {len(sequences)} labels (one per sequence), got {len(labels)}")
        if batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, got {batch_size}")
        self.sequences = [s[-max_len:] if truncating == "pre" else s[:max_len] for s in sequences] \
            if max_len else list(sequences)
        self.labels = numpy.asarray(labels)
        self.batch_size, self.bucket, self.shuffle, self.seed, self.pool = batch_size, bucket, shuffle, seed, pool
        self.lengths = numpy.array([len(s) for s in self.sequences])

    def batch(self, indices):
        """The host arrays ``(ids (T, B), lengths (B,), labels (B,))`` of the examples ``indices``, in that order."""
        ids, lengths = pad_sequences([self.sequences[i] for i in indices])
        return ids, lengths, self.labels[indices]


class StreamBatches:
    """The ``(inputs (T, B), targets (T, B))`` windows of :func:`stream_batches`: an iterator that also
    knows its length (``len()``: the windows of the whole pass, for progress bars with a total)."""

    def __init__(self, ids, batch_size, seq_len):
        ids = numpy.asarray(ids, dtype=numpy.int64)
        n = (len(ids) - 1) // batch_size
        if n < 1:
            raise ValueError(f"ids: a stream of {len(ids)} tokens is too short for batch_size={batch_size}")
        self.inputs = ids[:n * batch_size].reshape(batch_size, n).T
        self.targets = ids[1:n * batch_size + 1].reshape(batch_size, n).T
        self.seq_len, self._start = seq_len, 0

    def __len__(self):
        return -(-self.inputs.shape[0] // self.seq_len)

    def __iter__(self):
        return self

    def __next__(self):
        start = self._start
        if start >= self.inputs.shape[0]:
            raise StopIteration
        self._start = start + self.seq_len
        return (backend.to_device(self.inputs[start:start + self.seq_len].copy()),
                backend.to_device(self.targets[start:start + self.seq_len].copy()))


class PairIterator(_LengthBucketed):
    """Batches of sequence-to-sequence pairs: ``(src (S, B), src_lengths (B,), tgt_in (T, B), tgt_out (T, B))``.

    ``sources`` and ``targets`` are id lists (a target without ``<bos>``/``<eos>``); the decoder reads
    ``tgt_in = <bos> y_1 ... y_n`` and learns ``tgt_out = y_1 ... y_n <eos>``, so ``T`` is the longest
    target of the batch plus one. ``src`` and ``tgt_in`` are padded with ``pad`` after the real tokens,
    ``tgt_out`` with :data:`~rnnscratch.functional.losses.IGNORE_INDEX`, which no loss counts.

    Batches are cut by :func:`bucket_batches` over the source lengths (a pool of ``batch_size * pool``
    pairs sorted, then the batches shuffled): the encoder runs ``S`` steps for the whole batch, so
    similar source lengths waste fewer of them (on the date task about half the source steps are
    padding in random batches; see ``padding_fraction``). ``bucket=False`` gives plain random batches.
    Within a batch the pairs are ordered longest source first. ``iterator(epoch)`` is an epoch's batches,
    the same for the same ``seed`` and epoch.
    """

    def __init__(self, sources, targets, batch_size, bos, eos, pad=0, bucket=True, shuffle=True, seed=0, pool=50):
        if len(sources) != len(targets):
            raise ValueError(f"targets: expected {len(sources)} targets (one per source), got {len(targets)}")
        if batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, got {batch_size}")
        self.sources, self.targets = [list(s) for s in sources], [list(t) for t in targets]
        self.batch_size, self.bucket, self.shuffle, self.seed, self.pool = batch_size, bucket, shuffle, seed, pool
        self.bos, self.eos, self.pad = bos, eos, pad
        self.lengths = numpy.array([len(s) for s in self.sources], dtype=numpy.int64)

    def batch(self, indices):
        """The host arrays ``(src, src_lengths, tgt_in, tgt_out)`` of the pairs ``indices``, in that order."""
        src, src_lengths = pad_sequences([self.sources[i] for i in indices], value=self.pad)
        tgt_in, _ = pad_sequences([[self.bos] + self.targets[i] for i in indices], value=self.pad)
        tgt_out, _ = pad_sequences([self.targets[i] + [self.eos] for i in indices], value=IGNORE_INDEX)
        return src, src_lengths, tgt_in, tgt_out


def stream_batches(ids, batch_size, seq_len) -> StreamBatches:
    """Cut one long id stream into ``batch_size`` parallel streams and iterate over ``(inputs, targets)``.

    The stream is trimmed to ``batch_size * n + 1`` tokens and laid out as columns, so row t of batch
    k+1 continues row t of batch k and a language model's state can be carried between batches.
    ``targets`` are the inputs shifted by one step. Shapes ``(T, B)`` with ``T <= seq_len``; ``len()`` of
    the result is the number of batches, ``ceil(n / seq_len)``.
    """
    return StreamBatches(ids, batch_size, seq_len)
