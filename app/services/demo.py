"""Demo data (`flask clea demo`): one réseau, 3 organismes, 6 établissements in 3 regions,
the certificateurs, and one user per role. Idempotent."""
from __future__ import annotations

from sqlalchemy import select
from stdnum import luhn

from app.extensions import db
from app.models import (REGIONS, Branche, Certificateur, Etablissement, Organisme, Reseau,
                        Utilisateur)
from app.security import roles as R

from . import accounts

# The published password of the demo accounts (`flask clea demo`, README), never a real one.
DEMO_PASSWORD = "CleaDemo2026!"  # nosec B105


def make_siren(seed: int) -> str:
    base = f"{seed:08d}"
    return base + luhn.calc_check_digit(base)


def make_siret(siren: str, nic: int) -> str:
    base = siren + f"{nic:04d}"
    return base + luhn.calc_check_digit(base)


ORGANISMES = [
    ("FORMAPLUS", 81234567, [("FORMAPLUS Paris", "IDF", "Paris", "75011"),
                             ("FORMAPLUS Créteil", "IDF", "Créteil", "94000")]),
    ("LA BOETIE", 82345678, [("LA BOETIE Lyon", "ARA", "Lyon", "69003"),
                             ("LA BOETIE Grenoble", "ARA", "Grenoble", "38000")]),
    ("SAVOIRS DU SUD", 83456789, [("SAVOIRS DU SUD Toulouse", "OCC", "Toulouse", "31000"),
                                  ("SAVOIRS DU SUD Montpellier", "OCC", "Montpellier", "34000")]),
]

DEMO_USERS = [
    # (role, username, first name, last name, perimeter)
    (R.CERTIF_PRO, "certifpro", "Claire", "Martin", None),
    (R.ADMIN_RESEAU, "admin.reseau", "Rachid", "Benali", "reseau"),
    (R.SUPERVISEUR_RESEAU, "superviseur.reseau", "Sophie", "Lefèvre", "reseau"),
    (R.ADMIN_ORGANISME, "admin.organisme", "Olivier", "Dubois", "organisme"),
    (R.UTILISATEUR_ORGANISME, "utilisateur.organisme", "Ursula", "Moreau", "organisme"),
    (R.ADMIN_ETABLISSEMENT, "admin.etablissement", "Élodie", "Garnier", "etablissement"),
    (R.UTILISATEUR_ETABLISSEMENT, "utilisateur.etablissement", "Ulysse", "Fournier",
     "etablissement"),
    (R.JURY, "jury", "Jacques", "Roux", "certificateur"),
]


def _get_or_create(model, defaults=None, **keys):
    item = db.session.execute(select(model).filter_by(**keys)).scalar_one_or_none()
    if item is None:
        item = model(**keys, **(defaults or {}))
        db.session.add(item)
        db.session.flush()
    return item


