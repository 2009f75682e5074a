"""``Vocab``: tokens <-> integer ids, with ``<pad>`` at 0 and ``<unk>`` for everything unseen.

A sequence-to-sequence target vocabulary also holds ``<bos>`` (the decoder's first input) and ``<eos>``
(the last token it learns to emit): build it with ``specials=TARGET_SPECIALS``.
"""
from __future__ import annotations

import json
from collections import Counter

from ..files import atomic_write

PAD, UNK = "<pad>", "<unk>"
BOS, EOS = "<bos>", "<eos>"
TARGET_SPECIALS = (PAD, UNK, BOS, EOS)     # a sequence-to-sequence target's specials, in this order


class Vocab:
    """An ordered token list. Index 0 is ``<pad>`` and index 1 ``<unk>`` unless built without them.

    ``pad_index``, ``unk_index``, ``bos_index``, ``eos_index``: the specials' ids, None when absent.
    """

    def __init__(self, tokens, counts=None, unk=UNK):
        self.itos = list(tokens)
        if len(set(self.itos)) != len(self.itos):
            raise ValueError("tokens: the vocabulary has duplicate entries")
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.counts = dict(counts or {})
        self.unk = unk if unk in self.stoi else None
        self.unk_index = self.stoi.get(unk)
        self.pad_index = self.stoi.get(PAD)
        self.bos_index, self.eos_index = self.stoi.get(BOS), self.stoi.get(EOS)

    @classmethod
    def build(cls, token_streams, max_size=None, min_freq=1, specials=(PAD, UNK)):
        """Count tokens over ``token_streams`` (an iterable of token lists) and keep the most frequent.

        ``max_size`` counts the specials too. Ties are broken alphabetically, so the same data always
        gives the same ids.
        """
        if min_freq < 1:
            raise ValueError(f"min_freq: expected >= 1, got {min_freq}")
        counts = Counter()
        for tokens in token_streams:
            counts.update(tokens)
        ranked = sorted((t for t, c in counts.items() if c >= min_freq and t not in specials),
                        key=lambda t: (-counts[t], t))
        if max_size is not None:
            if max_size < len(specials):
                raise ValueError(f"max_size: expected at least {len(specials)} (the special tokens), got {max_size}")
            ranked = ranked[:max_size - len(specials)]
        return cls(list(specials) + ranked, {t: counts[t] for t in ranked})

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def encode(self, tokens):
        """Token list -> id list; unknown tokens become ``<unk>`` (an error if there is none)."""
        if self.unk_index is None:
            missing = [t for t in tokens if t not in self.stoi]
            if missing:
                raise KeyError(f"tokens: {missing[0]!r} is not in the vocabulary and it has no {UNK}")
            return [self.stoi[t] for t in tokens]
        get, unk = self.stoi.get, self.unk_index
        return [get(t, unk) for t in tokens]

    def decode(self, ids):
        return [self.itos[int(i)] for i in ids]

    def most_common(self, n=10):
        return sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    def to_dict(self):
        return {"itos": self.itos, "counts": self.counts, "unk": self.unk}

    @classmethod
    def from_dict(cls, d):
        return cls(d["itos"], d.get("counts"), d.get("unk") or UNK)

    def save(self, path):
        """Write :meth:`to_dict` as UTF-8 JSON to ``path``, atomically."""
        atomic_write(path, json.dumps(self.to_dict(), ensure_ascii=False))

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def __repr__(self):
        return f"Vocab(size={len(self)}, first={self.itos[:6]})"
