"""The Stats page's aggregates, kept exact in the transactions that change them (DESIGN §10).

Tables (models/agregats.py): `stats_dossier` (one row of facts per candidature),
`stats_flux_mois` / `stats_flux_jour` (the events of the monthly flows per réseau and
organisme), `stats_acquisition` (results acquis / total per réseau, organisme, month of
creation, type d'évaluation and sous-domaine), `stats_compteurs` (the dossiers per réseau,
organisme, month of creation, status and motive of abandonment).

One rule, in one place: a dossier's rows (its facts, its share of the counts) are what the
set-based statements below compute from the source tables (`_faits`, `_evenements`,
`_resultats`); `recalculer()` runs them over everything, and the session listeners run them
for the dossiers a transaction touches:
- before a change reaches the database (before the flush of an object, before a bulk
  UPDATE/DELETE of the status machine or the evaluations), the touched dossiers' share of the
  counts is read once per transaction (their committed state);
- before the commit, their facts are rewritten and the counts receive the difference between
  their new share and the old one (UPSERT: nombre = nombre + delta, safe under concurrency).
A change is anything that moves a counted figure or a fact: creation, status transition,
abandon and réintégration, evaluation finalized or reopened, sending, jury decision, formation,
certificate, deletion, rattachement (the dossier changes établissement), an établissement
moving to another organisme or an organisme to another réseau. Bulk INSERTs that bypass the ORM (the synthetic
data loader) call `recalculer()` afterwards."""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Optional

from sqlalchemy import BigInteger, Date, Float, Integer, and_, case, cast, delete, event, \
    extract, false, func, inspect, literal, literal_column, select, text, union_all
from sqlalchemy.orm import Session, aliased

from app.extensions import db
from app.models import Etablissement, Organisme
from app.models import candidature as C
from app.models.agregats import (StatsAcquisition, StatsCompteurs, StatsDossier, StatsFluxJour,
                                 StatsFluxMois)
from app.models.candidature import Candidature, HistoriqueStatut
from app.models.evaluation import Evaluation, Formation, ResultatEvaluation
from app.models.jury import Certificat, DecisionJury
from app.models.referentiel import Domaine, SousDomaine

AVANT = "clea_agregats_avant"  # session.info: the old share of the touched dossiers
VUS = "clea_agregats_vus"  # the dossiers whose old share is read
A_FAIRE = "clea_agregats_a_faire"  # the dossiers to rewrite at commit
CHUNK = 500
NATURES = ("crees", "prealables", "finales", "envoyes", "certifies")
COMPTES = ("nombre", "prealable_finalise", "prealable_valide", "certifiee", "non_certifiee",
           "complement")
# Roll-up rows of the count tables: (réseau, TOUS) sums the réseau's organismes, (TOUS, TOUS)
# the whole country, so that a national or réseau Stats page reads a few thousand rows, not
# the millions of the organisme level. Every reader chooses one level (stats._perimetre_agregat).
TOUS = -1
# The count tables: model, key columns after (réseau, organisme), value columns
TABLES_COMPTES = (
    (StatsFluxJour, ("jour", "nature"), ("nombre",)),
    (StatsFluxMois, ("mois", "nature"), ("nombre",)),
    (StatsAcquisition, ("mois", "type", "sous_domaine_id"), ("acquis", "total")),
    (StatsCompteurs, ("mois", "statut", "motif_abandon"), COMPTES),
)


def _dialect(bind) -> str:
    return bind.dialect.name


def mois(column, dialect: str):
    if dialect == "postgresql":
        return func.to_char(column, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), column)


def _jour(column, dialect: str):
    return cast(column, Date) if dialect == "postgresql" else func.date(column)


def _reseau():
    return func.coalesce(Organisme.reseau_id, literal_column("0"))


def _within(column, ids):
    return column.in_(ids) if ids is not None else literal(True)


# --- the rule: facts and shares computed from the sources ------------------------------------

def duree(debut, fin, dialect: str):
    """Days from `debut` to `fin` (None when `fin` is missing or earlier): the durations whose
    medians the Stats page shows, stored with the facts so that PostgreSQL reads a national
    median by its position in an index."""
    if dialect == "postgresql":
        jours = cast(extract("epoch", fin - debut), Float) / 86400.0
    else:
        jours = (func.julianday(fin) - func.julianday(debut))
    return case((fin >= debut, jours))


