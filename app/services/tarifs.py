"""The tariffs of the acts Certif Pro invoices (issue 16): dated configuration, a JSON file
(CLEA_TARIFS_FILE, app/data/tarifs.json by default). Each tariff applies to the acts dated
from its « depuis » until the next tariff of the same act. Checked when read: an unknown
act, a missing or malformed date, a negative or malformed amount, two tariffs of one act
on the same day, each refuses the file with a French message."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Optional

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .errors import RuleError

PREALABLE = "prealable"
CERTIFICAT = "certificat"
ACTES = {PREALABLE: _l("Évaluation préalable finalisée"), CERTIFICAT: _l("Certificat délivré")}


class TarifsInvalides(RuleError):
    """The tariffs file cannot be used (the message says why, in French)."""


@dataclasses.dataclass(frozen=True)
class Tarif:
    acte: str
    depuis: dt.date
    montant: Decimal


@dataclasses.dataclass(frozen=True)
class Periode:
    """A span of days [debut, fin) at one amount (fin None: open-ended)."""

    acte: str
    debut: dt.date
    fin: Optional[dt.date]
    montant: Decimal


def lire(texte: str) -> list[Tarif]:
    try:
        data = json.loads(texte)
    except ValueError as error:
        raise TarifsInvalides(_("Le fichier des tarifs n'est pas du JSON valide : %(erreur)s",
                                erreur=str(error))) from None
    lignes = data.get("tarifs") if isinstance(data, dict) else None
    if not isinstance(lignes, list):
        raise TarifsInvalides(_("Le fichier des tarifs doit contenir une liste « tarifs »."))
    out, vus = [], set()
    for n, ligne in enumerate(lignes, 1):
        if not isinstance(ligne, dict) or ligne.get("acte") not in ACTES:
            raise TarifsInvalides(_("Tarif n° %(n)d : acte inconnu (prealable ou certificat).",
                                    n=n))
        try:
            depuis = dt.date.fromisoformat(str(ligne.get("depuis")))
        except ValueError:
            raise TarifsInvalides(_("Tarif n° %(n)d : date « depuis » invalide (AAAA-MM-JJ).",
                                    n=n)) from None
        try:
            montant = Decimal(str(ligne.get("montant")))
        except InvalidOperation:
            montant = Decimal(-1)
        if not montant.is_finite() or montant < 0:
            raise TarifsInvalides(_("Tarif n° %(n)d : montant invalide (un nombre positif, "
                                    "en euros).", n=n))
        if (ligne["acte"], depuis) in vus:
            raise TarifsInvalides(_("Tarif n° %(n)d : deux tarifs du même acte à la même "
                                    "date.", n=n))
        vus.add((ligne["acte"], depuis))
        out.append(Tarif(ligne["acte"], depuis, montant.quantize(Decimal("0.01"))))
    return sorted(out, key=lambda t: (t.acte, t.depuis))


_cache: dict[tuple[str, float], list[Tarif]] = {}


def en_vigueur() -> list[Tarif]:
    """The configured tariffs (read again when the file changes)."""
    path = Path(current_app.config["CLEA_TARIFS_FILE"])
    try:
        cle = (str(path), path.stat().st_mtime)
    except OSError:
        raise TarifsInvalides(_("Fichier des tarifs introuvable : %(chemin)s.",
                                chemin=str(path))) from None
    if cle not in _cache:
        _cache.clear()
        _cache[cle] = lire(path.read_text(encoding="utf-8"))
    return _cache[cle]


def periodes(acte: str, debut: Optional[dt.date], fin: Optional[dt.date],
             tarifs: Optional[list[Tarif]] = None) -> list[Periode]:
    """The spans of [debut, fin] (days, both included; None: unbounded) at each amount of
    `acte`; days before the act's first tariff are at no amount (Decimal 0)."""
    propres = [t for t in (tarifs if tarifs is not None else en_vigueur()) if t.acte == acte]
    bornes = [(dt.date.min, Decimal(0))] + [(t.depuis, t.montant) for t in propres]
    out = []
    for i, (depuis, montant) in enumerate(bornes):
        jusqu = bornes[i + 1][0] if i + 1 < len(bornes) else None  # exclusive
        a = max(depuis, debut) if debut else depuis
        b = min(jusqu, fin + dt.timedelta(days=1)) if (jusqu and fin) else (
            jusqu or (fin + dt.timedelta(days=1) if fin else None))
        if b is not None and a >= b:
            continue
        out.append(Periode(acte, a, b, montant))
    return out