def load_demo() -> list[tuple[str, str, str]]:
    """Create the demo data; returns the logins as (role, username, password)."""
    branche = _get_or_create(Branche, code="PROPRETE",
                             defaults={"nom": "Propreté et services associés"})
    _get_or_create(Certificateur, nom="Certif Pro", defaults={"type": "certif_pro"})
    for code, name in REGIONS.items():
        _get_or_create(Certificateur, nom=f"Transitions Pro {name}",
                       defaults={"type": "transitions_pro", "region": code})
    cpne = _get_or_create(Certificateur, nom="CPNE Propreté",
                          defaults={"type": "cpne", "branche_id": branche.id})
    reseau = _get_or_create(Reseau, nom="Réseau Avenir Formation", defaults={
        "contact_nom": "Rachid Benali", "contact_email": "tete.reseau@avenir-formation.fr",
        "contact_telephone": "01 23 45 67 89"})
    first_org = first_etab = None
    for raison, seed, etabs in ORGANISMES:
        siren = make_siren(seed)
        org = _get_or_create(Organisme, siren=siren, defaults={
            "raison_sociale": raison, "reseau_id": reseau.id, "actif": True,
            "nda": f"11{seed:09d}"[:11], "ville": etabs[0][2], "code_postal": etabs[0][3],
            "adresse": "1 rue de la Formation", "contact_nom": "Direction",
            "contact_email": f"contact@{raison.lower().replace(' ', '-')}.fr"})
        first_org = first_org or org
        for nic, (nom, region, ville, cp) in enumerate(etabs, start=1):
            etab = _get_or_create(Etablissement, siret=make_siret(siren, nic * 10), defaults={
                "organisme_id": org.id, "nom": nom, "region": region, "ville": ville,
                "code_postal": cp, "adresse": f"{nic} avenue des Compétences", "actif": True})
            first_etab = first_etab or etab
    jury_cert = db.session.execute(
        select(Certificateur).where(Certificateur.region == "IDF")).scalar_one()
    db.session.commit()
    targets = {"reseau": {"reseau_id": reseau.id}, "organisme": {"organisme_id": first_org.id},
               "etablissement": {"etablissement_id": first_etab.id},
               "certificateur": {"certificateur_id": jury_cert.id}, None: {}}
    _demo_habilitations()
    _demo_sessions(cpne)
    _demo_dossiers()
    logins = []
    for role, username, first, last, target in DEMO_USERS:
        exists = db.session.execute(
            select(Utilisateur).where(Utilisateur.username == username)).scalar_one_or_none()
        if exists is None:
            accounts.create_user({"username": username, "first_name": first, "last_name": last,
                                  "email": f"{username}@demo.certificat-clea.fr",
                                  "role": role.code, **targets[target]},
                                 by=None, password=DEMO_PASSWORD)
        logins.append((role.name, username, DEMO_PASSWORD))
    _ = cpne
    return logins


def _demo_sessions(cpne: Certificateur) -> None:
    """The calendar shows something: a past, closed session of Transitions Pro Occitanie and
    an open session of the CPNE. Île-de-France has none, so a dossier sent from Paris waits
    « en attente d'affectation à un jury » until Certif Pro programmes one."""
    import datetime as dt

    from app.models.jury import SessionJury

    from . import certification

    if db.session.execute(select(SessionJury.id).limit(1)).first() is not None:
        return
    today = dt.date.today()
    occitanie = db.session.execute(
        select(Certificateur).where(Certificateur.region == "OCC")).scalar_one()
    membres = [{"nom": "Marc Lemoine", "college": "employeurs"},
               {"nom": "Nadia Cherif", "college": "salaries"}]
    # history: programmed two months ago (a session is never programmed in the past)
    passee = certification.creer_session({
        "certificateur_id": occitanie.id, "date_session": today - dt.timedelta(days=30),
        "date_limite": today - dt.timedelta(days=40), "mode": "presentiel",
        "lieu": "Toulouse, 5 allée Jean Jaurès", "membres": membres}, by=None,
        today=today - dt.timedelta(days=60))
    certification.ouvrir_session(passee, by=None)
    certification.cloturer_session(passee, by=None)
    prochaine = certification.creer_session({
        "certificateur_id": cpne.id, "date_session": today + dt.timedelta(days=45),
        "date_limite": today + dt.timedelta(days=30), "mode": "distanciel",
        "membres": membres}, by=None)
    certification.ouvrir_session(prochaine, by=None)


