"""Candidatures (guide §6, §7, §14–§16): creation after the national search and the duplicate
checks, the status machine with its history, abandonment and réintégration, deletion.

Every status change goes through `transition()`: it checks the move is allowed, writes the
history row (who, when, from, to, motive) and is the only place that sets `statut`."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, NamedTuple, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from rapidfuzz import fuzz
from sqlalchemy import delete, exists, func, literal_column, or_, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from app.extensions import db
from app.models import Branche, Etablissement
from app.models import candidature as C
from app.models.candidature import Candidat, Candidature, HistoriqueStatut
from app.models.evaluation import Evaluation, Formation
from app.models.rattachement import EN_ATTENTE as RATTACHEMENT_EN_ATTENTE
from app.models.rattachement import Rattachement
from app.security import perimeter
from app.security import roles as R
from app.security.access import can, ensure_can
from app.security.matrix import CREATE, DELETE, UPDATE

from . import audit, documents, notifications, perimetre
from .dates import parse_date
from .errors import ConflictError, ForbiddenError, RuleError, ServiceError
from .habilitations import est_habilite, refus_socle
from . import pages
from .pages import Page
from .structure import check_email
from .texte import normalize

STATUTS = {
    C.ATTENTE_EVAL_PREALABLE: _l("En attente d'évaluation préalable"),
    C.ATTENTE_EVAL_FINALE: _l("En attente d'évaluation finale"),
    C.A_ENVOYER: _l("À envoyer en certification"),
    C.ATTENTE_JURY: _l("En attente de jury"),
    C.ATTENTE_CERTIFICATION: _l("En attente de certification"),
    C.ATTENTE_COMPLEMENT: _l("En attente de complément"),
    C.COMPLETEE: _l("Candidature complétée"),
    C.CERTIFIEE: _l("Certifiée"),
    C.NON_CERTIFIEE: _l("Non certifiée"),
    C.ABANDONNEE: _l("Candidature abandonnée"),
}
# The moves of the status machine (DESIGN §5). Abandonment and réintégration are handled
# below (réintégrer returns to the status before the abandonment).
TRANSITIONS = {
    C.ATTENTE_EVAL_PREALABLE: {C.ATTENTE_EVAL_FINALE, C.A_ENVOYER, C.ABANDONNEE},
    C.ATTENTE_EVAL_FINALE: {C.ATTENTE_EVAL_FINALE, C.A_ENVOYER, C.ATTENTE_EVAL_PREALABLE,
                            C.ABANDONNEE},
    C.A_ENVOYER: {C.ATTENTE_JURY, C.ATTENTE_EVAL_PREALABLE, C.ATTENTE_EVAL_FINALE,
                  C.ABANDONNEE},
    C.ATTENTE_JURY: {C.ATTENTE_CERTIFICATION, C.A_ENVOYER},
    C.ATTENTE_CERTIFICATION: {C.CERTIFIEE, C.NON_CERTIFIEE, C.ATTENTE_COMPLEMENT, C.A_ENVOYER,
                              C.ATTENTE_JURY},  # its session cancelled
    C.ATTENTE_COMPLEMENT: {C.COMPLETEE},
    C.COMPLETEE: {C.CERTIFIEE, C.NON_CERTIFIEE, C.ATTENTE_COMPLEMENT},
    C.CERTIFIEE: set(),
    C.NON_CERTIFIEE: {C.ATTENTE_EVAL_FINALE},
    C.ABANDONNEE: set(),
}
ABANDONABLE = {C.ATTENTE_EVAL_PREALABLE, C.ATTENTE_EVAL_FINALE, C.A_ENVOYER}
NON_TRANSFERABLE = {C.ATTENTE_JURY, C.ATTENTE_CERTIFICATION, C.ATTENTE_COMPLEMENT, C.COMPLETEE,
                    C.CERTIFIEE}
AUTO_ABANDON_AFTER = dt.timedelta(days=5 * 365 + 1)  # 5 years after the préalable

CIVILITES = {"M.": _l("Monsieur"), "Mme": _l("Madame")}
TYPES_PUBLIC = {
    "demandeur_emploi": _l("Demandeur d'emploi"),
    "salarie": _l("Salarié"),
    "jeune_16_25": _l("Jeune de 16 à 25 ans"),
    "travailleur_handicape": _l("Travailleur handicapé"),
    "detenu": _l("Personne placée sous main de justice"),
    "autre": _l("Autre"),
}
STATUTS_INSCRIPTION = {
    "salarie": _l("Salarié"),
    "demandeur_emploi": _l("Demandeur d'emploi"),
    "independant": _l("Travailleur indépendant"),
    "autre": _l("Autre"),
}
NIVEAUX = {n: _l("Niveau %(n)d (EQF)", n=n) for n in range(1, 9)}
ORIGINES = {
    "france_travail": _l("France Travail"),
    "mission_locale": _l("Mission locale"),
    "cap_emploi": _l("Cap emploi"),
    "employeur": _l("Employeur"),
    "opco": _l("OPCO"),
    "transitions_pro": _l("Transitions Pro"),
    "initiative_personnelle": _l("Initiative personnelle"),
    "autre": _l("Autre prescripteur"),
}
MOTIFS_ABANDON = {
    "emploi": _l("Reprise d'emploi"),
    "sante": _l("Raisons de santé"),
    "demenagement": _l("Déménagement"),
    "desinteret": _l("Perte de motivation"),
    "injoignable": _l("Candidat injoignable"),
    "autre": _l("Autre motif"),
    "automatique": _l("Abandon automatique : plus de 5 ans après l'évaluation préalable"),
}
OBJECTIF_MIN = 30  # characters: the guide warns the jury may refuse a thin dossier


def statut_label(code: Optional[str]) -> str:
    return str(STATUTS.get(code or "", code or ""))


# --- normalisation and search -------------------------------------------------------------------

def _premier_prenom(prenoms: str) -> str:
    return normalize(prenoms).split(" ")[0]


def cle_identite(nom_naissance: str, prenoms: str, date_naissance: dt.date) -> str:
    return f"{normalize(nom_naissance)}|{_premier_prenom(prenoms)}|{date_naissance.isoformat()}"


def _cles_recherche(candidat: Candidat) -> None:
    nom, prenoms = normalize(candidat.nom_naissance), normalize(candidat.prenoms)
    candidat.recherche = f"{nom} {prenoms}"
    candidat.recherche_usage = (f"{normalize(candidat.nom_usage)} {prenoms}"
                                if candidat.nom_usage else None)
    candidat.recherche_prenom = f"{prenoms} {nom}"


SEARCH_LIMIT = 50


@dataclass
class Resultat:
    candidat: Candidat
    candidature: Optional[Candidature]
    dans_perimetre: bool


def rechercher(terme: str, user: Any) -> list[Resultat]:
    """National search by name (the magnifier): accent- and case-insensitive prefix on
    "nom prénom" (birth or usage name). More than 50 hits → RuleError "trop large".
    Two statements: how many people match, counted up to the limit (_trop_large), then each
    hit with its last candidature, that candidature's établissement and whether it lies
    inside the user's perimeter."""
    key = normalize(terme)
    if len(key) < 2:
        raise RuleError(_("Saisissez au moins 2 lettres du nom."), field="q")
    pattern = key.replace("%", "").replace("_", " ") + "%"
    derniere = (select(Candidature.id).where(Candidature.candidat_id == Candidat.id)
                .order_by(Candidature.id.desc()).limit(1).correlate(Candidat).scalar_subquery())
    inside = perimeter.clause(Candidature, user)
    matches = (Candidat.recherche.like(pattern), Candidat.recherche_usage.like(pattern),
               Candidat.recherche_prenom.like(pattern))
    if _trop_large(matches):
        raise RuleError(_("Recherche trop large, précisez."), field="q")
    rows = db.session.execute(
        select(Candidat, Candidature, Candidature.id.is_not(None) & inside)
        .outerjoin(Candidature, Candidature.id == derniere)
        .outerjoin(Etablissement, Etablissement.id == Candidature.etablissement_id)
        .options(contains_eager(Candidature.etablissement))
        .where(or_(*matches))
        .order_by(Candidat.recherche, Candidat.id).limit(SEARCH_LIMIT + 1)).all()
    if len(rows) > SEARCH_LIMIT:  # people added between the two statements
        raise RuleError(_("Recherche trop large, précisez."), field="q")
    return [Resultat(candidat, candidature, bool(dedans))
            for candidat, candidature, dedans in rows]


