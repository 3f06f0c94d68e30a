"""Two-factor login (TOTP, RFC 6238, with pyotp): enrolment confirmed by a first code, code
checks that refuse a replayed code, single-use recovery codes, disabling by the user, reset by
Certif Pro, and the rule that makes it mandatory for some roles (CLEA_2FA_REQUIRED)."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
from typing import Any, Optional

import pyotp
from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import CodeSecours, DeuxFacteurs, Utilisateur
from app.security import perimeter
from app.security import roles as R
from app.security.access import can, ensure_can
from app.security.matrix import UPDATE

from . import audit
from .errors import RuleError
from .mail import absolute_url, queue_email

RESOURCE = "DeuxFacteurs"  # the matrix resource of the reset by Certif Pro
ISSUER = "Plateforme CléA"  # the account's name in the authenticator app
VALID_WINDOW = 1  # the code of the previous and of the next 30-second step are accepted
NB_CODES_SECOURS = 10
# Recovery codes: 10 characters without the look-alikes (0/o, 1/l/i), shown as « abcde-fghij »
ALPHABET_SECOURS = "abcdefghjkmnpqrstuvwxyz23456789"
LONGUEUR_SECOURS = 10
TOTP_RE = re.compile(r"^\d{6}$")
# The roles for which CLEA_2FA_REQUIRED makes the second factor mandatory (DESIGN §11)
ROLES_OBLIGATOIRES = (R.CERTIF_PRO, R.ADMIN_RESEAU)


def _horloge() -> float:
    """Now, in seconds (one place, so that tests can move the clock)."""
    return time.time()


def _now() -> dt.datetime:
    return dt.datetime.now()


# --- state and predicates ---------------------------------------------------------------

def configuration(user: Any) -> Optional[DeuxFacteurs]:
    if user is None or getattr(user, "id", None) is None:
        return None
    return db.session.get(DeuxFacteurs, user.id)


def active(user: Any) -> bool:
    """The user confirmed an enrolment: every login asks for a code."""
    return configuration(user) is not None


def obligatoire(user: Any) -> bool:
    """CLEA_2FA_REQUIRED is set and the user's role is Certif Pro or Administrateur réseau."""
    return (bool(current_app.config.get("CLEA_2FA_REQUIRED"))
            and R.role_of(user) in ROLES_OBLIGATOIRES)


def enrolement_requis(user: Any) -> bool:
    """Such a user reaches nothing but the enrolment page until they enrol."""
    return obligatoire(user) and not active(user)


def peut_desactiver(user: Any) -> bool:
    """« Désactiver » is offered to an enrolled user whose role does not require it."""
    return active(user) and not obligatoire(user)


def codes_restants(user: Any) -> int:
    return db.session.execute(
        select(func.count()).select_from(CodeSecours)
        .where(CodeSecours.user_id == user.id, CodeSecours.used_at.is_(None))).scalar_one()


def peut_reinitialiser(target: Utilisateur, by: Any) -> bool:
    """The « Réinitialiser la double authentification » button of a user's fiche."""
    from .accounts import refus_gestion

    return (active(target) and can(by, RESOURCE, UPDATE)
            and (by is None or (refus_gestion(by, target) is None
                                and perimeter.contains(by, Utilisateur, target.id))))


# --- enrolment -------------------------------------------------------------------------

def nouveau_secret() -> str:
    """A pending secret (160 bits): kept in the enrolling user's session until confirmed."""
    return pyotp.random_base32()


def uri(user: Utilisateur, secret: str) -> str:
    """The otpauth:// address that the QR code carries."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def secret_lisible(secret: str) -> str:
    """The secret in groups of four, for a manual entry in the application."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def qr_svg(text: str, taille: int = 220) -> Markup:
    """The QR code of `text` as an inline SVG (drawn by reportlab's QR encoder, which also
    draws the certificates' codes): served by the platform itself, no image service."""
    from reportlab.graphics.barcode.qr import QrCodeWidget

    widget = QrCodeWidget(text, barLevel="M")
    widget.qr.make()
    modules = widget.qr.modules
    bord = 4
    n = len(modules) + 2 * bord
    path = "".join(f"M{c + bord} {r + bord}h1v1h-1z"
                   for r, row in enumerate(modules) for c, dark in enumerate(row) if dark)
    label = _("QR code à scanner avec votre application d'authentification")
    # Only numbers computed here and an escaped label go into the markup.
    return Markup(  # nosec B704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{taille}" '
        f'height="{taille}" role="img" aria-label="{Markup.escape(label)}" '
        f'shape-rendering="crispEdges" class="clea-qr"><rect width="{n}" height="{n}" '
        f'fill="#fff"/><path d="{path}" fill="#000"/></svg>')


