"""Tokenizers: text -> list of tokens. Any callable ``str -> list[str]`` can stand in for these."""
from __future__ import annotations

import re

_HTML_TAG = re.compile(r"<[^>]+>")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
# words (with inner apostrophes: don't, it's), placeholders like <num>, or any single other symbol
_TOKEN = re.compile(r"<url>|<num>|[^\W_]+(?:'[^\W_]+)*|[^\w\s]")


class CharTokenizer:
    """Every character is a token (whitespace and newlines included): min-char-rnn's view of text."""

    def __call__(self, text: str) -> list[str]:
        return list(text)

    def detokenize(self, tokens) -> str:
        return "".join(tokens)


class WordTokenizer:
    """Lower-cased words with punctuation split off and HTML tags (IMDB's ``<br />``) removed.

    ``"I didn't like it.<br /><br />2/10"`` -> ``["i", "didn't", "like", "it", ".", "2", "/", "10"]``.
    ``digits=True`` maps numbers to ``<num>``; ``urls=True`` maps links to ``<url>``.
    """

    def __init__(self, lower=True, digits=False, urls=False):
        self.lower, self.digits, self.urls = lower, digits, urls

    def __call__(self, text: str) -> list[str]:
        text = _HTML_TAG.sub(" ", text)
        if self.urls:
            text = _URL.sub(" <url> ", text)
        if self.lower:
            text = text.lower()
        if self.digits:
            text = _DIGITS.sub(" <num> ", text)
        return _TOKEN.findall(text)

    def detokenize(self, tokens) -> str:
        return " ".join(tokens)


TOKENIZERS = {"char": CharTokenizer, "word": WordTokenizer}    # the names get_tokenizer knows


def get_tokenizer(name_or_callable):
    """A new tokenizer named in :data:`TOKENIZERS` (``"char"``, ``"word"``), or any callable as it is."""
    if callable(name_or_callable):
        return name_or_callable
    if name_or_callable in TOKENIZERS:
        return TOKENIZERS[name_or_callable]()
    raise ValueError(f"tokenizer: expected {', '.join(map(repr, TOKENIZERS))} or a callable, got {name_or_callable!r}")
