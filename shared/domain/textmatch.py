"""Whole-word phrase matching that survives how customers actually type.

Keyword rules are written once by a support lead ("sistem macet", "tidak bisa login") and must match
"Sistem   MACET!!", "darúrat" or "SAYA TIDAK BISA LOGIN" without the rule author listing every spelling.
Both sides are normalised the same way (`normalize`), and a phrase matches only as a whole sequence of
tokens: "urgent" does not match "urgently", "login" does not match "loginpage".

A text is normalised once and searched for many phrases (`SearchableText`), so a 100 KB e-mail body
costs one pass plus one C-level substring search per phrase.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable

__all__ = ["SearchableText", "find_phrases", "normalize"]

_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
# \w is letters, digits and underscore; the underscore is punctuation to a customer.
_NOT_A_WORD = re.compile(r"[\W_]+")
# Separates the parts of a SearchableText: contains no space-free token, so no phrase can span two parts.
_PART_BREAK = " \n "


def _strip_marks(run: re.Match[str]) -> str:
    return "".join(char for char in run.group() if not unicodedata.combining(char))


def normalize(text: str) -> str:
    """Casefolded, accent-free tokens separated by single spaces, so spelling variants compare equal.

    NFKD also folds compatibility forms (full-width letters, ligatures, superscript digits) into plain ones.
    Anything that is not a letter or digit, punctuation included, is a word boundary.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    if not decomposed.isascii():
        # Only non-ASCII runs can hold combining marks; skipping the ASCII bulk keeps long bodies cheap.
        decomposed = _NON_ASCII_RUN.sub(_strip_marks, decomposed)
    return _NOT_A_WORD.sub(" ", decomposed).strip()


@lru_cache(maxsize=4096)
def _padded_phrase(phrase: str) -> str:
    """Rule phrases repeat on every ticket; normalise each once."""
    normalized = normalize(phrase)
    return f" {normalized} " if normalized else ""


class SearchableText:
    """One or more texts (subject, body, tags) normalised once and searched for many phrases.

    Each part is matched on its own: a phrase never spans the end of the subject and the start of the body.
    """

    __slots__ = ("_padded",)

    def __init__(self, *parts: str) -> None:
        normalized = (normalize(part) for part in parts)
        self._padded = " " + _PART_BREAK.join(part for part in normalized if part) + " "

    def contains(self, phrase: str) -> bool:
        """True when the phrase occurs as whole tokens; a phrase with no letters or digits never matches."""
        padded = _padded_phrase(phrase)
        return bool(padded) and padded in self._padded

    def find(self, phrases: Iterable[str]) -> list[str]:
        """The phrases that occur, spelled as given, in the given order; spellings of one phrase count once."""
        found: list[str] = []
        seen: set[str] = set()
        for phrase in phrases:
            padded = _padded_phrase(phrase)
            if padded and padded not in seen and padded in self._padded:
                found.append(phrase)
            seen.add(padded)
        return found


def find_phrases(text: str, phrases: Iterable[str]) -> list[str]:
    """Which of `phrases` occur in `text` as whole words, spelled as given, in the given order, each once.

    For several searches over one text, build a `SearchableText` once instead.
    """
    return SearchableText(text).find(phrases)