MASQUE_BITS = 63  # sous-domaines a results' mask holds (a signed 64-bit integer; CléA: 28)


# The sous-domaines in the export's column order: version by version (a new référentiel's
# sous-domaines come after the others, so that the bits already kept stay where they are),
# then domain and sous-domaine.
ORDRE_SOUS_DOMAINES = (Domaine.referentiel_id, Domaine.ordre, SousDomaine.ordre, SousDomaine.id)


def _positions():
    """Each sous-domaine's position in ORDRE_SOUS_DOMAINES, from 0: the bit of its result in
    the masks (the export's columns, in the same order)."""
    rang = func.row_number().over(order_by=ORDRE_SOUS_DOMAINES)
    return (select(SousDomaine.id.label("sd"), cast(rang - 1, Integer).label("pos"))
            .join(Domaine, Domaine.id == SousDomaine.domaine_id).subquery("positions"))


def _faits(ids=None, dialect: str = "postgresql"):
    """One row per candidature, in the column order of stats_dossier."""
    def restrict(query, column):
        return query.where(column.in_(ids)) if ids is not None else query

    E, R, D = Evaluation, ResultatEvaluation, DecisionJury
    finalisee = E.statut == "finalisee"
    # the evaluations in one pass: the first finalized préalable (date and id), the last
    # validated finale, the last finalized evaluation
    ev = restrict(select(E.candidature_id.label("cid"),
                         func.min(E.finalisee_le).filter(E.type == "prealable", finalisee)
                         .label("pre"),
                         func.min(E.id).filter(E.type == "prealable", finalisee)
                         .label("pre_id"),
                         func.max(E.finalisee_le).filter(E.type == "finale", finalisee,
                                                         E.resultat == "valide").label("fin"),
                         func.max(E.id).filter(finalisee).label("der_id"))
                  .where(finalisee), E.candidature_id).group_by(E.candidature_id).subquery()
    premiere, derniere = aliased(Evaluation), aliased(Evaluation)
    positions = _positions()
    bit = literal(1, BigInteger).op("<<")(positions.c.pos)
    masques = (select(ev.c.cid.label("cid"),
                      cast(func.sum(case((R.acquis.is_(True), bit), else_=0)), BigInteger)
                      .label("acquis"),
                      cast(func.sum(case((R.acquis.is_(False), bit), else_=0)), BigInteger)
                      .label("non_acquis"))
               .select_from(ev)
               .join(R, R.evaluation_id == ev.c.der_id)
               .join(positions, positions.c.sd == R.sous_domaine_id)
               .where(positions.c.pos < MASQUE_BITS)
               .group_by(ev.c.cid).subquery())
    env = restrict(select(HistoriqueStatut.candidature_id.label("cid"),
                          func.min(HistoriqueStatut.le).label("d"))
                   .where(HistoriqueStatut.vers == C.ATTENTE_JURY,
                          HistoriqueStatut.de == C.A_ENVOYER),
                   HistoriqueStatut.candidature_id).group_by(
        HistoriqueStatut.candidature_id).subquery()

    def compte(code):
        return func.sum(case((D.decision == code, 1), else_=0))

    dec = restrict(select(D.candidature_id.label("cid"),
                          func.max(case((D.decision != "complement", D.le))).label("d"),
                          compte("certifiee").label("certifiee"),
                          compte("non_certifiee").label("non_certifiee"),
                          compte("complement").label("complement"),
                          func.max(D.id).label("der_id")),
                   D.candidature_id).group_by(D.candidature_id).subquery()
    derniere_decision = aliased(DecisionJury)
    heures = restrict(select(Formation.candidature_id.label("cid"),
                             cast(func.sum(Formation.duree_heures), Float).label("h")),
                      Formation.candidature_id).group_by(Formation.candidature_id).subquery()
    validee = func.coalesce(ev.c.fin, ev.c.pre)  # what made it « à envoyer »
    query = (select(Candidature.id, Candidature.etablissement_id, Etablissement.organisme_id,
                    _reseau(), Candidature.created_on, Candidature.type_public,
                    Candidature.niveau_formation, Candidature.statut, Candidature.motif_abandon,
                    case((ev.c.pre_id.is_not(None), 1), else_=0),
                    case((premiere.resultat == "valide", 1), else_=0),
                    ev.c.pre, ev.c.fin, env.c.d, dec.c.d,
                    func.coalesce(dec.c.certifiee, 0), func.coalesce(dec.c.non_certifiee, 0),
                    func.coalesce(dec.c.complement, 0),
                    duree(Candidature.created_on, ev.c.pre, dialect),
                    duree(ev.c.pre, ev.c.fin, dialect), duree(validee, env.c.d, dialect),
                    duree(env.c.d, dec.c.d, dialect),
                    derniere.type, derniere.resultat, masques.c.acquis, masques.c.non_acquis,
                    func.coalesce(heures.c.h, literal(0.0)), derniere_decision.decision,
                    Certificat.numero)
             .join(Etablissement, Etablissement.id == Candidature.etablissement_id)
             .join(Organisme, Organisme.id == Etablissement.organisme_id)
             .outerjoin(ev, ev.c.cid == Candidature.id)
             .outerjoin(premiere, premiere.id == ev.c.pre_id)
             .outerjoin(derniere, derniere.id == ev.c.der_id)
             .outerjoin(masques, masques.c.cid == Candidature.id)
             .outerjoin(env, env.c.cid == Candidature.id)
             .outerjoin(dec, dec.c.cid == Candidature.id)
             .outerjoin(derniere_decision, derniere_decision.id == dec.c.der_id)
             .outerjoin(heures, heures.c.cid == Candidature.id)
             .outerjoin(Certificat, Certificat.candidature_id == Candidature.id))
    return restrict(query, Candidature.id)


