"""A jury session's lifecycle (issue 16): corrected (date, place, deadline) until it is
closed, cancelled with a motive (its dossiers go back to waiting and on to the jury's next
session, their managers told why), members added and removed, a dossier moved to another
open session of the same jury with its history kept; closed and cancelled sessions are never
shown as upcoming. Through the services, the screens (per role, other perimeters) and the
API."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.models import Certificateur, Notification
from app.models.candidature import Candidature, HistoriqueStatut
from app.models.jury import SessionJury
from app.services import certification
from app.services.errors import ForbiddenError, RuleError
from tests.integration.test_candidatures import habiliter
from tests.integration.test_certification import a_envoyer, session
from tests.world import user

TODAY = dt.date.today()
CP = "certif_pro_a"
OF = "utilisateur_etablissement_a"


def jour(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


@pytest.fixture
def ready(app, world):
    habiliter(world, "etab_a1", "etab_a1b")
    return world


def envoye(world, nom="Durand"):
    c = a_envoyer(world, nom_naissance=nom)
    certification.envoyer_en_certification(c, user(OF))
    return c


def titres(username: str) -> list[str]:
    return list(db.session.scalars(select(Notification.titre).where(
        Notification.user_id == user(username).id).order_by(Notification.id)))


def textes(username: str) -> list[str]:
    return list(db.session.scalars(select(Notification.texte).where(
        Notification.user_id == user(username).id).order_by(Notification.id)))


def cpne_session():
    cpne = db.session.scalars(select(Certificateur).where(Certificateur.type == "cpne")).one()
    return certification.creer_session(
        {"certificateur_id": cpne.id, "date_session": TODAY, "date_limite": TODAY,
         "mode": "distanciel", "membres": [{"nom": "E", "college": "employeurs"},
                                           {"nom": "S", "college": "salaries"}]}, user(CP))


# --- services ----------------------------------------------------------------------------------

def test_a_session_is_corrected_until_closed_and_its_date_change_told(app, ready):
    s = session(ready, date_session=TODAY + dt.timedelta(days=5))
    c = envoye(ready)
    assert c.session_jury_id == s.id
    avant = len(titres(OF))
    certification.modifier_session(s, {"date_session": jour(9), "date_limite": jour(8),
                                       "mode": "presentiel", "lieu": "Salle 4, Paris"}, user(CP))
    db.session.refresh(s)
    assert (s.date_session, s.date_limite, s.mode, s.lieu) == (
        TODAY + dt.timedelta(days=9), TODAY + dt.timedelta(days=8), "presentiel",
        "Salle 4, Paris")
    assert titres(OF)[avant:] == ["Session de jury déplacée : " + c.candidat.nom_complet]
    assert (TODAY + dt.timedelta(days=9)).strftime("%d/%m/%Y") in textes(OF)[-1]
    # a place only: nobody is told, the rest stays
    certification.modifier_session(s, {"lieu": "Salle 5"}, user(CP))
    assert s.lieu == "Salle 5" and s.mode == "presentiel" and len(titres(OF)) == avant + 1
    for data, field, message in (
            ({"date_session": jour(-1)}, "date_session", "ne peut pas être passée"),
            ({"date_limite": jour(30)}, "date_limite", "doit précéder"),
            ({"lieu": ""}, "lieu", "lieu de la session en présentiel"),
            ({"mode": "visio"}, "mode", "présentiel ou distanciel"),
            ({"date_session": "31/02/2027"}, "date_session", None)):
        with pytest.raises(RuleError, match=message) as refus:
            certification.modifier_session(s, data, user(CP))
        assert refus.value.field == field
        db.session.rollback()
    db.session.refresh(s)
    assert s.lieu == "Salle 5"  # nothing half-written
    with pytest.raises(ForbiddenError):
        certification.modifier_session(s, {"lieu": "Ailleurs"}, user("admin_reseau_a"))


def test_after_a_decision_the_date_stays_and_a_closed_session_is_not_edited(app, ready):
    s = session(ready)  # dated today: decisions are open
    c = envoye(ready)
    certification.decider(c, "certifiee", "", user(CP))
    with pytest.raises(RuleError, match="sa date ne change plus"):
        certification.modifier_session(s, {"date_session": jour(3), "date_limite": jour(1)},
                                       user(CP))
    db.session.rollback()
    certification.modifier_session(s, {"mode": "presentiel", "lieu": "Lyon"}, user(CP))
    assert s.lieu == "Lyon"
    assert not certification.peut_annuler_session(s, user(CP))
    with pytest.raises(RuleError, match="ne peut plus être annulée"):
        certification.annuler_session(s, "Le jury ne siège pas ce jour-là.", user(CP))
    db.session.rollback()
    certification.cloturer_session(s, user(CP))
    for command in (lambda: certification.modifier_session(s, {"lieu": "Nice"}, user(CP)),
                    lambda: certification.ajouter_membre(s, "N. Membre", "salaries", user(CP)),
                    lambda: certification.annuler_session(s, "Motif assez long.", user(CP))):
        with pytest.raises(RuleError, match="est close : elle ne se modifie plus"):
            command()
        db.session.rollback()


def test_cancelling_sends_the_dossiers_to_the_next_session_and_tells_why(app, ready):
    s = session(ready, date_session=TODAY + dt.timedelta(days=2))
    c1, c2 = envoye(ready, "Alpha"), envoye(ready, "Beta")
    assert {c1.session_jury_id, c2.session_jury_id} == {s.id}
    with pytest.raises(RuleError, match="motif de l'annulation") as refus:
        certification.annuler_session(s, "court", user(CP))
    assert refus.value.field == "motif"
    db.session.rollback()
    suivante = session(ready, date_session=TODAY + dt.timedelta(days=20),
                       date_limite=TODAY + dt.timedelta(days=19))
    avant = len(titres(OF))
    assert certification.annuler_session(s, "Le président est empêché.", user(CP)) == 2
    db.session.refresh(s)
    assert s.statut == "annulee" and s.motif_annulation == "Le président est empêché."
    assert s.annulee_le is not None
    for c in (c1, c2):
        db.session.refresh(c)
        assert c.statut == "attente_certification" and c.session_jury_id == suivante.id
        lignes = [h.motif for h in db.session.scalars(select(HistoriqueStatut).where(
            HistoriqueStatut.candidature_id == c.id).order_by(HistoriqueStatut.id))]
        assert any("annulée : Le président est empêché." in (m or "") for m in lignes)
    nouveaux = titres(OF)[avant:]
    assert nouveaux.count("Session de jury annulée : " + c1.candidat.nom_complet) == 1
    assert nouveaux.count("Dossier affecté à un jury : " + c2.candidat.nom_complet) == 1
    assert any("Le président est empêché." in t for t in textes(OF)[avant:])
    # never upcoming, and the jury's calendar shows the next one
    passees, prochaines = certification.calendrier(user(CP))
    assert s not in prochaines and s not in passees and suivante in prochaines


def test_cancelled_without_another_session_the_dossiers_wait(app, ready):
    s = session(ready, date_session=TODAY + dt.timedelta(days=2))
    c = envoye(ready)
    certification.annuler_session(s, "Salle indisponible ce jour.", user(CP))
    db.session.refresh(c)
    assert c.statut == "attente_jury" and c.session_jury_id is None
    assert certification.suivi(c) == "en attente d'affectation à un jury"
    later = session(ready, date_session=TODAY + dt.timedelta(days=10),
                    date_limite=TODAY + dt.timedelta(days=9))
    db.session.refresh(c)
    assert c.session_jury_id == later.id  # assigned when a session opens


def test_a_closed_session_is_never_upcoming(app, ready):
    s = session(ready)  # today
    certification.cloturer_session(s, user(CP))
    passees, prochaines = certification.calendrier(user(CP))
    assert s not in prochaines and s in passees


def test_members_added_and_removed_an_open_session_keeps_both_colleges(app, ready):
    s = session(ready)  # open, E1 + S1
    certification.ajouter_membre(s, "E2", "employeurs", user(CP))
    e1 = next(m for m in s.membres if m.nom == "E1")
    s1 = next(m for m in s.membres if m.nom == "S1")
    certification.retirer_membre(s, e1.id, user(CP))
    db.session.refresh(s)
    assert sorted(m.nom for m in s.membres) == ["E2", "S1"]
    with pytest.raises(RuleError, match="chaque collège doit garder au moins un membre"):
        certification.retirer_membre(s, s1.id, user(CP))
    db.session.rollback()
    with pytest.raises(RuleError, match="ne fait pas partie"):
        certification.retirer_membre(s, 10 ** 12, user(CP))
    db.session.rollback()
    autre = cpne_session()
    with pytest.raises(RuleError, match="ne fait pas partie"):
        certification.retirer_membre(s, autre.membres[0].id, user(CP))
    db.session.rollback()
    # in preparation anything goes (parity is checked when it opens)
    p = session(ready, open_=False)
    for m in list(p.membres):
        certification.retirer_membre(p, m.id, user(CP))
    db.session.refresh(p)
    assert p.membres == []


def test_a_moved_dossier_keeps_its_history(app, ready):
    s = session(ready, date_session=TODAY + dt.timedelta(days=3))
    cible = session(ready, date_session=TODAY + dt.timedelta(days=12),
                    date_limite=TODAY + dt.timedelta(days=10))
    c = envoye(ready)
    assert c.session_jury_id == s.id
    historique = [(h.de, h.vers) for h in c.historique]
    assert certification.autres_sessions_ouvertes(s) == [cible]
    certification.deplacer_dossier(c, cible.id, user(CP))
    db.session.refresh(c)
    assert c.session_jury_id == cible.id and c.statut == "attente_certification"
    lignes = db.session.scalars(select(HistoriqueStatut).where(
        HistoriqueStatut.candidature_id == c.id).order_by(HistoriqueStatut.id)).all()
    assert [(h.de, h.vers) for h in lignes[:-1]] == historique  # kept, one line more
    assert lignes[-1].motif == "Déplacé de la session du %s à celle du %s" % (
        s.date_session.strftime("%d/%m/%Y"), cible.date_session.strftime("%d/%m/%Y"))
    assert titres(OF)[-1] == "Dossier déplacé vers une autre session : " + c.candidat.nom_complet
    # refused: the same session, another jury's, a past or a closed one, an unknown id
    autre_jury = cpne_session()
    for session_id in (cible.id, autre_jury.id, 0, "x", 10 ** 15):
        with pytest.raises(RuleError, match="autre session ouverte") as refus:
            certification.deplacer_dossier(c, session_id, user(CP))
        assert refus.value.field == "session_id"
        db.session.rollback()
    passee = session(ready, date_session=TODAY, date_limite=TODAY)
    with pytest.raises(RuleError, match="autre session ouverte"):
        certification.deplacer_dossier(c, passee.id, user(CP), today=TODAY + dt.timedelta(days=1))
    db.session.rollback()
    decide = envoye(ready, "Gamma")
    assert decide.session_jury_id == passee.id  # the earliest open session
    certification.decider(decide, "certifiee", "", user(CP))
    with pytest.raises(RuleError, match="Seul un dossier affecté"):
        certification.deplacer_dossier(decide, cible.id, user(CP))


# --- screens -----------------------------------------------------------------------------------

def _texte(html: bytes) -> str:
    import html as h

    return h.unescape(re.sub(r"\s+", " ", html.decode()))


def test_session_screens_edit_cancel_members_and_move(app, ready, login):
    s = session(ready, date_session=TODAY + dt.timedelta(days=4))
    cible = session(ready, date_session=TODAY + dt.timedelta(days=14),
                    date_limite=TODAY + dt.timedelta(days=13))
    c = envoye(ready)
    client = login(CP)
    page = _texte(client.get(f"/jury/session/{s.id}").data)
    for libelle in ("Modifier la session", "Annuler la session", "Retirer", "Déplacer"):
        assert libelle in page, libelle
    # the edit form: refused in French (400, nothing kept), then saved
    form = client.get(f"/jury/session/{s.id}/modifier")
    assert form.status_code == 200 and "1 dossier est affecté" in _texte(form.data)
    refus = client.post(f"/jury/session/{s.id}/modifier", data={
        "date_session": jour(-3), "date_limite": jour(-4), "mode": "distanciel"})
    assert refus.status_code == 400
    assert "La date de la session ne peut pas être passée" in _texte(refus.data)
    ok = client.post(f"/jury/session/{s.id}/modifier", data={
        "date_session": jour(6), "date_limite": jour(5), "mode": "presentiel",
        "lieu": "Salle du conseil"}, follow_redirects=True)
    assert "La session est modifiée." in _texte(ok.data)
    assert "Salle du conseil" in _texte(ok.data)
    # move the dossier, then cancel the emptied session
    moved = client.post(f"/jury/dossier/{c.id}/deplacer", data={"session_id": cible.id},
                        follow_redirects=True)
    assert "Le dossier est déplacé vers l'autre session." in _texte(moved.data)
    db.session.expire_all()
    assert db.session.get(Candidature, c.id).session_jury_id == cible.id
    court = client.post(f"/jury/session/{s.id}/annuler", data={"motif": "non"},
                        follow_redirects=True)
    assert "Indiquez le motif de l'annulation (10 caractères au moins)." in _texte(court.data)
    done = client.post(f"/jury/session/{s.id}/annuler",
                       data={"motif": "Doublon de la session suivante."}, follow_redirects=True)
    page = _texte(done.data)
    assert "La session est annulée" in page and "Doublon de la session suivante." in page
    assert "Modifier la session" not in page and "Annulée" in page
    assert client.get(f"/jury/session/{s.id}/modifier").status_code == 302
    # members of the target session: one removed, the last of a college refused
    membres = {m.nom: m.id for m in db.session.get(SessionJury, cible.id).membres}
    refus = client.post(f"/jury/session/{cible.id}/membre/{membres['S1']}/retirer",
                        follow_redirects=True)
    assert "chaque collège doit garder au moins un membre" in _texte(refus.data)
    client.post(f"/jury/session/{cible.id}/membre", data={"nom": "S2", "college": "salaries"})
    ok = client.post(f"/jury/session/{cible.id}/membre/{membres['S1']}/retirer",
                     follow_redirects=True)
    assert "Le membre est retiré du jury." in _texte(ok.data)


@pytest.mark.parametrize("who", ["admin_reseau_a", "utilisateur_etablissement_a",
                                 "admin_reseau_b"])
def test_others_cannot_edit_cancel_or_move(app, ready, login, who):
    s = session(ready, date_session=TODAY + dt.timedelta(days=4))
    cible = session(ready, date_session=TODAY + dt.timedelta(days=14),
                    date_limite=TODAY + dt.timedelta(days=13))
    c = envoye(ready)
    client = login(who)
    for url, data in ((f"/jury/session/{s.id}/modifier", {"lieu": "X", "mode": "presentiel"}),
                      (f"/jury/session/{s.id}/annuler", {"motif": "Un motif assez long."}),
                      (f"/jury/session/{s.id}/membre/{s.membres[0].id}/retirer", {}),
                      (f"/jury/dossier/{c.id}/deplacer", {"session_id": cible.id})):
        response = client.post(url, data=data)
        assert response.status_code in (302, 403, 404), (url, response.status_code)
        if response.status_code == 302:  # FAB's refusal: back to the login or home page
            assert "/jury/session" not in response.headers["Location"]
    db.session.expire_all()
    s = db.session.get(SessionJury, s.id)
    assert s.statut == "ouverte" and len(s.membres) == 2 and s.lieu is None
    assert db.session.get(Candidature, c.id).session_jury_id == s.id


def test_the_jury_of_another_certificateur_sees_404(app, ready, login):
    autre = cpne_session()
    client = login("jury_a")  # Transitions Pro Île-de-France
    assert client.get(f"/jury/session/{autre.id}").status_code == 404
    assert client.post(f"/jury/session/{autre.id}/annuler",
                       data={"motif": "Un motif assez long."}).status_code == 404
    assert client.get(f"/jury/session/{autre.id}/modifier").status_code == 404


# --- API ---------------------------------------------------------------------------------------

def test_api_edit_cancel_members_and_move(app, ready, api_token):
    s = session(ready, date_session=TODAY + dt.timedelta(days=4))
    cible = session(ready, date_session=TODAY + dt.timedelta(days=14),
                    date_limite=TODAY + dt.timedelta(days=13))
    c = envoye(ready)
    client, auth = app.test_client(), api_token(CP)
    r = client.put(f"/api/v1/jury/{s.id}", json={"lieu": "Salle 2", "mode": "presentiel"},
                   headers=auth)
    assert r.status_code == 200, r.json
    assert r.json["result"]["lieu"] == "Salle 2"
    assert r.json["result"]["date_session"] == s.date_session.isoformat()
    r = client.put(f"/api/v1/jury/{s.id}", json={"date_session": jour(-2)}, headers=auth)
    assert r.status_code == 400 and r.json["field"] == "date_session"
    assert "passée" in r.json["message"]
    r = client.put(f"/api/v1/jury/{s.id}", json={"lieu": ["liste"]}, headers=auth)
    assert r.status_code == 400 and r.json["field"] == "lieu"
    # members
    r = client.get(f"/api/v1/jury/{cible.id}/membres", headers=auth)
    assert r.status_code == 200 and sorted(m["nom"] for m in r.json["result"]) == ["E1", "S1"]
    r = client.post(f"/api/v1/jury/{cible.id}/membres", json={"nom": "E2",
                                                             "college": "employeurs"},
                    headers=auth)
    assert r.status_code == 201 and len(r.json["result"]) == 3
    r = client.post(f"/api/v1/jury/{cible.id}/membres", json={"nom": "X", "college": "autre"},
                    headers=auth)
    assert r.status_code == 400 and r.json["field"] == "college"
    membres = client.get(f"/api/v1/jury/{cible.id}/membres", headers=auth).json["result"]
    e1 = next(m["id"] for m in membres if m["nom"] == "E1")
    r = client.delete(f"/api/v1/jury/{cible.id}/membres/{e1}", headers=auth)
    assert r.status_code == 200 and sorted(m["nom"] for m in r.json["result"]) == ["E2", "S1"]
    s1 = next(m["id"] for m in r.json["result"] if m["nom"] == "S1")
    r = client.delete(f"/api/v1/jury/{cible.id}/membres/{s1}", headers=auth)
    assert r.status_code == 400 and "chaque collège" in r.json["message"]
    # move, then cancel
    r = client.post(f"/api/v1/candidature/{c.id}/deplacer", json={"session_id": "x"},
                    headers=auth)
    assert r.status_code == 400 and r.json["field"] == "session_id"
    r = client.post(f"/api/v1/candidature/{c.id}/deplacer", json={"session_id": cible.id},
                    headers=auth)
    assert r.status_code == 200, r.json
    db.session.expire_all()
    assert db.session.get(Candidature, c.id).session_jury_id == cible.id
    r = client.post(f"/api/v1/jury/{s.id}/annuler", json={}, headers=auth)
    assert r.status_code == 400 and r.json["field"] == "motif"
    r = client.post(f"/api/v1/jury/{s.id}/annuler", json={"motif": "Session en double."},
                    headers=auth)
    assert r.status_code == 200 and r.json["result"]["statut"] == "annulee"
    assert r.json["result"]["motif_annulation"] == "Session en double."
    # another jury's session: 404
    autre = cpne_session()
    jury = api_token("jury_a")
    for method, url, body in (("put", f"/api/v1/jury/{autre.id}", {"lieu": "X"}),
                              ("post", f"/api/v1/jury/{autre.id}/annuler",
                               {"motif": "Un motif assez long."}),
                              ("get", f"/api/v1/jury/{autre.id}/membres", None),
                              ("delete", f"/api/v1/jury/{autre.id}/membres/1", None)):
        r = getattr(client, method)(url, json=body, headers=jury)
        assert r.status_code == 404, (url, r.status_code)


# --- the joint decision ------------------------------------------------------------------------

def membres_jury(world, certificateur_key="tp_idf", n=4, prefixe="membre"):
    """n Jury accounts of a certificateur: membre1..n (password PASSWORD)."""
    from app.services import accounts
    from tests.world import PASSWORD

    cert_id = world.ids.get(certificateur_key, certificateur_key)
    out = []
    for i in range(1, n + 1):
        username = f"{prefixe}{i}"
        accounts.create_user({"username": username, "first_name": f"Membre{i}",
                              "last_name": prefixe.capitalize(),
                              "email": f"{username}@jury.fr", "role": "jury",
                              "certificateur_id": cert_id}, by=None, password=PASSWORD)
        out.append(user(username))
    return out


def session_conjointe(world, **over):
    """A session with four member accounts, two per college; membre1 (employeurs) presides."""
    comptes = membres_jury(world)
    colleges = ["employeurs", "salaries", "employeurs", "salaries"]
    return session(world, membres=[
        {"college": college, "user_id": compte.id, "president": i == 0}
        for i, (compte, college) in enumerate(zip(comptes, colleges))], **over), comptes


def test_parity_and_majority_rule_the_joint_decision(app, ready):
    s, (m1, m2, m3, m4) = session_conjointe(ready)
    assert [m.nom for m in s.membres][0] == "Membre1 Membre" and s.membres[0].president
    c = envoye(ready)
    assert c.session_jury_id == s.id
    # nobody outside the members votes; only the president decides
    for intrus in (user(CP), user("jury_a")):
        with pytest.raises(ForbiddenError, match="Seuls les membres"):
            certification.voter(c, "certifiee", "", intrus)
        db.session.rollback()
    with pytest.raises(ForbiddenError, match="Seul le président"):
        certification.decider(c, "certifiee", "", user(CP))
    db.session.rollback()
    # a missing college: two employeurs only
    certification.voter(c, "certifiee", "", m1)
    certification.voter(c, "certifiee", "", m3)
    with pytest.raises(RuleError, match=r"pas paritaires \(2 employeurs, 0 salariés\)"):
        certification.decider(c, "certifiee", "", m1)
    db.session.rollback()
    # a tie: paritaire, two against two
    certification.voter(c, "non_certifiee", "Maîtrise insuffisante du domaine 1.", m2)
    certification.voter(c, "non_certifiee", "Idem.", m4)
    with pytest.raises(RuleError, match="n'a pas la majorité des votes \\(2 sur 4\\)"):
        certification.decider(c, "certifiee", "", m1)
    db.session.rollback()
    with pytest.raises(RuleError, match="pas la majorité"):
        certification.decider(c, "non_certifiee", "Motif.", m1)
    db.session.rollback()
    assert c.statut == "attente_certification"  # stays for the session (or the next)
    # a member changes their vote: three to one; a non-president member cannot decide
    certification.voter(c, "certifiee", "", m4)
    etat = certification.etat_votes(c, s)
    assert (etat.employeurs, etat.salaries, etat.paritaire, etat.majoritaire) == (
        2, 2, True, "certifiee")
    assert len(etat.votes) == 4
    with pytest.raises(ForbiddenError, match="Seul le président"):
        certification.decider(c, "certifiee", "", m2)
    db.session.rollback()
    with pytest.raises(RuleError, match="pas la majorité"):
        certification.decider(c, "non_certifiee", "Motif.", m1)
    db.session.rollback()
    certification.decider(c, "certifiee", "", m1)
    db.session.refresh(c)
    assert c.statut == "certifiee"
    # every vote in the journal
    from app.models.audit import AuditLog
    votes = db.session.scalars(select(AuditLog.detail).where(
        AuditLog.action == "vote_jury", AuditLog.object_id == c.id)).all()
    assert len(votes) == 5 and any("Membre2 Membre" in v and "Non certifiée" in v for v in votes)
    # decided: no more votes
    with pytest.raises(RuleError, match="n'attend pas de décision"):
        certification.voter(c, "certifiee", "", m3)


def test_votes_open_on_the_session_date_and_a_member_of_another_jury_is_refused(app, ready):
    s, (m1, m2, _m3, _m4) = session_conjointe(
        ready, date_session=TODAY + dt.timedelta(days=3))
    c = envoye(ready)
    with pytest.raises(RuleError, match="qu'à partir de la date de sa session"):
        certification.voter(c, "certifiee", "", m1)
    db.session.rollback()
    cpne = db.session.scalars(select(Certificateur).where(Certificateur.type == "cpne")).one()
    (autre,) = membres_jury(ready, cpne.id, n=1, prefixe="cpne")
    # not a Jury account of this certificateur: refused as a member
    with pytest.raises(RuleError, match="compte Jury actif") as refus:
        certification.ajouter_membre(s, "", "salaries", user(CP), user_id=autre.id)
    assert refus.value.field == "user_id"
    db.session.rollback()
    with pytest.raises(RuleError, match="déjà membre"):
        certification.ajouter_membre(s, "", "salaries", user(CP), user_id=m2.id)
    db.session.rollback()
    with pytest.raises(RuleError, match="membre qui a un compte"):
        certification.ajouter_membre(s, "Sans Compte", "salaries", user(CP), president=True)
    db.session.rollback()
    later = TODAY + dt.timedelta(days=3)
    with pytest.raises(NotFound):  # another jury's account: outside its perimeter
        certification.voter(c, "certifiee", "", autre, today=later)
    db.session.rollback()
    certification.voter(c, "complement", "Joindre l'attestation de formation.", m1, today=later)
    with pytest.raises(RuleError, match="Précisez les compléments"):
        certification.voter(c, "complement", "", m2, today=later)


def test_browser_free_joint_journey_through_the_screens(app, ready, login):
    """Four member accounts; two of each college vote on the dossier page; the president
    certifies; the session closes and its procès-verbal downloads."""
    s, comptes = session_conjointe(ready)
    c = envoye(ready)
    votes = {"membre1": "certifiee", "membre2": "certifiee", "membre3": "certifiee",
             "membre4": "non_certifiee"}
    for username, vote in votes.items():
        client = login(username)
        page = _texte(client.get(f"/jury/dossier/{c.id}").data)
        assert "Votre vote" in page and "Enregistrer mon vote" in page
        if username == "membre4":
            refus = client.post(f"/jury/dossier/{c.id}/vote", data={"vote": vote})
            assert refus.status_code == 400
            assert "Indiquez le motif de la non-certification." in _texte(refus.data)
        ok = client.post(f"/jury/dossier/{c.id}/vote", data={
            "vote": vote, "vote_motif": "Motif du vote." if vote != "certifiee" else ""},
            follow_redirects=True)
        assert "Votre vote est enregistré." in _texte(ok.data)
    member = _texte(login("membre2").get(f"/jury/dossier/{c.id}").data)
    assert "Enregistrer la décision" not in member  # only the president decides
    president = login("membre1")
    page = _texte(president.get(f"/jury/dossier/{c.id}").data)
    assert "2 employeur(s), 2 salarié(s) ont voté." in page
    assert "Les votes sont paritaires." in page and "Majorité : Certifiée." in page
    assert "Enregistrer la décision" in page
    done = president.post(f"/jury/dossier/{c.id}/decision", data={"decision": "certifiee"},
                          follow_redirects=True)
    assert "Décision enregistrée : Certifiée." in _texte(done.data)
    closed = president.post(f"/jury/session/{s.id}/cloturer", follow_redirects=True)
    assert "La session est close" in _texte(closed.data)
    pv = president.get(f"/jury/session/{s.id}/proces-verbal")
    assert pv.status_code == 200 and pv.data.startswith(b"%PDF")


def test_api_vote(app, ready, api_token):
    s, comptes = session_conjointe(ready)
    c = envoye(ready)
    client = app.test_client()
    r = client.post(f"/api/v1/candidature/{c.id}/vote", json={"vote": "oui"},
                    headers=api_token("membre2"))
    assert r.status_code == 400 and r.json["field"] == "vote"
    r = client.post(f"/api/v1/candidature/{c.id}/vote", json={"vote": "certifiee"},
                    headers=api_token("jury_a"))
    assert r.status_code == 403 and "Seuls les membres" in r.json["message"]
    for username in ("membre1", "membre2"):
        r = client.post(f"/api/v1/candidature/{c.id}/vote", json={"vote": "certifiee"},
                        headers=api_token(username))
        assert r.status_code == 200, r.json
    r = client.post(f"/api/v1/candidature/{c.id}/decision", json={"decision": "certifiee"},
                    headers=api_token(CP))
    assert r.status_code == 403 and "Seul le président" in r.json["message"]
    r = client.post(f"/api/v1/candidature/{c.id}/decision", json={"decision": "certifiee"},
                    headers=api_token("membre1"))
    assert r.status_code == 200, r.json
    r = client.get(f"/api/v1/jury/{s.id}/membres", headers=api_token(CP))
    assert [m["president"] for m in r.json["result"]] == [True, False, False, False]
    assert all(m["user_id"] for m in r.json["result"])


def test_the_sessions_list_counts_only_the_dossiers_still_to_examine(app, ready, login):
    s = session(ready)  # dated today: decisions are open
    certifie, attend = envoye(ready), envoye(ready, nom="Martin")
    certification.decider(certifie, "certifiee", "", user(CP))
    db.session.commit()
    _rows, counts = certification.sessions(user(CP))
    assert counts[s.id] == 1  # the certified dossier is decided, not « à examiner »
    ligne = re.search(r"<tr><td>%s</td>.*?</tr>" % s.date_session.strftime("%d/%m/%Y"),
                      login(CP).get("/jury/").get_data(as_text=True), re.S).group(0)
    assert re.findall(r"<td>(\d+)</td>", ligne) == ["1"]
    assert attend.statut in certification.EN_EXAMEN


def test_the_proces_verbal_of_a_joint_session_lists_the_members_present(app, ready):
    from tests.integration.test_jury import pdf_text

    s, (m1, m2, _m3, _m4) = session_conjointe(ready)
    c = envoye(ready)
    certification.voter(c, "certifiee", "", m1)
    certification.voter(c, "certifiee", "", m2)
    certification.decider(c, "certifiee", "", m1)
    certification.cloturer_session(s, m1)
    text = pdf_text(certification.proces_verbal(s)).replace("\n", " ")
    # present: the members who voted, by college, the president named
    assert "Collège employeurs (1) : Membre1 Membre (président)" in text
    assert "Collège salariés (1) : Membre2 Membre" in text
    assert "Membre3" not in text and "Membre4" not in text
    assert text.count("DURAND") == 1  # the dossier once
    assert "Dossiers examinés : 1 — Certifiée : 1 ; Non certifiée : 0" in text


def test_closing_sends_the_undecided_dossiers_to_the_next_session(app, ready, login):
    s = session(ready)  # dated today
    suivante = session(ready, date_session=TODAY + dt.timedelta(days=30),
                       date_limite=TODAY + dt.timedelta(days=20))
    decide, reste = envoye(ready), envoye(ready, nom="Martin")
    certification.decider(decide, "certifiee", "", user(CP))
    db.session.commit()
    page = login(CP).get(f"/jury/session/{s.id}").get_data(as_text=True)
    assert "1 dossier est sans décision : il sera reporté à la prochaine session du jury." in page
    certification.cloturer_session(s, user(CP))
    db.session.refresh(reste)
    assert s.statut == "close"
    assert (reste.session_jury_id, reste.statut) == (suivante.id, "attente_certification")
    assert any("Sans décision à la session du" in (h.motif or "") for h in db.session.scalars(
        select(HistoriqueStatut).where(HistoriqueStatut.candidature_id == reste.id)))
    assert any(t.startswith("Dossier reporté à une autre session : MARTIN") for t in titres(OF))
    assert certification.nombre_affectes(s) == 0


# --- the séance and its pack -------------------------------------------------------------------

def test_the_seance_goes_from_one_dossier_to_the_next(app, ready, login):
    s = session(ready)
    c1, c2, c3 = (envoye(ready, nom) for nom in ("Durand", "Martin", "Petit"))
    assert {c.session_jury_id for c in (c1, c2, c3)} == {s.id}
    certification.decider(c2, "certifiee", "", user("jury_a"))
    etat = certification.seance(db.session.get(Candidature, c2.id))
    assert (etat.position, etat.total, etat.precedent, etat.suivant, etat.a_examiner,
            etat.restants) == (2, 3, c1.id, c3.id, c3.id, 2)
    etat = certification.seance(c3)
    assert (etat.position, etat.precedent, etat.suivant, etat.a_examiner) == (
        3, c2.id, None, c1.id)  # the next one to decide, from the start again
    page = _texte(login("jury_a").get(f"/jury/dossier/{c3.id}").data)
    assert "Dossier 3 sur 3 de la session du" in page
    assert "2 dossiers restent à décider" in page
    assert f'href="/jury/dossier/{c2.id}" rel="prev"' in page
    assert 'rel="next"' not in page
    assert f'href="/jury/dossier/{c1.id}"' in page and "Prochain dossier à décider" in page
    premier = _texte(login(CP).get(f"/jury/dossier/{c1.id}").data)
    assert "Dossier 1 sur 3" in premier and f'href="/jury/dossier/{c2.id}" rel="next"' in premier


def test_the_session_pack_has_every_dossier_of_the_session(app, ready, login):
    import io

    import pdfplumber

    from app.models.evaluation import Evaluation, ResultatEvaluation
    from app.models.referentiel import Referentiel, SousDomaine

    s = session(ready)
    dossiers = [envoye(ready, nom) for nom in ("Durand", "Martin")]
    noms = [c.candidat.nom_complet for c in dossiers]
    # the first dossier's préalable: 27 acquis, 1.2 non acquis with the evaluator's comment
    sous_domaines = db.session.scalars(select(SousDomaine).order_by(SousDomaine.code)).all()
    db.session.add(Evaluation(
        candidature_id=dossiers[0].id, referentiel_id=db.session.scalars(
            select(Referentiel.id)).first(), type="prealable", statut="finalisee",
        resultat="non_valide", evaluateur="Nadia Évaluatrice", date_evaluation=TODAY,
        resultats=[ResultatEvaluation(sous_domaine_id=sd.id, acquis=sd.code != "1.2",
                                      commentaire="Lecture hésitante des consignes."
                                      if sd.code == "1.2" else None)
                   for sd in sous_domaines]))
    db.session.commit()
    client = login("jury_a")
    fiche = _texte(client.get(f"/jury/dossier/{dossiers[0].id}").data)
    assert ("Commentaire de l'évaluateur : Lecture hésitante des consignes." in fiche)
    page = _texte(client.get(f"/jury/session/{s.id}").data)
    assert "Dossier de séance (PDF)" in page
    response = client.get(f"/jury/session/{s.id}/dossier-de-seance")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    with pdfplumber.open(io.BytesIO(response.data)) as pdf:
        pages = [" ".join((p.extract_text() or "").split()) for p in pdf.pages]
    assert len(pages) == 3  # the cover, then a page per candidate
    assert "Dossier de séance du jury du " + TODAY.strftime("%d/%m/%Y") in pages[0]
    assert "2 dossier(s) ; un dossier par page." in pages[0]
    for i, nom in enumerate(noms, 1):
        assert f"Dossier {i} sur 2 — {nom}" in pages[i]
        assert "Identité" in pages[i] and "Évaluations" in pages[i]
        assert "ETAB_A1" in pages[i]
    assert "non acquis : 1.2" in pages[1] and "1.2 : Lecture hésitante des consignes." in pages[1]
    assert "Aucune évaluation." in pages[2]
    # the OF does not read the sessions; another jury does not see this one
    assert login(OF).get(f"/jury/session/{s.id}/dossier-de-seance").status_code in (302, 403)
    autre = cpne_session()
    assert client.get(f"/jury/session/{autre.id}/dossier-de-seance").status_code == 404
