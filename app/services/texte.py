"""Accent- and case-insensitive text: the Python key of the national search (« Élodie
D'Arc » → "elodie d arc") and the same folding in SQL, for columns that keep no stored key
(the public directory). Portable: SQLite and PostgreSQL, no database extension."""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

from sqlalchemy import func

# The accented letters met in French names (both cases: SQLite's lower() only folds ASCII).
_FOLDS = {
    "a": "àâäáãåÀÂÄÁÃÅ", "c": "çÇ", "e": "éèêëÉÈÊË", "i": "îïíìÎÏÍÌ", "n": "ñÑ",
    "o": "ôöóòõøÔÖÓÒÕØ", "u": "ûüúùÛÜÚÙ", "y": "ÿýŸÝ", "oe": "œŒ", "ae": "æÆ",
}


def normalize(text: Optional[str]) -> str:
    """Accent- and case-insensitive key: « Élodie  D'Arc » → "elodie d arc"."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def mots(text: Optional[str]) -> list[str]:
    """The words of a search, folded: « Lyon  Boétie » → ["lyon", "boetie"]."""
    return normalize(text).split()


def sql_fold(expr):
    """`expr` without accents and in lower case, in SQL (matches the words of `mots`)."""
    for plain, accented in _FOLDS.items():
        for letter in accented:
            expr = func.replace(expr, letter, plain)
    return func.lower(expr)


def contient_les_mots(expr, text: Optional[str]):
    """SQL conditions: every word of `text` appears in `expr` (accents and case ignored)."""
    folded = sql_fold(expr)
    return [folded.like(f"%{word}%") for word in mots(text)]