def _trop_large(matches) -> bool:
    """More than SEARCH_LIMIT people match? Each way of matching (birth name, usage name,
    first name) read in its index's order and stopped past the limit, their union counted:
    a common name (« martin »: 31 000 people at 1 000 000 dossiers) is refused after a few
    hundred index entries, where sorting every match to show none of them took 100 ms."""
    capped = [select(Candidat.id).where(match).order_by(_ordre_de_l_index(match.left))
              .limit(SEARCH_LIMIT + 1).subquery() for match in matches]
    people = union(*(select(sub.c.id) for sub in capped)).subquery()
    return db.session.scalar(select(func.count()).select_from(people)) > SEARCH_LIMIT


def _ordre_de_l_index(column):
    """The order of the name's index, so that a LIMIT reads it and stops: on PostgreSQL a
    text_pattern_ops index (what serves LIKE 'prefix%') is ordered by its own operator,
    which ORDER BY must name (USING ~<~); the plain order would sort every match."""
    if db.session.get_bind().dialect.name == "postgresql":
        return literal_column(f"{column.table.name}.{column.name} USING ~<~")
    return column


# --- the lists (Évaluations, Candidatures abandonnées, Formations) ------------------------------

PAGE_SIZE = 25


def _jour(value: Any) -> Optional[dt.date]:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or ""))
    except ValueError:
        return None  # a malformed date filters nothing, as an empty one


