"""The embedded sentiment set: short hand-made phrases where negation flips the meaning.

"good" is positive and "not good" negative; "bad" is negative and "not bad" positive. Every phrase is
``[opening] [not] [intensifier] adjective``, so a model that ignores word order and counts "good" and
"bad" words is wrong on every negated phrase: scoring 100% on the test split needs negation learned.
The test split holds out whole (opening, intensifier) pairs, each seen with other partners in training,
so a model cannot memorise test phrases.
"""
from __future__ import annotations

POSITIVE = ["good", "great", "happy", "nice", "fine", "excellent", "wonderful", "fun", "pleasant", "lovely"]
NEGATIVE = ["bad", "terrible", "sad", "awful", "boring", "poor", "horrible", "dull", "unpleasant", "annoying"]
OPENINGS = ["", "i am", "this movie is", "the food was", "it is", "you are", "the weather is", "that was",
            "we are", "the story is", "this is", "i feel"]
INTENSIFIERS = ["", "very", "really", "so", "quite"]


def _phrases():
    for o, opening in enumerate(OPENINGS):
        for i, intensifier in enumerate(INTENSIFIERS):
            held_out = (o + 2 * i) % 5 == 1              # 1 in 5 (opening, intensifier) pairs -> test
            for negated in (False, True):
                for polarity, words in ((1, POSITIVE), (0, NEGATIVE)):
                    for word in words:
                        text = " ".join(w for w in (opening, "not" if negated else "", intensifier, word) if w)
                        yield text, polarity ^ negated, "test" if held_out else "train"


def phrase_rows(split="train"):
    """``(texts, labels)`` of the ``"train"`` or ``"test"`` split; label 1 = positive, 0 = negative.

    The raw lists; :func:`rnnscratch.data.sentiment_phrases` wraps them in a ``TextDataset``."""
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    rows = [(t, y) for t, y, s in _phrases() if s == split]
    return [t for t, _ in rows], [y for _, y in rows]
