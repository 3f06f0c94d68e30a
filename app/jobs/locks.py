"""A named lock in the database (job_lock table): the job runs in one process at a time."""
from __future__ import annotations

import datetime as dt
import os
import socket
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import JobLock

OWNER = f"{socket.gethostname()}:{os.getpid()}"


def acquire(name: str, ttl: dt.timedelta, owner: str = OWNER) -> bool:
    now = dt.datetime.now()
    if db.session.get(JobLock, name) is None:
        try:
            db.session.add(JobLock(name=name, locked_until=None))
            db.session.commit()
        except IntegrityError:  # created meanwhile by another process
            db.session.rollback()
    taken = db.session.execute(
        update(JobLock)
        .where(JobLock.name == name,
               or_(JobLock.locked_until.is_(None), JobLock.locked_until < now))
        .values(locked_until=now + ttl, owner=owner)).rowcount
    db.session.commit()
    return taken == 1


def release(name: str, owner: str = OWNER) -> None:
    db.session.execute(update(JobLock).where(JobLock.name == name, JobLock.owner == owner)
                       .values(locked_until=None))
    db.session.commit()


@contextmanager
def locked(name: str, ttl: dt.timedelta = dt.timedelta(minutes=10),
           owner: str = OWNER) -> Iterator[bool]:
    """with locked("job") as mine: if mine: ...  (mine is False when another process runs it)"""
    mine = acquire(name, ttl, owner)
    try:
        yield mine
    finally:
        if mine:
            db.session.rollback()
            release(name, owner)