def filtrer(user: Any, filtres: dict, abandonnees: bool = False):
    """The dossiers of the user's perimeter matching the filters of the lists: établissement,
    jury, statut (abandoned dossiers only when asked for), « Créé du … au … », name prefix (birth
    name, usage name or first name, accents and case ignored). Unknown values filter nothing.
    The person is joined only for the name filter (the rows load it by their eager load)."""
    query = select(Candidature).where(perimeter.clause(Candidature, user))
    etab = perimeter.bounded_id(filtres.get("etablissement"))
    if etab:
        query = query.where(Candidature.etablissement_id == etab)
    jury = perimeter.bounded_id(filtres.get("jury"))
    if jury:  # the jury the dossiers were sent to (Certif Pro's desk opens its queue here)
        query = query.where(Candidature.certificateur_id == jury)
    statut = filtres.get("statut")
    if abandonnees:
        query = query.where(Candidature.statut == C.ABANDONNEE)
    elif statut in STATUTS:
        query = query.where(Candidature.statut == statut)
    else:
        query = query.where(Candidature.statut != C.ABANDONNEE)
    du, au = _jour(filtres.get("du")), _jour(filtres.get("au"))
    if du:
        query = query.where(Candidature.created_on >= dt.datetime.combine(du, dt.time.min))
    if au:
        query = query.where(Candidature.created_on <= dt.datetime.combine(au, dt.time.max))
    nom = normalize(filtres.get("nom"))
    if nom:
        pattern = nom.replace("%", "").replace("_", " ") + "%"
        query = query.join(Candidat, Candidat.id == Candidature.candidat_id).where(
            or_(Candidat.recherche.like(pattern), Candidat.recherche_usage.like(pattern),
                Candidat.recherche_prenom.like(pattern)))
    return query


# The lists' order: most recently changed first (indexes ix_candidature_*liste).
ORDRE = (Candidature.updated_on, Candidature.id)


def lister(user: Any, filtres: Any, page: Any = None, abandonnees: bool = False,
           size: int = PAGE_SIZE) -> Page:
    """One page of the Évaluations list (or of « Candidatures abandonnées »), most recently
    changed first, with the candidat and the établissement each row shows. Keyset pages:
    `filtres` also holds the pager's arguments (apres / avant / fin, or the old page=N);
    `page` stands for `page=N` when given apart."""
    args = dict(filtres.items()) if hasattr(filtres, "items") else {}
    if page is not None:
        args["page"] = page
    return pages.keyset(filtrer(user, filtres, abandonnees), ORDRE, args, size,
                        options=(joinedload(Candidature.candidat),
                                 joinedload(Candidature.etablissement)))


class FiltreEtablissements(NamedTuple):
    """The lists' « Établissement » filter: every établissement of the perimeter when it holds
    few of them (`complet`), else only the chosen one — the filter then searches as you type
    (/lookup, the same perimeter), as the Stats page's does."""
    options: list
    complet: bool


FILTRE_OPTIONS_MAX = 50  # a réseau's or Certif Pro's thousands of names are searched, not drawn


def etablissements_du_filtre(user: Any, choisi: Any = None) -> FiltreEtablissements:
    """(id, nom) of the établissements the lists' « Établissement » filter offers, in one
    statement: the chosen one (if inside the perimeter) first, then the others by name. A
    complete list is shown by name, accents and case ignored."""
    chosen = perimeter.bounded_id(choisi) or 0
    rows = db.session.execute(
        select(Etablissement.id, Etablissement.nom).where(perimeter.clause(Etablissement, user))
        .order_by((Etablissement.id == chosen).desc(), Etablissement.nom)
        .limit(FILTRE_OPTIONS_MAX + 1)).all()
    if len(rows) <= FILTRE_OPTIONS_MAX:
        return FiltreEtablissements(sorted(rows, key=lambda row: (normalize(row.nom), row.id)), True)
    return FiltreEtablissements([row for row in rows[:1] if row.id == chosen], False)


def jurys_du_filtre(user: Any) -> list:
    """(id, nom) of the juries the lists' « Jury » filter offers: Certif Pro's (its desk
    opens the dossiers waiting for each jury's session); nobody else has several."""
    from app.security.access import is_national

    from .certification import noms_des_jurys

    if user is None or not is_national(user):
        return []
    return noms_des_jurys()


# --- creation ---------------------------------------------------------------------------------------

IDENTITY_FIELDS = ("civilite", "nom_naissance", "nom_usage", "prenoms", "date_naissance",
                   "commune_naissance", "departement_naissance", "pays_naissance", "email",
                   "telephone", "adresse", "code_postal", "ville")
DOSSIER_FIELDS = ("type_public", "statut_inscription", "branche_id", "socle_contextualise",
                  "niveau_formation", "origine_demarche", "objectif_pro", "objectif_extra_pro",
                  "certificat_papier")