FAITS_COLONNES = [c.name for c in StatsDossier.__table__.columns]


def _evenements(dialect: str, ids=None):
    """The events of the flows, per (réseau, organisme, day, nature): count."""
    def branche(nature, column, source, *conditions, cid):
        query = (select(_reseau().label("reseau_id"), Etablissement.organisme_id.label("org"),
                        column.label("le"), literal(nature).label("nature"))
                 .select_from(source))
        if source is not Candidature:
            query = query.join(Candidature, Candidature.id == cid)
        return (query
                .join(Etablissement, Etablissement.id == Candidature.etablissement_id)
                .join(Organisme, Organisme.id == Etablissement.organisme_id)
                .where(*conditions, _within(cid, ids)))

    tous = union_all(
        branche("crees", Candidature.created_on, Candidature, cid=Candidature.id),
        branche("prealables", Evaluation.finalisee_le, Evaluation,
                Evaluation.type == "prealable", Evaluation.statut == "finalisee",
                cid=Evaluation.candidature_id),
        branche("finales", Evaluation.finalisee_le, Evaluation,
                Evaluation.type == "finale", Evaluation.statut == "finalisee",
                cid=Evaluation.candidature_id),
        branche("envoyes", HistoriqueStatut.le, HistoriqueStatut,
                HistoriqueStatut.vers == C.ATTENTE_JURY, HistoriqueStatut.de == C.A_ENVOYER,
                cid=HistoriqueStatut.candidature_id),
        branche("certifies", DecisionJury.le, DecisionJury,
                DecisionJury.decision == "certifiee", cid=DecisionJury.candidature_id),
    ).subquery()
    jour = _jour(tous.c.le, dialect)
    return (select(tous.c.reseau_id, tous.c.org, jour, tous.c.nature, func.count())
            .where(tous.c.le.is_not(None))
            .group_by(tous.c.reseau_id, tous.c.org, jour, tous.c.nature))


