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
from sqlalchemy import and_, case, false, func, literal_column, or_, select

from app.extensions import db
from app.models import REGIONS, Certificateur, Etablissement, Habilitation
from app.models.agregats import (StatsAcquisition, StatsCompteurs, StatsDossier, StatsFluxJour,
                                 StatsFluxMois)
from app.models import candidature as C
from app.models.candidature import Candidature, HistoriqueStatut
from app.models.evaluation import Evaluation, ResultatEvaluation
from app.models.jury import DecisionJury
from app.models.referentiel import Domaine, SousDomaine
from app.security import perimeter
from app.security import roles as R
from app.security.access import ensure_can
from app.security.matrix import READ

from . import agregats  # (its import installs the aggregates' session listeners)
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
    region: Optional[str] = None    # the établissements' region
    jury_id: Optional[int] = None   # the jury the dossiers were sent to

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
        region = args.get("region") or None
        if region and region not in REGIONS:
            raise RuleError(_("Région inconnue."), field="region")
        organisme_id, etablissement_id = entier("organisme_id"), entier("etablissement_id")
        if organisme_id and etablissement_id:  # the établissement follows the organisme
            etab = db.session.get(Etablissement, perimeter.bounded_id(etablissement_id) or 0)
            if etab is not None and etab.organisme_id != organisme_id:
                raise RuleError(_("L'établissement choisi n'appartient pas à l'organisme "
                                  "choisi."), field="etablissement_id")
        return cls(debut=debut, fin=fin, organisme_id=entier("organisme_id"),
                   etablissement_id=entier("etablissement_id"), type_public=type_public,
                   niveau=entier("niveau"), region=region, jury_id=entier("jury_id"))


def filtres_lisibles(f: Filtres) -> list[tuple[str, str]]:
    """The filters as a reader says them (the first sheet of an export): (label, value)."""
    from app.models import Organisme

    def jour(value):
        return value.strftime("%d/%m/%Y") if value else "…"

    out = []
    if f.debut or f.fin:
        out.append((_("Période"), f"{jour(f.debut)} — {jour(f.fin)}"))
    if f.organisme_id:
        org = db.session.get(Organisme, f.organisme_id)
        out.append((_("Organisme"), org.raison_sociale if org else f"n° {f.organisme_id}"))
    if f.etablissement_id:
        etab = db.session.get(Etablissement, f.etablissement_id)
        out.append((_("Établissement"), etab.nom if etab else f"n° {f.etablissement_id}"))
    if f.type_public:
        out.append((_("Type de public"), str(dossiers.TYPES_PUBLIC.get(f.type_public,
                                                                      f.type_public))))
    if f.niveau:
        out.append((_("Niveau de formation"), str(f.niveau)))
    if f.region:
        out.append((_("Région"), REGIONS.get(f.region, f.region)))
    if f.jury_id:
        jury = db.session.get(Certificateur, f.jury_id)
        out.append((_("Jury"), jury.nom if jury else f"n° {f.jury_id}"))
    return out


def _etablissements_de_la_region(region: str):
    return select(Etablissement.id).where(Etablissement.region == region)


def _dossiers_du_jury(jury_id: int):
    return select(Candidature.id).where(Candidature.certificateur_id == jury_id)


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
    if f.region:
        query = query.where(Candidature.etablissement_id.in_(
            _etablissements_de_la_region(f.region)))
    if f.jury_id:
        query = query.where(Candidature.certificateur_id == f.jury_id)
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


def _portee(by: Any):
    """The perimeter on the aggregates' own columns: (kind, id), where kind is national,
    reseau, organisme, etablissement, none, or None for another scope (a jury's)."""
    scope = perimeter.scope_of(by)
    if scope.kind in (R.NATIONAL, R.RESEAU, R.ORGANISME, R.ETABLISSEMENT, "none"):
        return scope.kind, scope.id
    return None, None


def _perimetre_agregat(model, by: Any, f: Filtres):
    """The perimeter and the organisme filter on a table keyed by réseau and organisme."""
    return agregats.niveau(model, *_portee(by), organisme_id=f.organisme_id)


def _par_agregats(by: Any, f: Filtres) -> bool:
    """Whether the flows and acquisition rates can be read from the (réseau, organisme)
    counts: the perimeter is national, a réseau or an organisme, and no filter is finer than
    the organisme."""
    return (_portee(by)[0] in (R.NATIONAL, R.RESEAU, R.ORGANISME, "none")
            and not (f.etablissement_id or f.type_public or f.niveau or f.region
                     or f.jury_id))


