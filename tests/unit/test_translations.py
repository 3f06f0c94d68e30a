"""The translation catalogues stay complete and safe to use.

The UI is written in French in the source (gettext msgids are French); the fr catalogue
mirrors them and the en catalogue gives the English shown by the language menu. These
tests extract the messages from the current source tree exactly like
`make extract-messages` (babel.cfg + keywords `_l` / `lazy_gettext` on top of Babel's
defaults), so a string added to the code without a translation fails here with its
location, instead of silently showing French to English users.
"""
from __future__ import annotations

import io
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
TRANSLATIONS = ROOT / "translations"
LOCALES = ("fr", "en")
# Same keywords as `pybabel extract -k _l -k lazy_gettext` (Makefile): Babel's defaults
# (_, gettext, ngettext, ...) plus Flask-Babel's lazy variants.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
# The jinja2 method of babel.cfg, spelled out so the test does not depend on entry points.
METHODS = {"jinja2": "jinja2.ext:babel_extract"}
FIX = ("Run `make extract-messages` from the repository root, then give every entry a "
       "msgstr (no `#, fuzzy`) in {po}.")

# %(name)s, %(n)d, %(x).2f ... ; `%%` is a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\((?P<name>\w+)\))?[-#0 +]*(?:\*|\d+)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def shown(locale: str) -> str:
    """The catalogue's path as the developer types it, for the failure messages."""
    path = po_path(locale)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def load_catalog(locale: str):
    with po_path(locale).open("rb") as fileobj:
        return read_po(fileobj, locale=locale)


@lru_cache(maxsize=1)
def extracted_messages() -> dict[tuple[str, str | None], list[str]]:
    """{(msgid, context): ["app/file.py:12", ...]} for every message in the source tree."""
    with BABEL_CFG.open() as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, filename=str(BABEL_CFG))
    method_map = [(pattern, METHODS.get(method, method)) for pattern, method in method_map]
    found: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        msgid = message[0] if isinstance(message, (list, tuple)) else message
        if msgid:
            found[(msgid, context)].append(f"{filename}:{lineno}")
    return dict(found)


def translated(message) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return not message.fuzzy and bool(strings) and all(s and s.strip() for s in strings)


def entries(catalog):
    return [m for m in catalog if m.id]


def msgids(message) -> list[str]:
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def msgstrs(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def placeholders(text: str) -> set[str]:
    """The printf-style conversions of `text`, e.g. {"%(nom)s", "%(n)d"} (without `%%`)."""
    return {m.group(0) for m in PLACEHOLDER.finditer(text or "") if not m.group(0).endswith("%")}


def test_source_tree_has_messages():
    # Guards the other tests: a broken babel.cfg would make them pass on nothing.
    found = extracted_messages()
    assert len(found) > 50, f"only {len(found)} messages extracted from the source: check babel.cfg"
    files = {loc.split(":")[0] for locs in found.values() for loc in locs}
    assert any(f.endswith(".py") for f in files) and any(f.endswith(".html") for f in files)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_source_message_is_translated(locale):
    catalog = load_catalog(locale)
    missing = []
    for (msgid, context), where in sorted(extracted_messages().items(),
                                          key=lambda item: item[1][0]):
        message = catalog.get(msgid, context)
        if message is None:
            missing.append(f"  - {msgid!r} ({', '.join(where)}): not in the catalogue")
        elif not translated(message):
            state = "fuzzy" if message.fuzzy else "empty msgstr"
            missing.append(f"  - {msgid!r} ({', '.join(where)}): {state}")
    assert not missing, (
        f"{len(missing)} message(s) of the source are not translated in "
        f"{shown(locale)}:\n" + "\n".join(missing) + "\n"
        + FIX.format(po=shown(locale)))


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_has_no_fuzzy_or_empty_entry(locale):
    catalog = load_catalog(locale)
    assert not catalog.fuzzy, (f"the header of {shown(locale)} is marked `#, fuzzy`: "
                               "`pybabel compile` would skip the whole catalogue")
    bad = [f"  - {m.id!r}: {'fuzzy' if m.fuzzy else 'empty msgstr'}"
           for m in entries(catalog) if not translated(m)]
    assert not bad, (f"{shown(locale)} has unusable entries "
                     "(Babel and Flask-Babel ignore them):\n" + "\n".join(bad) + "\n"
                     + FIX.format(po=shown(locale)))


def test_english_catalogue_is_not_a_copy_of_the_french():
    # A msgstr left identical to a msgid with French accents or guillemets was not translated.
    french = re.compile(r"[àâçéèêëîïôûùüÿœæ«»]", re.IGNORECASE)
    def first(text):  # plural entries are tuples
        return text if isinstance(text, str) else text[0]

    copied = [f"  - {m.id!r}" for m in entries(load_catalog("en"))
              if first(m.string) == first(m.id)
              and french.search(first(m.id).replace("CléA", ""))]
    assert not copied, (f"These entries of {shown('en')} still read in French; translate "
                        "them:\n" + "\n".join(copied))


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_are_kept(locale):
    wrong = []
    sample = defaultdict(lambda: 1)  # every %(name)x accepts an int
    for message in entries(load_catalog(locale)):
        expected = set().union(*(placeholders(i) for i in msgids(message)))
        for string in msgstrs(message):
            if not string:
                continue
            got = placeholders(string)
            # Plural forms may drop the count (e.g. "one site"), never add or rename.
            ok = got <= expected if len(msgids(message)) > 1 else got == expected
            if not ok:
                wrong.append(f"  - {message.id!r}: msgid has {sorted(expected)}, "
                             f"msgstr {string!r} has {sorted(got)}")
            elif expected or message.python_format:
                try:
                    string % sample  # what flask_babel.gettext(msgid, **variables) does
                except (KeyError, TypeError, ValueError) as exc:
                    wrong.append(f"  - {message.id!r}: msgstr {string!r} does not format "
                                 f"({exc}); write a literal percent sign as %%")
    assert not wrong, (f"Placeholders differ between msgid and msgstr in "
                       f"{shown(locale)}:\n" + "\n".join(wrong))


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_compiles_and_flask_babel_loads_it(locale, tmp_path):
    """Compile the .po in memory (like `make translations`) and read it back through
    Flask-Babel, from a directory laid out like translations/."""
    from flask import Flask
    from flask_babel import Babel, gettext, lazy_gettext

    catalog = load_catalog(locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    assert buffer.getvalue(), "empty .mo"
    mo = tmp_path / locale / "LC_MESSAGES" / "messages.mo"
    mo.parent.mkdir(parents=True)
    mo.write_bytes(buffer.getvalue())

    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(tmp_path)
    Babel(app, locale_selector=lambda: locale)
    samples = [m for m in entries(catalog) if isinstance(m.id, str) and translated(m)]
    with app.test_request_context():
        for message in samples:
            got = gettext(message.id)
            assert got == message.string, (
                f"{locale}: Flask-Babel returns {got!r} for {message.id!r}, "
                f"expected {message.string!r}")
        # The lazy strings of the views and menus resolve the same way.
        assert str(lazy_gettext(samples[0].id)) == gettext(samples[0].id)