def _resultats(dialect: str, ids=None):
    """Per (réseau, organisme, month of creation, type, sous-domaine): acquis, total."""
    m = mois(Candidature.created_on, dialect)
    return (select(_reseau(), Etablissement.organisme_id, m, Evaluation.type,
                   ResultatEvaluation.sous_domaine_id,
                   func.sum(case((ResultatEvaluation.acquis.is_(True), 1), else_=0)),
                   func.count())
            .join(Evaluation, Evaluation.id == ResultatEvaluation.evaluation_id)
            .join(Candidature, Candidature.id == Evaluation.candidature_id)
            .join(Etablissement, Etablissement.id == Candidature.etablissement_id)
            .join(Organisme, Organisme.id == Etablissement.organisme_id)
            .where(Evaluation.statut == "finalisee", _within(Candidature.id, ids))
            .group_by(_reseau(), Etablissement.organisme_id, m, Evaluation.type,
                      ResultatEvaluation.sous_domaine_id))


# --- full recomputation ---------------------------------------------------------------------

def recalculer_sur(connection) -> None:
    """Empty the aggregates and fill them from the sources, set-based (a bulk load of a
    million dossiers takes a few statements)."""
    dialect = _dialect(connection)
    if dialect == "postgresql":
        # the acquisition rates group some 50 million results of a national base into a few
        # million groups: in memory, not spilled to disk by batches (this transaction only)
        connection.execute(text("SET LOCAL work_mem = '1GB'"))
    for table in (StatsDossier, StatsFluxMois, StatsFluxJour, StatsAcquisition, StatsCompteurs):
        connection.execute(delete(table.__table__))
    colonnes, faits = _faits_presents(connection, _faits(dialect=dialect))
    connection.execute(StatsDossier.__table__.insert().from_select(
        colonnes, faits, include_defaults=False))
    F = StatsDossier.__table__.c
    m = mois(F.cree_le, dialect)
    motif = func.coalesce(F.motif_abandon, literal_column("''"))
    connection.execute(StatsCompteurs.__table__.insert().from_select(
        ["reseau_id", "organisme_id", "mois", "statut", "motif_abandon", *COMPTES],
        select(F.reseau_id, F.organisme_id, m, F.statut, motif, func.count(),
               *[func.sum(F[name]) for name in COMPTES[1:]])
        .group_by(F.reseau_id, F.organisme_id, m, F.statut, motif)))
    jour = StatsFluxJour.__table__
    connection.execute(jour.insert().from_select(
        ["reseau_id", "organisme_id", "jour", "nature", "nombre"], _evenements(dialect)))
    m = mois(jour.c.jour, dialect)
    connection.execute(StatsFluxMois.__table__.insert().from_select(
        ["reseau_id", "organisme_id", "mois", "nature", "nombre"],
        select(jour.c.reseau_id, jour.c.organisme_id, m, jour.c.nature, func.sum(jour.c.nombre))
        .group_by(jour.c.reseau_id, jour.c.organisme_id, m, jour.c.nature)))
    connection.execute(StatsAcquisition.__table__.insert().from_select(
        ["reseau_id", "organisme_id", "mois", "type", "sous_domaine_id", "acquis", "total"],
        _resultats(dialect)))
    for model, keys, values in TABLES_COMPTES:
        t = model.__table__
        colonnes = ["reseau_id", "organisme_id", *keys, *values]
        for reseau, source in ((t.c.reseau_id, t.c.organisme_id != TOUS),
                               (literal(TOUS), and_(t.c.reseau_id != TOUS,
                                                    t.c.organisme_id == TOUS))):
            connection.execute(t.insert().from_select(colonnes, select(
                reseau, literal(TOUS), *[t.c[k] for k in keys],
                *[func.sum(t.c[v]) for v in values])
                .where(source).group_by(reseau, *[t.c[k] for k in keys])))


def _faits_presents(connection, faits):
    """The facts' columns the database has, and their statement: all of them, except when an
    older migration recomputes (its schema lacks the columns that later ones add)."""
    present = {c["name"] for c in inspect(connection).get_columns(StatsDossier.__tablename__)}
    if present >= set(FAITS_COLONNES):
        return FAITS_COLONNES, faits
    source = list(faits.subquery().c)
    kept = [i for i, name in enumerate(FAITS_COLONNES) if name in present]
    return [FAITS_COLONNES[i] for i in kept], select(*[source[i] for i in kept])


