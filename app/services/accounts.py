"""User accounts: creation with role and perimeter checks, invitation and reset links,
suspension, profile, password changes (each ends the user's other sessions) and the limits of
« Mot de passe oublié » (guide §3, §5, §9)."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Any, Optional

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import AccountToken, Certificateur, Etablissement, Organisme, Reseau, Utilisateur
from app.security import perimeter
from app.security import roles as R
from app.security.access import can, ensure_can
from app.security.matrix import CREATE, UPDATE

from . import audit, notifications, passwords, sessions, tentatives
from .errors import ForbiddenError, RuleError
from .mail import absolute_url, queue_email
from .structure import check_email

INVITATION = "invitation"
RESET = "reset"
USERNAME_RE = re.compile(r"^[A-Za-z0-9._@-]{3,128}$")
PROFILE_FIELDS = ("first_name", "last_name", "email", "telephone", "notifier_nouvelle_candidature")
USER_FIELDS = ("username", "first_name", "last_name", "email", "telephone", "role",
               "reseau_id", "organisme_id", "etablissement_id", "certificateur_id")
SCOPE_FIELD = {
    R.RESEAU: ("reseau_id", Reseau),
    R.ORGANISME: ("organisme_id", Organisme),
    R.ETABLISSEMENT: ("etablissement_id", Etablissement),
    R.CERTIFICATEUR: ("certificateur_id", Certificateur),
}


def _now() -> dt.datetime:
    return dt.datetime.now()


# --- checks ------------------------------------------------------------------------------

def _role(value: Any) -> R.RoleDef:
    if isinstance(value, R.RoleDef):
        return value
    role = R.find_role(str(value or ""))
    if role is None:
        raise RuleError(
            _("Rôle inconnu : « %(role)s ». Rôles possibles : %(liste)s.",
              role=value or "", liste=", ".join(r.name for r in R.ROLES)),
            field="role",
        )
    return role


def ensure_can_grant(by: Any, role: R.RoleDef) -> None:
    if by is None:
        return
    if role not in R.grantable_roles(by):
        raise ForbiddenError(
            _("Vous ne pouvez pas attribuer le rôle « %(role)s » : seul un rôle identique "
              "ou inférieur au vôtre peut être attribué.", role=role.label),
            field="role",
        )


def refus_gestion(by: Any, target: Utilisateur) -> Optional[ForbiddenError]:
    """Why `by` may not act on this account (a technical one, or a role above theirs)."""
    if R.is_technical_admin(target) and not R.is_technical_admin(by):
        return ForbiddenError(_("Ce compte technique ne peut pas être modifié ici."))
    role = R.role_of(target)
    if role is not None and role not in R.grantable_roles(by):
        return ForbiddenError(
            _("Vous ne pouvez pas modifier un utilisateur dont le rôle est supérieur au vôtre."))
    return None


def ensure_can_manage(by: Any, target: Utilisateur) -> None:
    """A manager acts on users of their perimeter whose role is not above theirs."""
    if by is None:
        return
    perimeter.get_or_404(Utilisateur, target.id, by)
    refus = refus_gestion(by, target)
    if refus is not None:
        raise refus


def _perimeter_values(data: dict, role: R.RoleDef, by: Any) -> dict:
    """The one perimeter column matching the role's scope, checked against `by`'s perimeter."""
    values = {field: None for field, _model in SCOPE_FIELD.values()}
    if role.scope == R.NATIONAL:
        return values
    field, model = SCOPE_FIELD[role.scope]
    raw = data.get(field)
    labels = {
        R.RESEAU: _("le réseau"),
        R.ORGANISME: _("l'organisme"),
        R.ETABLISSEMENT: _("l'établissement"),
        R.CERTIFICATEUR: _("le certificateur"),
    }
    if not raw:
        raise RuleError(
            _("Le rôle « %(role)s » demande de choisir %(cible)s de l'utilisateur.",
              role=role.label, cible=labels[role.scope]),
            field=field,
        )
    try:
        target_id = int(raw)
    except (TypeError, ValueError):
        raise RuleError(_("Valeur invalide."), field=field)
    if not _within(by, model, target_id):
        raise RuleError(
            _("%(cible)s choisi n'existe pas ou est hors de votre périmètre.",
              cible=labels[role.scope].capitalize()),
            field=field,
        )
    values[field] = target_id
    return values


def _within(by: Any, model: type, target_id: int) -> bool:
    if model is Certificateur and by is not None:
        return (perimeter.scope_of(by).kind == R.NATIONAL
                and perimeter.contains(None, model, target_id))
    return perimeter.contains(by, model, target_id)


def _unique_login(username: str, email: str, exclude_id: Optional[int] = None) -> None:
    query = select(Utilisateur.id).where(func.lower(Utilisateur.username) == username.lower())
    if exclude_id:
        query = query.where(Utilisateur.id != exclude_id)
    if username and db.session.execute(query).first():
        raise RuleError(_("Cet identifiant est déjà utilisé."), field="username")
    query = select(Utilisateur.id).where(func.lower(Utilisateur.email) == email.lower())
    if exclude_id:
        query = query.where(Utilisateur.id != exclude_id)
    if db.session.execute(query).first():
        raise RuleError(_("Cette adresse e-mail est déjà utilisée par un autre compte."),
                        field="email")


def _identity(data: dict, current: Optional[Utilisateur] = None) -> dict:
    clean = {}
    for field, label in (("first_name", _("Prénom")), ("last_name", _("Nom"))):
        if field in data or current is None:
            value = (data.get(field) or "").strip()
            if not value:
                raise RuleError(_("Le champ « %(champ)s » est obligatoire.", champ=label),
                                field=field)
            clean[field] = value[:64]
    if "email" in data or current is None:
        email = check_email(data.get("email"), field="email")
        if not email:
            raise RuleError(_("Le champ « %(champ)s » est obligatoire.", champ=_("E-mail")),
                            field="email")
        clean["email"] = email
    if "telephone" in data:
        clean["telephone"] = (data.get("telephone") or "").strip() or None
    return clean


def _fab_role(role: R.RoleDef):
    sm = current_app.appbuilder.sm
    fab_role = sm.find_role(role.name)
    if fab_role is None:
        fab_role = sm.add_role(role.name)
    return fab_role


# --- tokens --------------------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(user: Utilisateur, purpose: str) -> str:
    """Create a single-use link; any earlier unused link of the same purpose stops working."""
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose,
               AccountToken.used_at.is_(None))
        .values(used_at=_now())
    )
    hours = current_app.config["CLEA_INVITATION_HOURS" if purpose == INVITATION
                                else "CLEA_RESET_HOURS"]
    token = secrets.token_urlsafe(32)
    db.session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=_hash(token),
                                expires_at=_now() + dt.timedelta(hours=hours)))
    return token


def find_valid_token(token: str) -> Optional[AccountToken]:
    row = db.session.execute(
        select(AccountToken).where(AccountToken.token_hash == _hash(token or ""))
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at < _now():
        return None
    if not row.user.active:
        return None
    return row


LINKS = {
    # purpose: (e-mail template, page, hours setting)
    INVITATION: ("invitation", "/compte/activer/", "CLEA_INVITATION_HOURS"),
    RESET: ("reset", "/compte/reinitialiser/", "CLEA_RESET_HOURS"),
}


def _send_link(user: Utilisateur, purpose: str) -> None:
    """E-mail a single-use link: first connection ("invitation") or password reset."""
    template, page, hours = LINKS[purpose]
    subject = (_("Votre compte sur la plateforme CléA") if purpose == INVITATION
               else _("Réinitialisation de votre mot de passe CléA"))
    token = _new_token(user, purpose)
    queue_email(user.email, template, subject, rubrique="comptes", user=user,
                link=absolute_url(page + token), hours=current_app.config[hours])


# --- commands --------------------------------------------------------------------------

def create_user(data: dict, by: Any, password: Optional[str] = None) -> Utilisateur:
    """Create an account. Without `password` the user gets a first-connection e-mail."""
    ensure_can(by, "Utilisateur", CREATE)
    role = _role(data.get("role"))
    ensure_can_grant(by, role)
    username = (data.get("username") or "").strip()
    if not USERNAME_RE.match(username):
        raise RuleError(
            _("Identifiant invalide : 3 à 128 caractères parmi lettres, chiffres et . _ @ -"),
            field="username",
        )
    values = _identity(data)
    _unique_login(username, values["email"])
    values.update(_perimeter_values(data, role, by))
    if password is not None:
        passwords.check_password(password, login=username, first_name=values["first_name"],
                                 last_name=values["last_name"])
    user = Utilisateur(
        username=username,
        active=True,
        password=passwords.hash_password(password or secrets.token_urlsafe(32)),
        created_by_fk=getattr(by, "id", None),
        **values,
    )
    user.roles = [_fab_role(role)]
    db.session.add(user)
    db.session.flush()
    if password is None:
        _send_link(user, INVITATION)
    audit.record(by, "creer", user, f"role={role.code}")
    db.session.commit()
    return user


def update_user(target: Utilisateur, data: dict, by: Any) -> Utilisateur:
    ensure_can(by, "Utilisateur", UPDATE)
    ensure_can_manage(by, target)
    values = _identity(data, target)
    _unique_login(target.username, values.get("email", target.email), exclude_id=target.id)
    role = _role(data["role"]) if data.get("role") else target.role
    before = (target.role, target.perimetre_label)
    if role is not None:
        ensure_can_grant(by, role)
        if any(f in data for f in ("role",) + tuple(f for f, _m in SCOPE_FIELD.values())):
            merged = {f: data.get(f, getattr(target, f)) for f, _m in SCOPE_FIELD.values()}
            values.update(_perimeter_values(merged, role, by))
            target.roles = [_fab_role(role)]
    for key, value in values.items():
        setattr(target, key, value)
    target.changed_on = _now()
    db.session.flush()
    db.session.refresh(target)
    if (target.role, target.perimetre_label) != before:
        notifications.notify(
            [target], notifications.COMPTES, _("Votre rôle ou votre périmètre a changé"),
            _("Votre rôle est désormais « %(role)s »%(perimetre)s. Modifié par %(par)s.",
              role=target.role_label,
              perimetre=f" ({target.perimetre_label})" if target.perimetre_label else "",
              par=str(by) if by is not None else "Certif Pro"),
            lien="/profil/")
    audit.record(by, "modifier", target)
    db.session.commit()
    return target


def gerable(target: Utilisateur, by: Any) -> bool:
    """The account's buttons are offered: `by` may change users and manages this one."""
    if by is None:
        return True
    return (can(by, "Utilisateur", UPDATE) and refus_gestion(by, target) is None
            and perimeter.contains(by, Utilisateur, target.id))