def confirmer(user: Utilisateur, secret: str, code: str) -> list[str]:
    """Enrol with the first code of the application: the secret is stored only now. Returns
    the recovery codes, to be shown once."""
    if active(user):
        raise RuleError(_("La double authentification est déjà activée sur votre compte."))
    if not secret:
        raise RuleError(_("La page d'activation a expiré : recommencez l'activation."))
    pas = _pas_valide(secret, code)
    if pas is None:
        raise RuleError(_message_code_incorrect(), field="code")
    db.session.add(DeuxFacteurs(user_id=user.id, secret=secret, active_le=_now(),
                                dernier_pas=pas))
    codes = _nouveaux_codes(user)
    audit.record(user, "activer_2fa", user)
    db.session.commit()
    return codes


# --- codes --------------------------------------------------------------------------------

def _normaliser(code: str) -> str:
    return re.sub(r"[\s-]", "", (code or "")).lower()


def _pas_valide(secret: str, code: str) -> Optional[int]:
    """The 30-second step whose code `code` is (now, the previous or the next step), else
    None; the comparison takes the same time whatever the code."""
    code = _normaliser(code)
    if not TOTP_RE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    maintenant = int(_horloge()) // totp.interval
    trouve = None
    for ecart in range(-VALID_WINDOW, VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(maintenant + ecart), code):
            trouve = maintenant + ecart
    return trouve


def _message_code_incorrect() -> str:
    return _("Code incorrect : saisissez les 6 chiffres affichés en ce moment par votre "
             "application d'authentification.")


