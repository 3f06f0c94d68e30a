"""The Stats aggregates stay exact: after a seeded series of random operations through the
services (create, evaluate, finalize, reopen, record a formation, its hours changed, send,
decide, abandon, réintégrer, delete, rattachement, dates moved), the aggregates (the export's
facts included: last evaluation and its results as masks, hours, last decision, certificate) equal a full recomputation, and `indicateurs()`
equals the direct computation from the source tables (main's, kept below as the reference)
for several perimeters and filters; the Stats page runs a fixed, small number of statements."""
from __future__ import annotations

import datetime as dt
import random
import re
import statistics

import pytest
from sqlalchemy import case, func, select

from app.extensions import db
from app.models import Etablissement, Habilitation
from app.models.agregats import StatsDossier
from app.models import candidature as C
from app.models.candidature import Candidature, HistoriqueStatut
from app.models.evaluation import Evaluation, Formation, ResultatEvaluation
from app.models.jury import DecisionJury
from app.models.referentiel import Domaine, SousDomaine
from app.security import perimeter
from app.services import agregats, candidatures, certification, evaluations, rattachements, stats
from app.services.errors import ServiceError
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import dossier, habiliter
from tests.integration.test_certification import session
from tests.integration.test_evaluations import matrice_deposee, remplir
from tests.world import user

ADRESSE = {"email": "x@exemple.fr", "adresse": "1 rue Haute", "code_postal": "75011",
           "ville": "Paris"}
MAIN = {"etab_a1": "utilisateur_etablissement_a", "etab_a1b": "utilisateur_organisme_a",
        "etab_b1": "utilisateur_etablissement_b"}
dossiers = candidatures


def indicateurs_directs(by, f):
    """The indicators as main computed them, from the source tables (the reference)."""
    from app.services.certification import DECISIONS as DECISION_LABELS

    ids = stats._dossiers(by, f)
    out = stats.Indicateurs()
    counts = dict(db.session.execute(select(Candidature.statut, func.count()).where(
        Candidature.id.in_(ids)).group_by(Candidature.statut)).all())
    out.total = sum(counts.values())
    out.par_statut = [(code, str(label), counts.get(code, 0))
                      for code, label in dossiers.STATUTS.items()]

    # Monthly flows: the events of the period, for the dossiers of the perimeter and filters.
    scope = stats._dossiers(by, f, cohorte=False)
    series: dict[str, dict[str, int]] = {}

    def add(name, query, column):
        query = stats._periode(query, column, f)
        for mois, n in db.session.execute(query.group_by(stats._mois(column))).all():
            series.setdefault(mois, {}).setdefault(name, 0)
            series[mois][name] += n

    add("crees", select(stats._mois(Candidature.created_on), func.count()).where(
        Candidature.id.in_(scope)), Candidature.created_on)
    for name, type_ in (("prealables", "prealable"), ("finales", "finale")):
        add(name, select(stats._mois(Evaluation.finalisee_le), func.count()).where(
            Evaluation.candidature_id.in_(scope), Evaluation.type == type_,
            Evaluation.statut == "finalisee"), Evaluation.finalisee_le)
    add("envoyes", select(stats._mois(HistoriqueStatut.le), func.count()).where(
        HistoriqueStatut.candidature_id.in_(scope), HistoriqueStatut.vers == C.ATTENTE_JURY,
        HistoriqueStatut.de == C.A_ENVOYER), HistoriqueStatut.le)
    add("certifies", select(stats._mois(DecisionJury.le), func.count()).where(
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
    out.taux_premier_coup = stats._ratio(out.prealables_valides, out.prealables_finalises)

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
                                "prealable": stats._ratio(*p), "prealable_evaluations": p[1],
                                "finale": stats._ratio(*fi), "finale_evaluations": fi[1]})

    out.durees = durees_directes(ids)

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
        ("en_attente", stats._("En attente")), ("validee", stats._("Validée")),
        ("rejetee", stats._("Rejetée")), ("expiree", stats._("Expirée")))]
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


def durees_directes(ids):
    labels = {"creation_prealable": stats._("Création → évaluation préalable"),
              "prealable_finale": stats._("Évaluation préalable → évaluation finale"),
              "finale_envoi": stats._("Dernière évaluation validée → envoi en certification"),
              "envoi_decision": stats._("Envoi en certification → décision du jury")}
    values = {k: [] for k in ETAPES}
    for _id, cree, pre, fin, env, dec in db.session.execute(_etapes(ids)):
        validee = fin or pre
        for key, a, b in (("creation_prealable", cree, pre), ("prealable_finale", pre, fin),
                          ("finale_envoi", validee, env), ("envoi_decision", env, dec)):
            if a and b and b >= a:
                values[key].append((b - a).total_seconds() / 86400)
    return [(labels[k], round(statistics.median(v), 1) if v else None, len(v))
            for k, v in values.items()]