def niveau(model, kind: Optional[str], pk: Optional[int],
           organisme_id: Optional[int] = None) -> list:
    """The rows of a count table (TABLES_COMPTES) that sum to a perimeter (perimeter.scope_of's
    kind and id: national, réseau, organisme, or "none"), narrowed to one organisme if given:
    one level of rows, never two (an organisme's own rows, else the réseau's or the nation's
    roll-up)."""
    from app.security import roles as R

    conditions = []
    if kind == R.RESEAU:
        conditions.append(model.reseau_id == pk)
    elif kind == R.ORGANISME:
        conditions.append(model.organisme_id == pk)
    elif kind == "none":
        conditions.append(false())
    if organisme_id:
        conditions.append(model.organisme_id == organisme_id)
    elif kind == R.RESEAU:
        conditions.append(model.organisme_id == TOUS)
    elif kind == R.NATIONAL:
        conditions += [model.reseau_id == TOUS, model.organisme_id == TOUS]
    return conditions


def dossiers_par_statut(scope) -> Optional[dict[str, int]]:
    """The dossiers per status of a national, réseau or organisme scope (perimeter.scope_of)
    from stats_compteurs (niveau); None for another scope."""
    from app.security import roles as R

    if scope.kind not in (R.NATIONAL, R.RESEAU, R.ORGANISME):
        return None
    K = StatsCompteurs
    rows = db.session.execute(select(K.statut, func.sum(K.nombre))
                              .where(*niveau(K, scope.kind, scope.id)).group_by(K.statut)).all()
    return {statut: int(n) for statut, n in rows if n}


def recalculer(commit: bool = True) -> None:
    """`flask clea stats-recalculer`, and after a bulk load: every aggregate from scratch."""
    session = db.session
    session.flush()
    for key in (AVANT, VUS, A_FAIRE):  # what is pending is read from the database now
        session.info.pop(key, None)
    recalculer_sur(session.connection())
    if commit:
        session.commit()


def instantane(session=None) -> dict:
    """The aggregates' content without the rows at zero (what `recalculer` would write)."""
    session = session or db.session
    out = {}
    for model in (StatsDossier, StatsFluxMois, StatsFluxJour, StatsAcquisition, StatsCompteurs):
        table = model.__table__
        rows = session.execute(select(table)).all()
        if model in (StatsFluxMois, StatsFluxJour, StatsCompteurs):
            rows = [r for r in rows if r.nombre]
        elif model is StatsAcquisition:
            rows = [r for r in rows if r.total]
        out[table.name] = sorted(tuple(_plain(v) for v in r) for r in rows)
    return out


def _plain(value):
    import datetime as dt

    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        return dt.date.fromisoformat(value)
    return value


# --- incremental upkeep ---------------------------------------------------------------------

def _chunks(ids: Iterable[int]):
    ids = sorted(i for i in ids if i is not None)
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _part(session, ids) -> Counter:
    """The share of these dossiers in the counts: {(table, key...): value}."""
    import datetime as dt

    dialect = _dialect(session.get_bind())
    part: Counter = Counter()
    for chunk in _chunks(ids):
        for reseau, org, jour, nature, n in session.execute(_evenements(dialect, chunk)):
            if isinstance(jour, str):
                jour = dt.date.fromisoformat(jour)
            part[("jour", reseau, org, jour, nature)] += n
            part[("mois", reseau, org, jour.strftime("%Y-%m"), nature)] += n
        for reseau, org, m, type_, sd, acquis, total in session.execute(
                _resultats(dialect, chunk)):
            part[("acquis", reseau, org, m, type_, sd)] += int(acquis or 0)
            part[("total", reseau, org, m, type_, sd)] += total
        for row in session.execute(_faits(chunk, dialect)):
            fait = dict(zip(FAITS_COLONNES, row))
            key = (fait["reseau_id"], fait["organisme_id"], _mois_de(fait["cree_le"]),
                   fait["statut"], fait["motif_abandon"] or "")
            part[("compte", "nombre", *key)] += 1
            for name in COMPTES[1:]:
                part[("compte", name, *key)] += int(fait[name] or 0)
    return part


def _mois_de(value) -> str:
    import datetime as dt

    if isinstance(value, str):  # SQLite without type information in a computed column
        value = dt.datetime.fromisoformat(value)
    return value.strftime("%Y-%m")