def _hash_secours(user: Utilisateur, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{user.id}:{_normaliser(code)}".encode(), hashlib.sha256).hexdigest()


def _nouveaux_codes(user: Utilisateur) -> list[str]:
    """Replace the user's recovery codes by ten new ones (returned in clear, stored hashed)."""
    db.session.execute(delete(CodeSecours).where(CodeSecours.user_id == user.id))
    codes = []
    for _i in range(NB_CODES_SECOURS):
        raw = "".join(secrets.choice(ALPHABET_SECOURS) for _j in range(LONGUEUR_SECOURS))
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        db.session.add(CodeSecours(user_id=user.id, code_hash=_hash_secours(user, code),
                                   created_on=_now()))
    return codes


def _utiliser_totp(user: Utilisateur, config: DeuxFacteurs, code: str) -> Optional[str]:
    """Accept a TOTP code once: None when accepted, else the French reason."""
    pas = _pas_valide(config.secret, code)
    if pas is None:
        return _message_code_incorrect()
    # The step is recorded in the statement that checks it is newer than the last one: the
    # same code (or an older one) cannot open a second session, even simultaneously.
    accepte = db.session.execute(
        update(DeuxFacteurs)
        .where(DeuxFacteurs.user_id == user.id,
               or_(DeuxFacteurs.dernier_pas.is_(None), DeuxFacteurs.dernier_pas < pas))
        .values(dernier_pas=pas)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not accepte:
        return _("Ce code a déjà été utilisé : attendez le code suivant de votre application "
                 "d'authentification.")
    return None


def _utiliser_secours(user: Utilisateur, code: str) -> Optional[str]:
    """Consume a recovery code: None when accepted, else the French reason."""
    row = db.session.execute(
        select(CodeSecours).where(CodeSecours.user_id == user.id,
                                  CodeSecours.code_hash == _hash_secours(user, code))
    ).scalar_one_or_none()
    consomme = row is not None and db.session.execute(
        update(CodeSecours)
        .where(CodeSecours.id == row.id, CodeSecours.used_at.is_(None))
        .values(used_at=_now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not consomme:
        return _("Code de secours incorrect ou déjà utilisé : chaque code de secours ne sert "
                 "qu'une fois.")
    audit.record(user, "code_secours_utilise", user,
                 f"restants={codes_restants(user)}")
    return None


def est_code_secours(code: str) -> bool:
    return not TOTP_RE.match(_normaliser(code))


def verifier(user: Utilisateur, code: str, contexte: str = "connexion") -> None:
    """Check a second-factor code (6 digits of the application, or a recovery code, which is
    consumed). A refusal is recorded in the audit (committed) and raised in French."""
    config = configuration(user)
    if config is None:
        raise RuleError(_("La double authentification n'est pas activée sur ce compte."))
    if not _normaliser(code):
        raise RuleError(_("Saisissez le code de vérification."), field="code")
    if est_code_secours(code):
        refus = _utiliser_secours(user, code)
    else:
        refus = _utiliser_totp(user, config, code)
    if refus is not None:
        db.session.rollback()
        audit.record(user, "code_2fa_refuse", user, contexte)
        db.session.commit()
        raise RuleError(refus, field="code")
    db.session.commit()


def trop_d_essais(user: Utilisateur) -> bool:
    """CLEA_2FA_MAX_TRIES wrong codes in the last CLEA_2FA_LOGIN_SECONDS: counted from the
    audit rows (server side, so that a replayed session cookie does not reset the count)."""
    from app.models import AuditLog

    depuis = _now() - dt.timedelta(seconds=current_app.config["CLEA_2FA_LOGIN_SECONDS"])
    echecs = db.session.execute(
        select(func.count()).select_from(AuditLog)
        .where(AuditLog.user_id == user.id, AuditLog.action == "code_2fa_refuse",
               AuditLog.created_on >= depuis)).scalar_one()
    return echecs >= current_app.config["CLEA_2FA_MAX_TRIES"]


def message_trop_d_essais() -> str:
    return _("Trop de codes incorrects : reconnectez-vous dans %(m)d minutes avec votre mot de "
             "passe puis un nouveau code.",
             m=max(1, current_app.config["CLEA_2FA_LOGIN_SECONDS"] // 60))


def message_enrolement_requis() -> str:
    return _("La double authentification est obligatoire pour votre rôle : activez-la pour "
             "accéder à la plateforme.")


def _preuve(user: Utilisateur, preuve: str, contexte: str) -> None:
    """Disabling and regenerating ask for the current password or a code."""
    if preuve and check_password_hash(user.password or "", preuve):
        return
    if _normaliser(preuve):
        try:
            verifier(user, preuve, contexte)
            return
        except RuleError:
            pass
    raise RuleError(_("Mot de passe ou code incorrect : saisissez votre mot de passe actuel, "
                      "un code de votre application ou un code de secours."), field="preuve")


def regenerer_codes(user: Utilisateur, preuve: str) -> list[str]:
    """« Régénérer les codes de secours »: the old ones stop working."""
    if not active(user):
        raise RuleError(_("La double authentification n'est pas activée sur votre compte."))
    _preuve(user, preuve, "regenerer")
    codes = _nouveaux_codes(user)
    audit.record(user, "regenerer_codes_secours", user)
    db.session.commit()
    return codes


def _supprimer(user: Utilisateur) -> None:
    db.session.execute(delete(CodeSecours).where(CodeSecours.user_id == user.id))
    db.session.execute(delete(DeuxFacteurs).where(DeuxFacteurs.user_id == user.id))


def desactiver(user: Utilisateur, preuve: str) -> None:
    """« Désactiver »: with the current password or a code; not when the role requires it."""
    if not active(user):
        raise RuleError(_("La double authentification n'est pas activée sur votre compte."))
    if obligatoire(user):
        raise RuleError(_("La double authentification est obligatoire pour votre rôle : elle "
                          "ne peut pas être désactivée."))
    _preuve(user, preuve, "desactiver")
    _supprimer(user)
    audit.record(user, "desactiver_2fa", user)
    db.session.commit()


def reinitialiser(target: Utilisateur, by: Any) -> None:
    """Certif Pro removes a user's second factor (lost telephone): the user enrols again at
    their next login (or may, when their role does not require it) and is told by e-mail."""
    ensure_can(by, RESOURCE, UPDATE)
    from .accounts import ensure_can_manage

    ensure_can_manage(by, target)  # 404 outside the perimeter, 403 above one's role
    if not active(target):
        raise RuleError(_("Cet utilisateur n'a pas activé la double authentification."))
    _supprimer(target)
    queue_email(target.email, "deux_facteurs_reinitialise",
                _("Double authentification de votre compte CléA réinitialisée"),
                rubrique="comptes", user=target, par=str(by) if by is not None else "Certif Pro",
                link=absolute_url("/profil/"))
    audit.record(by, "reinitialiser_2fa", target)
    db.session.commit()
