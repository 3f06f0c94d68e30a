"""Réseaux, organismes, établissements: validation and changes (guide §8, §10, §11)."""
from __future__ import annotations

import re
from typing import Any, Optional

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import exists, func, or_, select
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from app.extensions import db
from app.models import (REGIONS, Candidature, Etablissement, Habilitation, Organisme,
                        Rattachement, Reseau, Utilisateur)
from app.security import perimeter
from app.security import roles as R
from app.security.access import ensure_can, is_national
from app.security.matrix import CREATE, DELETE, UPDATE

from . import audit, perimetre
from .errors import ForbiddenError, RuleError

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTACT_FIELDS = ("contact_nom", "contact_email", "contact_telephone")
ADDRESS_FIELDS = ("adresse", "code_postal", "ville")
RESEAU_FIELDS = ("nom",) + CONTACT_FIELDS
ORGANISME_FIELDS = ("raison_sociale", "siren", "nda", "reseau_id") + ADDRESS_FIELDS + CONTACT_FIELDS
ETABLISSEMENT_FIELDS = ("nom", "siret", "region", "organisme_id") + ADDRESS_FIELDS + CONTACT_FIELDS


# --- field rules (also used as form validators) ----------------------------------------

def _digits(value: Optional[str]) -> str:
    return re.sub(r"[\s.\-]", "", value or "")


def normalize_siret(value: Optional[str]) -> str:
    digits = _digits(value)
    if not stdnum_siret.is_valid(digits):
        raise RuleError(
            _("SIRET invalide : 14 chiffres attendus, avec une clé de contrôle correcte."),
            field="siret",
        )
    return digits


def normalize_siren(value: Optional[str]) -> str:
    digits = _digits(value)
    if not stdnum_siren.is_valid(digits):
        raise RuleError(
            _("SIREN invalide : 9 chiffres attendus, avec une clé de contrôle correcte."),
            field="siren",
        )
    return digits


def normalize_nda(value: Optional[str]) -> Optional[str]:
    digits = _digits(value)
    if not digits:
        return None
    if not re.fullmatch(r"\d{11}", digits):
        raise RuleError(
            _("Numéro de déclaration d'activité (NDA) invalide : 11 chiffres attendus."),
            field="nda",
        )
    return digits


def check_email(value: Optional[str], field: str = "contact_email") -> Optional[str]:
    value = (value or "").strip()
    if not value:
        return None
    if not EMAIL_RE.match(value):
        raise RuleError(_("Adresse e-mail invalide : %(v)s", v=value), field=field)
    return value.lower()


def check_code_postal(value: Optional[str]) -> Optional[str]:
    value = (value or "").strip()
    if value and not re.fullmatch(r"\d{5}", value):
        raise RuleError(_("Code postal invalide : 5 chiffres attendus."), field="code_postal")
    return value or None


def _required(data: dict, field: str, label: str) -> str:
    value = (data.get(field) or "").strip() if isinstance(data.get(field), str) else data.get(field)
    if not value:
        raise RuleError(_("Le champ « %(champ)s » est obligatoire.", champ=label), field=field)
    return value


def _clean_common(data: dict) -> dict:
    clean = {}
    for key in ("adresse", "ville", "contact_nom", "contact_telephone"):
        if key in data:
            clean[key] = (data.get(key) or "").strip() or None
    if "contact_email" in data:
        clean["contact_email"] = check_email(data.get("contact_email"))
    if "code_postal" in data:
        clean["code_postal"] = check_code_postal(data.get("code_postal"))
    return clean


def _exists(model, column, value, exclude_id: Optional[int]) -> bool:
    query = select(model.id).where(column == value)
    if exclude_id:
        query = query.where(model.id != exclude_id)
    return db.session.execute(query).first() is not None


def _apply(item: Any, values: dict) -> None:
    for key, value in values.items():
        setattr(item, key, value)


# --- Réseau --------------------------------------------------------------------------

def validate_reseau(data: dict, current: Optional[Reseau] = None) -> dict:
    clean = _clean_common({k: v for k, v in data.items() if k in RESEAU_FIELDS})
    if "nom" in data or current is None:
        nom = _required(data, "nom", _("Nom du réseau"))
        if db.session.execute(
            select(Reseau.id).where(func.lower(Reseau.nom) == nom.lower(),
                                    Reseau.id != (current.id if current else 0))
        ).first():
            raise RuleError(_("Un réseau porte déjà ce nom."), field="nom")
        clean["nom"] = nom
    return clean


