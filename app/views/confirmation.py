"""The confirmation step of irreversible actions, shared by every screen. In the browser,
clea.js asks in a dialog (the form's data-confirm text) and adds confirme=1 to the request;
without JavaScript the view answers with a page that asks the same question, whose button
sends the request again with confirme=1."""
from __future__ import annotations

from typing import Optional

from flask import request


def confirme() -> bool:
    """The user confirmed (dialog or confirmation page)."""
    return request.form.get("confirme") == "1"


def page_de_confirmation(view, titre: str, message: str, action: str, libelle: str,
                         retour: str, detail: str = "", champs: Optional[dict] = None,
                         style: str = "btn-primary"):
    """The page (rendered by the FAB `view`) that asks before an irreversible action, as the
    dialog does (title, `detail` in bold, `message`): the button `libelle` sends `champs`
    (hidden fields) with confirme=1 to `action`; « Annuler » goes back to `retour`."""
    return view.render_template("clea/confirmer.html", title=titre, titre=titre,
                                detail=detail, message=message, action=action,
                                libelle=libelle, retour=retour, champs=champs or {},
                                style=style)