# The fields creer / valider_identite / valider_dossier refuse empty, each with the field that
# may stand in for it (born abroad: the country instead of the commune). The form marks them
# with an asterisk and checks them first from this table (tests/integration/test_forms.py
# proves the service refuses each one).
OBLIGATOIRES = {"etablissement_id": None, "civilite": None, "nom_naissance": None,
                "prenoms": None, "date_naissance": None, "commune_naissance": "pays_naissance",
                "statut_inscription": None, "objectif_pro": None, "objectif_extra_pro": None}


class HomonymeError(ConflictError):
    """A near-duplicate exists: the user must confirm it is another person."""

    def __init__(self, message: str, homonymes: list[Candidat]):
        super().__init__(message)
        self.homonymes = homonymes


def _required(data: dict, field: str, label: str) -> str:
    value = data.get(field)
    value = value.strip() if isinstance(value, str) else value
    if value in (None, ""):
        raise RuleError(_("Le champ « %(champ)s » est obligatoire.", champ=label), field=field)
    return value


def _as_date(value: Any, field: str) -> dt.date:
    return parse_date(value, field)


def valider_identite(data: dict) -> dict:
    clean = {"civilite": _required(data, "civilite", _("Civilité"))}
    if clean["civilite"] not in CIVILITES:
        raise RuleError(_("Civilité inconnue."), field="civilite")
    clean["nom_naissance"] = _required(data, "nom_naissance", _("Nom de naissance"))[:100]
    clean["prenoms"] = _required(data, "prenoms", _("Prénom(s)"))[:150]
    naissance = _as_date(_required(data, "date_naissance", _("Date de naissance")),
                         "date_naissance")
    today = dt.date.today()
    if naissance > today - dt.timedelta(days=16 * 365) or naissance.year < 1900:
        raise RuleError(_("Date de naissance invalide : le candidat doit avoir au moins 16 "
                          "ans."), field="date_naissance")
    clean["date_naissance"] = naissance
    if not (data.get("commune_naissance") or data.get("pays_naissance")):
        raise RuleError(_("Indiquez la commune (et le département) de naissance, ou le pays "
                          "de naissance."), field="commune_naissance")
    dep = (data.get("departement_naissance") or "").strip().upper()
    if dep and not re.fullmatch(r"(0[1-9]|[1-8]\d|9[0-5]|2A|2B|97[1-6])", dep):
        raise RuleError(_("Département de naissance invalide (ex. 75, 2A, 971)."),
                        field="departement_naissance")
    for key in ("nom_usage", "commune_naissance", "pays_naissance", "telephone", "adresse",
                "ville"):
        clean[key] = (data.get(key) or "").strip() or None
    clean["departement_naissance"] = dep or None
    clean["email"] = check_email(data.get("email"), field="email")
    cp = (data.get("code_postal") or "").strip()
    if cp and not re.fullmatch(r"\d{5}", cp):
        raise RuleError(_("Code postal invalide : 5 chiffres attendus."), field="code_postal")
    clean["code_postal"] = cp or None
    return clean


def valider_dossier(data: dict, etablissement: Optional[Etablissement] = None) -> dict:
    """The dossier's fields; with `etablissement`, a socle contextualisé is checked against
    its branche habilitations (the dossier would go to that branche's CPNE jury)."""
    clean: dict[str, Any] = {}
    type_public = data.get("type_public") or None
    if type_public and type_public not in TYPES_PUBLIC:
        raise RuleError(_("Type de public inconnu."), field="type_public")
    clean["type_public"] = type_public
    statut = _required(data, "statut_inscription", _("Statut à l'inscription"))
    if statut not in STATUTS_INSCRIPTION:
        raise RuleError(_("Statut à l'inscription inconnu."), field="statut_inscription")
    clean["statut_inscription"] = statut
    branche_id = int(data.get("branche_id") or 0) or None
    socle = bool(data.get("socle_contextualise"))
    if statut != "salarie" and (branche_id or socle):
        raise RuleError(_("La branche délégataire et le socle contextualisé ne concernent que "
                          "les salariés."), field="branche_id")
    if socle and not branche_id:
        raise RuleError(_("Choisissez la branche délégataire du socle contextualisé."),
                        field="branche_id")
    if branche_id and db.session.get(Branche, branche_id) is None:
        raise RuleError(_("Branche inconnue."), field="branche_id")
    if socle and etablissement is not None:
        refus = refus_socle(etablissement, branche_id)
        if refus:
            raise RuleError(refus, field="socle_contextualise")
    clean.update(branche_id=branche_id, socle_contextualise=socle)
    niveau = data.get("niveau_formation")
    if niveau not in (None, ""):
        try:
            niveau = int(niveau)
        except (TypeError, ValueError):
            niveau = 0
        if niveau not in NIVEAUX:
            raise RuleError(_("Niveau de formation : choisissez un niveau de 1 à 8."),
                            field="niveau_formation")
        clean["niveau_formation"] = niveau
    else:
        clean["niveau_formation"] = None
    origine = data.get("origine_demarche") or None
    if origine and origine not in ORIGINES:
        raise RuleError(_("Origine de la démarche inconnue."), field="origine_demarche")
    clean["origine_demarche"] = origine
    for field, label in (("objectif_pro", _("Objectifs de projet professionnel")),
                         ("objectif_extra_pro", _("Objectifs de projet extra-professionnel"))):
        value = _required(data, field, label)
        if len(value) < OBJECTIF_MIN:
            raise RuleError(objectif_trop_court(label), field=field)
        clean[field] = value
    clean["certificat_papier"] = bool(data.get("certificat_papier"))
    return clean


