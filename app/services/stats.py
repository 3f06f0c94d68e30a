"""Statistics (guide §7 « Stats », DESIGN §4 and §10).

Who: Administrateur organisme (its organisme), Administrateur réseau (its réseau), Certif Pro
(national); the perimeter filter of security/ restricts every query. Filters: period (dossiers
created in it; the monthly flows count the events of the period), organisme, établissement,
type de public, niveau. Counts are computed by the database (GROUP BY on indexed columns);
durations are medians over the dossiers' step dates. The Excel exports are prepared off the
request by services/exports.py, which reads the same perimeter and filters (`_dossiers`)."""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any, Optional

from flask_babel import gettext as _
from sqlalchemy import case, func, literal_column, select

from app.extensions import db
from app.models import Etablissement, Habilitation
from app.models import candidature as C
from app.models.candidature import Candidature, HistoriqueStatut
from app.models.evaluation import Evaluation, ResultatEvaluation
from app.models.jury import DecisionJury
from app.models.referentiel import Domaine, SousDomaine
from app.security import perimeter
from app.security.access import ensure_can
from app.security.matrix import READ

from . import candidatures as dossiers
from .dates import parse_date
from .errors import RuleError

RESOURCE = "Stats"
BATCH = 1000


@dataclass
class Filtres:
    debut: Optional[dt.date] = None
    fin: Optional[dt.date] = None
    organisme_id: Optional[int] = None
    etablissement_id: Optional[int] = None
    type_public: Optional[str] = None
    niveau: Optional[int] = None

    @classmethod
    def depuis(cls, args: Any) -> "Filtres":
        """From a query string or a JSON object; refused values say why in French."""
        def entier(name):
            value = (args.get(name) or "")
            if value in ("", None):
                return None
            try:
                return int(value)
            except (TypeError, ValueError):
                raise RuleError(_("Valeur invalide pour le filtre « %(champ)s ».", champ=name),
                                field=name)
        debut = parse_date(args.get("debut"), "debut")
        fin = parse_date(args.get("fin"), "fin")
        if debut and fin and fin < debut:
            raise RuleError(_("La fin de la période doit suivre son début."), field="fin")
        type_public = args.get("type_public") or None
        if type_public and type_public not in dossiers.TYPES_PUBLIC:
            raise RuleError(_("Type de public inconnu."), field="type_public")
        return cls(debut=debut, fin=fin, organisme_id=entier("organisme_id"),
                   etablissement_id=entier("etablissement_id"), type_public=type_public,
                   niveau=entier("niveau"))


def verifier_acces(by: Any) -> None:
    ensure_can(by, RESOURCE, READ)


def _dossiers(by: Any, f: Filtres, cohorte: bool = True):
    """The candidature ids of the perimeter matching the filters (a subquery)."""
    query = select(Candidature.id).where(perimeter.clause(Candidature, by))
    if f.etablissement_id:
        query = query.where(Candidature.etablissement_id == f.etablissement_id)
    if f.organisme_id:
        query = query.where(Candidature.etablissement_id.in_(
            select(Etablissement.id).where(Etablissement.organisme_id == f.organisme_id)))
    if f.type_public:
        query = query.where(Candidature.type_public == f.type_public)
    if f.niveau:
        query = query.where(Candidature.niveau_formation == f.niveau)
    if cohorte:
        query = _periode(query, Candidature.created_on, f)
    return query


def _periode(query, column, f: Filtres):
    if f.debut:
        query = query.where(column >= dt.datetime.combine(f.debut, dt.time.min))
    if f.fin:
        query = query.where(column < dt.datetime.combine(f.fin + dt.timedelta(days=1),
                                                         dt.time.min))
    return query


def _mois(column):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, literal_column("'YYYY-MM'"))  # same SQL in GROUP BY
    return func.strftime(literal_column("'%Y-%m'"), column)


def _ratio(num: int, den: int) -> Optional[float]:
    return round(100.0 * num / den, 1) if den else None


@dataclass
class Indicateurs:
    total: int = 0
    par_statut: list[tuple[str, str, int]] = field(default_factory=list)
    flux: list[dict] = field(default_factory=list)
    prealables_finalises: int = 0
    prealables_valides: int = 0
    taux_premier_coup: Optional[float] = None
    acquisition: list[dict] = field(default_factory=list)
    durees: list[tuple[str, Optional[float], int]] = field(default_factory=list)
    jury: list[tuple[str, str, int]] = field(default_factory=list)
    abandons: list[tuple[str, str, int]] = field(default_factory=list)
    habilitations: list[tuple[str, str, int]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "par_statut": [{"statut": c, "libelle": l, "nombre": n}
                           for c, l, n in self.par_statut],
            "flux_mensuels": self.flux,
            "prealables": {"finalises": self.prealables_finalises,
                           "valides_premier_coup": self.prealables_valides,
                           "taux": self.taux_premier_coup},
            "acquisition_par_sous_domaine": self.acquisition,
            "durees_medianes_jours": [{"etape": l, "mediane": m, "dossiers": n}
                                      for l, m, n in self.durees],
            "decisions_jury": [{"decision": c, "libelle": l, "nombre": n}
                               for c, l, n in self.jury],
            "abandons": [{"motif": c, "libelle": l, "nombre": n} for c, l, n in self.abandons],
            "habilitations": [{"statut": c, "libelle": l, "nombre": n}
                              for c, l, n in self.habilitations],
        }


