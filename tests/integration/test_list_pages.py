"""Every list of the platform works past its first page (DESIGN §10: each list is tested with
more rows than one page). The custom lists are walked through their « Suivants » links up to
the last page; the generated (FAB) lists are asked for their second and last pages. Rows are
inserted in bulk (no service round trip per row) so that the tests stay fast."""
from __future__ import annotations

import datetime as dt
import html
import itertools
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Etablissement, FabRole, Notification, Organisme, Utilisateur
from app.models.candidature import Candidat, Candidature
from app.models.habilitation import Habilitation
from app.models.jury import Certificat, EnvoiCertificat, LotEnvoi, SessionJury
from app.models.rattachement import Rattachement
from app.security import roles as R
from app.services import candidatures, envois, notifications, rattachements
from app.services.texte import normalize
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import habiliter
from tests.world import siren, siret, user

BASE = dt.datetime(2026, 1, 5, 9, 0)
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
PREVIOUS = re.compile(r'<a href="([^"]+)" rel="prev">')
NIC = itertools.count(100)  # établissement numbers of the SIRETs made here


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def main(text: str) -> str:
    """The page's own content (not the header's bell pop-up)."""
    return text[text.index("<main"):text.index("</main>")]


def pager(text: str, label: str = "Pages") -> str:
    """The pager named `label` on a page ("" when the list fits on one page)."""
    start = text.find(f'<nav class="clea-pager" aria-label="{label}">')
    return text[start:text.index("</nav>", start)] if start >= 0 else ""