def objectif_trop_court(label: str) -> str:
    """The refusal of an objective shorter than OBJECTIF_MIN (the form checks it first)."""
    return _("« %(champ)s » : décrivez les motivations du candidat, les éléments déclencheurs "
             "et les perspectives (au moins %(n)d caractères). Un dossier insuffisamment "
             "renseigné peut être refusé par le jury.", champ=label, n=OBJECTIF_MIN)


def peut_creer(etablissement: Etablissement) -> Optional[str]:
    """Why this établissement cannot register a candidature (None when it can)."""
    if not etablissement.organisme.actif:
        return _("L'organisme est inactif : il ne peut plus enregistrer de candidatures.")
    if not etablissement.actif:
        return _("L'établissement est inactif : il ne peut plus enregistrer de candidatures.")
    if not est_habilite(etablissement.id):
        return _("L'établissement n'a pas d'habilitation CléA valide.")
    return None


def _proches(cle: str, same_day: list[tuple[int, str]], same_name: list[int]) -> list[int]:
    """The ids of the near-duplicates of the person whose `cle` is given, among the people
    born the same day ((id, cle): a close name, rapidfuzz) and those of the same name and
    first name (ids), in that order, once each."""
    result = [pk for pk, other in same_day if fuzz.ratio(cle, other) >= 80]
    return list(dict.fromkeys(result + list(same_name)))


def _candidats(ids: list[int]) -> dict[int, Candidat]:
    if not ids:
        return {}
    return {c.id: c for c in db.session.scalars(select(Candidat).where(Candidat.id.in_(ids)))}


def homonymes(identite: dict) -> list[Candidat]:
    """Near-duplicates: same birth date and a close name (rapidfuzz), or same name and
    first name born another day."""
    (found,) = homonymes_en_lot([identite])
    return found


def homonymes_en_lot(identites: list[dict]) -> list[list[Candidat]]:
    """homonymes() of many people at once (an import, or one creation), compared on « nom
    prénom » (the first first name), accents and case ignored: the people born on
    their birth days read in one statement per 1 000 days (their names only), the same name
    and first name in one statement per 200 people (the prefix index of `recherche`), then
    only the people found, as rows."""
    noms: dict[str, str] = {}
    prenoms_: dict[str, str] = {}

    def cle_de(nom: str, prenoms: str) -> str:  # names repeat: each normalized once
        if nom not in noms:
            noms[nom] = normalize(nom)
        if prenoms not in prenoms_:
            prenoms_[prenoms] = _premier_prenom(prenoms)
        return f"{noms[nom]} {prenoms_[prenoms]}"

    cles = [cle_de(i["nom_naissance"], i["prenoms"]) for i in identites]
    jours = sorted({identite["date_naissance"] for identite in identites})
    par_jour: dict = {}
    for start in range(0, len(jours), 1000):
        for pk, jour, nom, prenoms in db.session.execute(
                select(Candidat.id, Candidat.date_naissance, Candidat.nom_naissance,
                       Candidat.prenoms).where(
                    Candidat.date_naissance.in_(jours[start:start + 1000]))):
            par_jour.setdefault(jour, []).append((pk, cle_de(nom, prenoms)))
    meme_nom: dict[str, list[int]] = {}
    prefixes = sorted(set(cles))
    for start in range(0, len(prefixes), 200):
        lot = prefixes[start:start + 200]
        for pk, recherche in db.session.execute(
                select(Candidat.id, Candidat.recherche).where(
                    or_(*(Candidat.recherche.like(f"{prefix}%") for prefix in lot)))):
            for prefix in lot:  # the prefixes this person's name starts with
                if (recherche or "").startswith(prefix):
                    found = meme_nom.setdefault(prefix, [])
                    if len(found) < 10:
                        found.append(pk)
    proches = [_proches(cle, par_jour.get(identite["date_naissance"], []), meme_nom.get(cle, []))
               for cle, identite in zip(cles, identites)]
    rows = _candidats(sorted({pk for ids in proches for pk in ids}))
    return [[rows[pk] for pk in ids if pk in rows] for ids in proches]


