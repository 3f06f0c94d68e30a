"""`flask clea ...`: init (schema, roles, référentiel), demo, create-user, scheduler, run-job,
retention (RGPD retention rules, --dry-run), synth (synthetic data at volume, PostgreSQL),
stats-recalculer (the Stats aggregates)."""
from __future__ import annotations

import signal
import sys
import threading

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group()
def clea():
    """Administration de la plateforme CléA."""


@clea.command("init")
@with_appcontext
def init_command():
    """Crée ou met à jour le schéma, synchronise rôles et permissions, charge le référentiel."""
    from flask_migrate import upgrade

    from app.security.sync import sync_roles
    from app.services.referentiel import load_referentiel

    upgrade()
    counts = sync_roles()
    ref, created = load_referentiel(current_app.config["CLEA_REFERENTIEL_FILE"])
    click.echo(f"Schéma à jour ; {len(counts)} rôles synchronisés ; référentiel {ref} "
               f"{'chargé' if created else 'déjà présent'}.")
    from app.services import credential, signature

    cle_credential = credential.creer_cle_developpement()
    if cle_credential:
        click.echo(f"Clé Ed25519 des certificats numériques (Open Badges) créée : "
                   f"{cle_credential} (CLEA_CREDENTIAL_CLE) ; sa clé publique est publiée "
                   f"sur /issuer.")
    paire = signature.creer_paire_developpement()
    if paire:
        click.echo(f"Paire de signature de développement créée (certificat auto-signé) : "
                   f"{paire[0]}, {paire[1]}. En production, indiquez une clé et un "
                   f"certificat délivrés pour Certif Pro (CLEA_SIGNATURE_CLE, "
                   f"CLEA_SIGNATURE_CERTIFICAT).")


@clea.command("demo")
@with_appcontext
def demo_command():
    """Charge les données de démonstration et affiche les identifiants."""
    from app.services.demo import load_demo

    print_logins(load_demo())


def print_logins(logins):
    width = max(len(r) for r, _u, _p in logins)
    click.echo("Identifiants de démonstration :")
    click.echo(f"  {'Rôle'.ljust(width)}  {'Identifiant'.ljust(26)}  Mot de passe")
    for role, username, password in logins:
        click.echo(f"  {role.ljust(width)}  {username.ljust(26)}  {password}")


@clea.command("create-user")
@click.option("--username", required=True, help="Identifiant de connexion")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", "role", required=True, help='Nom du rôle, ex. "Administrateur réseau"')
@click.option("--first-name", default=None)
@click.option("--last-name", default=None)
@click.option("--reseau", type=int, default=None, help="Id du réseau")
@click.option("--organisme", type=int, default=None, help="Id de l'organisme")
@click.option("--etablissement", type=int, default=None, help="Id de l'établissement")
@click.option("--certificateur", type=int, default=None, help="Id du certificateur (Jury)")
@with_appcontext
def create_user_command(username, email, password, role, first_name, last_name, reseau,
                        organisme, etablissement, certificateur):
    """Crée un utilisateur avec son rôle et son périmètre."""
    from app.extensions import db
    from app.services import accounts
    from app.services.errors import ServiceError

    data = {"username": username, "email": email, "role": role,
            "first_name": first_name or username, "last_name": last_name or username,
            "reseau_id": reseau, "organisme_id": organisme, "etablissement_id": etablissement,
            "certificateur_id": certificateur}
    try:
        user = accounts.create_user(data, by=None, password=password)
    except ServiceError as error:
        db.session.rollback()
        click.echo(f"Erreur : {error.message}", err=True)
        sys.exit(1)
    click.echo(f"Utilisateur « {user.username} » créé avec le rôle « {user.role_label} ».")


@clea.command("scheduler")
@with_appcontext
def scheduler_command():
    """Lance le processus des tâches planifiées (envoi des e-mails, ...)."""
    from app.jobs.scheduler import JOBS, boucle_exports, build_scheduler

    app = current_app._get_current_object()
    scheduler = build_scheduler(app)
    stop = threading.Event()
    worker = threading.Thread(target=boucle_exports, args=(app, stop), name="exports",
                              daemon=True)
    worker.start()
    click.echo(f"Tâches planifiées : {', '.join(JOBS)}. Ctrl+C pour arrêter.")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        stop.set()