def walk(client, url: str, label: str = "Pages") -> list[str]:
    """Every page of a custom list, from `url` through its pager's « Suivants » links."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        pages.append(main(T(response)))
        assert len(pages) < 20, "the « Suivants » links never end"
        found = NEXT.search(pager(pages[-1], label))
        url = found.group(1) if found else None
    return pages


def assert_pager(pages: list[str], previous="Précédents", following="Suivants") -> None:
    """Page n of N says so; the first has no « Précédents », the last no « Suivants »."""
    count = len(pages)
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} sur {count}" in text
        assert (f"{following} " in text) == (number < count), number
        assert (f"{previous}</a>" in text) == (number > 1), number


# --- bulk rows -----------------------------------------------------------------------------

def bulk_dossiers(etab_id: int, prefix: str, count: int, statut: str = "attente_eval_prealable",
                  **extra) -> list[Candidature]:
    """`count` dossiers named PREFIX000…, the highest number changed most recently."""
    rows = []
    for i in range(count):
        nom = f"{prefix}{i:03d}"
        naissance = dt.date(1970, 1, 1) + dt.timedelta(days=i)
        candidat = Candidat(
            civilite="Mme", nom_naissance=nom, prenoms="Élodie", date_naissance=naissance,
            commune_naissance="Lyon", adresse="3 rue Haute", code_postal="75011",
            ville="Paris", cle_identite=f"{normalize(nom)}|elodie|{naissance.isoformat()}",
            recherche=f"{normalize(nom)} elodie", recherche_prenom=f"elodie {normalize(nom)}")
        rows.append(Candidature(
            candidat=candidat, etablissement_id=etab_id, statut=statut,
            statut_inscription="demandeur_emploi", objectif_pro="Objectif professionnel.",
            objectif_extra_pro="Objectif extra-professionnel.",
            created_on=BASE, updated_on=BASE + dt.timedelta(minutes=i), **extra))
    db.session.add_all(rows)
    db.session.commit()
    return rows


def bulk_etablissements(world, count: int, prefix: str = "SITE", habilites: bool = True,
                        organisme_id=None, **extra) -> list[Etablissement]:
    """`count` établissements PREFIX 000… of org_a1 (a valid habilitation each)."""
    today = dt.date.today()
    rows = [Etablissement(nom=f"{prefix} {i:03d}", organisme_id=organisme_id or world.ids["org_a1"],
                          siret=siret(siren(11111111), next(NIC)), region="IDF", actif=True,
                          ville="Paris", **extra) for i in range(count)]
    db.session.add_all(rows)
    db.session.flush()
    if habilites:
        db.session.add_all([Habilitation(
            etablissement_id=e.id, portee="national", branche_key=0, statut="validee",
            date_debut=today - dt.timedelta(days=1), date_fin=today + dt.timedelta(days=365),
            demande_le=BASE + dt.timedelta(minutes=i)) for i, e in enumerate(rows)])
    db.session.commit()
    return rows


# --- the custom lists ---------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_evaluations_list_every_page(app, world, login):
    """Issue 12 item 1: 60 dossiers (3 pages of 25) answered 500 as soon as a second page
    existed; now each page shows its rows and the filters follow the pager."""
    habiliter(world, "etab_a1")
    bulk_dossiers(world.ids["etab_a1"], "PAGINE", 60)
    client = login("utilisateur_etablissement_a")
    pages = walk(client, f"/evaluations/?etablissement={world.ids['etab_a1']}&nom=pagine")
    assert len(pages) == 3
    assert_pager(pages)
    assert "60 dossiers" in pages[0]
    assert "PAGINE059" in pages[0] and "PAGINE035" in pages[0] and "PAGINE034" not in pages[0]
    assert "PAGINE034" in pages[1] and "PAGINE010" in pages[1] and "PAGINE035" not in pages[1]
    assert "PAGINE009" in pages[2] and "PAGINE000" in pages[2] and "PAGINE010" not in pages[2]
    # the filters are kept by the pager's links
    assert f"etablissement={world.ids['etab_a1']}" in NEXT.search(pages[1]).group(1)
    assert "nom=pagine" in PREVIOUS.search(pages[2]).group(1)
    # past the last page: the last page (a row was just moved or deleted)
    assert "PAGINE000" in main(T(client.get("/evaluations/?page=99")))


def test_abandoned_and_formations_lists_every_page(app, world, login):
    habiliter(world, "etab_a1")
    bulk_dossiers(world.ids["etab_a1"], "ABANDON", 30, statut="abandonnee", motif_abandon="emploi",
                  statut_avant_abandon="attente_eval_prealable")
    bulk_dossiers(world.ids["etab_a1"], "FORMA", 40)
    client = login("utilisateur_etablissement_a")
    pages = walk(client, "/evaluations/abandonnees/")
    assert len(pages) == 2
    assert_pager(pages)
    assert "30 dossiers" in pages[0] and "FORMA" not in pages[0]
    assert "ABANDON004" in pages[1] and "ABANDON000" in pages[1] and "ABANDON005" not in pages[1]
    assert "Réintégrer" in pages[1]
    pages = walk(client, "/formations/")
    assert len(pages) == 2
    assert_pager(pages)
    assert "FORMA014" in pages[1] and "FORMA000" in pages[1] and "ABANDON" not in pages[1]
    last = db.session.scalars(select(Candidature.id).join(Candidat)
                              .where(Candidat.nom_naissance == "FORMA000")).one()
    assert f"/formations/dossier/{last}" in pages[1]


def test_evaluations_list_queries_do_not_grow_with_the_page(app, world, login, count_queries):
    """No query per row (candidat, établissement) on any page."""
    habiliter(world, "etab_a1")
    bulk_dossiers(world.ids["etab_a1"], "PAGINE", 60)
    client = login("utilisateur_etablissement_a")
    counts = []
    for page in (0, 1, 2):
        client.get(f"/evaluations/?page={page}")  # warm-up
        with count_queries() as counter:
            assert client.get(f"/evaluations/?page={page}").status_code == 200
        counts.append(counter.count)
    # a numbered page past the first reads its first row's position once (pages.keyset)
    assert counts[1] == counts[2] == counts[0] + 1, counts


def test_rattachement_requests_every_page(app, world, login):
    habiliter(world, "etab_a1", "etab_b1")
    dossiers = bulk_dossiers(world.ids["etab_b1"], "RATTACHE", 30)
    requester = user("utilisateur_etablissement_a")
    db.session.add_all([Rattachement(
        candidature_id=c.id, etablissement_origine_id=world.ids["etab_b1"],
        etablissement_cible_id=world.ids["etab_a1"], motif="demenagement", statut="en_attente",
        demande_par_id=requester.id, demande_le=BASE + dt.timedelta(days=i))
        for i, c in enumerate(dossiers)])
    db.session.commit()
    pages = walk(login("utilisateur_etablissement_a"), "/rattachements/")
    assert len(pages) == 2
    assert_pager(pages)
    assert "30 demandes" in pages[0] and "RATTACHE029" in pages[0]
    assert "RATTACHE004" in pages[1] and "RATTACHE000" in pages[1]
    assert "RATTACHE005" not in pages[1] and "ETAB_B1" in pages[1]
    assert rattachements.lister(requester, 1).total == 30


def test_notifications_every_page(app, world, login):
    me = user("utilisateur_etablissement_a")
    db.session.add_all([Notification(user_id=me.id, rubrique=notifications.HABILITATION,
                                     titre=f"Avis {i:03d}", texte="Texte",
                                     created_on=BASE + dt.timedelta(minutes=i))
                        for i in range(120)])
    db.session.commit()
    pages = walk(login("utilisateur_etablissement_a"),
                 f"/notifications/?rubrique={notifications.HABILITATION}&lu=non")
    assert len(pages) == 3
    assert_pager(pages, previous="Précédentes", following="Suivantes")
    assert "120 notifications" in pages[0] and "Avis 119" in pages[0]
    assert "Avis 069" in pages[1] and "Avis 020" in pages[1] and "Avis 070" not in pages[1]
    assert "Avis 019" in pages[2] and "Avis 000" in pages[2] and "Avis 020" not in pages[2]
    assert "rubrique=habilitation" in NEXT.search(pages[1]).group(1)


def test_jury_sessions_every_page(app, world, login):
    """« Sessions de jury » kept only its 200 newest sessions, without paging."""
    tp_idf = world.ids["tp_idf"]
    first = dt.date(2025, 1, 6)
    db.session.add_all([SessionJury(
        certificateur_id=tp_idf, date_session=first + dt.timedelta(days=7 * i),
        date_limite=first + dt.timedelta(days=7 * i - 10), mode="distanciel",
        lieu=f"Salle {i:03d}", statut="close") for i in range(60)])
    db.session.commit()
    for username in ("certif_pro_a", "jury_a"):
        pages = walk(login(username), "/jury/?statut=close")
        assert len(pages) == 3
        assert_pager(pages)
        assert "60 sessions" in pages[0] and "Salle 059" in pages[0]
        assert "Salle 034" in pages[1] and "Salle 010" in pages[1]
        assert "Salle 009" in pages[2] and "Salle 000" in pages[2] and "Salle 010" not in pages[2]
        assert (first.strftime("%d/%m/%Y")) in pages[2]
        assert "statut=close" in PREVIOUS.search(pages[2]).group(1)


def certificats_papier(world, prefix: str, count: int) -> list[Certificat]:
    """`count` certified dossiers asking for a paper certificate, numbered CLEA-2026-000001…,
    from a closed session of the Île-de-France jury."""
    session = SessionJury(certificateur_id=world.ids["tp_idf"], date_session=dt.date(2026, 1, 5),
                          date_limite=dt.date(2025, 12, 20), mode="distanciel", statut="close")
    db.session.add(session)
    dossiers = bulk_dossiers(world.ids["etab_a1"], prefix, count, statut="certifiee",
                             certificat_papier=True)
    certificats = [Certificat(numero=f"CLEA-2026-{i + 1:06d}", candidature_id=c.id,
                              session=session, certificateur_id=world.ids["tp_idf"],
                              date_jury=dt.date(2026, 1, 5)) for i, c in enumerate(dossiers)]
    db.session.add_all(certificats)
    db.session.flush()
    return certificats


def test_certificate_shipments_and_batches_every_page(app, world, login):
    """« Envois de certificats » showed the first 200 certificates and the last 50 batches,
    without paging."""
    certificats = certificats_papier(world, "DIPLOME", 80)
    poster = user("certif_pro_a")
    for i, cert in enumerate(certificats[55:]):  # 25 batches of one certificate each
        lot = LotEnvoi(date_envoi=dt.date(2026, 1, 6), par_id=poster.id)
        db.session.add(lot)
        db.session.flush()
        db.session.add(EnvoiCertificat(certificat_id=cert.id, lot_id=lot.id,
                                       date_envoi=lot.date_envoi, adresse="3 rue Haute"))
    db.session.commit()
    client = login("certif_pro_a")
    pages = walk(client, "/envois/", "Pages des certificats à expédier")
    assert len(pages) == 2
    assert "55 certificats à expédier" in pages[0] and "CLEA-2026-000050" in pages[0]
    assert "CLEA-2026-000051" in pages[1] and "CLEA-2026-000055" in pages[1]
    assert "CLEA-2026-000050" not in pages[1] and "CLEA-2026-000056" not in pages[1]
    assert "Page 2 sur 2" in pages[1] and "Page 1 sur 2" in pages[0]
    # the batches have their own pager (20 a page), which keeps the certificates' page
    lots = [lot.id for lot in db.session.scalars(select(LotEnvoi).order_by(LotEnvoi.id))]
    assert f"Adresses du lot {lots[-1]} (Excel)" in pages[0]
    link = NEXT.search(pager(pages[1], "Pages des lots expédiés")).group(1)
    assert "lots=1" in link and "page=1" in link
    response = client.get(link)
    assert response.status_code == 200
    text = main(T(response))
    assert f"Adresses du lot {lots[0]} (Excel)" in text
    assert f"Adresses du lot {lots[-1]} (Excel)" not in text
    assert "CLEA-2026-000055" in text  # still the certificates' second page
    assert len(envois.a_expedier()) == 55  # the export still takes every address


def test_a_batchs_letters_and_the_returns_every_page(app, world, login):
    """A batch of 55 letters reads on two pages; 25 returned letters on two pages too."""
    certificats = certificats_papier(world, "LETTRE", 55)
    lot = LotEnvoi(date_envoi=dt.date(2026, 1, 6), par_id=user("certif_pro_a").id)
    db.session.add(lot)
    db.session.flush()
    db.session.add_all([EnvoiCertificat(
        certificat_id=cert.id, lot_id=lot.id, date_envoi=lot.date_envoi, adresse="3 rue Haute",
        retour_le=dt.date(2026, 2, 1) + dt.timedelta(days=i) if i < 25 else None,
        retour_motif="npai" if i < 25 else None) for i, cert in enumerate(certificats)])
    db.session.commit()
    client = login("certif_pro_a")
    pages = walk(client, f"/envois/lot/{lot.id}", "Pages des lettres du lot")
    assert len(pages) == 2 and "55 lettres" in pages[0]
    assert "CLEA-2026-000050" in pages[0] and "CLEA-2026-000051" not in pages[0]
    assert "CLEA-2026-000051" in pages[1] and "CLEA-2026-000055" in pages[1]
    assert "Page 2 sur 2" in pages[1]
    pages = walk(client, "/envois/", "Pages des retours à réexpédier")
    assert len(pages) == 2 and "25 retours à réexpédier" in pages[0]
    assert "CLEA-2026-000020" in pages[0] and "CLEA-2026-000021" not in pages[0]
    assert "CLEA-2026-000021" in pages[1] and "CLEA-2026-000025" in pages[1]


# --- the generated lists (FAB) ------------------------------------------------------------

def fab_page(client, view: str, model_view: str, page: int) -> str:
    response = client.get(f"/{view}/list/?page_{model_view}={page}")
    assert response.status_code == 200, (view, page)
    return main(T(response))


def test_generated_lists_second_and_last_pages(app, world, login):
    """Mes établissements, Mes organismes, Mes utilisateurs, Habilitations: 25 rows a page."""
    bulk_etablissements(world, 40)  # + 4 of the world: 44 rows, 2 pages
    db.session.add_all([Organisme(raison_sociale=f"OF {i:03d}", siren=siren(60000000 + i),
                                  reseau_id=world.ids["reseau_a"], actif=True)
                        for i in range(40)])  # + 3 of the world
    role = db.session.scalars(select(FabRole).where(
        FabRole.name == R.ADMIN_ORGANISME.name)).one()
    db.session.add_all([Utilisateur(username=f"zz{i:03d}", first_name="Zoé", last_name=f"zz{i:03d}",
                                    email=f"zz{i:03d}@of.fr", active=True, password="!",
                                    organisme_id=world.ids["org_a1"], roles=[role])
                        for i in range(40)])
    db.session.commit()
    client = login("certif_pro_a")
    page = fab_page(client, "etablissementview", "EtablissementView", 0)
    assert "page_EtablissementView=1" in page and "SITE 020" in page
    page = fab_page(client, "etablissementview", "EtablissementView", 1)
    assert "SITE 021" in page and "SITE 039" in page and "SITE 020" not in page
    page = fab_page(client, "organismeview", "OrganismeView", 1)
    assert "OF 025" in page and "ORG_B1" in page and "OF 024" not in page
    users = len(db.session.scalars(select(Utilisateur.id)).all())
    ahead = users - 40  # the world's users sort before « zz… »
    page = fab_page(client, "utilisateurview", "UtilisateurView", 1)
    assert f"zz{25 - ahead:03d}" in page and f"zz{49 - ahead:03d}" in page
    assert f"zz{24 - ahead:03d}@" not in page and f"zz{50 - ahead:03d}@" not in page
    page = fab_page(client, "utilisateurview", "UtilisateurView", (users - 1) // 25)
    assert "zz039" in page
    page = fab_page(client, "habilitationview", "HabilitationView", 1)
    assert "SITE 014" in page and "SITE 000" in page and "SITE 015" not in page
    # an administrateur d'organisme pages through its own établissements and users too
    client = login("admin_organisme_a")
    page = fab_page(client, "etablissementview", "EtablissementView", 1)
    assert "SITE 039" in page and "ETAB_A2" not in page
    page = fab_page(client, "utilisateurview", "UtilisateurView", 1)
    assert "zz039" in page


def test_no_template_hides_gettext():
    """`{% set _ = … %}` replaced gettext by None for the rest of a template (item 1)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "app" / "templates"
    shadowing = re.compile(r"{%-?\s*(set|for)\s+(\w+\s*,\s*)*(_|gettext|ngettext)\s*(,|=|in\b)")
    bad = [str(p.relative_to(root)) for p in root.rglob("*.html") if shadowing.search(p.read_text())]
    assert not bad, bad


