"""Synthetic data at volume (`flask clea synth --candidatures N --seed S`, the benchmarks).

PostgreSQL only. Everything is loaded set-based (INSERT … SELECT over generate_series and
temporary plan tables), never row by row through the ORM: 1 million candidatures in minutes.
The data is realistic and consistent with the business rules:

* réseaux, organismes (some without réseau) and établissements in every région, each
  établissement holding a valid national habilitation (one in four also a branche's);
* users per structure, one login per role, named deterministically (see `LOGINS`), all with
  the same password (`SYNTH_PASSWORD` unless given), hashed once;
* candidats whose surnames follow a Zipf-like frequency (common French surnames, « Martin »
  first, then generated rare ones), with the search keys computed exactly as
  services/candidatures._cles_recherche and cle_identite do (normalised in Python);
* candidatures over every status of the lifecycle, with the evaluations (1 to 3, each with its
  28 results), formations, documents (rows only: their files do not exist on disk), status
  history, jury sessions, decisions, certificates and notifications that status implies; one
  live candidature per candidat, certified at most once (some candidats have an earlier
  abandoned or non-certified path);
* dates spread over the last 5 years, relative to `aujourdhui` (today by default).

The same seed gives the same data (Python's random.Random(seed) for the structures,
PostgreSQL's setseed() for the rest). No audit row is written for the generated rows (a bulk
load, like a restore); one row « synth » records the load itself, so the journal's chain
stays verifiable."""
from __future__ import annotations

import datetime as dt
import os
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from flask_babel import gettext as _
from sqlalchemy import select, text
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import REGIONS, Branche, Certificateur, Referentiel, Utilisateur
from app.security import roles as R

from . import agregats, audit
from .demo import make_siren, make_siret
from .errors import RuleError
from .texte import normalize

# The password of every synthetic account (documented in the README; never a real one).
SYNTH_PASSWORD = "Synth-Clea-2026!"  # nosec B105
# Logins per role: i is the rank (1, 2, …) of the structure in the synthetic world.
LOGINS = {
    R.CERTIF_PRO: "synth_national",
    R.ADMIN_RESEAU: "synth_reseau_{i}",
    R.SUPERVISEUR_RESEAU: "synth_superviseur_{i}",
    R.ADMIN_ORGANISME: "synth_organisme_{i}",
    R.UTILISATEUR_ORGANISME: "synth_utilisateur_organisme_{i}",
    R.ADMIN_ETABLISSEMENT: "synth_etab_{i}",
    R.UTILISATEUR_ETABLISSEMENT: "synth_utilisateur_etab_{i}",
    R.JURY: "synth_jury_{i}",
}
MARQUE = "synth_national"  # present once the synthetic world is loaded

# Share of each status among the candidatures that are a candidat's current path.
STATUTS = [("attente_eval_prealable", 0.10), ("attente_eval_finale", 0.14),
           ("a_envoyer", 0.06), ("attente_jury", 0.05), ("attente_certification", 0.05),
           ("attente_complement", 0.03), ("completee", 0.03), ("certifiee", 0.38),
           ("non_certifiee", 0.04), ("abandonnee", 0.12)]
# How far along the path each status is: 1 préalable, 2 finale, 3 à envoyer, 4 sent,
# 5 in a session, 6 decided by a jury.
ETAPE = {"attente_eval_prealable": 1, "attente_eval_finale": 2, "a_envoyer": 3,
         "attente_jury": 4, "attente_certification": 5, "attente_complement": 6,
         "completee": 6, "certifiee": 6, "non_certifiee": 6}
# created_on of the candidature, in days before today, per status (min, max)
AGES = {"attente_eval_prealable": (1, 120), "attente_eval_finale": (20, 365),
        "a_envoyer": (40, 365), "attente_jury": (45, 300), "attente_certification": (50, 300),
        "attente_complement": (240, 540), "completee": (250, 560), "certifiee": (250, 1825),
        "non_certifiee": (250, 1825), "abandonnee": (100, 1825)}

NOMS_COURANTS = """Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon
Michel Lefebvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine
Rousseau Vincent Muller Lefèvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier
François Legrand Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu
Gautier Masson Marchand Duval Denis Dumont Marie Lemaire Noël Meyer Dufour Meunier Brun
Blanchard Giraud Joly Rivière Lucas Brunet Gaillard Barbier Arnaud Martinez Gérard Roche Renard
Schmitt Roy Leroux Colin Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud Dumas Lacroix
Olivier Philippe Bourgeois Pierre Benoît Rey Leclerc Payet Rolland Leclercq Guillaume Lecomte
Lopez Jean Dupuis Guillot Hubert Berger Carpentier Sanchez Dupuy Moulin Louis Deschamps Huet
Vasseur Perez Boucher Fleury Royer Klein Jacquet Adam Paris Poirier Marty Aubry Guyot Carré
Charles Renault Charpentier Ménard Maillard Baron Bertin Bailly Hervé Schneider Fernandez
Le_Gall Collet Léger Bouvier Julien Prévost Millet Perrot Daniel Le_Roux Cousin Germain Breton
Besson Langlois Rémy Le_Goff Pelletier Lévêque Perrier Leblanc Barré Lebrun Marchal Weber
Mallet Hamon Boulanger Jacob Monnier Michaud Rodriguez Guichard Gillet Étienne Grondin Poulain
Tessier Chevallier Collin Chauvin Da_Silva Bouchet Gay Lemaître Bénard Maréchal Humbert Reynaud
Antoine Hoarau Perret Barthélemy Cordier Pichon Lejeune Gilbert Lamy Delaunay Pasquier Carlier
Laporte N'Diaye Ben_Ahmed Nguyen Diallo D'Almeida""".replace("_", " ").split()
PRENOMS_F = """Marie Nathalie Isabelle Sylvie Catherine Sandrine Christine Stéphanie Valérie
Céline Julie Aurélie Émilie Camille Sophie Laura Sarah Léa Manon Chloé Inès Emma Jade Louise
Océane Audrey Mélanie Virginie Karine Nadia Fatima Amina Hélène Agnès Béatrice Martine Nicole
Françoise Josiane Gaëlle Maëlle Anaïs Clémence Élodie Jessica Laëtitia Marie-Claire
Anne-Sophie Zoé Yasmine""".split()
PRENOMS_M = """Jean Pierre Michel Philippe Alain Nicolas Christophe Patrick Stéphane David
Laurent Frédéric Olivier Julien Sébastien Thomas Kévin Maxime Alexandre Romain Anthony Lucas
Hugo Théo Nathan Mohamed Karim Mehdi Youssef Rachid Bruno Thierry Éric Franck Pascal Didier
Gérard Jérôme Cédric Grégory Jean-Pierre Jean-Luc Jean-François Loïc Mathis Enzo
Raphaël Noé Adrien Baptiste""".split()
SYLLABES = ("ba be bi bo bou ca ce cha che co cou da de di do dou fa fe fo ga ge gi go gou "
            "la le li lo lou ma me mi mo mou na ne no nou pa pe pi po pou ra re ri ro rou sa "
            "se si so sou ta te ti to tou va ve vi vo bé dé lé mé ré té").split()
FINALES = "ard aud eau et ier in on ot ault eux ac as ot eron ette iaux ez ille elin ès".split()
VILLES = [("ARA", "Lyon", "69003"), ("BFC", "Dijon", "21000"), ("BRE", "Rennes", "35000"),
          ("CVL", "Orléans", "45000"), ("COR", "Ajaccio", "20000"),
          ("GES", "Strasbourg", "67000"), ("HDF", "Lille", "59000"), ("IDF", "Paris", "75011"),
          ("NOR", "Rouen", "76000"), ("NAQ", "Bordeaux", "33000"),
          ("OCC", "Toulouse", "31000"), ("PDL", "Nantes", "44000"),
          ("PAC", "Marseille", "13001"), ("GUA", "Pointe-à-Pitre", "97110"),
          ("MTQ", "Fort-de-France", "97200"), ("GUF", "Cayenne", "97300"),
          ("LRE", "Saint-Denis", "97400"), ("MAY", "Mamoudzou", "97600")]
# relative weight of each région (≈ its population)
POIDS_REGIONS = [8.1, 2.8, 3.4, 2.6, 0.35, 5.6, 6.0, 12.3, 3.3, 6.0, 6.0, 3.8, 5.1, 0.38,
                 0.36, 0.29, 0.87, 0.31]