def _faits(by: Any, f: Filtres, cohorte: bool = True) -> list:
    """The conditions on stats_dossier for the perimeter and the filters."""
    F = StatsDossier
    kind, pk = _portee(by)
    if kind is None:
        conditions = [F.candidature_id.in_(select(Candidature.id).where(
            perimeter.clause(Candidature, by)))]
    else:
        conditions = {R.NATIONAL: [], R.RESEAU: [F.reseau_id == pk],
                      R.ORGANISME: [F.organisme_id == pk],
                      R.ETABLISSEMENT: [F.etablissement_id == pk], "none": [false()]}[kind]
    if f.etablissement_id:
        conditions.append(F.etablissement_id == f.etablissement_id)
    if f.organisme_id:
        conditions.append(F.organisme_id == f.organisme_id)
    if f.type_public:
        conditions.append(F.type_public == f.type_public)
    if f.niveau:
        conditions.append(F.niveau == f.niveau)
    if f.region:
        conditions.append(F.etablissement_id.in_(_etablissements_de_la_region(f.region)))
    if f.jury_id:
        conditions.append(F.candidature_id.in_(_dossiers_du_jury(f.jury_id)))
    if cohorte:
        conditions += _bornes(F.cree_le, f)
    return conditions


def _bornes(column, f: Filtres) -> list:
    out = []
    if f.debut:
        out.append(column >= dt.datetime.combine(f.debut, dt.time.min))
    if f.fin:
        out.append(column < dt.datetime.combine(f.fin + dt.timedelta(days=1), dt.time.min))
    return out


