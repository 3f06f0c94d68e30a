"""The dated tariffs of the invoicing (services/tarifs): read and checked, cut into spans."""
import datetime as dt
import json
from decimal import Decimal

import pytest

from app.services import tarifs
from app.services.tarifs import Periode, Tarif, TarifsInvalides

D = dt.date


def grille(*lignes):
    return json.dumps({"tarifs": [dict(zip(("acte", "depuis", "montant"), l)) for l in lignes]})


@pytest.mark.parametrize("texte,message", [
    ("{", "n'est pas du JSON valide"),
    ('{"x": 1}', "une liste « tarifs »"),
    (grille(("visite", "2026-01-01", "1")), "acte inconnu"),
    (grille(("prealable", "01/01/2026", "1")), "date « depuis » invalide"),
    (grille(("prealable", "2026-01-01", "-3")), "montant invalide"),
    (grille(("prealable", "2026-01-01", "beaucoup")), "montant invalide"),
    (grille(("prealable", "2026-01-01", "NaN")), "montant invalide"),
    (grille(("prealable", "2026-01-01", "1"), ("prealable", "2026-01-01", "2")),
     "deux tarifs du même acte"),
])
def test_a_wrong_file_is_refused_in_french(app, texte, message):
    with app.test_request_context():
        with pytest.raises(TarifsInvalides, match=message):
            tarifs.lire(texte)


def test_the_spans_follow_the_dates(app):
    with app.test_request_context():
        g = tarifs.lire(grille(("prealable", "2026-03-01", "40"), ("prealable", "2025-01-01", "35"),
                               ("certificat", "2025-01-01", "20")))
    assert g[1] == Tarif("prealable", D(2025, 1, 1), Decimal("35.00"))
    # a period across the change: two spans; the days before the first tariff at no amount
    assert tarifs.periodes("prealable", D(2024, 12, 1), D(2026, 3, 31), g) == [
        Periode("prealable", D(2024, 12, 1), D(2025, 1, 1), Decimal(0)),
        Periode("prealable", D(2025, 1, 1), D(2026, 3, 1), Decimal("35.00")),
        Periode("prealable", D(2026, 3, 1), D(2026, 4, 1), Decimal("40.00"))]
    # inside one tariff's time: one span
    assert tarifs.periodes("prealable", D(2026, 4, 1), D(2026, 4, 30), g) == [
        Periode("prealable", D(2026, 4, 1), D(2026, 5, 1), Decimal("40.00"))]
    # unbounded: from the beginning of time to no end
    spans = tarifs.periodes("certificat", None, None, g)
    assert [(p.debut, p.fin, p.montant) for p in spans] == [
        (dt.date.min, D(2025, 1, 1), Decimal(0)), (D(2025, 1, 1), None, Decimal("20.00"))]


def test_the_shipped_tariffs_are_valid(app):
    with app.app_context():
        g = tarifs.en_vigueur()
    assert {t.acte for t in g} == {"prealable", "certificat"}