def create_reseau(data: dict, by: Any) -> Reseau:
    ensure_can(by, "Reseau", CREATE)
    reseau = Reseau(**validate_reseau(data))
    db.session.add(reseau)
    db.session.flush()
    audit.record(by, "creer", reseau)
    db.session.commit()
    return reseau


def update_reseau(reseau: Reseau, data: dict, by: Any) -> Reseau:
    ensure_can(by, "Reseau", UPDATE)
    perimeter.get_or_404(Reseau, reseau.id, by)
    if not is_national(by) and "nom" in data and data["nom"] != reseau.nom:
        raise ForbiddenError(_("Seul Certif Pro peut renommer un réseau."), field="nom")
    _apply(reseau, validate_reseau(data, reseau))
    audit.record(by, "modifier", reseau)
    db.session.commit()
    return reseau


def delete_reseau(reseau: Reseau, by: Any) -> None:
    _delete(reseau, "Reseau", reseau.nom, by)


# --- Organisme -----------------------------------------------------------------------

def validate_organisme(data: dict, by: Any, current: Optional[Organisme] = None) -> dict:
    data = {k: v for k, v in data.items() if k in ORGANISME_FIELDS}
    clean = _clean_common(data)
    if "raison_sociale" in data or current is None:
        clean["raison_sociale"] = _required(data, "raison_sociale", _("Raison sociale"))
    if "siren" in data or current is None:
        siren = normalize_siren(data.get("siren"))
        if _exists(Organisme, Organisme.siren, siren, current.id if current else None):
            raise RuleError(_("Un organisme avec ce SIREN existe déjà."), field="siren")
        if current is not None and siren != current.siren and current.etablissements:
            raise RuleError(
                _("Le SIREN ne peut plus changer : l'organisme a déjà des établissements."),
                field="siren",
            )
        clean["siren"] = siren
    if "nda" in data:
        clean["nda"] = normalize_nda(data.get("nda"))
    # The réseau: Certif Pro chooses; a réseau user's organisme belongs to their réseau.
    scope = perimeter.scope_of(by) if by is not None else perimeter.Scope(R.NATIONAL)
    if scope.kind == R.RESEAU:
        if current is None:
            clean["reseau_id"] = scope.id
        elif data.get("reseau_id") not in (None, "", current.reseau_id):
            raise ForbiddenError(_("Seul Certif Pro peut changer le réseau d'un organisme."),
                                 field="reseau_id")
    elif "reseau_id" in data:
        reseau_id = data.get("reseau_id") or None
        if reseau_id is not None and not perimeter.contains(by, Reseau, int(reseau_id)):
            raise RuleError(_("Réseau inconnu."), field="reseau_id")
        if current is not None and not is_national(by) and reseau_id != current.reseau_id:
            raise ForbiddenError(_("Seul Certif Pro peut changer le réseau d'un organisme."),
                                 field="reseau_id")
        clean["reseau_id"] = int(reseau_id) if reseau_id else None
    return clean


def create_organisme(data: dict, by: Any) -> Organisme:
    ensure_can(by, "Organisme", CREATE)
    values = validate_organisme(data, by)
    organisme = Organisme(**values, actif=_actif(data, by, True))
    db.session.add(organisme)
    db.session.flush()
    audit.record(by, "creer", organisme)
    db.session.commit()
    return organisme


def update_organisme(organisme: Organisme, data: dict, by: Any) -> Organisme:
    ensure_can(by, "Organisme", UPDATE)
    perimeter.get_or_404(Organisme, organisme.id, by)
    values = validate_organisme(data, by, organisme)
    if "actif" in data:
        values["actif"] = _actif(data, by, organisme.actif)
    ancien_reseau = organisme.reseau_id
    _apply(organisme, values)
    if organisme.reseau_id != ancien_reseau:  # its dossiers follow it to the other réseau
        db.session.flush()
        perimetre.pour_organisme(organisme.id)
    audit.record(by, "modifier", organisme)
    db.session.commit()
    return organisme


def _actif(data: dict, by: Any, current: bool) -> bool:
    """Only Certif Pro changes the "actif" flag (guide §8)."""
    if "actif" not in data or data["actif"] is None:
        return current
    wanted = bool(data["actif"])
    if wanted != current and not is_national(by):
        raise ForbiddenError(
            _("Seul Certif Pro peut modifier le statut Actif (OUI/NON). "
              "Demandez-le par e-mail au secrétariat de Certif Pro."),
            field="actif",
        )
    return wanted


