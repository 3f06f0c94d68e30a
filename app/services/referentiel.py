"""Load the CléA référentiel (JSON shipped in app/data) as a version of its own."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select, update

from app.extensions import db
from app.models import Critere, Domaine, Referentiel, SousDomaine


def load_referentiel(path: str | Path) -> tuple[Referentiel, bool]:
    """Idempotent: a version already loaded is left as it is. Returns (referentiel, created)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    existing = db.session.execute(
        select(Referentiel).where(Referentiel.nom == data["referentiel"],
                                  Referentiel.version == data["version"])
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    db.session.execute(update(Referentiel).values(en_vigueur=False))
    ref = Referentiel(nom=data["referentiel"], version=data["version"], en_vigueur=True)
    db.session.add(ref)
    for d_index, dom in enumerate(data["domaines"], start=1):
        domaine = Domaine(referentiel=ref, numero=dom["numero"], intitule=dom["intitule"],
                          ordre=d_index)
        db.session.add(domaine)
        for s_index, sd in enumerate(dom["sous_domaines"], start=1):
            sous = SousDomaine(domaine=domaine, code=sd["code"], intitule=sd["intitule"],
                               ordre=s_index, intitule_verifie=sd.get("title_verified", True))
            db.session.add(sous)
            for c_index, cr in enumerate(sd["criteres"], start=1):
                db.session.add(Critere(sous_domaine=sous, code=cr["code"],
                                       intitule=cr["intitule"], ordre=c_index))
    db.session.commit()
    return ref, True