def actions_compte(target: Utilisateur, by: Any) -> dict[str, bool]:
    """The buttons of a user's fiche that the services below would accept: « Modifier »,
    « Suspendre » (an active account, not one's own), « Réactiver » (a suspended account)
    and the reset e-mail (an active account)."""
    gere = gerable(target, by)
    soi = by is not None and target.id == getattr(by, "id", None)
    return {"modifier": gere,
            "suspendre": gere and bool(target.active) and not soi,
            "reactiver": gere and not target.active,
            "reinitialiser": gere and bool(target.active)}


def set_active(target: Utilisateur, active: bool, by: Any) -> None:
    """Suspend or reactivate an account."""
    ensure_can(by, "Utilisateur", UPDATE)
    ensure_can_manage(by, target)
    if by is not None and target.id == by.id and not active:
        raise RuleError(_("Vous ne pouvez pas suspendre votre propre compte."))
    was_active = bool(target.active)
    target.active = bool(active)
    if not active:
        sessions.terminer_toutes(target, sessions.SUSPENSION, by=by)
    elif not was_active:
        notifications.notify([target], notifications.COMPTES,
                             _("Votre compte est réactivé"),
                             _("Vous pouvez de nouveau vous connecter à la plateforme CléA."),
                             lien="/")
    audit.record(by, "activer" if active else "suspendre", target)
    db.session.commit()