def _demo_dossiers() -> None:
    """A few dossiers of LA BOETIE Lyon in every step, so the dashboards, the Stats tab and
    the shipments screen show something: two waiting for their préalable, one after a
    « Non validé » préalable, one « À envoyer », one certified (Transitions Pro
    Auvergne-Rhône-Alpes, paper certificate to post), one abandoned."""
    import datetime as dt

    from app.models.candidature import Candidature

    from . import candidatures, certification, documents, evaluations, matrice

    if db.session.execute(select(Candidature.id).limit(1)).first() is not None:
        return
    lyon = db.session.execute(
        select(Etablissement).where(Etablissement.nom == "LA BOETIE Lyon")).scalar_one()

    def dossier(civilite, nom, prenom, naissance, **extra):
        return candidatures.creer({
            "etablissement_id": lyon.id, "civilite": civilite,
            "nom_naissance": nom, "prenoms": prenom, "date_naissance": naissance,
            "commune_naissance": "Lyon", "departement_naissance": "69",
            "statut_inscription": "demandeur_emploi", "type_public": "demandeur_emploi",
            "niveau_formation": "3", "email": f"{prenom.lower()}.{nom.lower()}@exemple.fr",
            "adresse": "8 rue de la République", "code_postal": "69002", "ville": "Lyon",
            "objectif_pro": "Consolider ses bases pour accéder à un emploi de vendeur conseil.",
            "objectif_extra_pro": "Gagner en aisance dans les démarches numériques.", **extra},
            by=None, confirmer_homonymes=True)

    def prealable(candidature, non_acquis=0):
        ev = evaluations.creer(candidature, None)
        codes = sorted(ev.resultats, key=lambda r: r.sous_domaine.code)
        evaluations.enregistrer(ev, {
            "version": ev.version, "evaluateur": "Karine Évaluatrice",
            "date_evaluation": dt.date.today().isoformat(),
            "resultats": {r.sous_domaine_id: {"acquis": i >= non_acquis}
                          for i, r in enumerate(codes)}}, None)
        documents.enregistrer(candidature, "matrice.xlsx", matrice.generer(ev), None,
                              nature="matrice", evaluation_id=ev.id)
        evaluations.finaliser(ev, None)

    dossier("Mme", "Mercier", "Lucie", "1992-03-14")
    dossier("M.", "Faure", "Hugo", "1987-10-02", type_public="salarie", statut_inscription="salarie")
    prealable(dossier("Mme", "Blanc", "Sarah", "1979-06-21"), non_acquis=6)
    prealable(dossier("M.", "Chevalier", "Tom", "1995-01-30"))
    certifiee = dossier("Mme", "Lambert", "Nora", "1983-12-05", certificat_papier=True)
    prealable(certifiee)
    abandon = dossier("M.", "Girard", "Paul", "1990-08-17")
    candidatures.abandonner(abandon, "emploi", "CDI signé avant l'évaluation.", None)
    ara = db.session.execute(
        select(Certificateur).where(Certificateur.region == "ARA")).scalar_one()
    today = dt.date.today()
    # the jury sits today: it decides (and may close) only from the session's date on
    session = certification.creer_session({
        "certificateur_id": ara.id, "date_session": today,
        "date_limite": today, "mode": "presentiel",
        "lieu": "Lyon, 10 quai Perrache",
        "membres": [{"nom": "Hélène Vidal", "college": "employeurs"},
                    {"nom": "Karim Haddad", "college": "salaries"}]}, by=None)
    certification.ouvrir_session(session, by=None)
    certification.envoyer_en_certification(certifiee, None)
    certification.decider(certifiee, "certifiee", "", None)


def _demo_habilitations() -> None:
    """A few habilitations in every state, so the screens show something real."""
    import datetime as dt

    from app.models import Habilitation

    from . import habilitations

    if db.session.execute(select(Habilitation.id)).first():
        return
    today = dt.date.today()
    by_name = {e.nom: e for e in db.session.scalars(select(Etablissement))}

    def request(nom, portee="national"):
        return habilitations.demander({"etablissement_id": by_name[nom].id, "portee": portee},
                                      by=None)

    paris = request("FORMAPLUS Paris")
    habilitations.decider(paris, {"decision": "validee",
                                  "date_debut": today - dt.timedelta(days=300),
                                  "date_fin": today + dt.timedelta(days=430)}, by=None)
    lyon = request("LA BOETIE Lyon")
    habilitations.decider(lyon, {"decision": "validee",
                                 "date_debut": today - dt.timedelta(days=670),
                                 "date_fin": today + dt.timedelta(days=60)}, by=None)
    toulouse = request("SAVOIRS DU SUD Toulouse")
    habilitations.decider(toulouse, {"decision": "rejetee",
                                     "motif": "Dossier incomplet : attestation de l'évaluateur "
                                              "manquante."}, by=None)
    request("FORMAPLUS Créteil")