BRANCHES = [("PROPRETE", "Propreté et services associés"),
            ("TRANSPORT", "Transports routiers et activités auxiliaires"),
            ("HCR", "Hôtels, cafés, restaurants"),
            ("BTP", "Bâtiment et travaux publics"),
            ("COMMERCE", "Commerce de détail et de gros à prédominance alimentaire"),
            ("SANTE", "Établissements sanitaires et médico-sociaux privés")]
MOTS_ORGANISMES = ["Institut", "Centre", "Atelier", "Espace", "Académie", "Maison", "École",
                   "Pôle", "Cap", "Avenir"]
MOTS_RESEAUX = ["Avenir", "Horizon", "Compétences", "Savoirs", "Trajectoires", "Passerelles",
                "Envol", "Tremplin", "Équinoxe", "Boussole"]
# CLEA_SYNTH_PROFIL=1 prints each statement's time (tuning)
PROFIL = bool(os.environ.get("CLEA_SYNTH_PROFIL"))
# The tables loaded here (their ids given explicitly, their sequences set after the load).
TABLES = ("reseau", "organisme", "etablissement", "habilitation", "ab_user", "ab_user_role",
          "session_jury", "membre_jury", "candidat", "candidature", "evaluation",
          "resultat_evaluation", "formation", "formation_sous_domaine", "document",
          "historique_statut", "decision_jury", "certificat", "notification")
GROSSES_TABLES = ("candidat", "candidature", "evaluation", "resultat_evaluation", "formation",
                  "document", "historique_statut", "decision_jury", "notification")



def _vacuum_visible(conn, tables: tuple[str, ...], attente_s: float = 60.0) -> None:
    """VACUUM `tables` until their visibility maps are set. A VACUUM marks a page
    all-visible only when no running transaction of the database may still not see its
    rows; right after the load, one often does: an autovacuum worker analysing the freshly
    loaded tables (its snapshot and its transaction), or, with « VACUUM (ANALYZE) » of a
    list, the analysis of the previous table — which left stats_dossier unmarked, so that
    the national Stats medians, read by index only, visited a million heap rows (1.5 s
    instead of 0.2 s at 1 000 000). So: a plain VACUUM, the tables still unmarked listed,
    and while some remain, a wait for the autovacuum workers of this database to end (at
    most `attente_s` in all) and another VACUUM of those."""
    reste = list(tables)
    fin = time.monotonic() + attente_s
    pause = 0.2
    while True:
        conn.execute(text(f"VACUUM {', '.join(reste)}"))
        reste = list(conn.execute(text(
            "SELECT relname FROM pg_class WHERE relname = ANY(:t) AND relkind = 'r' "
            "AND relpages > 0 AND relallvisible < relpages ORDER BY relname"),
            {"t": reste}).scalars())
        if not reste or time.monotonic() > fin:
            return
        while time.monotonic() < fin and conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'autovacuum worker'")).scalar():
            time.sleep(0.2)
        time.sleep(pause)
        pause = min(pause * 2, 5)

class SynthError(RuleError):
    """The synthetic load cannot run here (French message for the operator)."""


@dataclass
class Bilan:
    """What the load took: the seconds of each step (its label says what it generated)."""

    durees: list[tuple[str, float]] = field(default_factory=list)
    total: float = 0.0


def nombre(value: int) -> str:
    """« 100 000 » (French thousands separator)."""
    return f"{value:,}".replace(",", "\u202f")