def _premier_du_mois(day: dt.date, plus: int = 0) -> dt.date:
    month = day.year * 12 + day.month - 1 + plus
    return dt.date(month // 12, month % 12 + 1, 1)


def _decoupage(f: Filtres):
    """The period as whole months [first, last] (month strings, None = open) and the days of
    the period outside them (a list of (from, to) date ranges, inclusive)."""
    if not f.debut and not f.fin:
        return (None, None), []
    premier = None if not f.debut else (
        f.debut if f.debut.day == 1 else _premier_du_mois(f.debut, 1))
    dernier = None if not f.fin else (
        _premier_du_mois(f.fin) if (f.fin + dt.timedelta(days=1)).day == 1
        else _premier_du_mois(f.fin, -1))
    if premier and dernier and premier > dernier:  # no whole month: every day by day
        return None, [(f.debut, f.fin)]
    jours = []
    if f.debut and f.debut != premier:
        jours.append((f.debut, premier - dt.timedelta(days=1)))
    if f.fin and dernier and f.fin != _premier_du_mois(dernier, 1) - dt.timedelta(days=1):
        jours.append((_premier_du_mois(dernier, 1), f.fin))
    texte = (lambda d: d.strftime("%Y-%m") if d else None)
    return (texte(premier), texte(dernier)), jours


def _mois_entiers(column, mois_):
    debut, fin = mois_
    return ([column >= debut] if debut else []) + ([column <= fin] if fin else [])


def _entre(column, jours) -> Any:
    return or_(*[and_(column >= a, column <= b) for a, b in jours])


def indicateurs(by: Any, f: Filtres) -> Indicateurs:
    """Read from the aggregates (services/agregats.py); the same figures as computing them
    from the dossiers, their evaluations, history and decisions."""
    verifier_acces(by)
    from .certification import DECISIONS as DECISION_LABELS

    faits = _faits(by, f)
    out = Indicateurs()
    counts: dict[str, int] = {}
    motifs: dict[Optional[str], int] = {}
    decided = {"certifiee": 0, "non_certifiee": 0, "complement": 0}
    finalises = valides = 0
    for statut, motif, n, pre, val, cert, non, comp in _comptes(by, f, faits):
        if not n:
            continue
        counts[statut] = counts.get(statut, 0) + n
        if statut == C.ABANDONNEE:
            motifs[motif] = motifs.get(motif, 0) + n
        finalises += int(pre or 0)
        valides += int(val or 0)
        for code, value in (("certifiee", cert), ("non_certifiee", non),
                            ("complement", comp)):
            decided[code] += int(value or 0)
    out.total = sum(counts.values())
    out.par_statut = [(code, str(label), counts.get(code, 0))
                      for code, label in dossiers.STATUTS.items()]
    out.prealables_finalises, out.prealables_valides = finalises, valides
    out.taux_premier_coup = _ratio(valides, finalises)

    out.flux = _flux(by, f)
    out.acquisition = _acquisition(by, f)
    out.durees = _durees(faits)
    out.jury = [(code, str(label), decided.get(code, 0))
                for code, label in DECISION_LABELS.items()]
    out.abandons = [(code, str(label), motifs.get(code, 0))
                    for code, label in dossiers.MOTIFS_ABANDON.items()]

    habs = select(Habilitation.statut, func.count()).where(perimeter.clause(Habilitation, by))
    if f.etablissement_id:
        habs = habs.where(Habilitation.etablissement_id == f.etablissement_id)
    if f.organisme_id:
        habs = habs.where(Habilitation.etablissement_id.in_(
            select(Etablissement.id).where(Etablissement.organisme_id == f.organisme_id)))
    if f.region:  # (a habilitation is not a jury's: the jury filter leaves these alone)
        habs = habs.where(Habilitation.etablissement_id.in_(
            _etablissements_de_la_region(f.region)))
    par_statut = dict(db.session.execute(habs.group_by(Habilitation.statut)).all())
    out.habilitations = [(code, label, par_statut.get(code, 0)) for code, label in (
        ("en_attente", _("En attente")), ("validee", _("Validée")),
        ("rejetee", _("Rejetée")), ("expiree", _("Expirée")))]
    return out


def _comptes(by: Any, f: Filtres, faits: list) -> list:
    """Per (status, motive): dossiers, first préalables finalized / validated, decisions;
    whole months of creation from stats_compteurs, the period's other days (or a filter finer
    than the organisme) from the dossiers' facts."""
    F = StatsDossier
    sums = (func.sum(F.prealable_finalise), func.sum(F.prealable_valide),
            func.sum(F.certifiee), func.sum(F.non_certifiee), func.sum(F.complement))
    if not _par_agregats(by, f):
        return db.session.execute(select(F.statut, F.motif_abandon, func.count(), *sums)
                                  .where(*faits).group_by(F.statut, F.motif_abandon)).all()
    mois_, jours = _decoupage(f)
    rows = []
    if mois_ is not None:
        K = StatsCompteurs
        rows += db.session.execute(
            select(K.statut, K.motif_abandon, func.sum(K.nombre),
                   *[func.sum(K.__table__.c[name]) for name in agregats.COMPTES[1:]])
            .where(*_perimetre_agregat(K, by, f), *_mois_entiers(K.mois, mois_))
            .group_by(K.statut, K.motif_abandon)).all()
    if jours:
        rows += db.session.execute(
            select(F.statut, F.motif_abandon, func.count(), *sums)
            .where(*_faits(by, f, cohorte=False), or_(*[and_(*_bornes(
                F.cree_le, Filtres(debut=a, fin=b))) for a, b in jours]))
            .group_by(F.statut, F.motif_abandon)).all()
    return [(statut, motif or None, *values) for statut, motif, *values in rows]


FLUX = ("crees", "prealables", "finales", "envoyes", "certifies")


def _flux(by: Any, f: Filtres) -> list[dict]:
    """Monthly flows: the events of the period, for the dossiers of the perimeter and filters
    (whole months from stats_flux_mois, the days at the period's ends from stats_flux_jour)."""
    series: dict[str, dict[str, int]] = {}
    if _par_agregats(by, f):
        mois_, jours = _decoupage(f)
        queries = []
        if mois_ is not None:
            M = StatsFluxMois
            queries.append(select(M.mois, M.nature, func.sum(M.nombre))
                           .where(*_perimetre_agregat(M, by, f), *_mois_entiers(M.mois, mois_))
                           .group_by(M.mois, M.nature))
        if jours:
            J = StatsFluxJour
            m = _mois(J.jour)
            queries.append(select(m, J.nature, func.sum(J.nombre))
                           .where(*_perimetre_agregat(J, by, f), _entre(J.jour, jours))
                           .group_by(m, J.nature))
        for query in queries:
            for mois, nature, n in db.session.execute(query):
                if n:
                    series.setdefault(mois, {}).setdefault(nature, 0)
                    series[mois][nature] += int(n)
    else:  # a filter finer than the organisme: the events of the matching dossiers
        scope = select(StatsDossier.candidature_id).where(*_faits(by, f, cohorte=False))

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
            HistoriqueStatut.candidature_id.in_(scope),
            HistoriqueStatut.vers == C.ATTENTE_JURY,
            HistoriqueStatut.de == C.A_ENVOYER), HistoriqueStatut.le)
        add("certifies", select(_mois(DecisionJury.le), func.count()).where(
            DecisionJury.candidature_id.in_(scope), DecisionJury.decision == "certifiee"),
            DecisionJury.le)
    return [{"mois": mois, **{k: series[mois].get(k, 0) for k in FLUX}}
            for mois in sorted(series)]