def set_actif(item: Organisme | Etablissement, actif: bool, by: Any) -> None:
    resource = type(item).__name__
    ensure_can(by, resource, UPDATE)
    perimeter.get_or_404(type(item), item.id, by)
    item.actif = _actif({"actif": actif}, by, item.actif)
    audit.record(by, "activer" if actif else "desactiver", item)
    db.session.commit()


def delete_organisme(organisme: Organisme, by: Any) -> None:
    _delete(organisme, "Organisme", organisme.raison_sociale, by)


# --- Établissement ---------------------------------------------------------------------

def validate_etablissement(data: dict, by: Any, current: Optional[Etablissement] = None) -> dict:
    data = {k: v for k, v in data.items() if k in ETABLISSEMENT_FIELDS}
    clean = _clean_common(data)
    if "nom" in data or current is None:
        clean["nom"] = _required(data, "nom", _("Nom de l'établissement"))
    if "organisme_id" in data or current is None:
        organisme_id = data.get("organisme_id")
        if not organisme_id:
            raise RuleError(_("Choisissez l'organisme de l'établissement."), field="organisme_id")
        if not perimeter.contains(by, Organisme, int(organisme_id)):
            raise RuleError(_("Organisme inconnu ou hors de votre périmètre."),
                            field="organisme_id")
        if current is not None and int(organisme_id) != current.organisme_id:
            raise RuleError(_("Un établissement ne change pas d'organisme."), field="organisme_id")
        clean["organisme_id"] = int(organisme_id)
    organisme = db.session.get(Organisme, clean.get("organisme_id") or current.organisme_id)
    if "siret" in data or current is None:
        siret = normalize_siret(data.get("siret"))
        if _exists(Etablissement, Etablissement.siret, siret, current.id if current else None):
            raise RuleError(_("Un établissement avec ce SIRET existe déjà."), field="siret")
        if organisme is not None and not siret.startswith(organisme.siren):
            raise RuleError(
                _("Le SIRET doit commencer par le SIREN de l'organisme (%(siren)s).",
                  siren=organisme.siren),
                field="siret",
            )
        clean["siret"] = siret
    if "region" in data or current is None:
        region = data.get("region")
        if region not in REGIONS:
            raise RuleError(_("Choisissez la région de l'établissement."), field="region")
        clean["region"] = region
    return clean


def create_etablissement(data: dict, by: Any) -> Etablissement:
    ensure_can(by, "Etablissement", CREATE)
    values = validate_etablissement(data, by)
    etablissement = Etablissement(**values, actif=_actif(data, by, True))
    db.session.add(etablissement)
    db.session.flush()
    audit.record(by, "creer", etablissement)
    db.session.commit()
    return etablissement


def update_etablissement(etablissement: Etablissement, data: dict, by: Any) -> Etablissement:
    ensure_can(by, "Etablissement", UPDATE)
    perimeter.get_or_404(Etablissement, etablissement.id, by)
    values = validate_etablissement(data, by, etablissement)
    if "actif" in data:
        values["actif"] = _actif(data, by, etablissement.actif)
    ancien_organisme = etablissement.organisme_id
    _apply(etablissement, values)
    if etablissement.organisme_id != ancien_organisme:  # refused today; its dossiers follow
        db.session.flush()
        perimetre.pour_etablissements([etablissement.id])
    audit.record(by, "modifier", etablissement)
    db.session.commit()
    return etablissement


def delete_etablissement(etablissement: Etablissement, by: Any) -> None:
    _delete(etablissement, "Etablissement", etablissement.nom, by)


def can_operate(organisme: Organisme) -> Optional[str]:
    """Why an organisme cannot register or complete dossiers (None when it can)."""
    if not organisme.actif:
        return _("L'organisme est inactif : il ne peut plus enregistrer de candidatures "
                 "ni compléter de dossiers.")
    if not organisme.etablissements:
        return _("L'organisme n'a aucun établissement : créez-en au moins un pour "
                 "enregistrer des candidatures.")
    return None


# --- deletion: refused while anything depends on the structure --------------------------
# Nothing is ever deleted under the rows that point to a structure (the foreign keys are ON
# DELETE RESTRICT too). What points to each kind of structure, and what to do about it:
# (model, its columns pointing to the structure, sentence for `num` such rows).