def indicateurs(by: Any, f: Filtres) -> Indicateurs:
    verifier_acces(by)
    from .certification import DECISIONS as DECISION_LABELS

    ids = _dossiers(by, f)
    out = Indicateurs()
    counts = dict(db.session.execute(select(Candidature.statut, func.count()).where(
        Candidature.id.in_(ids)).group_by(Candidature.statut)).all())
    out.total = sum(counts.values())
    out.par_statut = [(code, str(label), counts.get(code, 0))
                      for code, label in dossiers.STATUTS.items()]

    # Monthly flows: the events of the period, for the dossiers of the perimeter and filters.
    scope = _dossiers(by, f, cohorte=False)
    series: dict[str, dict[str, int]] = {}

    def add(name, query, column):
        query = _periode(query, column, f)
        for mois, n in db.session.execute(query.group_by(_mois(column))).all():
            series.setdefault(mois, {}).setdefault(name, 0)
            series[mois][name] += n

    add("crees", select(_mois(Candidature.created_on), func.count()).where(
        Candidature.id.in_(scope)), Candidature.created_on)
    for name, type_ in (("prealables", "prealable"), ("finales", "finale")):
        add(name, select(_mois(Evaluation.finalisee_le), func.count()).where(
            Evaluation.candidature_id.in_(scope), Evaluation.type == type_,
            Evaluation.statut == "finalisee"), Evaluation.finalisee_le)
    add("envoyes", select(_mois(HistoriqueStatut.le), func.count()).where(
        HistoriqueStatut.candidature_id.in_(scope), HistoriqueStatut.vers == C.ATTENTE_JURY,
        HistoriqueStatut.de == C.A_ENVOYER), HistoriqueStatut.le)
    add("certifies", select(_mois(DecisionJury.le), func.count()).where(
        DecisionJury.candidature_id.in_(scope), DecisionJury.decision == "certifiee"),
        DecisionJury.le)
    out.flux = [{"mois": mois, **{k: series[mois].get(k, 0) for k in
                                  ("crees", "prealables", "finales", "envoyes", "certifies")}}
                for mois in sorted(series)]

    # Préalables validated at the first attempt (the first finalization of the préalable).
    premiere = (select(Evaluation.candidature_id, func.min(Evaluation.id).label("eid"))
                .where(Evaluation.candidature_id.in_(ids), Evaluation.type == "prealable",
                       Evaluation.statut == "finalisee")
                .group_by(Evaluation.candidature_id).subquery())
    row = db.session.execute(select(func.count(), func.sum(case(
        (Evaluation.resultat == "valide", 1), else_=0))).select_from(premiere).join(
        Evaluation, Evaluation.id == premiere.c.eid)).one()
    out.prealables_finalises, out.prealables_valides = row[0] or 0, int(row[1] or 0)
    out.taux_premier_coup = _ratio(out.prealables_valides, out.prealables_finalises)

    # Acquisition rate per sous-domaine, at préalable and at finale (finalized evaluations).
    rates: dict[int, dict[str, tuple[int, int]]] = {}
    for type_ in ("prealable", "finale"):
        for sd, acquis, total in db.session.execute(
                select(ResultatEvaluation.sous_domaine_id,
                       func.sum(case((ResultatEvaluation.acquis.is_(True), 1), else_=0)),
                       func.count())
                .join(Evaluation, Evaluation.id == ResultatEvaluation.evaluation_id)
                .where(Evaluation.candidature_id.in_(ids), Evaluation.type == type_,
                       Evaluation.statut == "finalisee")
                .group_by(ResultatEvaluation.sous_domaine_id)).all():
            rates.setdefault(sd, {})[type_] = (int(acquis or 0), total)
    for sd in db.session.scalars(select(SousDomaine).join(Domaine).order_by(
            Domaine.ordre, SousDomaine.ordre)).all():
        r = rates.get(sd.id, {})
        if not r and not rates:
            continue
        p, fi = r.get("prealable", (0, 0)), r.get("finale", (0, 0))
        out.acquisition.append({"code": sd.code, "intitule": sd.intitule,
                                "prealable": _ratio(*p), "prealable_evaluations": p[1],
                                "finale": _ratio(*fi), "finale_evaluations": fi[1]})

    out.durees = _durees(ids)

    decided = dict(db.session.execute(select(DecisionJury.decision, func.count()).where(
        DecisionJury.candidature_id.in_(ids)).group_by(DecisionJury.decision)).all())
    out.jury = [(code, str(label), decided.get(code, 0))
                for code, label in DECISION_LABELS.items()]
    motifs = dict(db.session.execute(select(Candidature.motif_abandon, func.count()).where(
        Candidature.id.in_(ids), Candidature.statut == C.ABANDONNEE)
        .group_by(Candidature.motif_abandon)).all())
    out.abandons = [(code, str(label), motifs.get(code, 0))
                    for code, label in dossiers.MOTIFS_ABANDON.items()]

    habs = select(Habilitation.statut, func.count()).where(perimeter.clause(Habilitation, by))
    if f.etablissement_id:
        habs = habs.where(Habilitation.etablissement_id == f.etablissement_id)
    if f.organisme_id:
        habs = habs.where(Habilitation.etablissement_id.in_(
            select(Etablissement.id).where(Etablissement.organisme_id == f.organisme_id)))
    par_statut = dict(db.session.execute(habs.group_by(Habilitation.statut)).all())
    out.habilitations = [(code, label, par_statut.get(code, 0)) for code, label in (
        ("en_attente", _("En attente")), ("validee", _("Validée")),
        ("rejetee", _("Rejetée")), ("expiree", _("Expirée")))]
    return out