def _lire_avant(session, ids: set) -> None:
    vus = session.info.setdefault(VUS, set())
    nouveaux = {i for i in ids if i is not None} - vus
    if not nouveaux:
        return
    vus |= nouveaux
    session.info.setdefault(A_FAIRE, set()).update(nouveaux)
    with session.no_autoflush:
        session.info.setdefault(AVANT, Counter()).update(_part(session, nouveaux))


def _upsert(session, model, keys, rows, values):
    if not rows:
        return
    table = model.__table__
    if _dialect(session.get_bind()) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={
        v: table.c[v] + stmt.excluded[v] for v in values})
    session.execute(stmt, rows)


def _appliquer(session) -> None:
    ids = session.info.pop(A_FAIRE, set())
    avant = session.info.pop(AVANT, Counter())
    session.info.pop(VUS, None)
    if not ids:
        return
    table = StatsDossier.__table__
    for chunk in _chunks(ids):
        session.execute(delete(table).where(table.c.candidature_id.in_(chunk)))
        session.execute(table.insert().from_select(
            FAITS_COLONNES, _faits(chunk, _dialect(session.get_bind()))))
    delta = _part(session, ids)
    delta.subtract(avant)
    jours, mois_, acquisition, comptes = [], [], {}, {}
    for key, n in delta.items():
        if not n:
            continue
        if key[0] == "compte":
            _kind, name, reseau, org, m, statut, motif = key
            row = comptes.setdefault((reseau, org, m, statut, motif), {
                "reseau_id": reseau, "organisme_id": org, "mois": m, "statut": statut,
                "motif_abandon": motif, **{c: 0 for c in COMPTES}})
            row[name] += n
            continue
        kind, reseau, org, *rest = key
        if kind == "jour":
            jours.append({"reseau_id": reseau, "organisme_id": org, "jour": rest[0],
                          "nature": rest[1], "nombre": n})
        elif kind == "mois":
            mois_.append({"reseau_id": reseau, "organisme_id": org, "mois": rest[0],
                          "nature": rest[1], "nombre": n})
        else:
            row = acquisition.setdefault((reseau, org, *rest), {
                "reseau_id": reseau, "organisme_id": org, "mois": rest[0], "type": rest[1],
                "sous_domaine_id": rest[2], "acquis": 0, "total": 0})
            row[kind] += n
    for (model, keys, values), rows in zip(TABLES_COMPTES, (
            jours, mois_, list(acquisition.values()), list(comptes.values()))):
        _upsert(session, model, ["reseau_id", "organisme_id", *keys],
                _avec_cumuls(rows, keys, values), list(values))


def _avec_cumuls(rows: list, keys, values) -> list:
    """The organisme-level deltas and the réseau and national roll-ups they move, sorted by
    key (concurrent transactions then lock the rows they share in the same order)."""
    out: dict = {}
    for row in rows:
        for reseau, org in ((row["reseau_id"], row["organisme_id"]),
                            (row["reseau_id"], TOUS), (TOUS, TOUS)):
            key = (reseau, org, *[row[k] for k in keys])
            cell = out.setdefault(key, {"reseau_id": reseau, "organisme_id": org,
                                        **{k: row[k] for k in keys}, **{v: 0 for v in values}})
            for v in values:
                cell[v] += row[v]
    return [out[key] for key in sorted(out, key=lambda k: tuple(str(x) for x in k))]


# What moves a counted figure, per model (the attributes the statements above read).
SUIVI = {
    Candidature: {"statut", "etablissement_id", "type_public", "niveau_formation",
                  "motif_abandon", "created_on"},
    Evaluation: {"statut", "resultat", "finalisee_le", "type", "candidature_id"},
    ResultatEvaluation: {"acquis", "sous_domaine_id", "evaluation_id"},
    HistoriqueStatut: {"de", "vers", "le", "candidature_id"},
    DecisionJury: {"decision", "le", "candidature_id"},
    Formation: {"duree_heures", "candidature_id"},
    Certificat: {"numero", "candidature_id"},
    Etablissement: {"organisme_id"},
    Organisme: {"reseau_id"},
}


