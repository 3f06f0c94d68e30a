"""The perimeter carried on the dossier: candidature.organisme_id and candidature.reseau_id
repeat the établissement's organisme and that organisme's réseau, so that the perimeter of
an organisme or a réseau is one indexed equality (security/perimeter.py).

The rules that keep them exact (every change of an établissement's organisme, an
organisme's réseau or a dossier's établissement calls `recalculer` in its transaction):
- a new dossier takes them from its établissement (services/candidatures.creer; any other
  ORM insert through the model's before_insert hook);
- a rattachement moves a dossier to another établissement (services/rattachements.decider);
- an organisme moved to another réseau (services/structure.update_organisme);
- an établissement moved to another organisme (refused today by
  services/structure.validate_etablissement; recomputed all the same if it ever happens).
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import ColumnElement, select, update

from app.extensions import db
from app.models import Etablissement, Organisme
from app.models.candidature import Candidature


def valeurs(etablissement: Etablissement) -> dict:
    """The two columns of a dossier managed by `etablissement`."""
    return {"organisme_id": etablissement.organisme_id,
            "reseau_id": etablissement.organisme.reseau_id}


def recalculer(*conditions: ColumnElement) -> int:
    """Recompute organisme_id and reseau_id, from their établissement, for the dossiers
    matching `conditions` (one UPDATE). The caller commits."""
    organisme = (select(Etablissement.organisme_id)
                 .where(Etablissement.id == Candidature.etablissement_id).scalar_subquery())
    reseau = (select(Organisme.reseau_id).join(Etablissement,
                                               Etablissement.organisme_id == Organisme.id)
              .where(Etablissement.id == Candidature.etablissement_id).scalar_subquery())
    return db.session.execute(
        update(Candidature).where(*conditions).values(organisme_id=organisme, reseau_id=reseau)
        .execution_options(synchronize_session="fetch")).rowcount


def pour_etablissements(ids: Iterable[Any]) -> int:
    """The dossiers of these établissements (a list of ids or a selectable of ids)."""
    if not hasattr(ids, "subquery"):
        ids = [int(i) for i in ids]
        if not ids:
            return 0
    return recalculer(Candidature.etablissement_id.in_(ids))


def pour_organisme(organisme_id: int) -> int:
    """The dossiers of every établissement of an organisme (it moved to another réseau)."""
    return pour_etablissements(select(Etablissement.id)
                               .where(Etablissement.organisme_id == organisme_id))
