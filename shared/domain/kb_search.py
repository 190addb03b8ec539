"""Knowledge-base search: Indonesian and English articles ranked by BM25 over a prebuilt index.

Words are lower-cased, stop words dropped and stemmed the way their language wants — Sastrawi (dictionary-based,
Indonesian: "pengembalian", "dikembalikan" → "kembali") and Snowball (English: "refunds", "refunded" → "refund").
A query's language is not trusted: each query word is stemmed both ways and either form may match. A title word
counts as TITLE_WEIGHT body words. A query word the index has never seen is matched to its closest indexed words
(the standard library's difflib, similarity ≥ TYPO_SIMILARITY), at TYPO_WEIGHT of a real match: "pasword" still
finds "password". (No compiled matcher: the Lambda artifact must build from manylinux2014 wheels.)

`build_index` is run when an article is published and its result stored (a JSON document); `search` reads only
that document, so a query is never a scan of the articles.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 3
TYPO_SIMILARITY = 0.8
TYPO_WEIGHT = 0.7
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

STOP_WORDS = frozenset(
    # Indonesian
    "yang dan di ke dari ini itu dengan untuk pada adalah atau juga tidak bisa saya anda kami kita mereka akan sudah "
    "belum ada apa bagaimana cara kenapa mengapa kapan dimana mana jika kalau agar supaya oleh sebagai dalam saat "
    "tersebut lebih masih harus dapat boleh mohon tolong halo hai terima kasih nya lah kah pun ya gimana"
    # English
    " the a an and or of to in on at for with is are was were be been it this that my your our how what why when "
    "where can could do does did not no i you we they me us please hi hello thanks help".split()
)


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    body: str
    language: str  # "id" or "en"
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    id: str
    score: float


@lru_cache(maxsize=1)
def _indonesian() -> Any:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=1)
def _english() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=50_000)
def stems(word: str) -> tuple[str, ...]:
    """The word's stem in each language (one when they agree)."""
    return tuple(dict.fromkeys((str(_indonesian().stem(word)), str(_english().stemWord(word)))))


def words(text: str) -> list[str]:
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in STOP_WORDS and len(w) > 1]


def terms(text: str, language: str) -> list[str]:
    """An article's terms: stemmed in its own language."""
    if language == "id":
        return [str(_indonesian().stem(w)) for w in words(text)]
    return [str(_english().stemWord(w)) for w in words(text)]


def build_index(articles: Iterable[Article]) -> dict[str, Any]:
    """The document `search` reads: per-term postings (term frequency per article, title words weighted), article
    lengths and the vocabulary for typo matching. Plain JSON types only."""
    postings: dict[str, dict[str, int]] = {}
    lengths: dict[str, int] = {}
    languages: dict[str, str] = {}
    for article in articles:
        counted: Counter[str] = Counter()
        for term in terms(article.title, article.language):
            counted[term] += TITLE_WEIGHT
        counted.update(terms(article.body, article.language))
        for tag in article.tags:
            counted.update(terms(tag, article.language))
        lengths[article.id] = sum(counted.values())
        languages[article.id] = article.language
        for term, frequency in counted.items():
            postings.setdefault(term, {})[article.id] = frequency
    average = sum(lengths.values()) / len(lengths) if lengths else 0.0
    return {"version": 1, "articles": len(lengths), "average_length": average, "lengths": lengths,
            "languages": languages, "postings": postings}  # fmt: skip


def _typo_matches(word: str, vocabulary: list[str]) -> list[str]:
    if len(word) < 4:
        return []
    return difflib.get_close_matches(word, vocabulary, n=3, cutoff=TYPO_SIMILARITY)


def search(index: Mapping[str, Any], query: str, *, language: str | None = None, limit: int = 5) -> list[Hit]:
    """The best articles for `query`, best first (BM25). `language` ranks articles in that language first among
    equal scores; it never hides the others."""
    postings: Mapping[str, Mapping[str, int]] = index["postings"]
    total = int(index["articles"])
    if not total:
        return []
    average = float(index["average_length"]) or 1.0
    weighted: dict[str, float] = {}
    vocabulary: list[str] | None = None
    for word in words(query):
        forms = [s for s in stems(word) if s in postings]
        if forms:
            for form in forms:
                weighted[form] = max(weighted.get(form, 0.0), 1.0)
            continue
        vocabulary = vocabulary if vocabulary is not None else list(postings)
        for near in {m for s in stems(word) for m in _typo_matches(s, vocabulary)}:
            weighted[near] = max(weighted.get(near, 0.0), TYPO_WEIGHT)
    scores: dict[str, float] = {}
    for term, weight in weighted.items():
        documents = postings[term]
        idf = math.log(1 + (total - len(documents) + 0.5) / (len(documents) + 0.5))
        for article, frequency in documents.items():
            length = int(index["lengths"][article])
            scores[article] = scores.get(article, 0.0) + weight * idf * frequency * (K1 + 1) / (frequency + K1 * (1 - B + B * length / average))
    languages = index.get("languages", {})
    ranked = sorted(scores.items(), key=lambda item: (-round(item[1], 9), languages.get(item[0]) != language, item[0]))
    return [Hit(id=article, score=round(score, 4)) for article, score in ranked[:limit]]