# --- a seeded series of random operations through the services ------------------------------

def _handler(c):
    key = next(k for k, pk in _WORLD.ids.items() if pk == c.etablissement_id and k in MAIN)
    return user(MAIN[key])


_WORLD = None


def _operations(world, seed, steps):
    """Random operations; a refused one (ServiceError) is rolled back and the series goes on."""
    global _WORLD
    _WORLD = world
    rng = random.Random(seed)
    habiliter(world, "etab_a1", "etab_a1b", "etab_b1")
    session(world)
    # two dossiers first, so that the rarest facts exist: one through to its certificate (a
    # formation on the way), one with sous-domaines not acquired
    premier, second = (candidatures.creer(dossier(
        world, etab="etab_a1", nom_naissance=f"Parcours{seed}x{n}", **ADRESSE),
        user(MAIN["etab_a1"]), True) for n in (1, 2))
    for c, sauf in ((premier, 0), (second, 5)):
        ev = evaluations.creer(c, _handler(c))
        remplir(ev, acquis_sauf=sauf, by=_handler(c).username)
        matrice_deposee(ev, by=_handler(c).username)
        evaluations.finaliser(ev, _handler(c))
    evaluations.ajouter_formation(premier, {
        "intitule": "Remise à niveau", "organisme_formateur": "OF", "formateur": "Paul Form",
        "date_debut": "2026-01-05", "date_fin": "2026-01-30", "duree_heures": "21",
        "modalite": "presentiel", "sous_domaines": []}, _handler(premier))
    certification.envoyer_en_certification(premier, _handler(premier))
    certification.decider(premier, "certifiee", "", user("certif_pro_a"))
    live: list[int] = [premier.id, second.id]
    for i in range(steps):
        op = rng.choice(["creer", "creer", "evaluer", "evaluer", "rouvrir", "envoyer",
                         "decider", "abandonner", "reintegrer", "supprimer", "rattacher",
                         "dater", "former", "former", "heures"])
        c = db.session.get(Candidature, rng.choice(live)) if live else None
        try:
            if op == "creer" or c is None:
                etab = rng.choice(list(MAIN))
                new = candidatures.creer(dossier(
                    world, etab=etab, nom_naissance=f"Nom{seed}x{i}",
                    type_public=rng.choice([None, *candidatures.TYPES_PUBLIC]),
                    niveau_formation=str(rng.choice([1, 3, 4])), **ADRESSE),
                    user(MAIN[etab]), True)
                live.append(new.id)
            elif op == "evaluer":
                by = _handler(c)
                ev = evaluations.creer(c, by)
                remplir(ev, acquis_sauf=rng.choice([0, 0, 3, 10]), by=by.username)
                matrice_deposee(ev, by=by.username)
                evaluations.finaliser(ev, by)
            elif op == "rouvrir":
                ev = evaluations.derniere_finalisee(c)
                if ev is not None:
                    evaluations.rouvrir(ev, user("certif_pro_a"))
                    db.session.commit()
            elif op == "envoyer":
                certification.envoyer_en_certification(c, _handler(c))
            elif op == "decider":
                decision = rng.choice(["certifiee", "non_certifiee", "complement"])
                certification.decider(c, decision, "" if decision == "certifiee" else
                                      "Motif de la décision.", user("certif_pro_a"))
            elif op == "abandonner":
                candidatures.abandonner(c, rng.choice(list(candidatures.MOTIFS_ABANDON)), "",
                                        _handler(c))
            elif op == "reintegrer":
                candidatures.reintegrer(c, _handler(c))
            elif op == "supprimer":
                cid = c.id
                candidatures.supprimer(c, _handler(c))
                live.remove(cid)
            elif op == "rattacher":
                cible = rng.choice([k for k in MAIN if world.ids[k] != c.etablissement_id])
                demande = rattachements.demander(c.id, {
                    "etablissement_cible_id": world.ids[cible],
                    "motif": next(iter(rattachements.MOTIFS)),
                    "motif_texte": "Le candidat a déménagé."}, user(MAIN[cible]))
                rattachements.decider(demande, True, "", user("certif_pro_a"))
            elif op == "former":
                evaluations.ajouter_formation(c, {
                    "intitule": "Remise à niveau", "organisme_formateur": "OF",
                    "formateur": "Paul Form", "date_debut": "2026-01-05",
                    "date_fin": "2026-01-30", "duree_heures": str(rng.choice([7, 35, 70])),
                    "modalite": "presentiel", "sous_domaines": []}, _handler(c))
            elif op == "heures":  # a change the services do not make, seen all the same
                formation = db.session.scalars(select(Formation).where(
                    Formation.candidature_id == c.id)).first()
                if formation is not None:
                    formation.duree_heures = rng.choice([3.5, 14, 140])
                    db.session.commit()
            elif op == "dater":  # another day and month, for the period filters
                shift = dt.timedelta(days=rng.randint(1, 70), hours=rng.randint(0, 23))
                c.created_on = c.created_on - shift
                for ev in db.session.scalars(select(Evaluation).where(
                        Evaluation.candidature_id == c.id, Evaluation.finalisee_le.is_not(None))):
                    ev.finalisee_le = ev.finalisee_le - shift / 2
                db.session.commit()
        except ServiceError:
            db.session.rollback()
    db.session.commit()
    return live