def send_reset_email(target: Utilisateur, by: Any) -> None:
    """A manager sends a reset link (the envelope button of guide's legend)."""
    ensure_can(by, "Utilisateur", UPDATE)
    ensure_can_manage(by, target)
    if not target.active:
        raise RuleError(_("Ce compte est suspendu : réactivez-le avant d'envoyer un lien."))
    # A user who never set a password gets a new first-connection link instead.
    if target.last_login is None:
        _send_link(target, INVITATION)
    else:
        _send_link(target, RESET)
    audit.record(by, "envoyer_reinitialisation", target)
    db.session.commit()


def request_password_reset(login: str, ip: str = "") -> None:
    """"Mot de passe oublié": same outcome for the caller whether or not the login exists or
    a limit is reached (CLEA_RESET_PER_ACCOUNT e-mails per account and CLEA_RESET_PER_ADDRESS
    requests per address an hour): the e-mail is just not sent."""
    login = (login or "").strip()[:256]
    if not login:
        return
    user = db.session.execute(
        select(Utilisateur).where(
            (func.lower(Utilisateur.username) == login.lower())
            | (func.lower(Utilisateur.email) == login.lower())
        )
    ).scalars().first()
    if user is not None and not user.active:
        user = None
    refus = tentatives.reinitialisation_refusee(user.id if user else None, ip)
    if user is not None and refus is None:
        _send_link(user, RESET)
    audit.record(None, "demande_reinitialisation", user,
                 refus or ("envoyee" if user else f"compte inconnu : {login}"))
    db.session.commit()