def test_lists_are_service_functions(app, world):
    """The pages and the API share one function per list (the scale work changes it there)."""
    habiliter(world, "etab_a1")
    bulk_dossiers(world.ids["etab_a1"], "PAGINE", 30)
    me = user("utilisateur_etablissement_a")
    page = candidatures.lister(me, {"nom": "Pagïne"}, 1)
    assert (page.total, page.number, page.pages, len(page.rows)) == (30, 1, 2, 5)
    assert [c.candidat.nom_naissance for c in page.rows][-1] == "PAGINE000"
    assert candidatures.lister(me, {"nom": "autre"}).total == 0
    assert candidatures.lister(me, {}, 0, abandonnees=True).total == 0
    assert candidatures.lister(user("utilisateur_etablissement_b"), {}).total == 0


def _filter_options(text: str) -> tuple[str, list[str]]:
    """The « Établissement » filter of a list: its <select> tag and its options' labels."""
    start = text.index('<select id="f-etab"')
    block = text[start:text.index("</select>", start)]
    return block[:block.index(">") + 1], re.findall(r"<option [^>]*>([^<]*)</option>", block)


def test_etablissement_filter_lists_few_and_searches_many(app, world, login):
    """Every établissement of a small perimeter is an option of the lists' « Établissement »
    filter; past FILTRE_OPTIONS_MAX (a réseau, Certif Pro: thousands of names, 33 KB of HTML
    and a third of the national list's time) the filter searches as you type, as the Stats
    page's does, and only the chosen établissement is drawn — never one outside the
    perimeter, and none cut off at an arbitrary 500th name."""
    habiliter(world, "etab_a1")
    client = login("utilisateur_etablissement_a")
    tag, options = _filter_options(T(client.get("/evaluations/")))
    assert "clea-ajax-select" not in tag and options == ["Tous", "ETAB_A1"]

    sites = bulk_etablissements(world, candidatures.FILTRE_OPTIONS_MAX + 1)
    reseau = login("admin_reseau_a")
    tag, options = _filter_options(T(reseau.get("/evaluations/")))
    assert "clea-ajax-select" in tag and 'data-url="/lookup/etablissement"' in tag
    assert options == ["Tous"]
    chosen = sites[-1]
    text = T(reseau.get(f"/evaluations/?etablissement={chosen.id}"))
    tag, options = _filter_options(text)
    assert options == ["Tous", chosen.nom]
    assert f'<option value="{chosen.id}" selected>' in text
    # the search-as-you-type answers from the same perimeter, every name reachable
    found = reseau.get(f"/lookup/etablissement?q={chosen.nom}").get_json()["results"]
    assert found == [{"id": chosen.id, "text": chosen.nom}]
    # another réseau's établissement is neither drawn nor found
    outside = world.ids["etab_b1"]
    assert _filter_options(T(reseau.get(f"/evaluations/?etablissement={outside}")))[1] == [
        "Tous"]
    assert reseau.get("/lookup/etablissement?q=ETAB_B").get_json()["results"] == []
    # an id no row can have filters nothing and draws nothing (no 500)
    response = reseau.get("/evaluations/?etablissement=99999999999")
    assert response.status_code in (200, 400)
