"""French as it reads on the pages and the certificate: elision before a role name, « À » with
its accent, durations and percentages without a useless decimal and with the decimal comma,
months by name, « né » / « née » from the civilité (certificate PDF read back)."""
from __future__ import annotations

import datetime as dt
import re
from html import unescape

from flask_babel import force_locale

from app.extensions import db
from app.services import certification, evaluations, formats
from tests.integration.test_candidatures import T, dossier
from tests.integration.test_certification import a_envoyer
from tests.integration.test_jury import en_session, pdf_text, ready  # noqa: F401 (fixture)
from tests.world import user


def test_formats_read_french_and_english(app):
    with app.test_request_context():
        with force_locale("fr"):
            role = formats.en_tant_que  # Markup: the role in bold, escaped
            assert unescape(role("Administrateur organisme")) == \
                "en tant qu'<strong>Administrateur organisme</strong>"
            assert unescape(role("Utilisateur établissement")).startswith("en tant qu'")
            assert unescape(role("Certif Pro")) == "en tant que <strong>Certif Pro</strong>"
            assert str(role("<b>")) == "en tant que <strong>&lt;b&gt;</strong>"
            assert formats.heures(14.0) == "14\u00a0h"
            assert formats.heures(3.5) == "3,5\u00a0h"
            assert formats.nombre(1234.5) == "1\u202f234,5"
            assert formats.nombre(None) == "—"
            assert formats.pourcentage(66.66) == "66,7\u00a0%"
            assert formats.pourcentage(100.0) == "100\u00a0%"
            assert formats.mois("2026-12") == "décembre 2026"
            assert formats.mois(dt.date(2027, 2, 14)) == "février 2027"
            assert formats.mois_court("2026-12") == "déc. 2026"
            assert formats.ne_le("Mme", "05/12/1983") == "née le 05/12/1983"
            assert formats.ne_le("M.", "05/12/1983") == "né le 05/12/1983"
            assert formats.ne_le(None, "05/12/1983") == "né(e) le 05/12/1983"
        with force_locale("en"):
            assert unescape(formats.en_tant_que("Administrateur organisme")).startswith("as ")
            assert formats.heures(3.5) == "3.5\u00a0h"
            assert formats.mois("2026-12") == "December 2026"
            assert formats.ne_le("Mme", "05/12/1983") == "born on 05/12/1983"


def test_home_page_elides_before_a_vowel(app, world, login):
    page = T(login("admin_organisme_a").get("/"))
    assert "Vous êtes connecté en tant qu'<strong>Administrateur organisme</strong>" in page
    assert "que Administrateur" not in page and "que <strong>Administrateur" not in page
    page = T(login("certif_pro_a").get("/"))
    assert "Vous êtes connecté en tant que <strong>Certif Pro</strong>" in page


def test_status_a_envoyer_has_its_accent(app, ready, login):  # noqa: F811
    c = a_envoyer(ready)
    client = login("utilisateur_etablissement_a")
    for path in ("/evaluations/", f"/candidature/{c.id}"):
        page = T(client.get(path))
        assert "À envoyer en certification" in page, path
        assert not re.search(r"\bA envoyer", page), path


def test_formation_duration_without_useless_decimal(app, ready, login):  # noqa: F811
    from app.services import candidatures

    c = candidatures.creer(dossier(ready, nom_naissance="Morel", prenoms="Chloé"),
                           user("utilisateur_etablissement_a"), True)
    for heures, intitule in (("14", "Remise à niveau"), ("3,5", "Atelier numérique")):
        evaluations.ajouter_formation(c, {
            "intitule": intitule, "organisme_formateur": "ETAB_A1", "formateur": "Paul Girard",
            "date_debut": "2026-01-05", "date_fin": "2026-01-30", "duree_heures": heures,
            "modalite": "presentiel"}, user("utilisateur_etablissement_a"))
    page = T(login("utilisateur_etablissement_a").get(f"/formations/dossier/{c.id}"))
    assert "14\u00a0h" in page and "3,5\u00a0h" in page
    assert "14.0" not in page and "3.5" not in page


def test_certificate_says_nee_for_madame_and_ne_for_monsieur(app, ready, login):  # noqa: F811
    _session, (madame, monsieur) = en_session(ready, n=2)
    monsieur.candidat.civilite = "M."
    db.session.commit()
    client = login("utilisateur_etablissement_a")
    texts = {}
    for c in (madame, monsieur):
        certification.decider(c, "certifiee", "", user("jury_a"))
        response = client.get(f"/candidature/{c.id}/certificat")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        texts[c.candidat.civilite] = pdf_text(response.data).replace("\n", " ")
    assert "née le 12/04/1985 à Lyon" in texts["Mme"]
    assert "né le 12/04/1985 à Lyon" in texts["M."]
    assert not any("né(e)" in text for text in texts.values())