FILTRES = [
    {}, {"type_public": "salarie"}, {"niveau": "3"}, {"etablissement_id": "etab_a1b"},
    {"organisme_id": "org_a1"}, {"organisme_id": "org_b1"},
]


def _periodes():
    today = dt.date.today()
    first = today.replace(day=1)
    prev = (first - dt.timedelta(days=1)).replace(day=1)
    return [{"debut": prev.isoformat()},  # whole months up to today
            {"debut": (today - dt.timedelta(days=40)).isoformat(),
             "fin": (today - dt.timedelta(days=3)).isoformat()},  # cut months at both ends
            {"debut": prev.isoformat(), "fin": (first - dt.timedelta(days=1)).isoformat()},
            {"fin": (today - dt.timedelta(days=10)).isoformat()},
            {"debut": (today - dt.timedelta(days=2)).isoformat(), "fin": today.isoformat()}]


def _filtres(world, values):
    args = {k: (str(world.ids[v]) if k.endswith("_id") else v) for k, v in values.items()}
    return stats.Filtres.depuis(args)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_aggregates_equal_a_full_recomputation_and_the_direct_figures(app, world):
    live = _operations(world, seed=14, steps=50)
    assert len(live) >= 5
    kept = agregats.instantane()
    assert kept["stats_dossier"] and kept["stats_acquisition"] and kept["stats_flux_mois"]
    faits = db.session.execute(select(StatsDossier)).scalars().all()
    assert any(s.heures for s in faits) and any(s.masque_acquis for s in faits)
    assert any(s.masque_non_acquis for s in faits) and any(s.certificat_numero for s in faits)
    agregats.recalculer()
    assert agregats.instantane() == kept
    seen = set()
    for who in ("certif_pro_a", "admin_reseau_a", "admin_reseau_b", "admin_organisme_a"):
        for values in FILTRES + _periodes() + [{**FILTRES[1], **_periodes()[1]},
                                               {**FILTRES[4], **_periodes()[1]}]:
            f = _filtres(world, values)
            got = stats.indicateurs(user(who), f).as_dict()
            assert got == indicateurs_directs(user(who), f).as_dict(), (who, values)
            seen.add((got["total"] > 0, bool(got["flux_mensuels"]),
                      bool(got["acquisition_par_sous_domaine"])))
    assert (True, True, True) in seen  # the comparisons are not only over empty figures


def test_aggregates_follow_each_service_and_a_rolled_back_change_leaves_them(app, world):
    _operations(world, seed=3, steps=25)
    kept = agregats.instantane()
    c = db.session.scalars(select(Candidature).order_by(Candidature.id)).first()
    c.type_public = "salarie" if c.type_public != "salarie" else "demandeur_emploi"
    db.session.flush()
    db.session.rollback()
    assert agregats.instantane() == kept
    agregats.recalculer()
    assert agregats.instantane() == kept


def _sans_jeton(html):
    """The page without its CSRF tokens (signed with the time)."""
    return re.sub(r"[\w-]{10,}\.[\w-]{6}\.[\w-]{10,}", "", html)


def test_stats_page_runs_a_fixed_small_number_of_statements(app, world, login, count_queries,
                                                            monkeypatch):
    _operations(world, seed=5, steps=20)
    f = stats.Filtres()
    budgets = {}
    for who in ("certif_pro_a", "admin_reseau_a", "admin_organisme_a"):
        by = user(who)
        with count_queries() as counter:
            stats.indicateurs(by, f)
        budgets[who] = counter.count
    assert max(budgets.values()) <= 7, budgets
    # more data, the same statements
    _operations(world, seed=6, steps=10)
    by = user("admin_reseau_a")
    with count_queries() as counter:
        stats.indicateurs(by, f)
    assert counter.count == budgets["admin_reseau_a"], counter.statements
    client = login("admin_reseau_a")
    client.get("/stats/")
    with count_queries() as page:
        response = client.get("/stats/")
    assert response.status_code == 200 and "Dossiers par statut" in response.text
    with monkeypatch.context() as patch:  # main's computation, on the same page and data
        patch.setattr(stats, "indicateurs", indicateurs_directs)
        with count_queries() as direct:
            same = client.get("/stats/").text
    assert _sans_jeton(same) == _sans_jeton(response.text)
    print(f"Stats page statements: {direct.count} from the sources, {page.count} now")
    assert page.count <= direct.count - 5