def _etapes(ids):
    """Per dossier: creation, préalable, finale, sending, decision dates (one row each)."""
    prealable = (select(Evaluation.candidature_id, func.min(Evaluation.finalisee_le).label("d"))
                 .where(Evaluation.type == "prealable", Evaluation.statut == "finalisee",
                        Evaluation.candidature_id.in_(ids))
                 .group_by(Evaluation.candidature_id).subquery())
    finale = (select(Evaluation.candidature_id, func.max(Evaluation.finalisee_le).label("d"))
              .where(Evaluation.type == "finale", Evaluation.statut == "finalisee",
                     Evaluation.resultat == "valide", Evaluation.candidature_id.in_(ids))
              .group_by(Evaluation.candidature_id).subquery())
    envoi = (select(HistoriqueStatut.candidature_id, func.min(HistoriqueStatut.le).label("d"))
             .where(HistoriqueStatut.vers == C.ATTENTE_JURY, HistoriqueStatut.de == C.A_ENVOYER,
                    HistoriqueStatut.candidature_id.in_(ids))
             .group_by(HistoriqueStatut.candidature_id).subquery())
    decision = (select(DecisionJury.candidature_id, func.max(DecisionJury.le).label("d"))
                .where(DecisionJury.decision != "complement",
                       DecisionJury.candidature_id.in_(ids))
                .group_by(DecisionJury.candidature_id).subquery())
    return (select(Candidature.id, Candidature.created_on, prealable.c.d, finale.c.d,
                   envoi.c.d, decision.c.d)
            .outerjoin(prealable, prealable.c.candidature_id == Candidature.id)
            .outerjoin(finale, finale.c.candidature_id == Candidature.id)
            .outerjoin(envoi, envoi.c.candidature_id == Candidature.id)
            .outerjoin(decision, decision.c.candidature_id == Candidature.id)
            .where(Candidature.id.in_(ids)))


ETAPES = ("creation_prealable", "prealable_finale", "finale_envoi", "envoi_decision")


def _durees(ids) -> list[tuple[str, Optional[float], int]]:
    labels = {"creation_prealable": _("Création → évaluation préalable"),
              "prealable_finale": _("Évaluation préalable → évaluation finale"),
              "finale_envoi": _("Dernière évaluation validée → envoi en certification"),
              "envoi_decision": _("Envoi en certification → décision du jury")}
    values: dict[str, list[float]] = {k: [] for k in ETAPES}
    for _id, cree, pre, fin, env, dec in db.session.execute(
            _etapes(ids).execution_options(yield_per=BATCH)):
        validee = fin or pre  # the evaluation that made the dossier « à envoyer »
        for key, a, b in (("creation_prealable", cree, pre), ("prealable_finale", pre, fin),
                          ("finale_envoi", validee, env), ("envoi_decision", env, dec)):
            if a and b and b >= a:
                values[key].append((b - a).total_seconds() / 86400)
    return [(labels[k], round(statistics.median(v), 1) if v else None, len(v))
            for k, v in values.items()]


def choix_filtres(by: Any, f: Filtres) -> dict:
    """The organisme / établissement chosen in the filters, as (id, name), if inside the
    perimeter (the lists themselves are searched as you type, through /lookup)."""
    from app.models import Organisme

    def one(model, column, pk):
        if not pk:
            return None
        return db.session.execute(select(model.id, column).where(
            model.id == pk, perimeter.clause(model, by))).first()

    return {"organisme": one(Organisme, Organisme.raison_sociale, f.organisme_id),
            "etablissement": one(Etablissement, Etablissement.nom, f.etablissement_id)}
