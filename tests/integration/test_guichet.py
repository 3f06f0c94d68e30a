"""Certif Pro's desk (issue 16): the home page counts each work queue and dates its oldest
request, against the database; a request's notifications are done once it is decided, for
everyone they were sent to; requests are decided in bulk in one transaction, one refused
request refusing none of the others, with a line per request; the établissement's history
beside the decision; a warning past the usual duration; standard motives kept as data."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Branche, EmailMessage, Habilitation, MotifType, Notification
from app.models.audit import AuditLog
from app.models.candidature import Candidature
from app.services import certification, habilitations, motifs, rattachements
from app.services.errors import RuleError
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import dossier, habiliter
from tests.integration.test_certification import a_envoyer
from tests.world import user

TODAY = dt.date.today()
CP = "certif_pro_a"


def T(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.data.decode()))


def demande(world, etab="etab_a1", **data):
    return habilitations.demander({"etablissement_id": world.ids[etab], **data}, None)


def valider(debut=TODAY, fin=TODAY + dt.timedelta(days=365), **extra):
    return {"decision": "validee", "date_debut": debut.isoformat(), "date_fin": fin.isoformat(),
            **extra}


def _vieillir(model, pk, jours, colonne="demande_le"):
    db.session.execute(model.__table__.update().where(model.id == pk).values(
        **{colonne: dt.datetime.now() - dt.timedelta(days=jours)}))
    db.session.commit()


def _ligne(page: str, code: str) -> str:
    match = re.search(rf'<tr id="guichet-{code}"[^>]*>(.*?)</tr>', page)
    assert match, f"no desk row {code}"
    return re.sub(r"<[^>]+>", " ", match.group(1))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_the_desk_counts_each_queue_against_the_database(app, world, login):
    habiliter(world, "etab_a1", "etab_b1")
    h1 = demande(world, "etab_a1b")
    demande(world, "etab_a2")
    _vieillir(Habilitation, h1.id, 12)
    # a CPNE's request is not Certif Pro's queue
    branche = db.session.scalars(select(Branche)).first()
    demande(world, "etab_a1", portee="branche", branche_id=branche.id)
    from app.services import candidatures
    candidatures_b = candidatures.creer(dossier(world, etab="etab_b1"),
                                        user("utilisateur_etablissement_b"))
    cible = rattachements.demander(candidatures_b.id, {
        "etablissement_cible_id": world.ids["etab_a1"], "motif": "demenagement",
        "motif_texte": "La candidate a déménagé à Paris."}, user("admin_etablissement_a"))
    _vieillir(type(cible), cible.id, 3)
    envoyes = []
    for nom in ("Durand", "Martin"):
        c = a_envoyer(world, nom_naissance=nom)
        certification.envoyer_en_certification(c, user("utilisateur_etablissement_a"))
        envoyes.append(c)
    _vieillir(Candidature, envoyes[0].id, 5, "envoye_le")
    db.session.add_all([EmailMessage(destinataire="a@exemple.fr", sujet="S", corps_texte="T",
                                     statut="echec",
                                     created_on=dt.datetime.now() - dt.timedelta(days=2)),
                        EmailMessage(destinataire="b@exemple.fr", sujet="S", corps_texte="T",
                                     statut="envoye")])
    db.session.commit()

    page = T(login(CP).get("/"))
    assert "Votre bureau : ce qui attend une décision" in page
    # each figure read back against the database
    habs = db.session.execute(select(func.count()).where(
        Habilitation.statut == "en_attente", Habilitation.portee == "national")).scalar_one()
    assert habs == 2
    ligne = _ligne(page, "habilitations")
    assert "Demandes d'habilitation à décider" in ligne and " 2 " in ligne
    assert (TODAY - dt.timedelta(days=12)).strftime("%d/%m/%Y") in ligne
    assert "depuis 12 jours" in ligne
    ligne = _ligne(page, "rattachements")
    assert " 1 " in ligne and "depuis 3 jours" in ligne
    attente = db.session.execute(select(func.count()).where(
        Candidature.statut == "attente_jury", Candidature.session_jury_id.is_(None),
        Candidature.certificateur_id == world.ids["tp_idf"])).scalar_one()
    assert attente == 2
    ligne = _ligne(page, f"jury-{world.ids['tp_idf']}")
    assert "Transitions Pro Île-de-France" in ligne and " 2 " in ligne
    assert "depuis 5 jours" in ligne
    ligne = _ligne(page, "emails")
    assert "E-mails en échec" in ligne and " 1 " in ligne and "depuis 2 jours" in ligne

    # each row opens its queue
    client = login(CP)
    queue = T(client.get("/habilitations/a-decider/"))
    assert "2 demandes en attente" in queue
    lignes = re.findall(r"Cocher la demande de (ETAB_\w+)", queue)
    assert lignes == ["ETAB_A1B", "ETAB_A2"], lignes  # oldest first
    jury = T(client.get(f"/evaluations/?statut=attente_jury&jury={world.ids['tp_idf']}"))
    assert "DURAND" in jury and "MARTIN" in jury
    autre = T(client.get("/evaluations/?statut=attente_jury&jury=999999"))
    assert "DURAND" not in autre
    mails = T(client.get("/emailenvoyeview/list/?_flt_0_statut=echec"))
    assert "a@exemple.fr" in mails and "b@exemple.fr" not in mails


@pytest.mark.parametrize("who", ["admin_reseau_a", "admin_organisme_a",
                                 "utilisateur_etablissement_a", "jury_a"])
def test_the_desk_is_certif_pros_only(app, world, login, who):
    demande(world, "etab_a1")
    client = login(who)
    assert "Votre bureau" not in T(client.get("/"))
    queue = client.get("/habilitations/a-decider/")
    if who == "jury_a":  # a jury decides its CPNE's requests: a Transitions Pro has none
        assert "Aucune demande d'habilitation n'attend votre décision." in T(queue)
    else:
        assert queue.status_code == 403


def test_a_decided_request_clears_its_notifications_for_everyone(app, world):
    from app.services import accounts
    from tests.world import PASSWORD

    accounts.create_user({"username": "certif_pro_2", "first_name": "Autre",
                          "last_name": "CP", "email": "cp2@test.fr", "role": "certif_pro"},
                         by=None, password=PASSWORD)
    hab = demande(world, "etab_a1b")
    lien = f"/habilitationview/show/{hab.id}"

    def non_lues(username):
        return db.session.scalars(select(Notification.titre).where(
            Notification.user_id == user(username).id, Notification.lien == lien,
            Notification.lu.is_(False))).all()
    assert non_lues(CP) and non_lues("certif_pro_2")
    habilitations.decider(hab, valider(), user(CP))
    assert non_lues(CP) == [] and non_lues("certif_pro_2") == []
    # the decision's own notification, sent to the organisme, stays to be read
    assert non_lues("admin_organisme_a") == ["Habilitation validée : ETAB_A1B"]


def test_a_decided_rattachement_clears_its_notifications(app, world):
    from app.services import candidatures

    habiliter(world, "etab_a1", "etab_b1")
    c = candidatures.creer(dossier(world, etab="etab_b1"), user("utilisateur_etablissement_b"))
    d = rattachements.demander(c.id, {"etablissement_cible_id": world.ids["etab_a1"],
                                      "motif": "demenagement", "motif_texte": "Déménagement."},
                               user("admin_etablissement_a"))
    lien = f"/rattachements/{d.id}"
    assert db.session.scalar(select(func.count()).where(
        Notification.lien == lien, Notification.lu.is_(False))) >= 1
    motif = MotifType(contexte="rattachement", libelle="Justif", texte="Justificatif absent.",
                      ordre=0, actif=True)
    db.session.add(motif)
    db.session.commit()
    rattachements.decider(d, False, "", user(CP), motif_type=motif.id)
    assert d.motif_refus == "Justificatif absent."
    destinataires_certif_pro = db.session.scalars(select(Notification.lu).where(
        Notification.lien == lien, Notification.user_id == user(CP).id)).all()
    assert destinataires_certif_pro == [True]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_bulk_decisions_in_one_transaction_with_a_report(app, world):
    ok1, ok2 = demande(world, "etab_a1"), demande(world, "etab_a1b")
    deja = demande(world, "etab_a2")
    habilitations.decider(deja, {"decision": "rejetee", "motif": "Incomplet."}, user(CP))
    branche = db.session.scalars(select(Branche)).first()
    cpne = demande(world, "etab_b1", portee="branche", branche_id=branche.id)
    audits = db.session.scalar(select(func.count()).select_from(AuditLog))
    rapport = habilitations.decider_en_lot(
        [ok1.id, str(deja.id), cpne.id, ok2.id, ok1.id, 99999999], valider(), user(CP))
    lignes = {r.id: r for r in rapport}
    assert len(rapport) == 5  # each request once, in the order ticked
    assert lignes[ok1.id].decidee and lignes[ok2.id].decidee
    assert "Validée du" in lignes[ok1.id].message
    assert not lignes[deja.id].decidee and "déjà été décidée" in lignes[deja.id].message
    assert not lignes[cpne.id].decidee and "CPNE" in lignes[cpne.id].message
    assert not lignes[99999999].decidee and lignes[99999999].message == "Demande introuvable."
    db.session.expire_all()
    statuts = dict(db.session.execute(select(Habilitation.id, Habilitation.statut)).all())
    assert (statuts[ok1.id], statuts[ok2.id], statuts[deja.id], statuts[cpne.id]) == (
        "validee", "validee", "rejetee", "en_attente")
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id).offset(
        audits)).all()
    assert actions.count("decider_habilitation") == 2
    assert "decider_habilitations_en_lot" in actions
    # a refusal of the whole: nothing ticked, no decision
    with pytest.raises(RuleError, match="Cochez au moins une demande"):
        habilitations.decider_en_lot(["x", None], valider(), user(CP))
    with pytest.raises(RuleError, match="Valider"):
        habilitations.decider_en_lot([ok1.id], {"decision": "peut-etre"}, user(CP))


def test_bulk_decisions_through_the_screen_and_the_api(app, world, login, api_token):
    a, b, c = demande(world, "etab_a1"), demande(world, "etab_a1b"), demande(world, "etab_a2")
    client = login(CP)
    refus = client.post("/habilitations/a-decider/lot", data={
        "ids": [a.id], "decision": "rejetee"})
    assert refus.status_code == 400
    assert "Indiquez le motif du rejet." in T(refus)
    ok = client.post("/habilitations/a-decider/lot", data={
        "ids": [a.id, b.id], "decision": "rejetee", "motif": "Locaux non conformes."})
    page = T(ok)
    assert ok.status_code == 200 and "2 demandes décidées." in page
    assert "Compte rendu de la décision groupée" in page
    assert page.count("Rejetée : Locaux non conformes.") == 2
    assert "1 demande en attente" in page  # the queue without them
    headers = api_token(CP)
    response = app.test_client().post("/api/v1/habilitation/decision-en-lot", headers=headers,
                                      json={"ids": [a.id, c.id], **valider()})
    assert response.status_code == 200, response.json
    assert response.json["decidees"] == 1 and response.json["refusees"] == 1
    assert [r["decidee"] for r in response.json["resultats"]] == [False, True]
    bad = app.test_client().post("/api/v1/habilitation/decision-en-lot", headers=headers,
                                 json={"ids": "tout", "decision": "validee"})
    assert bad.status_code == 400 and bad.json.get("field") == "ids"
    other = app.test_client().post("/api/v1/habilitation/decision-en-lot",
                                   headers=api_token("admin_organisme_a"),
                                   json={"ids": [a.id], "decision": "validee"})
    assert other.status_code == 403


def test_a_long_habilitation_asks_for_confirmation(app, world, login):
    hab = demande(world, "etab_a1")
    dix_ans = valider(fin=TODAY + dt.timedelta(days=3653))
    with pytest.raises(RuleError, match="durerait 10 ans, plus que la durée habituelle de "
                                        "3 ans") as refus:
        habilitations.decider(hab, dix_ans, user(CP))
    assert refus.value.field == "confirmer_duree"
    client = login(CP)
    page = client.post(f"/habilitationview/decider/{hab.id}", data=dix_ans)
    assert page.status_code == 400
    assert "Je confirme cette durée" in T(page) and "durerait 10 ans" in T(page)
    done = client.post(f"/habilitationview/decider/{hab.id}",
                       data={**dix_ans, "confirmer_duree": "1"}, follow_redirects=True)
    assert "La décision est enregistrée et notifiée." in T(done)
    db.session.expire_all()
    assert db.session.get(Habilitation, hab.id).statut == "validee"
    # configurable: 12 months usual, a two-year habilitation is then unusual
    app.config["HABILITATION_DUREE_USUELLE_MOIS"] = 12
    try:
        autre = demande(world, "etab_a1b")
        with pytest.raises(RuleError, match="durerait 2 ans, plus que la durée habituelle de "
                                            "1 an"):
            habilitations.decider(autre, valider(fin=TODAY + dt.timedelta(days=731)), user(CP))
    finally:
        app.config["HABILITATION_DUREE_USUELLE_MOIS"] = 36


def test_the_decision_shows_the_establishments_history(app, world, login):
    from app.services import candidatures

    habiliter(world, "etab_a1")
    ancienne = db.session.scalars(select(Habilitation).where(
        Habilitation.etablissement_id == world.ids["etab_a1"])).first()
    for nom in ("Durand", "Martin", "Petit", "Roux"):
        c = candidatures.creer(dossier(world, nom_naissance=nom),
                               user("utilisateur_etablissement_a"), True)
        if nom == "Roux":
            candidatures.abandonner(c, "emploi", "CDI signé.", None)
    client = login(CP)
    premiere = demande(world, "etab_a1b")  # another établissement: its own history
    page = T(client.get(f"/habilitationview/show/{premiere.id}"))
    assert "Historique de l'établissement" in page and "Première demande" in page
    assert "Aucun dossier pour le moment." in page
    renouvellement = demande(world, "etab_a1")
    page = T(client.get(f"/habilitationview/show/{renouvellement.id}"))
    assert "Autres demandes d'habilitation" in page and "Validée" in page
    assert re.search(r"Dossiers</dt> ?<dd>4</dd>", page)
    assert re.search(r"Abandonnés</dt> ?<dd>1 \(25,0 %\)</dd>", page)
    # only the decider reads it
    assert "Historique de l'établissement" not in T(
        login("admin_organisme_a").get(f"/habilitationview/show/{renouvellement.id}"))
    h = habilitations.historique(ancienne)
    assert (h.dossiers, h.abandonnes, h.certifies) == (4, 1, 0)
    assert h.pourcentage(h.abandonnes) == "25,0\u202f%"


def test_standard_motives_are_data_certif_pro_keeps(app, world, login):
    m = motifs.create({"contexte": "habilitation", "libelle": "Locaux",
                       "texte": "Les locaux ne sont pas accessibles.", "ordre": "2"}, user(CP))
    motifs.create({"contexte": "jury", "libelle": "Domaine",
                   "texte": "Un domaine n'est pas maîtrisé."}, user(CP))
    with pytest.raises(RuleError, match="Choisissez où le motif est proposé"):
        motifs.create({"contexte": "ailleurs", "libelle": "X", "texte": "Y"}, user(CP))
    db.session.rollback()
    with pytest.raises(RuleError, match="Libellé"):
        motifs.create({"contexte": "jury", "libelle": " ", "texte": "Y"}, user(CP))
    db.session.rollback()
    from app.services.errors import ForbiddenError
    with pytest.raises(ForbiddenError):
        motifs.create({"contexte": "jury", "libelle": "X", "texte": "Y"},
                      user("admin_reseau_a"))
    db.session.rollback()
    assert "Locaux" in [x.libelle for x in motifs.proposes("habilitation")]
    assert "Domaine" not in [x.libelle for x in motifs.proposes("habilitation")]
    hab = demande(world, "etab_a1")
    client = login(CP)
    page = T(client.get(f"/habilitationview/show/{hab.id}"))
    assert 'data-clea-motif-cible="motif"' in page and ">Locaux</option>" in page
    # a motive of another context is refused; the chosen one is the recorded motive
    jury = motifs.proposes("jury")[0]
    refus = client.post(f"/habilitationview/decider/{hab.id}",
                        data={"decision": "rejetee", "motif_type": jury.id})
    assert refus.status_code == 400 and "Choisissez un motif type de la liste." in T(refus)
    client.post(f"/habilitationview/decider/{hab.id}",
                data={"decision": "rejetee", "motif_type": m.id})
    db.session.expire_all()
    assert db.session.get(Habilitation, hab.id).motif_rejet == "Les locaux ne sont pas accessibles."
    # retired: no longer offered
    motifs.update(m, {"actif": False}, user(CP))
    assert "Locaux" not in [x.libelle for x in motifs.proposes("habilitation")]
    # the screen of Certif Pro
    liste = T(client.get("/motiftypeview/list/"))
    assert "Locaux" in liste and "Rejet d'une demande d'habilitation" in liste
    added = client.post("/motiftypeview/add", data={
        "contexte": "rattachement", "libelle": "Fermeture", "texte": "Établissement fermé.",
        "ordre": "1", "actif": "y"}, follow_redirects=True)
    assert added.status_code == 200
    assert "Fermeture" in [x.libelle for x in motifs.proposes("rattachement")]
    assert login("admin_reseau_a").get("/motiftypeview/list/").status_code in (302, 403)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_bulk_rattachement_decisions_with_a_report(app, world, login, api_token):
    from app.models import Rattachement
    from app.services import candidatures

    habiliter(world, "etab_a1", "etab_b1")
    demandes = []
    for nom in ("Durand", "Martin", "Petit"):
        c = candidatures.creer(dossier(world, etab="etab_b1", nom_naissance=nom),
                               user("utilisateur_etablissement_b"), True)
        demandes.append(rattachements.demander(c.id, {
            "etablissement_cible_id": world.ids["etab_a1"], "motif": "demenagement",
            "motif_texte": "Déménagement à Paris."}, user("admin_etablissement_a")))
    d1, d2, d3 = demandes
    rattachements.decider(d3, False, "Déjà refusée.", user(CP))
    client = login(CP)
    page = T(client.get("/rattachements/"))
    assert page.count('name="ids"') == 2  # the pending ones only
    refus = client.post("/rattachements/lot", data={"ids": [d1.id], "decision": "refuser"})
    assert refus.status_code == 400 and "Indiquez le motif du refus." in T(refus)
    ok = T(client.post("/rattachements/lot", data={
        "ids": [d1.id, d3.id], "decision": "accepter"}))
    assert "1 demande(s) décidée(s), 1 refusée(s)" in ok
    assert "Acceptée : le dossier est transféré à ETAB_A1." in ok
    assert "Cette demande a déjà été traitée." in ok
    db.session.expire_all()
    statuts = dict(db.session.execute(select(Rattachement.id, Rattachement.statut)).all())
    assert (statuts[d1.id], statuts[d2.id], statuts[d3.id]) == ("acceptee", "en_attente",
                                                                 "refusee")
    assert db.session.get(Candidature, d1.candidature_id).etablissement_id == \
        world.ids["etab_a1"]
    # the API: the same decision for several
    response = app.test_client().post("/api/v1/rattachement/decision-en-lot",
                                      headers=api_token(CP), json={
                                          "ids": [d2.id, d1.id], "decision": "refusee",
                                          "motif_refus": "Pas de justificatif."})
    assert response.status_code == 200, response.json
    assert [r["decidee"] for r in response.json["resultats"]] == [True, False]
    forbidden = app.test_client().post("/api/v1/rattachement/decision-en-lot",
                                       headers=api_token("admin_reseau_a"),
                                       json={"ids": [d2.id], "decision": "refusee"})
    assert forbidden.status_code == 403
    assert login("admin_etablissement_a").post("/rattachements/lot", data={
        "ids": [d2.id], "decision": "accepter"}).status_code == 403