def creer(data: dict, by: Any, confirmer_homonymes: bool = False) -> Candidature:
    """« Proposer une candidature »: refuses an exact duplicate (rattachement instead),
    asks confirmation for a near-duplicate, then creates the person and the dossier."""
    ensure_can(by, "Candidature", CREATE)
    if not data.get("etablissement_id"):
        raise RuleError(_("Choisissez l'établissement qui gère le dossier."),
                        field="etablissement_id")
    etab = perimeter.get_or_404(Etablissement, data["etablissement_id"], by)
    reason = peut_creer(etab)
    if reason:
        raise RuleError(reason, field="etablissement_id")
    identite = valider_identite(data)
    dossier = valider_dossier(data, etab)
    cle = cle_identite(identite["nom_naissance"], identite["prenoms"], identite["date_naissance"])
    existing = db.session.scalars(select(Candidat).where(Candidat.cle_identite == cle)).first()
    if existing is not None:
        raise ConflictError(_("Ce candidat existe déjà sur la plateforme (même nom de naissance, "
                              "prénom et date de naissance). Recherchez-le avec la loupe et, "
                              "s'il dépend d'un autre établissement, demandez le rattachement "
                              "du dossier."), field="nom_naissance")
    proches = homonymes(identite)
    if proches and not confirmer_homonymes:
        raise HomonymeError(_("Des candidats proches existent déjà : vérifiez qu'il ne s'agit "
                              "pas de la même personne, puis confirmez."), proches)
    candidat = Candidat(**identite, cle_identite=cle)
    _cles_recherche(candidat)
    candidature = Candidature(candidat=candidat, etablissement_id=etab.id,
                              **perimetre.valeurs(etab), statut=C.ATTENTE_EVAL_PREALABLE,
                              created_by_id=getattr(by, "id", None), **dossier)
    db.session.add_all([candidat, candidature])
    try:
        db.session.flush()  # the unique indexes decide between two simultaneous creations
    except IntegrityError:
        db.session.rollback()
        raise ConflictError(_("Ce candidat vient d'être enregistré par ailleurs : recherchez-le "
                              "avec la loupe."), field="nom_naissance")
    _historique(candidature, None, C.ATTENTE_EVAL_PREALABLE, by, _("Création du dossier"))
    notifications.notify(
        notifications.reseau_abonnes_nouvelle_candidature(etab),
        notifications.NOUVELLE_CANDIDATURE,
        _("Nouvelle candidature : %(nom)s", nom=candidat.nom_complet),
        _("%(etab)s a enregistré la candidature de %(nom)s.", etab=etab.nom,
          nom=candidat.nom_complet),
        lien=f"/candidatureview/show/{candidature.id}")
    audit.record(by, "creer", candidature)
    db.session.commit()
    return candidature


# --- the status machine -----------------------------------------------------------------------------

def _historique(candidature: Candidature, de: Optional[str], vers: str, by: Any,
                motif: Optional[str] = None) -> None:
    db.session.add(HistoriqueStatut(candidature=candidature, de=de, vers=vers,
                                    motif=str(motif) if motif else None,
                                    par_id=getattr(by, "id", None)))


def noter_historique(candidature: Candidature, statut: str, by: Any, motif: str) -> None:
    """A line of the dossier's history that changes no status (a move between sessions)."""
    _historique(candidature, None, statut, by, motif)


def transition(candidature: Candidature, vers: str, by: Any, motif: Optional[str] = None
               ) -> None:
    """The only place that changes a status: checked against TRANSITIONS (or the
    abandonment rules), done with a compare-and-set (a concurrent change gets a 409), and
    written in the history. The caller commits."""
    de = candidature.statut
    allowed = TRANSITIONS.get(de, set())
    if vers not in allowed and not (vers == C.ABANDONNEE and de in ABANDONABLE):
        raise RuleError(_("Changement de statut impossible : « %(de)s » → « %(vers)s ».",
                          de=statut_label(de), vers=statut_label(vers)))
    now = dt.datetime.now()
    changed = db.session.execute(
        update(Candidature).where(Candidature.id == candidature.id, Candidature.statut == de)
        .values(statut=vers, updated_on=now)).rowcount
    if not changed:
        db.session.rollback()
        raise ConflictError(_("Le dossier vient d'être modifié par ailleurs : rechargez la "
                              "page."))
    db.session.refresh(candidature)
    _historique(candidature, de, vers, by, motif)


def abandonner(candidature: Candidature, motif: str, texte: str, by: Any) -> None:
    """« Déclarer l'abandon », with a motive from the list plus free text."""
    ensure_can(by, "Candidature", UPDATE)
    perimeter.get_or_404(Candidature, candidature.id, by)
    if motif not in MOTIFS_ABANDON or motif == "automatique":
        raise RuleError(_("Choisissez le motif de l'abandon."), field="motif")
    texte = (texte or "").strip()
    if motif == "autre" and not texte:
        raise RuleError(_("Précisez le motif de l'abandon."), field="texte")
    if candidature.statut not in ABANDONABLE:
        raise RuleError(_("Un dossier envoyé en certification ou déjà décidé ne peut pas être "
                          "déclaré abandonné."))
    _abandon(candidature, motif, texte, by)
    audit.record(by, "abandonner", candidature, motif)
    db.session.commit()


