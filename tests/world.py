"""A small world for tests: two réseaux, their organismes and établissements, and one
user per role in réseau A (plus a few in réseau B, the "other perimeter")."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.extensions import db
from app.models import Branche, Certificateur, Etablissement, Organisme, Reseau, Utilisateur
from app.security import roles as R
from app.services import accounts, structure
from app.services.demo import make_siren, make_siret

PASSWORD = "Secret-Clea-2026!"


siren = make_siren  # valid SIREN from an 8-digit seed
siret = make_siret  # valid SIRET from a SIREN and an établissement number


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)  # role code → username (réseau A)


USERS_A = {
    R.CERTIF_PRO: None,
    R.ADMIN_RESEAU: "reseau_a",
    R.SUPERVISEUR_RESEAU: "reseau_a",
    R.ADMIN_ORGANISME: "org_a1",
    R.UTILISATEUR_ORGANISME: "org_a1",
    R.ADMIN_ETABLISSEMENT: "etab_a1",
    R.UTILISATEUR_ETABLISSEMENT: "etab_a1",
    R.JURY: "tp_idf",
}
FIELD = {R.RESEAU: "reseau_id", R.ORGANISME: "organisme_id", R.ETABLISSEMENT: "etablissement_id",
         R.CERTIFICATEUR: "certificateur_id"}


def build_world() -> World:
    w = World()
    branche = Branche(code="PROPRETE", nom="Propreté")
    db.session.add(branche)
    db.session.flush()
    for nom, type_, region, branche_id in (("Certif Pro", "certif_pro", None, None),
                                           ("Transitions Pro Île-de-France", "transitions_pro",
                                            "IDF", None),
                                           ("CPNE Propreté", "cpne", None, branche.id)):
        cert = Certificateur(nom=nom, type=type_, region=region, branche_id=branche_id)
        db.session.add(cert)
        db.session.flush()
    w.ids["tp_idf"] = db.session.execute(
        select(Certificateur.id).where(Certificateur.region == "IDF")).scalar_one()
    db.session.commit()
    for key, nom in (("reseau_a", "Réseau A"), ("reseau_b", "Réseau B")):
        w.ids[key] = structure.create_reseau({"nom": nom}, by=None).id
    orgs = {"org_a1": ("reseau_a", 11111111), "org_a2": ("reseau_a", 22222222),
            "org_b1": ("reseau_b", 33333333)}
    for key, (reseau, seed) in orgs.items():
        org = structure.create_organisme({"raison_sociale": key.upper(), "siren": siren(seed),
                                          "reseau_id": w.ids[reseau]}, by=None)
        w.ids[key] = org.id
    etabs = {"etab_a1": ("org_a1", 11111111, 1, "IDF"), "etab_a1b": ("org_a1", 11111111, 2, "ARA"),
             "etab_a2": ("org_a2", 22222222, 1, "OCC"), "etab_b1": ("org_b1", 33333333, 1, "IDF")}
    for key, (org, seed, nic, region) in etabs.items():
        etab = structure.create_etablissement(
            {"nom": key.upper(), "siret": siret(siren(seed), nic), "region": region,
             "organisme_id": w.ids[org]}, by=None)
        w.ids[key] = etab.id
    for role, target in USERS_A.items():
        username = f"{role.code}_a"
        data = {"username": username, "first_name": "Test", "last_name": role.code,
                "email": f"{username}@test.fr", "role": role.code}
        if target:
            data[FIELD[role.scope]] = w.ids[target]
        user = accounts.create_user(data, by=None, password=PASSWORD)
        w.ids[username] = user.id
        w.usernames[role.code] = username
    for username, role, target in (("admin_reseau_b", R.ADMIN_RESEAU, "reseau_b"),
                                   ("admin_organisme_b", R.ADMIN_ORGANISME, "org_b1"),
                                   ("utilisateur_etablissement_b", R.UTILISATEUR_ETABLISSEMENT,
                                    "etab_b1")):
        user = accounts.create_user({"username": username, "first_name": "Autre",
                                     "last_name": role.code, "email": f"{username}@test.fr",
                                     "role": role.code, FIELD[role.scope]: w.ids[target]},
                                    by=None, password=PASSWORD)
        w.ids[username] = user.id
    return w


def user(username: str) -> Utilisateur:
    return db.session.execute(
        select(Utilisateur).where(Utilisateur.username == username)).scalar_one()


def etablissement(w: World, key: str) -> Etablissement:
    return db.session.get(Etablissement, w.ids[key])


def organisme(w: World, key: str) -> Organisme:
    return db.session.get(Organisme, w.ids[key])


def reseau(w: World, key: str) -> Reseau:
    return db.session.get(Reseau, w.ids[key])