def _dossiers_de(session, obj, state) -> set:
    """The candidature ids whose figures `obj` counts in (old and new values)."""
    def valeurs(attr):
        hist = state.attrs[attr].history
        return {v for v in (*hist.deleted, *hist.unchanged, *hist.added) if v is not None} or (
            {state.dict[attr]} if state.dict.get(attr) is not None else set())

    if isinstance(obj, Candidature):
        return {obj.id} if obj.id is not None else set()
    if isinstance(obj, (Evaluation, HistoriqueStatut, DecisionJury, Formation, Certificat)):
        ids = valeurs("candidature_id")
        if not ids and "candidature" in state.dict and state.dict["candidature"] is not None:
            ids = {state.dict["candidature"].id}
        return ids
    if isinstance(obj, ResultatEvaluation):
        ids = set()
        for eid in valeurs("evaluation_id"):  # a draft's grid counts for nothing
            ids |= set(session.scalars(select(Evaluation.candidature_id).where(
                Evaluation.id == eid, Evaluation.statut == "finalisee")))
        return ids
    if isinstance(obj, Etablissement) and obj.id is not None:
        return set(session.scalars(select(Candidature.id).where(
            Candidature.etablissement_id == obj.id)))
    if isinstance(obj, Organisme) and obj.id is not None:
        return set(session.scalars(select(Candidature.id).join(
            Etablissement, Etablissement.id == Candidature.etablissement_id).where(
            Etablissement.organisme_id == obj.id)))
    return set()


def _before_flush(session: Session, _context, _instances) -> None:
    ids: set = set()
    with session.no_autoflush:
        for kind, objects in (("new", session.new), ("dirty", session.dirty),
                              ("deleted", session.deleted)):
            for obj in list(objects):
                suivis = SUIVI.get(type(obj))
                if suivis is None:
                    continue
                state = inspect(obj)
                if kind == "dirty" and not any(
                        state.attrs[a].history.has_changes() for a in suivis):
                    continue
                if kind == "new" and isinstance(obj, (Candidature, Etablissement, Organisme)):
                    continue  # no share yet: rewritten after the flush gives it an id
                if kind == "new" and isinstance(obj, Evaluation) and \
                        state.dict.get("statut") != "finalisee":
                    continue  # a draft counts for nothing
                ids |= _dossiers_de(session, obj, state)
    if ids:
        _lire_avant(session, ids)


def _after_flush(session: Session, _context) -> None:
    nouveaux = {obj.id for obj in session.new if isinstance(obj, Candidature)}
    if nouveaux:
        session.info.setdefault(A_FAIRE, set()).update(nouveaux)
        session.info.setdefault(VUS, set()).update(nouveaux)


def _do_orm_execute(state) -> None:
    """A bulk UPDATE or DELETE through the ORM (the status machine's compare-and-set, the
    evaluations' finalize and reopen, a dossier's deletion): read the touched dossiers' share
    before it runs."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    model = mapper.class_ if mapper is not None else None
    suivis = SUIVI.get(model)
    if suivis is None:
        return
    statement = state.statement
    if state.is_update:
        keys = {getattr(k, "key", k) for k in getattr(statement, "_values", None) or {}}
        if keys and not keys & suivis:
            return
    where = statement.whereclause
    session = state.session
    if model is Candidature:
        query = select(Candidature.id)
    elif model is ResultatEvaluation:
        query = select(Evaluation.candidature_id).join(
            ResultatEvaluation, ResultatEvaluation.evaluation_id == Evaluation.id)
    elif model is Etablissement:
        query = select(Candidature.id).join(
            Etablissement, Etablissement.id == Candidature.etablissement_id)
    elif model is Organisme:
        query = select(Candidature.id).join(
            Etablissement, Etablissement.id == Candidature.etablissement_id).join(
            Organisme, Organisme.id == Etablissement.organisme_id)
    else:
        query = select(model.candidature_id)
    if where is not None:
        query = query.where(where)
    _lire_avant(session, set(session.scalars(query)))


def _before_commit(session: Session) -> None:
    session.flush()
    if session.info.get(A_FAIRE):
        _appliquer(session)


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        for key in (AVANT, VUS, A_FAIRE):
            session.info.pop(key, None)


def install() -> None:
    """Listen on every ORM session (called once at import)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _do_orm_execute)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)


install()