def _set_password(user: Utilisateur, password: str) -> None:
    """Replace the password (policy already checked): the old one joins the history."""
    passwords.remember(user)
    user.password = passwords.hash_password(password)
    user.changed_on = _now()


def invalid_link_message() -> str:
    return _("Ce lien n'est plus valide : il a expiré ou a déjà été utilisé. "
             "Demandez un nouveau lien avec « Mot de passe oublié ».")


def set_password_with_token(token: str, password: str, confirm: str) -> Utilisateur:
    row = find_valid_token(token)
    if row is None:
        raise RuleError(invalid_link_message())
    if password != confirm:
        raise RuleError(_("Les deux mots de passe ne sont pas identiques."), field="confirm")
    passwords.check_password(password, row.user)
    # Mark the token used in the same statement that checks it is still unused (single use,
    # even with two simultaneous submissions).
    used = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=_now())
    ).rowcount
    if not used:
        db.session.rollback()
        raise RuleError(invalid_link_message())
    user = row.user
    _set_password(user, password)
    audit.record(user, "definir_mot_de_passe", user, row.purpose)
    sessions.terminer_toutes(user, sessions.MOT_DE_PASSE, by=user)
    db.session.commit()
    return user


def change_password(user: Utilisateur, current: str, new: str, confirm: str) -> None:
    if not check_password_hash(user.password or "", current or ""):
        raise RuleError(_("Mot de passe actuel incorrect."), field="current")
    if new != confirm:
        raise RuleError(_("Les deux mots de passe ne sont pas identiques."), field="confirm")
    passwords.check_password(new, user)
    _set_password(user, new)
    audit.record(user, "changer_mot_de_passe", user)
    # The user's other browsers and API tokens end; this browser stays connected.
    sessions.terminer_toutes(user, sessions.MOT_DE_PASSE, by=user, sauf_courante=True)
    db.session.commit()


def reset_password_by_admin(user: Utilisateur, password: str, by: Any) -> None:
    """FAB's « Reset password » (technical Admin) and « Reset my password »: same policy
    (checked by FAB's form through passwords.fab_password_validator), history, and every
    session of the user ends (the admin's own browser stays open when it is their own)."""
    _set_password(user, password)
    audit.record(by, "changer_mot_de_passe", user, "fab")
    own = by is not None and getattr(by, "id", None) == user.id
    sessions.terminer_toutes(user, sessions.MOT_DE_PASSE, by=by, sauf_courante=own)
    db.session.commit()


def update_profile(user: Utilisateur, data: dict) -> Utilisateur:
    data = {k: v for k, v in data.items() if k in PROFILE_FIELDS}
    values = _identity(data, user)
    if "email" in values:
        _unique_login(user.username, values["email"], exclude_id=user.id)
    role = user.role
    if "notifier_nouvelle_candidature" in data:
        if role is None or role.scope != R.RESEAU:
            raise ForbiddenError(_("Seuls les administrateurs réseau choisissent d'être "
                                   "notifiés des nouvelles candidatures."))
        values["notifier_nouvelle_candidature"] = bool(data["notifier_nouvelle_candidature"])
    for key, value in values.items():
        setattr(user, key, value)
    audit.record(user, "modifier_profil", user)
    db.session.commit()
    return user