def _inactif(by: Any) -> str:
    """The way out when a structure must stop serving: only Certif Pro sets it inactive."""
    if is_national(by):
        return _("Pour qu'il ne serve plus, rendez-le inactif (Actif : NON).")
    return _("Pour qu'il ne serve plus, demandez à Certif Pro de le rendre inactif.")


DEPENDANCES = {
    Reseau: (
        (Organisme, (Organisme.reseau_id,), lambda num: ngettext(
            "Ce réseau compte %(num)d organisme : rattachez-le à un autre réseau.",
            "Ce réseau compte %(num)d organismes : rattachez-les à un autre réseau.", num)),
        (Utilisateur, (Utilisateur.reseau_id,), lambda num: ngettext(
            "Ce réseau a %(num)d utilisateur : rattachez-le à un autre réseau.",
            "Ce réseau a %(num)d utilisateurs : rattachez-les à un autre réseau.", num)),
    ),
    Organisme: (
        (Etablissement, (Etablissement.organisme_id,), lambda num: ngettext(
            "Cet organisme a %(num)d établissement : supprimez-le d'abord.",
            "Cet organisme a %(num)d établissements : supprimez-les d'abord.", num)),
        (Utilisateur, (Utilisateur.organisme_id,), lambda num: ngettext(
            "Cet organisme a %(num)d utilisateur : rattachez-le à un autre organisme.",
            "Cet organisme a %(num)d utilisateurs : rattachez-les à un autre organisme.", num)),
    ),
    Etablissement: (
        (Candidature, (Candidature.etablissement_id,), lambda num: ngettext(
            "Cet établissement gère %(num)d dossier : rattachez-le à un autre établissement.",
            "Cet établissement gère %(num)d dossiers : rattachez-les à un autre établissement.",
            num)),
        (Utilisateur, (Utilisateur.etablissement_id,), lambda num: ngettext(
            "Cet établissement a %(num)d utilisateur : rattachez-le à un autre établissement.",
            "Cet établissement a %(num)d utilisateurs : rattachez-les à un autre établissement.",
            num)),
        (Habilitation, (Habilitation.etablissement_id,), lambda num: ngettext(
            "Cet établissement a %(num)d habilitation (demandes comprises), qui reste dans "
            "son historique.",
            "Cet établissement a %(num)d habilitations (demandes comprises), qui restent dans "
            "son historique.", num)),
        (Rattachement, (Rattachement.etablissement_origine_id,
                        Rattachement.etablissement_cible_id), lambda num: ngettext(
            "Cet établissement figure dans %(num)d demande de rattachement, qui reste dans "
            "l'historique du dossier.",
            "Cet établissement figure dans %(num)d demandes de rattachement, qui restent dans "
            "l'historique des dossiers.", num)),
    ),
}


def refus_suppression(item: Reseau | Organisme | Etablissement, by: Any) -> Optional[str]:
    """Why `item` cannot be deleted (each dependant and what to do), or None when it can.
    One statement, whatever the number of dependants."""
    dependances = DEPENDANCES[type(item)]
    counts = db.session.execute(select(*(
        select(func.count()).select_from(model).where(or_(*(c == item.id for c in columns)))
        .scalar_subquery() for model, columns, _sentence in dependances))).one()
    reasons = [sentence(num) for (_m, _c, sentence), num in zip(dependances, counts) if num]
    if not reasons:
        return None
    if not isinstance(item, Reseau):  # a réseau has no Actif flag
        reasons.append(_inactif(by))
    return " ".join(reasons)


def supprimables(model: type, ids: list[int]) -> set[int]:
    """The ids among `ids` that nothing depends on: the bins a list page may show (one
    statement for the whole page). Each dependency is asked whether it has one row for the
    id (EXISTS, the first index entry found answers), not for all of them: an établissement
    has hundreds of dossiers at national scale."""
    ids = [int(i) for i in ids]
    if not ids:
        return set()
    free = select(model.id).where(model.id.in_(ids), *(
        ~exists().where(column == model.id)
        for _model, columns, _sentence in DEPENDANCES[model] for column in columns))
    return set(db.session.scalars(free))


def _delete(item: Reseau | Organisme | Etablissement, resource: str, label: str,
            by: Any) -> None:
    ensure_can(by, resource, DELETE)
    perimeter.get_or_404(type(item), item.id, by)
    reason = refus_suppression(item, by)
    if reason:
        raise RuleError(reason)
    audit.record(by, "supprimer", item, label)
    db.session.delete(item)
    db.session.commit()
