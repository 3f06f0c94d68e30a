"""An action is offered only when its service would accept it, and irreversible steps ask
first (issue 12, items 10 and 11): the pencil of a sent dossier, the rattachement key of a
dossier that cannot move, the labelled habilitation request, the account buttons that apply,
the FAB pencil of a user above oneself; the rattachement page after its decision; the text of
each certification status; « Annuler l'envoi » with its motive (screen and API) and the
history that shows it; « Finaliser l'évaluation » asking before it is done."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.candidature import Candidature, HistoriqueStatut
from app.models.evaluation import Evaluation
from app.models.jury import DecisionJury
from app.services import accounts, candidatures, certification, evaluations, rattachements
from app.services.errors import RuleError
from tests.integration.test_candidatures import T, dossier, habiliter
from tests.integration.test_certification import a_envoyer, session
from tests.world import user

OF = "utilisateur_etablissement_a"
MOTIF = "Jury choisi par erreur : le candidat relève de la CPNE."
TODAY = dt.date.today()

# The path of a dossier through the status machine, up to each status.
CHEMIN = ["attente_eval_prealable", "a_envoyer", "attente_jury", "attente_certification",
          "attente_complement", "completee", "certifiee"]


def amener(c: Candidature, statut: str) -> Candidature:
    """Walk `c` along the status machine (the system acting) up to `statut`."""
    for vers in CHEMIN[CHEMIN.index(c.statut) + 1:CHEMIN.index(statut) + 1]:
        candidatures.transition(c, vers, None, "test")
    db.session.commit()
    return c


@pytest.fixture
def ready(app, world):
    habiliter(world, "etab_a1", "etab_a1b", "etab_b1")
    return world


# --- item 11: the pencil of a dossier already sent -------------------------------------------

def test_pencil_only_while_the_dossier_may_be_changed(app, ready, login):
    c = a_envoyer(ready)
    modifier = f"/candidature/{c.id}/modifier"
    client = login(OF)
    assert candidatures.modifiable(c, user(OF))
    assert modifier in T(client.get("/evaluations/"))
    assert modifier in T(client.get(f"/candidature/{c.id}"))
    assert client.get(modifier).status_code == 200

    certification.envoyer_en_certification(c, user(OF))
    assert not candidatures.modifiable(c, user(OF))
    listing, fiche = T(client.get("/evaluations/")), T(client.get(f"/candidature/{c.id}"))
    assert f"/candidature/{c.id}\"" in listing and modifier not in listing
    assert modifier not in fiche
    # An old link is told why before anything is typed.
    response = client.get(modifier, follow_redirects=True)
    assert "Ce dossier ne peut plus être modifié à votre niveau" in T(response)
    assert response.request.path == f"/candidature/{c.id}"

    # Administrateur réseau may still change a sent dossier: the pencil is there, and works.
    admin = login("admin_reseau_a")
    assert candidatures.modifiable(c, user("admin_reseau_a"))
    assert modifier in T(admin.get("/evaluations/"))
    assert modifier in T(admin.get(f"/candidature/{c.id}"))
    candidatures.mise_a_jour(c, {"telephone": "0102030405"}, user("admin_reseau_a"))
    assert c.candidat.telephone == "0102030405"


def test_no_pencil_on_an_abandoned_dossier(app, ready, login):
    c = candidatures.creer(dossier(ready), user(OF))
    candidatures.abandonner(c, "emploi", "", user(OF))
    admin = login("admin_reseau_a")
    assert f"/candidature/{c.id}/modifier" not in T(admin.get(f"/candidature/{c.id}"))
    with pytest.raises(RuleError, match="réintégrez-le avant de le modifier"):
        candidatures.mise_a_jour(c, {"telephone": "0102030405"}, user("admin_reseau_a"))


# --- item 11: the rattachement key ------------------------------------------------------------

@pytest.mark.parametrize("statut", ["attente_jury", "attente_certification",
                                    "attente_complement", "completee", "certifiee"])
def test_no_key_when_the_dossier_cannot_move(app, ready, login, statut):
    c = amener(candidatures.creer(dossier(ready, etab="etab_b1"),
                                  user("utilisateur_etablissement_b")), statut)
    client = login(OF)
    page = T(client.get("/recherche/?q=dupre"))
    assert f"/rattachements/demander/{c.id}" not in page
    label = candidatures.statut_label(statut)
    assert "Rattachement impossible : un dossier envoyé au jury ou certifié ne change pas" in page
    from app.services.rattachements import jeton
    response = client.get(f"/rattachements/demander/{c.id}?jeton={jeton(c.id, user(OF))}",
                          follow_redirects=True)
    assert f"Un dossier au statut « {label} » ne peut pas être rattaché" in T(response)
    with pytest.raises(RuleError, match="ne peut pas être rattaché"):  # the service agrees
        rattachements.demander(c.id, {"etablissement_cible_id": ready.ids["etab_a1"],
                                      "motif": "demenagement", "motif_texte": "Déménagé."},
                               user(OF))


def test_key_while_the_dossier_can_move_and_not_twice(app, ready, login):
    c = candidatures.creer(dossier(ready, etab="etab_b1"), user("utilisateur_etablissement_b"))
    client = login(OF)
    page = T(client.get("/recherche/?q=dupre"))
    assert f"/rattachements/demander/{c.id}?jeton=" in page and "Rattachement impossible" \
        not in page
    lien = re.search(rf'/rattachements/demander/{c.id}\?jeton=[^"]+', page).group(0)
    assert "Envoyer la demande" in T(client.get(lien))
    rattachements.demander(c.id, {"etablissement_cible_id": ready.ids["etab_a1"],
                                  "motif": "demenagement", "motif_texte": "Déménagé."},
                           user(OF))
    page = T(client.get("/recherche/?q=dupre"))
    assert f"/rattachements/demander/{c.id}" not in page
    assert "Demande de rattachement en attente de la décision de Certif Pro." in page
    response = client.get(lien, follow_redirects=True)
    assert "Une demande de rattachement est déjà en attente pour ce dossier." in T(response)


# --- item 11: the rattachement page after its decision -------------------------------------

def test_rattachement_page_after_acceptance_and_refusal(app, ready, login):
    c = candidatures.creer(dossier(ready, etab="etab_b1"), user("utilisateur_etablissement_b"))
    demande = rattachements.demander(c.id, {
        "etablissement_cible_id": ready.ids["etab_a1"], "motif": "demenagement",
        "motif_texte": "La candidate a déménagé à Paris."}, user(OF))
    client = login(OF)
    page = T(client.get(f"/rattachements/{demande.id}"))
    assert re.search(r"Géré par</dt><dd>ETAB_B1</dd>", page)
    assert re.search(r"Demandé pour</dt><dd>ETAB_A1</dd>", page)
    assert "Décidée par" not in page
    cp = T(login("certif_pro_a").get(f"/rattachements/{demande.id}"))
    assert "Accepter et transférer le dossier" in cp and "data-confirm=" in cp

    rattachements.decider(demande, True, "", user("certif_pro_a"))
    page = T(client.get(f"/rattachements/{demande.id}"))
    assert "Géré par" not in page
    assert re.search(r"Ancien établissement</dt><dd>ETAB_B1</dd>", page)
    assert re.search(r"Nouvel établissement</dt><dd>ETAB_A1 <small>\(gère désormais le "
                     r"dossier\)</small>", page)
    assert f"Décidée par Test certif_pro le {TODAY.strftime('%d/%m/%Y')}" in page
    assert "Accepter et transférer" not in T(login("certif_pro_a").get(
        f"/rattachements/{demande.id}"))

    # A refusal says who decided, when and why; the dossier stays where it was.
    autre = candidatures.creer(dossier(ready, etab="etab_b1", nom_naissance="Martin"),
                               user("utilisateur_etablissement_b"))
    refusee = rattachements.demander(autre.id, {
        "etablissement_cible_id": ready.ids["etab_a1"], "motif": "autre",
        "motif_texte": "Sans justificatif."}, user(OF))
    rattachements.decider(refusee, False, "Aucun justificatif fourni", user("certif_pro_a"))
    page = T(client.get(f"/rattachements/{refusee.id}"))
    assert re.search(r"Géré par</dt><dd>ETAB_B1</dd>", page)
    assert f"Décidée par Test certif_pro le {TODAY.strftime('%d/%m/%Y')}" in page
    assert "Aucun justificatif fourni" in page


def test_a_pending_request_on_a_dossier_sent_meanwhile_can_only_be_refused(app, ready,
                                                                          login):
    c = candidatures.creer(dossier(ready, etab="etab_b1"), user("utilisateur_etablissement_b"))
    demande = rattachements.demander(c.id, {
        "etablissement_cible_id": ready.ids["etab_a1"], "motif": "demenagement",
        "motif_texte": "Déménagé."}, user(OF))
    amener(c, "attente_jury")
    page = T(login("certif_pro_a").get(f"/rattachements/{demande.id}"))
    assert "Accepter et transférer le dossier" not in page
    assert "la demande ne peut qu'être refusée" in page and "Refuser" in page


# --- item 11: the habilitation request button -----------------------------------------------

def test_habilitation_request_has_a_visible_label(app, world, login):
    client = login("admin_organisme_a")
    page = T(client.get(f"/etablissementview/show/{world.ids['etab_a1']}"))
    assert re.search(r'<a href="[^"]*/habilitationsetablissementview/add[^"]*"[^>]*>\s*'
                     r'<i class="fa fa-plus" aria-hidden="true"></i>\s*Faire une demande '
                     r"d'habilitation</a>", page)
    listing = T(client.get("/habilitationview/list/"))
    assert re.search(r'<a href="[^"]*/habilitationview/add[^"]*"[^>]*>\s*<i[^>]*></i>\s*'
                     r"Faire une demande d'habilitation</a>", listing)
    # A role that may not ask sees no button at all.
    page = T(login("utilisateur_etablissement_a").get(
        f"/etablissementview/show/{world.ids['etab_a1']}"))
    assert "Faire une demande d'habilitation" not in page


# --- item 11: the account buttons -------------------------------------------------------------

def _boutons(page: str) -> set[str]:
    return {name for name, marker in (("suspendre", "/utilisateurview/suspendre/"),
                                      ("reactiver", "/utilisateurview/activer/"),
                                      ("reinitialiser", "/utilisateurview/reinitialiser/"),
                                      ("modifier", "/utilisateurview/edit/"))
            if marker in page}


def test_account_fiche_offers_only_what_applies(app, world, login):
    manager = login("admin_etablissement_a")
    target = world.ids["utilisateur_etablissement_a"]
    fiche = f"/utilisateurview/show/{target}"
    assert _boutons(T(manager.get(fiche))) == {"suspendre", "reinitialiser", "modifier"}
    assert accounts.actions_compte(user(OF), user("admin_etablissement_a")) == {
        "modifier": True, "suspendre": True, "reactiver": False, "reinitialiser": True}
    manager.post(f"/utilisateurview/suspendre/{target}")
    assert _boutons(T(manager.get(fiche))) == {"reactiver", "modifier"}
    with pytest.raises(RuleError, match="réactivez-le avant"):  # the reset is refused
        accounts.send_reset_email(user(OF), user("admin_etablissement_a"))
    db.session.rollback()
    manager.post(f"/utilisateurview/activer/{target}")
    # Reactivated: « Suspendre » again (failed logins delay an address, they lock no account).
    assert _boutons(T(manager.get(fiche))) == {"suspendre", "reinitialiser", "modifier"}
    # One's own fiche: no « Suspendre » (the service refuses it).
    own = T(manager.get(f"/utilisateurview/show/{world.ids['admin_etablissement_a']}"))
    assert "suspendre" not in _boutons(own)
    with pytest.raises(RuleError, match="propre compte"):
        accounts.set_active(user("admin_etablissement_a"), False, user("admin_etablissement_a"))


def test_no_pencil_nor_buttons_on_a_user_above_oneself(app, world, login):
    client = login("superviseur_reseau_a")
    boss, peer = world.ids["admin_reseau_a"], world.ids["admin_organisme_a"]
    listing = T(client.get("/utilisateurview/list/"))

    def lien(action, pk):
        return re.search(rf'/utilisateurview/{action}/{pk}["?]', listing) is not None

    assert lien("edit", peer) and lien("show", boss) and not lien("edit", boss)
    assert _boutons(T(client.get(f"/utilisateurview/show/{boss}"))) == set()
    assert _boutons(T(client.get(f"/utilisateurview/show/{peer}"))) == {
        "suspendre", "reinitialiser", "modifier"}
    response = client.get(f"/utilisateurview/edit/{boss}", follow_redirects=True)
    assert "dont le rôle est supérieur au vôtre" in T(response)
    assert response.request.path == f"/utilisateurview/show/{boss}"


# --- item 11: what the dossier page says of each certification status ----------------------

def test_each_certification_status_has_its_own_text(app, ready, login):
    client = login(OF)

    def statut_texte(c):
        page = T(client.get(f"/candidature/{c.id}"))
        match = re.search(r"Jury : <strong>[^<]+</strong>(.*?)</p>", page, re.S)
        return " ".join(match.group(1).split())

    c = a_envoyer(ready)
    certification.envoyer_en_certification(c, user(OF))
    assert "en attente d'affectation à un jury" in statut_texte(c)
    s = session(ready)
    db.session.refresh(c)
    jour = s.date_session.strftime("%d/%m/%Y")
    assert c.statut == "attente_certification"
    assert statut_texte(c).endswith(f"session du {jour} : en attente de la décision du jury")

    # The jury asked for complements (its decision row, as services.certification writes it).
    db.session.add(DecisionJury(candidature_id=c.id, session_jury_id=s.id,
                                decision="complement", motif="Joindre l'attestation."))
    candidatures.transition(c, "attente_complement", None, "test")
    c.session_jury_id = None
    db.session.commit()
    texte = statut_texte(c)
    assert texte.endswith(f"le jury du {jour} a demandé des compléments : en attente de la "
                          "réponse de l'organisme")
    assert "affectation" not in texte

    certification.completer(c, "Attestation de formation déposée.", user(OF))
    assert c.statut == "completee" and c.session_jury_id == s.id
    assert statut_texte(c).endswith(f"compléments apportés : présenté au jury du {jour}")
    c.session_jury_id = None
    db.session.commit()
    texte = statut_texte(c)
    assert texte.endswith("compléments apportés : en attente de la prochaine session du jury")
    assert "affectation" not in texte

    c.session_jury_id = s.id
    candidatures.transition(c, "certifiee", None, "test")
    db.session.commit()
    assert statut_texte(c).endswith(f"décision du jury du {jour}")


# --- item 10: « Annuler l'envoi » with a motive ------------------------------------------------

def test_cancel_send_needs_a_motive_on_screen(app, ready, login):
    c = a_envoyer(ready)
    certification.envoyer_en_certification(c, user(OF))
    admin = login("admin_reseau_a")
    fiche = T(admin.get(f"/candidature/{c.id}"))
    assert re.search(r'<textarea id="motif-annulation" name="motif"[^>]* required '
                     r'minlength="10"', fiche)
    assert "Motif de l'annulation" in fiche and "data-confirm=" in fiche
    assert "Annuler l'envoi" not in T(login(OF).get(f"/candidature/{c.id}"))
    for motif in ("", "   ", "erreur"):
        response = admin.post(f"/candidature/{c.id}/annuler-envoi", data={"motif": motif},
                              follow_redirects=True)
        assert ("Indiquez le motif de l'annulation (10 caractères au moins) : il figure dans "
                "l'historique du dossier.") in T(response)
        db.session.refresh(c)
        assert c.statut == "attente_jury"
    response = admin.post(f"/candidature/{c.id}/annuler-envoi", data={"motif": MOTIF},
                          follow_redirects=True)
    page = T(response)
    assert "L'envoi en certification est annulé." in page
    db.session.refresh(c)
    assert c.statut == "a_envoyer" and c.certificateur_id is None
    history = re.search(r"Historique du dossier.*?</table>", page, re.S).group(0)
    assert f"Envoi annulé : {MOTIF}" in history
    assert "Test admin_reseau" in history
    last = db.session.scalars(select(HistoriqueStatut).where(
        HistoriqueStatut.candidature_id == c.id).order_by(HistoriqueStatut.id.desc())).first()
    assert (last.de, last.vers, last.motif) == ("attente_jury", "a_envoyer",
                                                f"Envoi annulé : {MOTIF}")
    assert last.par_id == user("admin_reseau_a").id


def test_cancel_send_needs_a_motive_in_the_api(app, ready, login, api_token):
    c = a_envoyer(ready)
    certification.envoyer_en_certification(c, user(OF))
    client, headers = app.test_client(), api_token("certif_pro_a")
    url = f"/api/v1/candidature/{c.id}/annuler-envoi"
    for body in (None, {}, {"motif": ""}, {"motif": "court"}):
        response = (client.post(url, headers=headers) if body is None
                    else client.post(url, json=body, headers=headers))
        assert response.status_code == 400, body
        assert response.json == {"message": "Indiquez le motif de l'annulation (10 caractères "
                                            "au moins) : il figure dans l'historique du "
                                            "dossier.", "field": "motif"}
    # a number for the motive: refused by the operation's schema, before the service
    response = client.post(url, json={"motif": 1234567890}, headers=headers)
    assert response.status_code == 400 and response.json["message"] == "« motif » : Texte attendu."
    db.session.refresh(c)
    assert c.statut == "attente_jury"
    response = client.post(url, json={"motif": MOTIF}, headers=headers)
    assert response.status_code == 200 and response.json["result"]["statut"] == "a_envoyer"
    page = T(login("admin_reseau_a").get(f"/candidature/{c.id}"))
    assert f"Envoi annulé : {MOTIF}" in page
    spec = client.get("/api/v1/_openapi", headers=headers).json
    body = spec["paths"]["/api/v1/candidature/{pk}/annuler-envoi"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["required"] == ["motif"] and schema["properties"]["motif"]["minLength"] == 10


def test_cancel_send_not_offered_once_the_jury_has_asked(app, ready, login):
    c = a_envoyer(ready)
    certification.envoyer_en_certification(c, user(OF))
    amener(c, "attente_complement")
    assert not certification.peut_annuler(c, user("admin_reseau_a"))
    assert "Annuler l'envoi" not in T(login("admin_reseau_a").get(f"/candidature/{c.id}"))


# --- item 10: « Finaliser l'évaluation » asks first ------------------------------------------

def _prete(world) -> Evaluation:
    from app.services import documents, matrice

    c = candidatures.creer(dossier(world), user(OF))
    ev = evaluations.creer(c, user(OF))
    evaluations.enregistrer(ev, {"version": ev.version, "evaluateur": "Jeanne Eval",
                                 "date_evaluation": TODAY.isoformat(),
                                 "resultats": {r.sous_domaine_id: {"acquis": True}
                                               for r in ev.resultats}}, user(OF))
    documents.enregistrer(c, "matrice.xlsx", matrice.generer(ev), user(OF), nature="matrice",
                          evaluation_id=ev.id)
    db.session.commit()
    return ev


def test_finalize_asks_first_without_javascript(app, ready, login):
    ev = _prete(ready)
    client = login(OF)
    grid = T(client.get(f"/evaluation/{ev.id}"))
    button = re.search(r'<button type="submit" name="_then" value="finaliser"[^>]*>', grid)
    assert "data-confirm=" in button.group(0)
    assert "seul un administrateur organisme" in button.group(0)

    asked = client.post(f"/evaluation/{ev.id}/finaliser")
    page = T(asked)
    assert asked.status_code == 200 and "<h1 class=\"panel-title\">Finaliser l'évaluation ?" \
        in page
    assert "Résultat : Validé (28 / 28 acquis)." in page
    assert "seul un administrateur organisme (ou un rôle supérieur) peut rouvrir" in page
    assert '<input type="hidden" name="confirme" value="1">' in page
    db.session.refresh(ev)
    assert ev.statut == "en_cours" and ev.candidature.statut == "attente_eval_prealable"

    # From the grid's own button (save, then finalize): saved, asked, not finalized.
    form = {"version": str(ev.version), "evaluateur": "Jeanne Évaluatrice",
            "date_evaluation": TODAY.isoformat(), "_then": "finaliser"}
    form.update({f"acquis_{r.sous_domaine_id}": "acquis" for r in ev.resultats})
    page = T(client.post(f"/evaluation/{ev.id}/enregistrer", data=form))
    assert "Vos saisies sont enregistrées." in page
    assert "<h1 class=\"panel-title\">Finaliser l'évaluation ?" in page
    db.session.refresh(ev)
    assert ev.statut == "en_cours" and ev.evaluateur == "Jeanne Évaluatrice"

    done = client.post(f"/evaluation/{ev.id}/finaliser", data={"confirme": "1"},
                       follow_redirects=True)
    assert "Évaluation finalisée : Validé." in T(done)
    db.session.refresh(ev)
    assert ev.statut == "finalisee"


def test_finalize_says_what_is_missing_before_asking(app, ready, login):
    c = candidatures.creer(dossier(ready), user(OF))
    ev = evaluations.creer(c, user(OF))
    response = login(OF).post(f"/evaluation/{ev.id}/finaliser", follow_redirects=True)
    page = T(response)
    assert "Pour finaliser, il manque : les résultats des sous-domaines" in page
    assert "<h1 class=\"panel-title\">Finaliser l'évaluation ?" not in page
    assert response.request.path == f"/evaluation/{ev.id}"