@clea.command("run-job")
@click.argument("name")
@with_appcontext
def run_job_command(name):
    """Exécute une fois une tâche planifiée (ex. envoyer_emails)."""
    from app.jobs.scheduler import JOBS, run_job

    if name not in JOBS:
        click.echo(f"Erreur : tâche inconnue « {name} » ; tâches : {', '.join(JOBS)}", err=True)
        sys.exit(1)
    result = run_job(current_app._get_current_object(), name)
    click.echo(f"Tâche {name} : {'déjà en cours ailleurs' if result is None else result}")


@clea.command("exports")
@click.option("--continu", is_flag=True,
              help="Reste en service : prépare chaque export dès qu'il est demandé (réveil par "
                   "Redis, sinon toutes les CLEA_EXPORT_INTERVAL_SECONDS), jusqu'à Ctrl+C ou "
                   "SIGTERM — ce que fait le processus des tâches.")
@with_appcontext
def exports_command(continu):
    """Prépare les exports en attente, une fois (ou en continu avec --continu)."""
    from app.jobs.scheduler import boucle_exports, run_job

    if continu:
        stop = threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_args: stop.set())
        click.echo("Processus des exports en service. Ctrl+C pour arrêter.")
        try:
            boucle_exports(current_app._get_current_object(), stop)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
        return
    bilan = run_job(current_app._get_current_object(), "exports")
    if bilan is None:
        click.echo("Les exports sont déjà en cours de préparation ailleurs.", err=True)
        sys.exit(1)
    click.echo(f"Exports : {bilan['pretes']} prêt(s), {bilan['echouees']} en échec, "
               f"{bilan['expirees']} expiré(s).")


@clea.command("audit-verify")
@with_appcontext
def audit_verify_command():
    """Vérifie la chaîne d'empreintes du journal d'audit (code de sortie 1 si rompue)."""
    from app.services import audit

    result = audit.verifier()
    click.echo(result.message(), err=not result.ok)
    if not result.ok:
        sys.exit(1)


@clea.command("retention")
@click.option("--dry-run", "dry_run", is_flag=True,
              help="Affiche ce qui serait fait, sans rien modifier")
@with_appcontext
def retention_command(dry_run):
    """Applique les durées de conservation des données personnelles (CLEA_RETENTION_*)."""
    from app.jobs.scheduler import run_job
    from app.services.rgpd import retention

    if dry_run:
        bilan = retention(simulation=True)
    else:  # under the job's lock, as the scheduler runs it
        bilan = run_job(current_app._get_current_object(), "retention")
        if bilan is None:
            click.echo("La tâche de conservation est déjà en cours ailleurs.", err=True)
            sys.exit(1)
    click.echo(str(bilan))


@clea.command("synth")
@click.option("--candidatures", "n", type=int, default=100_000, show_default=True,
              help="Nombre de candidatures à générer")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Graine : la même graine donne les mêmes données")
@click.option("--mot-de-passe", "password", default=None,
              help="Mot de passe de tous les comptes synth_* (par défaut celui du README)")
@with_appcontext
def synth_command(n, seed, password):
    """Génère des données synthétiques réalistes (PostgreSQL) : structures, comptes,
    candidats, candidatures à tous les statuts, évaluations, jurys, certificats."""
    import time

    from app.extensions import db
    from app.services import synth
    from app.services.errors import ServiceError

    def progress(message):
        click.echo(f"  {message}")

    click.echo(f"Génération de {synth.nombre(n)} candidatures… (graine {seed})")
    started = time.monotonic()
    try:
        bilan = synth.generer(n, seed, progress=progress,
                              password=password or synth.SYNTH_PASSWORD)
    except ServiceError as error:
        db.session.rollback()
        click.echo(f"Erreur : {error.message}", err=True)
        sys.exit(1)
    click.echo(f"Terminé en {time.monotonic() - started:.1f} s.")
    click.echo("Comptes (mot de passe : "
               f"{'celui donné par --mot-de-passe' if password else synth.SYNTH_PASSWORD}) :")
    for role, login in synth.LOGINS.items():
        click.echo(f"  {role.name.ljust(28)}  {login.format(i=1)}")


@clea.command("stats-recalculer")
@with_appcontext
def stats_recalculer_command():
    """Recalcule les agrégats de la page Stats depuis les dossiers (après un chargement en masse)."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models.agregats import StatsDossier
    from app.services import agregats

    agregats.recalculer()

    total = db.session.execute(select(func.count()).select_from(StatsDossier)).scalar_one()
    click.echo(f"Agrégats des statistiques recalculés : {total} dossiers.")
