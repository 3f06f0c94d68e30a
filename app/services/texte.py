"""Accent- and case-insensitive text: the Python key of the national search (« Élodie
D'Arc » → "elodie d arc") and the same folding in SQL, for the columns that keep no stored key
(the public directory). SQLite and PostgreSQL, no database extension: PostgreSQL folds with
translate(), SQLite calls this module's Python function (registered on every connection)."""
from __future__ import annotations

import re
import sqlite3
import unicodedata
from typing import Optional

from sqlalchemy import String, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

# Letters that NFKD does not split into a letter and an accent.
_LIGATURES = {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"}
# The accented letters of French names, both cases (PostgreSQL's lower() under the C locale
# only folds ASCII), and the plain letter each becomes.
_ACCENTS = "àâäáãåçéèêëîïíìñôöóòõøûüúùÿýÀÂÄÁÃÅÇÉÈÊËÎÏÍÌÑÔÖÓÒÕØÛÜÚÙŸÝ"
_PLAIN = "aaaaaaceeeeiiiinoooooouuuuyyAAAAAACEEEEIIIINOOOOOOUUUUYY"


def normalize(text: Optional[str]) -> str:
    """Accent- and case-insensitive key: « Élodie  D'Arc » → "elodie d arc"."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def plier(text: Optional[str]) -> str:
    """`normalize`, ligatures included (« Œuvre » → "oeuvre"): what the SQL folding gives."""
    text = text or ""
    for ligature, letters in _LIGATURES.items():
        text = text.replace(ligature, letters)
    return normalize(text)


def mots(text: Optional[str]) -> list[str]:
    """The words of a search, folded: « Lyon  Boétie » → ["lyon", "boetie"]."""
    return plier(text).split()


class sql_plier(FunctionElement):
    """SQL: the text without accents, ligatures nor capitals (the words of `mots` are found
    in it with LIKE)."""

    type = String()
    inherit_cache = True
    name = "clea_plier"


@compiles(sql_plier)
def _plier_sqlite(element, compiler, **kw):
    return f"clea_plier({compiler.process(element.clauses, **kw)})"


@compiles(sql_plier, "postgresql")
def _plier_postgresql(element, compiler, **kw):
    text = compiler.process(element.clauses, **kw)
    for ligature, letters in _LIGATURES.items():
        text = f"replace({text}, '{ligature}', '{letters}')"
    return f"lower(translate({text}, '{_ACCENTS}', '{_PLAIN}'))"


@event.listens_for(Engine, "connect")
def _sqlite_functions(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("clea_plier", 1, plier, deterministic=True)


def contient_les_mots(expr, text: Optional[str]) -> list:
    """SQL conditions: every word of `text` appears in `expr` (accents and case ignored)."""
    folded = sql_plier(expr)
    return [folded.like(f"%{word}%") for word in mots(text)]
