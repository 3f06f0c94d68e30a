"""The scheduler process: APScheduler runs each job at its interval, inside the app context
and under the job's database lock."""
from __future__ import annotations

import datetime as dt
import logging
import threading
from zoneinfo import ZoneInfo
from typing import Callable, Optional

from flask import Flask

from app.extensions import db

from .locks import locked

log = logging.getLogger(__name__)


def envoyer_emails() -> int:
    from app.services.mail import deliver_pending

    return deliver_pending()


def habilitations_echeances() -> dict:
    from app.services.habilitations import echeances

    return echeances()


def abandons_automatiques() -> int:
    from app.services.candidatures import abandons_automatiques as run

    return run()


def affectation_jurys() -> int:
    from app.extensions import db
    from app.services.certification import assigner_en_attente

    count = assigner_en_attente()
    db.session.commit()
    return count


def retention() -> object:
    from app.services.rgpd import retention as run

    return run()


def balayer_fichiers() -> dict:
    """Files in step with their rows (services/stockage.py): finish interrupted moves, erase
    orphans, report rows whose file is missing."""
    from app.services.stockage import balayer

    return balayer(db.session)


def exports() -> dict:
    """The exports asked on the Stats tab (services/exports.py): expire the old ones, then
    prepare the waiting ones, each claimed by one process."""
    from app.services.exports import executer_en_attente

    return executer_en_attente()


# name → (function, interval in seconds)
JOBS: dict[str, tuple[Callable[[], object], int]] = {
    "envoyer_emails": (envoyer_emails, 30),
    "habilitations_echeances": (habilitations_echeances, 6 * 3600),
    "abandons_automatiques": (abandons_automatiques, 24 * 3600),
    "affectation_jurys": (affectation_jurys, 3600),
    "retention": (retention, 24 * 3600),  # RGPD retention rules (config CLEA_RETENTION_*)
    "balayer_fichiers": (balayer_fichiers, 3600),
    "exports": (exports, 5),  # interval: CLEA_EXPORT_INTERVAL_SECONDS (build_scheduler)
}


def run_job(app: Flask, name: str) -> object:
    function, _interval = JOBS[name]
    with app.app_context():
        try:
            with locked(name) as mine:
                if not mine:
                    log.info("Job %s already running elsewhere", name)
                    return None
                return function()
        finally:
            db.session.remove()


def boucle_exports(app: Flask, stop: Optional[threading.Event] = None) -> None:
    """The exports worker: runs the job « exports », then waits for the next one — woken at
    once by the export queued (Redis: partage.reveiller), else after
    CLEA_EXPORT_INTERVAL_SECONDS — until `stop` is set. A thread of `flask clea scheduler`, or
    `flask clea exports --continu` on a machine of its own; several may run: each export is
    claimed by one of them, under the job's lock."""
    from app.services import exports as service
    from app.services import partage

    stop = stop or threading.Event()
    interval = app.config.get("CLEA_EXPORT_INTERVAL_SECONDS", JOBS["exports"][1])
    while not stop.is_set():
        try:
            run_job(app, "exports")
        except Exception:  # noqa: BLE001  (a database down: the worker tries again later)
            log.exception("Job exports en échec")
        with app.app_context():
            if not partage.actif():
                stop.wait(interval)
                continue
            try:
                partage.attendre_reveil(service.FILE, interval)
            except Exception:  # noqa: BLE001  (Redis down: the interval, as without it)
                log.warning("Réveil des exports indisponible ; nouvel essai dans %s s", interval,
                            exc_info=True)
                stop.wait(interval)


def build_scheduler(app: Flask):
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="Europe/Paris")
    start = dt.datetime.now(ZoneInfo("Europe/Paris"))
    for name, (_function, interval) in JOBS.items():
        if name == "exports":
            continue  # boucle_exports, a thread of its own (started by `flask clea scheduler`)
        scheduler.add_job(run_job, "interval", seconds=interval, args=[app, name], id=name,
                          max_instances=1, coalesce=True, next_run_time=start)
    return scheduler