def _abandon(candidature: Candidature, motif: str, texte: Optional[str], by: Any) -> None:
    avant = candidature.statut
    label = str(MOTIFS_ABANDON[motif]) + (f" — {texte}" if texte else "")
    transition(candidature, C.ABANDONNEE, by, label)
    candidature.statut_avant_abandon = avant
    candidature.motif_abandon = motif
    candidature.motif_abandon_texte = texte or None


def exiger_ecriture(candidature: Candidature, by: Any, inactif: Optional[str] = None
                    ) -> Candidature:
    """Every change of a dossier's course: the right, the perimeter (404) and an active
    organisme."""
    ensure_can(by, "Candidature", UPDATE)
    perimeter.get_or_404(Candidature, candidature.id, by)
    if not candidature.etablissement.organisme.actif:
        raise RuleError(inactif or _("L'organisme est inactif : il ne peut plus compléter de "
                                     "dossiers."))
    return candidature


def reintegrer(candidature: Candidature, by: Any) -> None:
    """The green « Réintégrer » button: back to the status it had before the abandonment."""
    ensure_can(by, "Candidature", UPDATE)
    perimeter.get_or_404(Candidature, candidature.id, by)
    if candidature.statut != C.ABANDONNEE:
        raise RuleError(_("Seul un dossier abandonné peut être réintégré."))
    if candidature.candidat.anonymise:
        raise RuleError(_("Ce candidat est anonymisé : son dossier ne peut plus être "
                          "réintégré."))
    if not candidature.etablissement.organisme.actif:
        raise RuleError(_("L'organisme est inactif : il ne peut plus compléter de dossiers."))
    vers = candidature.statut_avant_abandon or C.ATTENTE_EVAL_PREALABLE
    de = candidature.statut
    try:
        changed = db.session.execute(
            update(Candidature).where(Candidature.id == candidature.id,
                                      Candidature.statut == de)
            .values(statut=vers, updated_on=dt.datetime.now(), statut_avant_abandon=None,
                    motif_abandon=None, motif_abandon_texte=None)).rowcount
    except IntegrityError:
        db.session.rollback()
        raise ConflictError(_("Ce candidat a déjà un autre dossier en cours : il ne peut pas "
                              "être réintégré."))
    if not changed:
        db.session.rollback()
        raise ConflictError(_("Le dossier vient d'être modifié par ailleurs : rechargez la "
                              "page."))
    db.session.refresh(candidature)
    _historique(candidature, de, vers, by, _("Réintégration"))
    audit.record(by, "reintegrer", candidature)
    db.session.commit()


def _vierge(candidature: Candidature) -> bool:
    """Nothing was done on the dossier yet (no finalized evaluation)."""
    return candidature.statut == C.ATTENTE_EVAL_PREALABLE and not candidature.date_prealable


def supprimables(candidatures: list[Candidature]) -> set[int]:
    """The bin, for a page of dossiers (one statement): the ids of those nothing was done on
    and that no other établissement is asking for (a pending rattachement request)."""
    ids = [c.id for c in candidatures if _vierge(c)]
    if not ids:
        return set()
    demandes = set(db.session.scalars(select(Rattachement.candidature_id).where(
        Rattachement.candidature_id.in_(ids), Rattachement.statut == RATTACHEMENT_EN_ATTENTE)))
    return set(ids) - demandes


def supprimable(candidature: Candidature) -> bool:
    return candidature.id in supprimables([candidature])


def supprimer(candidature: Candidature, by: Any) -> None:
    """The bin (guide §17: « lorsqu'il n'y a aucune suite à donner à la candidature »): the
    dossier goes with what it owns — its history, its draft evaluation, its documents and
    formations, its past rattachement requests — and the person when it was their only one."""
    ensure_can(by, "Candidature", DELETE)
    perimeter.get_or_404(Candidature, candidature.id, by)
    if not _vierge(candidature):
        raise RuleError(_("Ce dossier a déjà une évaluation finalisée : il ne peut plus être "
                          "supprimé. Déclarez plutôt son abandon."))
    if not supprimable(candidature):
        raise RuleError(_("Un autre établissement a demandé le rattachement de ce dossier : il "
                          "ne peut pas être supprimé tant que Certif Pro n'a pas répondu."))
    candidat = candidature.candidat
    seul = not db.session.execute(select(exists().where(
        Candidature.candidat_id == candidat.id, Candidature.id != candidature.id))).scalar()
    audit.record(by, "supprimer", candidature, candidat.nom_complet)
    if seul:  # the person goes too: the journal keeps no trace of their name
        audit.desidentifier(candidat, by, _("Suppression du dossier et de la personne"))
    documents.retirer_du_dossier(candidature)  # the files go once this commits
    db.session.execute(delete(Evaluation).where(Evaluation.candidature_id == candidature.id))
    db.session.execute(delete(Formation).where(Formation.candidature_id == candidature.id))
    db.session.execute(delete(Rattachement).where(
        Rattachement.candidature_id == candidature.id))
    db.session.delete(candidature)
    db.session.flush()
    if seul:
        db.session.delete(candidat)
    db.session.commit()


