"""Text preprocessing for bag-of-words engines (LDA): the token stream a painting's text becomes.

Steps: lowercase; keep runs of letters only (punctuation, digits and underscores split words and
are dropped); drop English stop words and museum-catalogue words that occur in almost every
record and say nothing about *this* painting ("painting", "depict", "canvas" is kept: the medium
is signal); lemmatise with simplemma (a pure-Python, dictionary-based lemmatiser from PyPI, so no
model download); drop stop words again, since lemmatising turns "paintings"/"depicted" into
stop words; drop tokens shorter than ``MIN_TOKEN_LENGTH``.

``informative_count`` is what LDA's coverage threshold counts: the tokens of a painting that
survive this preprocessing *and* the fitted dictionary's frequency filter (a word in one
painting only, or in most of them, says nothing about which paintings are alike).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import simplemma
from gensim.parsing.preprocessing import STOPWORDS

MIN_TOKEN_LENGTH = 3

#: Words of the catalogue domain that appear in most descriptions regardless of content.
DOMAIN_STOP_WORDS = frozenset(
    {
        "art",
        "artist",
        "artwork",
        "collection",
        "create",
        "depict",
        "depiction",
        "display",
        "feature",
        "gallery",
        "image",
        "include",
        "know",
        "like",
        "make",
        "museum",
        "paint",
        "painter",
        "painting",
        "picture",
        "piece",
        "portray",
        "represent",
        "representation",
        "scene",
        "show",
        "subject",
        "title",
        "untitled",
        "use",
        "view",
        "work",
    }
)

STOP_WORDS = frozenset(STOPWORDS) | DOMAIN_STOP_WORDS

_WORD_RE = re.compile(r"[^\W\d_]+")


def informative_count(bow: Sequence[tuple[int, int]]) -> int:
    """Informative tokens of a bag of words ``[(token id, count), ...]`` (gensim's ``doc2bow``
    over a filtered dictionary): the sum of the counts, repeats included."""
    return sum(count for _, count in bow)


@lru_cache(maxsize=200_000)
def lemma(word: str, language: str = "en") -> str:
    return simplemma.lemmatize(word, lang=language)


def tokenize(text: str, *, language: str = "en") -> list[str]:
    """The content words of ``text``, lemmatised, in order (duplicates kept: counts matter)."""
    tokens: list[str] = []
    for word in _WORD_RE.findall(text.lower()):
        if word in STOP_WORDS:
            continue
        token = lemma(word, language).lower()
        if len(token) >= MIN_TOKEN_LENGTH and token not in STOP_WORDS:
            tokens.append(token)
    return tokens