def _acquisition(by: Any, f: Filtres) -> list[dict]:
    """Acquisition rate per sous-domaine, at préalable and at finale (finalized evaluations
    of the dossiers of the cohort): whole months of creation from stats_acquisition, the
    dossiers created on the period's other days (or under a finer filter) from their
    results."""
    rates: dict[int, dict[str, list[int]]] = {}

    def add(rows):
        for type_, sd, acquis, total in rows:
            if total:
                cell = rates.setdefault(sd, {}).setdefault(type_, [0, 0])
                cell[0] += int(acquis or 0)
                cell[1] += int(total)

    types = ("prealable", "finale")
    jours = None
    if _par_agregats(by, f):
        mois_, jours = _decoupage(f)
        if mois_ is not None:
            A = StatsAcquisition
            add(db.session.execute(
                select(A.type, A.sous_domaine_id, func.sum(A.acquis), func.sum(A.total))
                .where(*_perimetre_agregat(A, by, f), A.type.in_(types),
                       *_mois_entiers(A.mois, mois_))
                .group_by(A.type, A.sous_domaine_id)))
        ids = None
        if jours:
            ids = select(StatsDossier.candidature_id).where(
                *_faits(by, f, cohorte=False), or_(*[and_(*_bornes(
                    StatsDossier.cree_le, Filtres(debut=a, fin=b))) for a, b in jours]))
    else:
        ids = select(StatsDossier.candidature_id).where(*_faits(by, f))
    if ids is not None:
        add(db.session.execute(
            select(Evaluation.type, ResultatEvaluation.sous_domaine_id,
                   func.sum(case((ResultatEvaluation.acquis.is_(True), 1), else_=0)),
                   func.count())
            .join(Evaluation, Evaluation.id == ResultatEvaluation.evaluation_id)
            .where(Evaluation.candidature_id.in_(ids), Evaluation.type.in_(types),
                   Evaluation.statut == "finalisee")
            .group_by(Evaluation.type, ResultatEvaluation.sous_domaine_id)))
    out = []
    if not rates:
        return out
    for sd in db.session.scalars(select(SousDomaine).join(Domaine).order_by(
            Domaine.ordre, SousDomaine.ordre)).all():
        r = rates.get(sd.id, {})
        p, fi = r.get("prealable", (0, 0)), r.get("finale", (0, 0))
        out.append({"code": sd.code, "intitule": sd.intitule,
                    "prealable": _ratio(*p), "prealable_evaluations": p[1],
                    "finale": _ratio(*fi), "finale_evaluations": fi[1]})
    return out


def _durees(faits: list) -> list[tuple[str, Optional[float], int]]:
    """Median durations between the steps, in days, over the dossiers' facts: computed by
    PostgreSQL (percentile_cont over the matching facts' stored durations, one statement; the
    national figures by position in the durations' indexes); elsewhere (SQLite) from the
    stored durations read."""
    labels = {"creation_prealable": _("Création → évaluation préalable"),
              "prealable_finale": _("Évaluation préalable → évaluation finale"),
              "finale_envoi": _("Dernière évaluation validée → envoi en certification"),
              "envoi_decision": _("Envoi en certification → décision du jury")}
    F = StatsDossier
    colonnes = {"creation_prealable": F.duree_prealable, "prealable_finale": F.duree_finale,
                "finale_envoi": F.duree_envoi, "envoi_decision": F.duree_decision}
    if db.session.get_bind().dialect.name == "postgresql":
        if not faits:  # national, unfiltered: by position in each duration's index
            return [(labels[k], *m) for k, m in zip(colonnes, _medianes_indexees(
                list(colonnes.values())))]
        columns = []
        for column in colonnes.values():
            columns += [func.percentile_cont(0.5).within_group(column), func.count(column)]
        row = db.session.execute(select(*columns).where(*faits)).one()
        return [(labels[k], round(row[2 * i], 1) if row[2 * i + 1] else None,
                 row[2 * i + 1]) for i, k in enumerate(colonnes)]
    values: dict[str, list[float]] = {k: [] for k in colonnes}
    for row in db.session.execute(select(*colonnes.values()).where(*faits)
                                  .execution_options(yield_per=BATCH)):
        for key, days in zip(colonnes, row):
            if days is not None:
                values[key].append(days)
    return [(labels[k], round(statistics.median(v), 1) if v else None, len(v))
            for k, v in values.items()]


def _medianes_indexees(colonnes: list) -> list[tuple[Optional[float], int]]:
    """percentile_cont(0.5) of each duration over every dossier, from its partial index: the
    counts (one statement), then the one or two middle values of each (one statement): index
    scans to the middle, not sorts of a million values; interpolated as PostgreSQL does."""
    counts = db.session.execute(select(*[
        select(func.count()).select_from(StatsDossier).where(c.is_not(None)).scalar_subquery()
        for c in colonnes])).one()
    middles = db.session.execute(select(*[
        func.array(select(c).where(c.is_not(None)).order_by(c)
                   .offset(max(n - 1, 0) // 2).limit(2).scalar_subquery())
        for c, n in zip(colonnes, counts)])).one()
    out = []
    for n, milieu in zip(counts, middles):
        if not n:
            out.append((None, 0))
            continue
        bas = milieu[0]
        haut = milieu[1] if n % 2 == 0 else bas
        out.append((round(bas + (haut - bas) * 0.5, 1), n))
    return out


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