def abandons_automatiques(today: Optional[dt.date] = None) -> int:
    """Job: a dossier whose préalable is more than 5 years old is abandoned (idempotent)."""
    today = today or dt.date.today()
    limit = today - AUTO_ABANDON_AFTER
    ids = db.session.scalars(select(Candidature.id).where(
        Candidature.statut.in_(ABANDONABLE), Candidature.date_prealable.is_not(None),
        Candidature.date_prealable <= limit)).all()
    count = 0
    for candidature_id in ids:
        candidature = db.session.get(Candidature, candidature_id)
        try:
            _abandon(candidature, "automatique", None, None)
        except (RuleError, ConflictError):
            db.session.rollback()
            continue
        db.session.commit()
        count += 1
    return count


def refus_modification(candidature: Candidature, by: Any) -> Optional[ServiceError]:
    """Why the pencil would be refused (None when it is accepted)."""
    if not can(by, "Candidature", UPDATE):
        return ForbiddenError(_("Votre rôle ne permet pas cette action."))
    if candidature.candidat.anonymise:  # rectifying would re-identify: it is a new person
        return RuleError(_("Ce candidat est anonymisé : son dossier ne peut plus être modifié."))
    if candidature.statut == C.ABANDONNEE:
        return RuleError(_("Ce dossier est abandonné : réintégrez-le avant de le modifier."))
    if candidature.statut not in NON_TRANSFERABLE | {C.NON_CERTIFIEE}:
        return None
    if by is None or R.is_technical_admin(by):
        return None
    role = R.role_of(by)
    if role is not None and (role.level or 0) >= R.ADMIN_RESEAU.level:
        return None
    return ForbiddenError(_("Ce dossier ne peut plus être modifié à votre niveau : une fois "
                            "envoyé en certification, seuls l'administrateur réseau et Certif "
                            "Pro le modifient."))


def modifiable(candidature: Candidature, by: Any) -> bool:
    """The pencil is offered: once sent (or closed), only Administrateur réseau and above
    change a dossier; an abandoned one is réintégré first."""
    return refus_modification(candidature, by) is None


def mise_a_jour(candidature: Candidature, data: dict, by: Any) -> Candidature:
    """The pencil: identity and dossier fields; nothing changes once sent (below Adm. réseau)."""
    ensure_can(by, "Candidature", UPDATE)
    perimeter.get_or_404(Candidature, candidature.id, by)
    refus = refus_modification(candidature, by)
    if refus is not None:
        raise refus
    identite = valider_identite({**{f: getattr(candidature.candidat, f) for f in IDENTITY_FIELDS},
                                 **{k: v for k, v in data.items() if k in IDENTITY_FIELDS}})
    avant = {f: getattr(candidature, f) for f in DOSSIER_FIELDS}
    apres = {**avant, **{k: v for k, v in data.items() if k in DOSSIER_FIELDS}}
    # The socle is checked until the dossier is routed to its jury, and whenever it changes.
    socle_change = (bool(apres["socle_contextualise"]) != bool(avant["socle_contextualise"])
                    or (int(apres["branche_id"] or 0) or None) != avant["branche_id"])
    dossier = valider_dossier(apres, candidature.etablissement
                              if candidature.certificateur_id is None or socle_change else None)
    cle = cle_identite(identite["nom_naissance"], identite["prenoms"], identite["date_naissance"])
    if cle != candidature.candidat.cle_identite and db.session.execute(select(exists().where(
            Candidat.cle_identite == cle, Candidat.id != candidature.candidat_id))).scalar():
        raise ConflictError(_("Un autre candidat a déjà cette identité."), field="nom_naissance")
    candidat = candidature.candidat
    for key, value in identite.items():
        setattr(candidat, key, value)
    candidat.cle_identite = cle
    _cles_recherche(candidat)
    for key, value in dossier.items():
        setattr(candidature, key, value)
    candidature.updated_on = dt.datetime.now()
    audit.record(by, "modifier", candidature)
    db.session.commit()
    return candidature


def compter_par_statut(user: Any) -> dict[str, int]:
    """Dashboard counts, one grouped query: for the nation, a réseau or an organisme from the
    Stats counters (exact, kept by the same transactions; a few hundred rows instead of a
    million dossiers), otherwise on the candidatures' indexed columns."""
    from . import agregats

    counts = agregats.dossiers_par_statut(perimeter.scope_of(user))
    if counts is not None:
        return counts
    rows = db.session.execute(
        select(Candidature.statut, func.count()).where(perimeter.clause(Candidature, user))
        .group_by(Candidature.statut)).all()
    return {statut: count for statut, count in rows}