def tailles(n: int) -> tuple[int, int, int]:
    """Établissements, organismes and réseaux for n candidatures."""
    etabs = min(4000, max(2 * len(REGIONS), n // 200))
    organismes = max(12, etabs // 3)
    reseaux = max(3, min(40, organismes // 30))
    return etabs, organismes, reseaux


def generer(n: int, seed: int, progress: Optional[Callable[[str], None]] = None,
            password: str = SYNTH_PASSWORD, aujourdhui: Optional[dt.date] = None) -> Bilan:
    """Load n candidatures and everything around them; returns the Bilan. Raises SynthError
    (French message) on SQLite, without référentiel, or when the synthetic world exists."""
    say = progress or (lambda _message: None)
    if db.engine.dialect.name != "postgresql":
        raise SynthError(_("La génération de données synthétiques demande PostgreSQL "
                           "(base actuelle : %(base)s).", base=db.engine.dialect.name))
    if n < 1:
        raise SynthError(_("Indiquez un nombre de candidatures positif."))
    referentiel = db.session.execute(
        select(Referentiel).where(Referentiel.en_vigueur.is_(True))).scalars().first()
    if referentiel is None:
        raise SynthError(
            _("Aucun référentiel en vigueur : lancez d'abord « flask clea init »."))
    if db.session.execute(select(Utilisateur.id).where(Utilisateur.username == MARQUE)).first():
        raise SynthError(_("Les données synthétiques sont déjà chargées dans cette base "
                           "(compte « %(login)s »).", login=MARQUE))
    today = aujourdhui or dt.date.today()
    gen = _Generateur(n, seed, today, referentiel.id, password, say)
    bilan = gen.run()
    return bilan


class _Generateur:
    def __init__(self, n, seed, today, referentiel_id, password, say):
        self.n, self.seed, self.today = n, seed, today
        self.ref = dt.datetime.combine(today, dt.time(0, 0))
        self.referentiel_id = referentiel_id
        self.password = password
        self.say = say
        self.rng = random.Random(seed)  # nosec B311 (reproducible data, no secret)
        self.bilan = Bilan()
        self.conn = db.session.connection()

    # --- helpers --------------------------------------------------------------------------

    def sql(self, statement: str, params=None):
        t0 = time.monotonic()
        result = self.conn.execute(text(statement), params or {})
        if PROFIL:
            print(f"    {time.monotonic() - t0:7.2f} s  {' '.join(statement.split())[:90]}")
        return result

    def scalar(self, statement: str, params: Optional[dict] = None):
        return self.sql(statement, params).scalar()

    def base(self, table: str) -> int:
        """The next free id of a table (ids are given explicitly, the sequence set after)."""
        return int(self.scalar(f"SELECT coalesce(max(id), 0) FROM {table}"))  # nosec B608

    def setval(self, table: str) -> None:
        self.sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # nosec B608
                 f"greatest((SELECT coalesce(max(id), 0) FROM {table}), 1))")

    def etape(self, label: str, started: float) -> None:
        seconds = time.monotonic() - started
        self.bilan.durees.append((label, seconds))
        self.say(f"{label} ({seconds:.1f} s)")

    def count(self, table: str, where: str = "") -> int:
        return int(self.scalar(f"SELECT count(*) FROM {table} {where}"))  # nosec B608

    # --- the run --------------------------------------------------------------------------

    def run(self) -> Bilan:
        started = time.monotonic()
        self.sql("SET LOCAL synchronous_commit = off")
        self.sql("SET LOCAL work_mem = '256MB'")
        self.sql("SELECT setseed(:s)", {"s": (self.seed % 1_000_003) / 1_000_003 * 2 - 1})
        self._sans_cles_etrangeres()
        for label, step in (("Structures, habilitations et comptes", self.structures),
                            ("Sessions de jury", self.sessions),
                            (None, self.candidats),
                            (None, self.candidatures),
                            ("Évaluations et résultats", self.evaluations),
                            ("Formations et documents", self.formations_documents),
                            ("Historique, décisions, certificats, notifications", self.suites)):
            t0 = time.monotonic()
            message = step()
            self.etape(message or label, t0)
        t0 = time.monotonic()
        self._cles_etrangeres()
        self.etape("Clés étrangères vérifiées", t0)
        t0 = time.monotonic()
        for table in TABLES:
            if table != "formation_sous_domaine":
                self.setval(table)
        audit.record(None, "synth", None,
                     f"candidatures={self.n}, seed={self.seed}, aujourdhui={self.today}")
        db.session.commit()
        self.etape("Validation", t0)
        t0 = time.monotonic()
        # the Stats aggregates follow the ORM's writes; a bulk load recomputes them once
        agregats.recalculer(commit=False)
        # a synchronous commit: the VACUUM that follows marks a page all-visible only once
        # it could set its rows' hint bits, which waits for an asynchronous commit's WAL
        db.session.execute(text("SET LOCAL synchronous_commit = on"))
        db.session.commit()
        self.etape("Agrégats recalculés", t0)
        t0 = time.monotonic()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # the tables the lists and the Stats page read by index only are vacuumed (their
            # visibility map set, as autovacuum leaves a base in service), then every table
            # analysed
            _vacuum_visible(conn, ("candidature", "candidat", "stats_dossier",
                                   "stats_compteurs", "stats_flux_mois", "stats_flux_jour",
                                   "stats_acquisition"))
            conn.execute(text("ANALYZE"))
        self.etape("VACUUM et ANALYZE", t0)
        self.bilan.total = time.monotonic() - started
        return self.bilan

    def _sans_cles_etrangeres(self) -> None:
        """The foreign keys of the loaded tables are dropped for the load and re-created
        (so verified, in one pass per key) before the commit: checking them row by row
        (a trigger per row) would cost more than the load itself."""
        self.cles = self.sql(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = ANY(CAST(:tables AS regclass[])) ORDER BY 1, 2",
            {"tables": list(TABLES)}).all()
        for table, name, _definition in self.cles:
            self.sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        # secondary indexes too (not those of a primary key or unique constraint): one sorted
        # build after the load costs a fraction of maintaining them row by row
        self.index = self.sql(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
            "WHERE indrelid = ANY(CAST(:tables AS regclass[])) AND NOT EXISTS ("
            "SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
            {"tables": list(GROSSES_TABLES)}).all()
        for name, _definition in self.index:
            self.sql(f"DROP INDEX {name}")

    def _cles_etrangeres(self) -> None:
        for _name, definition in self.index:
            self.sql(definition)
        for table, name, definition in self.cles:
            self.sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

    # --- structures -----------------------------------------------------------------------

    def _get_or_create(self, model, defaults=None, **keys):
        item = db.session.execute(select(model).filter_by(**keys)).scalars().first()
        if item is None:
            item = model(**keys, **(defaults or {}))
            db.session.add(item)
            db.session.flush()
        return item

    def structures(self) -> str:
        rng, ref = self.rng, self.ref
        branches = [self._get_or_create(Branche, code=code, defaults={"nom": nom})
                    for code, nom in BRANCHES]
        self._get_or_create(Certificateur, nom="Certif Pro", defaults={"type": "certif_pro"})
        certificateurs = []  # (certificateur id, région or None, branche id or None)
        for code, name in REGIONS.items():
            cert = db.session.execute(select(Certificateur).where(
                Certificateur.type == "transitions_pro",
                Certificateur.region == code)).scalars().first()
            cert = cert or self._get_or_create(Certificateur, nom=f"Transitions Pro {name}",
                                               defaults={"type": "transitions_pro",
                                                         "region": code})
            certificateurs.append((cert.id, code, None))
        for branche in branches:
            cert = db.session.execute(select(Certificateur).where(
                Certificateur.type == "cpne",
                Certificateur.branche_id == branche.id)).scalars().first()
            cert = cert or self._get_or_create(Certificateur, nom=f"CPNE {branche.nom}",
                                               defaults={"type": "cpne",
                                                         "branche_id": branche.id})
            certificateurs.append((cert.id, None, branche.id))
        self.conn = db.session.connection()
        n_etabs, n_orgs, n_reseaux = tailles(self.n)
        rid, oid, eid = self.base("reseau"), self.base("organisme"), self.base("etablissement")
        jours = lambda lo, hi: ref - dt.timedelta(days=rng.randint(lo, hi))  # noqa: E731
        reseaux = [{"id": rid + i, "nom": f"Réseau {MOTS_RESEAUX[(i - 1) % 10]} {i}",
                    "contact_nom": f"Tête de réseau {i}",
                    "contact_email": f"tete.reseau{i}@synth.certificat-clea.fr",
                    "created_on": jours(1900, 2400)} for i in range(1, n_reseaux + 1)]
        organismes = []
        for i in range(1, n_orgs + 1):
            region, ville, cp = VILLES[(i - 1) % len(VILLES)]
            siren = make_siren(70_000_000 + i)
            organismes.append({
                "id": oid + i, "reseau_id": (rid + 1 + (i - 1) % n_reseaux) if i % 5 else None,
                "raison_sociale": f"{MOTS_ORGANISMES[i % 10].upper()} FORMATION {i:04d}",
                "siren": siren, "nda": f"{11 + i % 80:02d}{i:09d}"[:11], "actif": True,
                "adresse": f"{i % 90 + 1} rue de la Formation", "code_postal": cp,
                "ville": ville, "contact_nom": "Direction",
                "contact_email": f"contact{i}@synth.certificat-clea.fr",
                "created_on": jours(1800, 2300)})
        etabs = []
        for j in range(1, n_etabs + 1):
            r = (j - 1) if j <= len(VILLES) else rng.choices(range(len(VILLES)),
                                                              POIDS_REGIONS)[0]
            region, ville, cp = VILLES[r]
            org = organismes[(j - 1) % n_orgs]
            etabs.append({
                "id": eid + j, "organisme_id": org["id"],
                "nom": f"{org['raison_sociale'].title()} {ville} {j}",
                "siret": make_siret(org["siren"], 10 + j), "region": region, "actif": True,
                "adresse": f"{j % 120 + 1} avenue des Compétences", "code_postal": cp,
                "ville": ville, "contact_nom": "Accueil",
                "contact_email": f"etab{j}@synth.certificat-clea.fr",
                "created_on": jours(1700, 2200)})
        self.sql("INSERT INTO reseau (id, nom, contact_nom, contact_email, created_on) "
                 "VALUES (:id, :nom, :contact_nom, :contact_email, :created_on)", reseaux)
        self.sql("INSERT INTO organisme (id, reseau_id, raison_sociale, siren, nda, actif, "
                 "adresse, code_postal, ville, contact_nom, contact_email, created_on) VALUES "
                 "(:id, :reseau_id, :raison_sociale, :siren, :nda, :actif, :adresse, "
                 ":code_postal, :ville, :contact_nom, :contact_email, :created_on)", organismes)
        self.sql("INSERT INTO etablissement (id, organisme_id, nom, siret, region, actif, "
                 "adresse, code_postal, ville, contact_nom, contact_email, created_on) VALUES "
                 "(:id, :organisme_id, :nom, :siret, :region, :actif, :adresse, :code_postal, "
                 ":ville, :contact_nom, :contact_email, :created_on)", etabs)
        # s_etab: rank k of each établissement, its perimeter, certificateur and branche
        self.sql("CREATE TEMP TABLE s_cert (id int, region text, branche_id int, k int) "
                 "ON COMMIT DROP")
        self.sql("INSERT INTO s_cert VALUES (:id, :region, :branche_id, :k)",
                 [{"id": c, "region": r, "branche_id": b, "k": k}
                  for k, (c, r, b) in enumerate(certificateurs, start=1)])
        branche_ids = [b.id for b in branches]
        self.sql("""CREATE TEMP TABLE s_etab ON COMMIT DROP AS
            SELECT e.id - :e0 AS k, e.id, e.organisme_id, o.reseau_id, e.region,
                   (SELECT id FROM s_cert c WHERE c.region = e.region) AS tp_id,
                   CASE WHEN (e.id - :e0) % 4 = 0
                        THEN (CAST(:branches AS int[]))[1 + ((e.id - :e0) / 4) % :nb]
                   END AS branche_id
            FROM etablissement e JOIN organisme o ON o.id = e.organisme_id
            WHERE e.id > :e0""", {"e0": eid, "branches": branche_ids, "nb": len(branche_ids)})
        self.sql("""ALTER TABLE s_etab ADD COLUMN cpne_id int""")
        self.sql("""UPDATE s_etab s SET cpne_id = c.id FROM s_cert c
                    WHERE c.branche_id = s.branche_id""")
        self.sql("CREATE UNIQUE INDEX ON s_etab (k)")
        self.sql("ANALYZE s_etab")
        # valid habilitations (national for all, the branche's for one in four), some older
        # expired ones before them
        self.sql("""INSERT INTO habilitation (etablissement_id, portee, branche_id, branche_key,
                        statut, date_debut, date_fin, demande_le, decide_le, rappel_90_envoye,
                        rappel_30_envoye, commentaire)
            SELECT s.id, h.portee, h.branche_id, coalesce(h.branche_id, 0), h.statut,
                   h.debut, h.debut + 5 * 365, h.debut - 20, h.debut, h.statut = 'expiree',
                   h.statut = 'expiree', NULL
            FROM s_etab s CROSS JOIN LATERAL (VALUES
                ('national', NULL::int, 'validee', :today - (30 + (s.k * 37) % 1400)),
                ('branche', s.branche_id, 'validee', :today - (60 + (s.k * 53) % 1300)),
                ('national', NULL::int, 'expiree', :today - (30 + (s.k * 37) % 1400) - 5 * 365)
            ) AS h(portee, branche_id, statut, debut)
            WHERE (h.portee = 'national' AND h.statut = 'validee')
               OR (h.portee = 'branche' AND s.branche_id IS NOT NULL)
               OR (h.statut = 'expiree' AND s.k % 10 = 0)
            ORDER BY s.k, h.portee DESC""", {"today": self.today})
        self._comptes(rid, oid, eid, n_reseaux, n_orgs, n_etabs, len(certificateurs))
        return (f"Structures : {n_reseaux} réseaux, {n_orgs} organismes, {n_etabs} "
                f"établissements dans {len(REGIONS)} régions ; {self.count('s_user')} comptes")

    def _comptes(self, rid, oid, eid, n_reseaux, n_orgs, n_etabs, n_certs) -> None:
        password_hash = generate_password_hash(self.password)  # once, for every account
        uid = self.base("ab_user")
        self.sql("CREATE TEMP TABLE s_user (id int, login text, role text, reseau_id int, "
                 "organisme_id int, etablissement_id int, certificateur_id int) ON COMMIT DROP")
        rows = [(R.CERTIF_PRO, 1, None, None, None, None)]
        rows += [(role, i, rid + i, None, None, None)
                 for i in range(1, n_reseaux + 1)
                 for role in (R.ADMIN_RESEAU, R.SUPERVISEUR_RESEAU)]
        rows += [(role, i, None, oid + i, None, None)
                 for i in range(1, n_orgs + 1)
                 for role in (R.ADMIN_ORGANISME, R.UTILISATEUR_ORGANISME)]
        rows += [(role, i, None, None, eid + i, None)
                 for i in range(1, n_etabs + 1)
                 for role in (R.ADMIN_ETABLISSEMENT, R.UTILISATEUR_ETABLISSEMENT)]
        rows += [(R.JURY, k, None, None, None, None) for k in range(1, n_certs + 1)]
        self.sql("INSERT INTO s_user VALUES (:id, :login, :role, :r, :o, :e, :c)",
                 [{"id": uid + n, "login": LOGINS[role].format(i=i), "role": role.name,
                   "r": r, "o": o, "e": e, "c": c}
                  for n, (role, i, r, o, e, c) in enumerate(rows, start=1)])
        self.sql("""UPDATE s_user u SET certificateur_id = c.id FROM s_cert c
                    WHERE u.role = :jury AND c.k = substr(u.login, 12)::int""",
                 {"jury": R.JURY.name})
        prenoms = PRENOMS_F + PRENOMS_M
        self.sql("""INSERT INTO ab_user (id, first_name, last_name, username, password, active,
                        email, login_count, fail_login_count, created_on, changed_on,
                        reseau_id, organisme_id, etablissement_id, certificateur_id,
                        notifier_nouvelle_candidature, session_generation)
            SELECT u.id, (CAST(:prenoms AS text[]))[1 + (u.id * 7) % :np],
                   (CAST(:noms AS text[]))[1 + (u.id * 13) % :nn],
                   u.login, :hash, true, u.login || '@synth.certificat-clea.fr', 0, 0,
                   :ref - (u.id % 1500) * interval '1 day', :ref - (u.id % 1500) * interval '1 day',
                   u.reseau_id, u.organisme_id, u.etablissement_id, u.certificateur_id,
                   u.role = :admin_etab, 0
            FROM s_user u ORDER BY u.id""",
                 {"prenoms": prenoms, "np": len(prenoms), "noms": NOMS_COURANTS[:120],
                  "nn": 120, "hash": password_hash, "ref": self.ref,
                  "admin_etab": R.ADMIN_ETABLISSEMENT.name})
        self.sql("INSERT INTO ab_user_role (user_id, role_id) SELECT u.id, r.id FROM s_user u "
                 "JOIN ab_role r ON r.name = u.role ORDER BY u.id")
        # who acts for each établissement (its admin) and for each jury
        self.sql("ALTER TABLE s_etab ADD COLUMN admin_id int")
        self.sql("""UPDATE s_etab s SET admin_id = u.id FROM s_user u
                    WHERE u.etablissement_id = s.id AND u.role = :r""",
                 {"r": R.ADMIN_ETABLISSEMENT.name})
        self.sql("ALTER TABLE s_cert ADD COLUMN jury_id int")
        self.sql("UPDATE s_cert c SET jury_id = u.id FROM s_user u WHERE u.certificateur_id = c.id "
                 "AND u.role = :r", {"r": R.JURY.name})
        self.sql("ANALYZE s_etab")

    def sessions(self) -> str:
        """Sessions every 28 days per certificateur, from 6 years ago to 3 months ahead: past
        ones closed, the next open, later ones in preparation; two members each."""
        s0 = self.base("session_jury")
        self.sql("""INSERT INTO session_jury (id, certificateur_id, date_session, date_limite, mode,
                        lieu, statut, created_on, close_le)
            SELECT :s0 + row_number() OVER (ORDER BY c.k, g), c.id, d, d - 14,
                   CASE WHEN g % 3 = 0 THEN 'distanciel' ELSE 'presentiel' END,
                   CASE WHEN g % 3 = 0 THEN NULL ELSE 'Salle ' || (1 + g % 5) END,
                   CASE WHEN d < :today THEN 'close' WHEN d < :today + 35 THEN 'ouverte'
                        ELSE 'preparation' END,
                   (d - 60)::timestamp,
                   CASE WHEN d < :today THEN (d + 1)::timestamp END
            FROM s_cert c, generate_series(0, (6 * 365 + 90) / 28) g,
                 LATERAL (SELECT (:today - 6 * 365 + g * 28 + (c.k * 3) % 28)::date AS d) x
            ORDER BY c.k, g""", {"s0": s0, "today": self.today})
        self.sql("""INSERT INTO membre_jury (session_id, nom, college)
            SELECT s.id, m.nom || ' ' || s.id, m.college FROM session_jury s,
                   (VALUES ('Représentant employeurs', 'employeurs'),
                           ('Représentant salariés', 'salaries')) m(nom, college)
            WHERE s.id > :s0 ORDER BY s.id, m.college""", {"s0": s0})
        self.sql("CREATE TEMP TABLE s_session ON COMMIT DROP AS SELECT id, certificateur_id, "
                 "date_session FROM session_jury WHERE id > :s0", {"s0": s0})
        self.sql("CREATE INDEX ON s_session (certificateur_id, date_session)")
        self.sql("ANALYZE s_session")
        return f"Sessions de jury : {self.count('s_session')}"

    # --- candidats ------------------------------------------------------------------------

    def _pools(self) -> None:
        """Slot tables: drawing a uniform slot gives a name with its frequency."""
        rng = self.rng
        slots_total = 200_000
        communs = int(slots_total * 0.15)
        harmonique = sum(1 / r for r in range(1, len(NOMS_COURANTS) + 1))
        noms = [(nom, max(1, round(communs / (rang * harmonique))))
                for rang, nom in enumerate(NOMS_COURANTS, start=1)]
        rares = min(60_000, max(500, self.n // 10))
        vus = {normalize(nom) for nom in NOMS_COURANTS}
        generes = []
        while len(generes) < rares:
            nom = "".join(rng.choice(SYLLABES) for _i in range(rng.randint(1, 3)))
            nom = (nom + rng.choice(FINALES)).capitalize()
            if normalize(nom) not in vus:
                vus.add(normalize(nom))
                generes.append(nom)
        reste = slots_total - sum(s for _n, s in noms)
        poids = [1 / (r ** 0.7) for r in range(1, rares + 1)]
        echelle = reste / sum(poids)
        noms += [(nom, max(1, round(p * echelle))) for nom, p in zip(generes, poids)]
        self.sql("CREATE TEMP TABLE s_nom_pool (id int, nom text, cle text, slots int) "
                 "ON COMMIT DROP")
        self.sql("INSERT INTO s_nom_pool VALUES (:id, :nom, :cle, :slots)",
                 [{"id": i, "nom": nom, "cle": normalize(nom), "slots": s}
                  for i, (nom, s) in enumerate(noms, start=1)])
        self.sql("""CREATE TEMP TABLE s_nom ON COMMIT DROP AS
            SELECT (row_number() OVER (ORDER BY p.id, g) - 1)::int AS slot, p.nom, p.cle
            FROM s_nom_pool p, generate_series(1, p.slots) g""")
        self.sql("CREATE UNIQUE INDEX ON s_nom (slot)")
        self.sql("ANALYZE s_nom")
        self.n_nom_slots = self.count("s_nom")
        self.sql("CREATE TEMP TABLE s_prenom (sexe text, slot int, prenom text, cle text, "
                 "premier text) ON COMMIT DROP")
        rows = []
        for sexe, liste in (("F", PRENOMS_F), ("M", PRENOMS_M)):
            slot = 0
            for rang, prenom in enumerate(liste, start=1):
                for _i in range(max(1, round(400 / rang ** 0.8))):
                    rows.append({"sexe": sexe, "slot": slot, "prenom": prenom,
                                 "cle": normalize(prenom),
                                 "premier": normalize(prenom).split(" ")[0]})
                    slot += 1
            setattr(self, f"n_prenom_{sexe}", slot)
        self.sql("INSERT INTO s_prenom VALUES (:sexe, :slot, :prenom, :cle, :premier)", rows)
        self.sql("CREATE UNIQUE INDEX ON s_prenom (sexe, slot)")
        self.sql("ANALYZE s_prenom")

    def candidats(self) -> str:
        """m candidats (n minus the earlier paths of some of them), unique identity keys: a
        drawn duplicate (or a key already in the base) is dropped and replaced."""
        self._pools()
        self.m = self.n - self.n // 16
        self.sql("""CREATE TEMP TABLE s_cand_raw (k int, sexe text, nom text, nom_cle text,
                    usage text, usage_cle text, prenoms text, prenoms_cle text, premier text,
                    naissance date, r_ville int) ON COMMIT DROP""")
        k0, manque = 0, self.m
        while manque > 0:
            tirage = manque + manque // 100 + 20
            self.sql("""INSERT INTO s_cand_raw
                WITH d AS (
                    SELECT g AS k, CASE WHEN random() < 0.52 THEN 'F' ELSE 'M' END AS sexe,
                           random() AS r_nom, random() AS r_p1, random() AS r_p2,
                           random() AS r_second, random() AS r_usage, random() AS r_nomu,
                           random() AS r_naiss, random() AS r_ville
                    FROM generate_series(:k0 + 1, :k0 + :tirage) g)
                SELECT d.k, d.sexe, n.nom, n.cle,
                       CASE WHEN d.sexe = 'F' AND d.r_usage < 0.25 AND nu.nom <> n.nom
                            THEN nu.nom END,
                       CASE WHEN d.sexe = 'F' AND d.r_usage < 0.25 AND nu.nom <> n.nom
                            THEN nu.cle END,
                       p1.prenom || CASE WHEN d.r_second < 0.25 AND p2.prenom <> p1.prenom
                                         THEN ' ' || p2.prenom ELSE '' END,
                       p1.cle || CASE WHEN d.r_second < 0.25 AND p2.prenom <> p1.prenom
                                      THEN ' ' || p2.cle ELSE '' END,
                       p1.premier,
                       :today - (16 * 365 + floor(d.r_naiss * 48 * 365))::int,
                       floor(d.r_ville * 18)::int
                FROM d
                JOIN s_nom n ON n.slot = floor(d.r_nom * :tn)::int
                JOIN s_nom nu ON nu.slot = floor(d.r_nomu * :tn)::int
                JOIN s_prenom p1 ON p1.sexe = d.sexe AND p1.slot = floor(
                    d.r_p1 * CASE d.sexe WHEN 'F' THEN :tpf ELSE :tpm END)::int
                JOIN s_prenom p2 ON p2.sexe = d.sexe AND p2.slot = floor(
                    d.r_p2 * CASE d.sexe WHEN 'F' THEN :tpf ELSE :tpm END)::int
                ORDER BY d.k""", {"k0": k0, "tirage": tirage, "tn": self.n_nom_slots,
                                  "tpf": self.n_prenom_F, "tpm": self.n_prenom_M,
                                  "today": self.today})
            k0 += tirage
            self.sql("ALTER TABLE s_cand_raw ADD COLUMN IF NOT EXISTS cle text")
            self.sql("UPDATE s_cand_raw SET cle = nom_cle || '|' || premier || '|' || "
                     "to_char(naissance, 'YYYY-MM-DD') WHERE cle IS NULL")
            # keep the first draw of each key, none already in the base
            self.sql("""DELETE FROM s_cand_raw r USING (
                    SELECT k FROM (SELECT k, row_number() OVER (PARTITION BY cle ORDER BY k) AS n
                                   FROM s_cand_raw) x WHERE n > 1) dup
                WHERE r.k = dup.k""")
            self.sql("DELETE FROM s_cand_raw r USING candidat c WHERE c.cle_identite = r.cle")
            manque = self.m - self.count("s_cand_raw")
        self.sql("""CREATE TEMP TABLE s_cand ON COMMIT DROP AS
            SELECT * FROM (SELECT row_number() OVER (ORDER BY k)::int AS kk, r.*
                           FROM s_cand_raw r) x WHERE kk <= :m""", {"m": self.m})
        self.sql("CREATE UNIQUE INDEX ON s_cand (kk)")
        self.sql("ANALYZE s_cand")
        self.sql("DROP TABLE s_cand_raw")
        return f"Tirage de {nombre(self.m)} identités (noms, prénoms, naissances)"

    # --- candidatures ---------------------------------------------------------------------

    def candidatures(self) -> str:
        """The plan (s_plan): one row per candidature with its status, établissement and
        timeline; then the candidats (created with their first path) and the candidatures."""
        t0 = time.monotonic()
        noms = [statut for statut, _part in STATUTS]
        bornes, cumul = [], 0.0
        for _statut, part in STATUTS:
            cumul += part
            bornes.append(cumul)
        bornes[-1] = 2.0  # every draw falls in a status
        listes = {"statuts": noms, "bornes": bornes,
                  "age_min": [AGES[s][0] for s in noms], "age_max": [AGES[s][1] for s in noms],
                  "etapes": [ETAPE.get(s, 0) for s in noms]}
        self.c0 = self.base("candidature")
        self.cand0 = self.base("candidat")
        e = self.count("s_etab")
        m = self.m
        # j ≤ m: the candidat's current path; j > m: an earlier, closed path of candidat j - m
        self.sql("""CREATE TEMP TABLE s_plan ON COMMIT DROP AS
            WITH d AS (
                SELECT j, CASE WHEN j <= :m THEN j ELSE j - :m END AS kk,
                       random() AS u, random() AS r_age, random() AS r_etab, random() AS r_av,
                       random() AS r1, random() AS r2, random() AS r3, random() AS r4,
                       random() AS r5, random() AS r6, random() AS r7
                FROM generate_series(1, :n) j),
            s AS (
                SELECT d.*, CASE WHEN j > :m THEN CASE WHEN u < 0.7 THEN 'abandonnee'
                                                  ELSE 'non_certifiee' END
                                 ELSE (CAST(:statuts AS text[]))[(
                                     SELECT min(i) FROM generate_subscripts(
                                         CAST(:bornes AS float8[]), 1) i
                                     WHERE d.u < (CAST(:bornes AS float8[]))[i])] END AS statut
                FROM d)
            SELECT j, kk, :c0 + j AS id, statut,
                   CASE WHEN statut = 'abandonnee' THEN (ARRAY['attente_eval_prealable',
                        'attente_eval_finale', 'a_envoyer'])[1 + floor(r_av * 3)::int] END
                       AS avant,
                   1 + floor(power(r_etab, 1.6) * :e)::int AS ek,
                   (x.lo + floor(r_age * (x.hi - x.lo)))::int AS age,
                   r1 < 0.12 AS prea_valide, r2 < 0.15 AS echec_finale, r3 < 0.35 AS brouillon,
                   r4, r5, r6, r7
            FROM s CROSS JOIN LATERAL (SELECT
                (CAST(:age_min AS int[]))[array_position(CAST(:statuts AS text[]), s.statut)] AS lo,
                (CAST(:age_max AS int[]))[array_position(CAST(:statuts AS text[]), s.statut)] AS hi
            ) x""", {"m": m, "n": self.n, "c0": self.c0, "e": e, **listes})
        self.sql("""ALTER TABLE s_plan ADD COLUMN etape int, ADD COLUMN creee timestamp,
                 ADD COLUMN t_prea timestamp, ADD COLUMN t_fin timestamp,
                 ADD COLUMN t_env timestamp, ADD COLUMN t_dec timestamp,
                 ADD COLUMN t_rep timestamp, ADD COLUMN t_ab timestamp""")
        # an earlier path ends before the current one starts
        self.sql("""UPDATE s_plan p SET
                 etape = CASE WHEN p.statut = 'abandonnee'
                              THEN CASE p.avant WHEN 'attente_eval_prealable' THEN 1
                                   WHEN 'attente_eval_finale' THEN 2 ELSE 3 END
                              ELSE (CAST(:etapes AS int[]))[
                                  array_position(CAST(:statuts AS text[]), p.statut)] END,
                 age = CASE WHEN p.j > :m THEN least(2150, c.age + 240 + (p.r7 * 500)::int)
                            ELSE p.age END
                 FROM s_plan c WHERE c.j = p.kk""", {"m": m, **listes})
        self.sql("UPDATE s_plan SET prea_valide = false WHERE etape <= 2")
        # the timeline, from created_on: préalable, finale, sent, jury, answer, abandonment
        self.sql("""UPDATE s_plan SET
                 creee = :ref - age * interval '1 day' + (r4 * 36000)::int * interval '1 second'
                         + interval '7 hours'""", {"ref": self.ref})
        self.sql("""UPDATE s_plan SET
                 t_prea = creee + (1 + r5 * 20)::int * interval '1 day',
                 t_fin = creee + (40 + r6 * 110)::int * interval '1 day',
                 t_env = creee + (155 + r6 * 10)::int * interval '1 day'""")
        self.sql("""UPDATE s_plan p SET t_fin = least(t_fin, :cap), t_prea = least(t_prea, :cap),
                 t_env = least(t_env, :cap)""", {"cap": self.ref - dt.timedelta(hours=1)})
        self.sql("""UPDATE s_plan p SET t_prea = least(p.t_prea, c.creee - interval '30 days'),
                 t_fin = least(p.t_fin, c.creee - interval '20 days'),
                 t_env = least(p.t_env, c.creee - interval '15 days')
                 FROM s_plan c WHERE p.j > :m AND c.j = p.kk""", {"m": m})
        self.sql("CREATE UNIQUE INDEX ON s_plan (j)")
        self.sql("ANALYZE s_plan")
        # routing: the CPNE for the socle contextualisé, else the région's Transitions Pro
        self.sql("""ALTER TABLE s_plan ADD COLUMN etab_id int, ADD COLUMN admin_id int,
                 ADD COLUMN branche_id int, ADD COLUMN cert_id int, ADD COLUMN session_id int,
                 ADD COLUMN date_session date, ADD COLUMN jury_id int""")
        self.sql("""UPDATE s_plan p SET etab_id = s.id, admin_id = s.admin_id,
                 branche_id = CASE WHEN s.branche_id IS NOT NULL AND p.r7 < 0.3
                                   THEN s.branche_id END,
                 cert_id = CASE WHEN p.etape >= 4 THEN
                     CASE WHEN s.branche_id IS NOT NULL AND p.r7 < 0.3 THEN s.cpne_id
                          ELSE s.tp_id END END
                 FROM s_etab s WHERE s.k = p.ek""")
        # the session: the first after sending (+10 days); a dossier waiting for the decision
        # is in the next session to come
        self.sql("""UPDATE s_plan p SET session_id = x.id, date_session = x.date_session
                 FROM s_plan q CROSS JOIN LATERAL (
                     SELECT id, date_session FROM s_session s
                     WHERE s.certificateur_id = q.cert_id AND s.date_session >= CASE
                         WHEN q.etape = 5 THEN greatest(q.t_env::date + 10, :today)
                         ELSE q.t_env::date + 10 END
                     ORDER BY s.date_session LIMIT 1) x
                 WHERE q.j = p.j AND q.etape >= 5""", {"today": self.today})
        self.sql("""UPDATE s_plan p SET t_dec = p.date_session + interval '15 hours',
                 t_rep = p.date_session + (5 + p.r5 * 20)::int * interval '1 day'
                     + interval '10 hours',
                 jury_id = c.jury_id
                 FROM s_cert c WHERE c.id = p.cert_id AND p.etape = 6""")
        self.sql("""UPDATE s_plan p SET jury_id = c.jury_id FROM s_cert c
                 WHERE c.id = p.cert_id AND p.jury_id IS NULL""")
        self.sql("""UPDATE s_plan SET t_ab = least(
                     CASE etape WHEN 1 THEN t_prea WHEN 2 THEN t_fin ELSE t_env END
                     + interval '2 days', :cap) WHERE statut = 'abandonnee'""",
                 {"cap": self.ref - dt.timedelta(minutes=30)})
        self.sql("""UPDATE s_plan p SET t_ab = least(p.t_ab, c.creee - interval '10 days')
                 FROM s_plan c WHERE p.j > :m AND c.j = p.kk AND p.statut = 'abandonnee'""",
                 {"m": m})
        self.sql("ANALYZE s_plan")
        self.etape("Plan des candidatures", t0)
        t0 = time.monotonic()
        # candidats: created with their first path
        self.sql("""INSERT INTO candidat (id, civilite, nom_naissance, nom_usage, prenoms,
                        date_naissance, commune_naissance, departement_naissance, pays_naissance,
                        email, telephone, adresse, code_postal, ville, cle_identite, recherche,
                        recherche_usage, recherche_prenom, created_on)
            SELECT :cand0 + c.kk, CASE c.sexe WHEN 'F' THEN 'Mme' ELSE 'M.' END, c.nom, c.usage,
                   c.prenoms, c.naissance, (CAST(:villes AS text[]))[1 + c.r_ville],
                   left((CAST(:cps AS text[]))[1 + c.r_ville], 2), 'France',
                   lower(replace(c.prenoms_cle, ' ', '.')) || '.' ||
                       replace(c.nom_cle, ' ', '') || c.kk || '@exemple.fr',
                   '06 ' || lpad(((c.kk::bigint * 7919) % 100000000)::text, 8, '0'),
                   (1 + c.kk % 150) || ' rue de la République',
                   (CAST(:cps AS text[]))[1 + c.r_ville],
                   (CAST(:villes AS text[]))[1 + c.r_ville], c.cle,
                   c.nom_cle || ' ' || c.prenoms_cle,
                   CASE WHEN c.usage_cle IS NOT NULL THEN c.usage_cle || ' ' || c.prenoms_cle END,
                   c.prenoms_cle || ' ' || c.nom_cle,
                   least(p.creee, coalesce(x.creee, p.creee)) - interval '1 hour'
            FROM s_cand c JOIN s_plan p ON p.j = c.kk
            LEFT JOIN s_plan x ON x.j = :m + c.kk
            ORDER BY c.kk""", {"cand0": self.cand0, "m": m,
                                "villes": [v for _r, v, _c in VILLES],
                                "cps": [c for _r, _v, c in VILLES]})
        self.etape(f"{nombre(m)} candidats", t0)
        t0 = time.monotonic()
        # the candidatures, joined with their établissement and organisme: the perimeter
        # (organisme_id, reseau_id) is at hand for a denormalised copy on the candidature
        self.sql("""INSERT INTO candidature (id, candidat_id, etablissement_id, statut,
                        statut_avant_abandon, type_public, statut_inscription, branche_id,
                        socle_contextualise, niveau_formation, origine_demarche, objectif_pro,
                        objectif_extra_pro, certificat_papier, date_prealable, motif_abandon,
                        motif_abandon_texte, created_on, updated_on, created_by_id,
                        certificateur_id, envoye_le, session_jury_id, organisme_id, reseau_id)
            SELECT p.id, :cand0 + p.kk, e.id, p.statut, p.avant,
                   (ARRAY['demandeur_emploi', 'salarie', 'jeune_16_25', 'travailleur_handicape',
                          'detenu', 'autre'])[1 + floor(p.r4 * 6)::int],
                   (ARRAY['demandeur_emploi', 'salarie', 'independant', 'autre'])
                       [1 + floor(p.r5 * 4)::int],
                   p.branche_id, p.branche_id IS NOT NULL, 1 + floor(p.r6 * 4)::int,
                   (ARRAY['france_travail', 'mission_locale', 'cap_emploi', 'employeur', 'opco',
                          'transitions_pro', 'initiative_personnelle', 'autre'])
                       [1 + floor(p.r7 * 8)::int],
                   'Obtenir une certification reconnue pour évoluer vers un poste qualifié '
                       || 'dans mon secteur.',
                   'Gagner en autonomie dans les démarches de la vie quotidienne.',
                   p.r4 < 0.05,
                   CASE WHEN p.etape >= 2 THEN p.t_prea::date END,
                   CASE WHEN p.statut = 'abandonnee' THEN (ARRAY['emploi', 'sante',
                        'demenagement', 'desinteret', 'injoignable', 'autre'])
                        [1 + floor(p.r5 * 6)::int] END,
                   CASE WHEN p.statut = 'abandonnee' AND p.r5 >= 5.0 / 6
                        THEN 'Le candidat a quitté le dispositif.' END,
                   p.creee,
                   CASE WHEN p.statut = 'abandonnee' THEN p.t_ab
                        WHEN p.etape = 6 THEN CASE WHEN p.statut = 'completee' THEN p.t_rep
                                                   ELSE p.t_dec END
                        WHEN p.etape = 5 THEN p.t_env + interval '2 days'
                        WHEN p.etape = 4 THEN p.t_env
                        WHEN p.etape = 3 THEN CASE WHEN p.prea_valide THEN p.t_prea ELSE p.t_fin END
                        WHEN p.etape = 2 THEN p.t_prea
                        ELSE p.creee END,
                   p.admin_id, p.cert_id,
                   CASE WHEN p.etape >= 4 THEN p.t_env END, p.session_id, o.id, o.reseau_id
            FROM s_plan p
            JOIN etablissement e ON e.id = p.etab_id
            JOIN organisme o ON o.id = e.organisme_id
            ORDER BY p.j""", {"cand0": self.cand0})
        return f"{nombre(self.n)} candidatures"

    # --- evaluations ----------------------------------------------------------------------

    def evaluations(self) -> str:
        ev0 = self.base("evaluation")
        # kind 1: préalable (every dossier), 2: a failed finale, 3: the last finale (valid, or
        # a draft while the dossier waits for its finale)
        self.sql("""CREATE TEMP TABLE s_eval ON COMMIT DROP AS
            SELECT :ev0 + row_number() OVER (ORDER BY x.j, x.kind) AS id, x.*
            FROM (
                SELECT j, id AS cid, 1 AS kind, 'prealable' AS type,
                       CASE WHEN etape = 1 THEN 'en_cours' ELSE 'finalisee' END AS statut,
                       CASE WHEN etape = 1 THEN NULL WHEN prea_valide THEN 'valide'
                            ELSE 'non_valide' END AS resultat,
                       t_prea AS le, creee + interval '1 hour' AS creee, admin_id
                FROM s_plan
                UNION ALL
                SELECT j, id, 2, 'finale', 'finalisee', 'non_valide',
                       t_prea + (t_fin - t_prea) / 2, t_prea + (t_fin - t_prea) / 3, admin_id
                FROM s_plan WHERE etape >= 2 AND NOT prea_valide AND echec_finale
                UNION ALL
                SELECT j, id, 3, 'finale',
                       CASE WHEN etape >= 3 THEN 'finalisee' ELSE 'en_cours' END,
                       CASE WHEN etape >= 3 THEN 'valide' END,
                       t_fin, t_prea + (t_fin - t_prea) * 0.8, admin_id
                FROM s_plan WHERE NOT prea_valide AND (etape >= 3 OR (etape = 2 AND brouillon))
            ) x ORDER BY x.j, x.kind""", {"ev0": ev0})
        self.sql("CREATE UNIQUE INDEX ON s_eval (id)")
        self.sql("ANALYZE s_eval")
        self.sql("""INSERT INTO evaluation (id, candidature_id, referentiel_id, type, statut,
                        resultat, evaluateur, date_evaluation, version, created_on,
                        created_by_id, finalisee_le, finalisee_par_id)
            SELECT v.id, v.cid, :ref_id, v.type, v.statut, v.resultat,
                   (CAST(:evaluateurs AS text[]))[1 + v.id % 12],
                   CASE WHEN v.statut = 'finalisee' THEN v.le::date END,
                   CASE WHEN v.statut = 'finalisee' THEN 2 ELSE 1 END, v.creee, v.admin_id,
                   CASE WHEN v.statut = 'finalisee' THEN v.le END,
                   CASE WHEN v.statut = 'finalisee' THEN v.admin_id END
            FROM s_eval v ORDER BY v.id""",
                 {"ref_id": self.referentiel_id,
                  "evaluateurs": [f"{p} {n}" for p, n in zip(PRENOMS_F[:6] + PRENOMS_M[:6],
                                                             NOMS_COURANTS[20:32])]})
        self.sql("""CREATE TEMP TABLE s_sd ON COMMIT DROP AS
            SELECT row_number() OVER (ORDER BY d.ordre, s.ordre)::int AS rang, s.id
            FROM sous_domaine s JOIN domaine d ON d.id = s.domaine_id
            WHERE d.referentiel_id = :ref_id""", {"ref_id": self.referentiel_id})
        self.n_sd = self.count("s_sd")
        r0 = self.base("resultat_evaluation")
        # valid: every sous-domaine acquired; not valid: at least one not acquired; a draft:
        # some lines still empty
        self.sql("""INSERT INTO resultat_evaluation (id, evaluation_id, sous_domaine_id, acquis,
                        commentaire)
            SELECT :r0 + (v.id - :ev0 - 1) * :nsd + sd.rang, v.id,
                   (CAST(:sd_ids AS int[]))[sd.rang],
                   CASE WHEN v.resultat = 'valide' THEN true
                        WHEN v.resultat = 'non_valide'
                            THEN sd.rang <> 1 + v.id % :nsd AND random() < 0.6
                        WHEN random() < 0.6 THEN random() < 0.7 END,
                   NULL
            FROM s_eval v CROSS JOIN LATERAL generate_series(1, :nsd + 0 * v.id) AS sd(rang)""",
                 {"r0": r0, "ev0": ev0, "nsd": self.n_sd,
                  "sd_ids": [row[0] for row in self.sql("SELECT id FROM s_sd ORDER BY rang")]})
        return (f"{nombre(self.count('s_eval'))} évaluations, "
                f"{nombre(self.count('s_eval') * self.n_sd)} résultats")

    # --- formations and documents ---------------------------------------------------------

    def formations_documents(self) -> str:
        f0 = self.base("formation")
        self.sql("""CREATE TEMP TABLE s_form ON COMMIT DROP AS
            SELECT :f0 + row_number() OVER (ORDER BY p.j, g) AS id, p.j, p.id AS cid,
                   p.t_prea, p.t_fin, p.admin_id, g
            FROM s_plan p, generate_series(1, 2) g
            WHERE p.etape >= 2 AND NOT p.prea_valide AND (g = 1 OR p.r6 < 0.25)""",
                 {"f0": f0})
        self.sql("""INSERT INTO formation (id, candidature_id, intitule, organisme_formateur,
                        formateur, date_debut, date_fin, duree_heures, modalite, created_on,
                        created_by_id)
            SELECT f.id, f.cid, (CAST(:intitules AS text[]))[1 + f.id % 5],
                   (CAST(:organismes AS text[]))[1 + f.id % 4],
                   (CAST(:formateurs AS text[]))[1 + f.id % 6],
                   (f.t_prea + interval '3 days')::date,
                   (f.t_prea + greatest(f.t_fin - f.t_prea - interval '3 days',
                                         interval '4 days'))::date,
                   20 + (f.id * 17) % 130, CASE WHEN f.id % 3 = 0 THEN 'distanciel'
                                                ELSE 'presentiel' END,
                   f.t_prea + interval '1 day', f.admin_id
            FROM s_form f ORDER BY f.id""",
                 {"intitules": ["Remise à niveau en français", "Calcul et raisonnement",
                                "Outils numériques", "Travail en équipe",
                                "Apprendre à apprendre"],
                  "organismes": ["GRETA", "AFPA", "Centre de formation local",
                                 "Organisme partenaire"],
                  "formateurs": [f"{p} {n}" for p, n in zip(PRENOMS_M[10:16],
                                                            NOMS_COURANTS[40:46])]})
        self.sql("""INSERT INTO formation_sous_domaine (formation_id, sous_domaine_id)
            SELECT DISTINCT f.id, sd.id FROM s_form f
            CROSS JOIN (VALUES (0), (9), (17)) o(d)
            JOIN s_sd sd ON sd.rang = 1 + (f.id * 7 + o.d) % :nsd""", {"nsd": self.n_sd})
        d0 = self.base("document")
        # the grid of each finalised finale, each formation's attestation, a piece for some
        # dossiers; the files themselves do not exist (rows only)
        self.sql("""INSERT INTO document (id, candidature_id, evaluation_id, formation_id, nature,
                        nom_original, nom_stockage, type_mime, taille, sha256, created_on,
                        created_by_id)
            SELECT :d0 + row_number() OVER (ORDER BY x.cid, x.kind, x.ref), x.cid,
                   x.evaluation_id, x.formation_id, x.nature, x.nom,
                   'synth-' || (:d0 + row_number() OVER (ORDER BY x.cid, x.kind, x.ref)),
                   'application/pdf', 40000 + (x.ref::bigint * 7919) % 900000,
                   md5(x.kind || '-' || x.ref) || md5(x.ref || '-' || x.kind), x.le, x.par
            FROM (
                SELECT v.cid, 1 AS kind, v.id AS ref, v.id AS evaluation_id,
                       NULL::int AS formation_id, 'matrice' AS nature,
                       'matrice-evaluation.pdf' AS nom, v.le, v.admin_id AS par
                FROM s_eval v WHERE v.resultat = 'valide'
                UNION ALL
                SELECT f.cid, 2, f.id, NULL, f.id, 'attestation', 'attestation-formation.pdf',
                       f.t_fin, f.admin_id FROM s_form f
                UNION ALL
                SELECT p.id, 3, p.j, NULL, NULL, 'piece', 'piece-identite.pdf',
                       p.creee + interval '2 hours', p.admin_id
                FROM s_plan p WHERE p.r4 < 0.3
            ) x""", {"d0": d0})
        return (f"{nombre(self.count('s_form'))} formations, "
                f"{nombre(self.count('document', f'WHERE id > {d0}'))} documents")

    # --- history, decisions, certificates, notifications ----------------------------------

    def suites(self) -> str:
        h0 = self.base("historique_statut")
        self.sql("""INSERT INTO historique_statut (id, candidature_id, de, vers, motif, par_id, le)
            SELECT :h0 + row_number() OVER (ORDER BY x.cid, x.le, x.n), x.cid, x.de, x.vers,
                   x.motif, x.par, x.le
            FROM (
                SELECT id AS cid, 1 AS n, NULL AS de, 'attente_eval_prealable' AS vers,
                       NULL AS motif, admin_id AS par, creee AS le FROM s_plan
                UNION ALL
                SELECT id, 2, 'attente_eval_prealable', 'attente_eval_finale',
                       'Évaluation préalable finalisée', admin_id, t_prea
                FROM s_plan WHERE etape >= 2 AND NOT prea_valide
                UNION ALL
                SELECT id, 3, CASE WHEN prea_valide THEN 'attente_eval_prealable'
                                   ELSE 'attente_eval_finale' END, 'a_envoyer',
                       'Évaluation validée', admin_id,
                       CASE WHEN prea_valide THEN t_prea ELSE t_fin END
                FROM s_plan WHERE etape >= 3
                UNION ALL
                SELECT id, 4, 'a_envoyer', 'attente_jury', 'Envoyé au jury', admin_id, t_env
                FROM s_plan WHERE etape >= 4
                UNION ALL
                SELECT id, 5, 'attente_jury', 'attente_certification', 'Affecté à une session',
                       NULL, t_env + interval '2 days' FROM s_plan WHERE etape >= 5
                UNION ALL
                SELECT id, 6, 'attente_certification',
                       CASE WHEN statut = 'completee' THEN 'attente_complement' ELSE statut END,
                       'Décision du jury', jury_id, t_dec FROM s_plan WHERE etape = 6
                UNION ALL
                SELECT id, 7, 'attente_complement', 'completee', 'Compléments envoyés',
                       admin_id, t_rep FROM s_plan WHERE statut = 'completee'
                UNION ALL
                SELECT id, 8, avant, 'abandonnee', 'Abandon', admin_id, t_ab
                FROM s_plan WHERE statut = 'abandonnee'
            ) x""", {"h0": h0})
        dj0 = self.base("decision_jury")
        self.sql("""INSERT INTO decision_jury (id, candidature_id, session_jury_id, decision,
                        motif, par_id, le, reponse, repondu_le, repondu_par_id)
            SELECT :dj0 + row_number() OVER (ORDER BY p.j), p.id, p.session_id,
                   CASE p.statut WHEN 'certifiee' THEN 'certifiee'
                        WHEN 'non_certifiee' THEN 'non_certifiee' ELSE 'complement' END,
                   CASE p.statut WHEN 'certifiee' THEN NULL
                        WHEN 'non_certifiee' THEN 'Les preuves présentées sont insuffisantes.'
                        ELSE 'Merci de joindre la grille d''évaluation signée.' END,
                   p.jury_id, p.t_dec,
                   CASE WHEN p.statut = 'completee' THEN 'Grille signée jointe.' END,
                   CASE WHEN p.statut = 'completee' THEN p.t_rep END,
                   CASE WHEN p.statut = 'completee' THEN p.admin_id END
            FROM s_plan p WHERE p.etape = 6 ORDER BY p.j""", {"dj0": dj0})
        c0 = self.base("certificat")
        self.sql("""CREATE TEMP TABLE s_certif ON COMMIT DROP AS
            SELECT p.j, p.id AS cid, p.session_id, p.cert_id, p.date_session, p.t_dec,
                   extract(year FROM p.date_session)::int AS annee,
                   row_number() OVER (PARTITION BY extract(year FROM p.date_session)
                                      ORDER BY p.date_session, p.j)
                       + coalesce(cc.dernier, 0) AS rang
            FROM s_plan p LEFT JOIN compteur_certificat cc
                ON cc.annee = extract(year FROM p.date_session)::int
            WHERE p.statut = 'certifiee'""")
        self.sql("""INSERT INTO certificat (id, numero, candidature_id, session_jury_id,
                        certificateur_id, date_jury, created_on)
            SELECT :c0 + row_number() OVER (ORDER BY s.j), 'CLEA-' || s.annee || '-'
                       || lpad(s.rang::text, 6, '0'),
                   s.cid, s.session_id, s.cert_id, s.date_session, s.t_dec
            FROM s_certif s ORDER BY s.j""", {"c0": c0})
        self.sql("""INSERT INTO compteur_certificat (annee, dernier)
            SELECT annee, max(rang) FROM s_certif GROUP BY annee
            ON CONFLICT (annee) DO UPDATE SET dernier = excluded.dernier""")
        n0 = self.base("notification")
        # the établissement's administrator hears of each decision (read after 30 days)
        self.sql("""INSERT INTO notification (id, user_id, rubrique, titre, texte, lien,
                        created_on, lu, lu_le)
            SELECT :n0 + row_number() OVER (ORDER BY p.j), p.admin_id, 'certification',
                   CASE p.statut WHEN 'certifiee' THEN 'Candidat certifié'
                        WHEN 'non_certifiee' THEN 'Candidat non certifié'
                        ELSE 'Compléments demandés par le jury' END,
                   'Le jury a rendu sa décision sur le dossier n° ' || p.id || '.',
                   '/candidature/' || p.id, p.t_dec, p.t_dec < :ref - interval '30 days',
                   CASE WHEN p.t_dec < :ref - interval '30 days'
                        THEN p.t_dec + interval '2 days' END
            FROM s_plan p WHERE p.etape = 6 AND p.admin_id IS NOT NULL ORDER BY p.j""",
                 {"n0": n0, "ref": self.ref})
        return (f"Historique ({nombre(self.count('historique_statut', f'WHERE id > {h0}'))}"
                f" lignes), {nombre(self.count('decision_jury', f'WHERE id > {dj0}'))} "
                f"décisions, {nombre(self.count('s_certif'))} certificats, "
                f"{nombre(self.count('notification', f'WHERE id > {n0}'))} notifications")
