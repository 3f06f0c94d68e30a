"""The Open Badges 3.0 credential of a certificate (DESIGN §7, issue 17): a W3C Verifiable
Credential of type OpenBadgeCredential that a machine checks without calling us.

- issuer: Certif Pro's profile, published at /issuer (`profil_emetteur`), which also carries
  the public key (a Multikey, Ed25519) that signs the credentials;
- credentialSubject: an AchievementSubject, the holder named by an IdentityObject (name, not
  hashed), the jury's date as activityEndDate, the jury (certificateur) as source, the
  certificate number as licenseNumber; its achievement: the CléA socle (or socle contextualisé
  to a branche), a Certificate, with the référentiel's version;
- id: the certificate's public verification address (/verifier/<numéro>);
- proof: a Data Integrity proof, cryptosuite eddsa-jcs-2022 (the document and the proof's
  options canonicalised by JCS, RFC 8785, hashed with SHA-256, signed with Ed25519,
  proofValue in multibase base58-btc), whose verificationMethod is the key of /issuer.

The Ed25519 key is a PEM file (CLEA_CREDENTIAL_CLE); where there is none, the development
pair of services/signature.py is completed with one (never replaced once there)."""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, Optional

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models.evaluation import Evaluation
from app.models.jury import Certificat
from app.models.referentiel import Referentiel

from .urls import public_url

CONTEXTES = ["https://www.w3.org/ns/credentials/v2",
             "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
SUITE = "eddsa-jcs-2022"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ED25519_MULTICODEC = b"\xed\x01"


# --- encodings ----------------------------------------------------------------------------

def jcs(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) for what a credential holds (strings, integers,
    booleans, lists, objects; no floats): keys sorted, no whitespace, UTF-8."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def base58btc(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def depuis_base58btc(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + _B58.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


# --- the key ------------------------------------------------------------------------------

def _chemin() -> Path:
    return Path(current_app.config["CLEA_CREDENTIAL_CLE"])


def creer_cle_developpement() -> Optional[Path]:
    """Create the Ed25519 key where there is none (readable by its owner only); its path
    when created."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from .signature import ecrire_cle_privee

    chemin = _chemin()
    if chemin.exists():
        return None
    try:
        ecrire_cle_privee(chemin, Ed25519PrivateKey.generate())
    except FileExistsError:  # another process created it meanwhile: theirs is kept
        return None
    return chemin


def _cle():
    """The Ed25519 private key (kept by the application until its file changes)."""
    from cryptography.hazmat.primitives import serialization

    chemin = _chemin()
    if not chemin.exists():
        creer_cle_developpement()
    empreinte = (str(chemin), chemin.stat().st_mtime_ns)
    kept = current_app.extensions.get("clea_cle_credential")
    if kept is not None and kept[0] == empreinte:
        return kept[1]
    key = serialization.load_pem_private_key(chemin.read_bytes(), password=None)
    current_app.extensions["clea_cle_credential"] = (empreinte, key)
    return key


def cle_publique_multibase() -> str:
    """The public key as a Multikey's publicKeyMultibase (base58-btc of 0xed01 + 32 bytes)."""
    from cryptography.hazmat.primitives import serialization

    raw = _cle().public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
    return "z" + base58btc(_ED25519_MULTICODEC + raw)


def id_emetteur() -> str:
    return public_url("/issuer")


def id_cle() -> str:
    return id_emetteur() + "#cle-1"


def profil_emetteur() -> dict:
    """Certif Pro's issuer profile (an Open Badges Profile), which is also the controller
    document of the key that signs the credentials."""
    return {
        "@context": CONTEXTES + ["https://w3id.org/security/multikey/v1"],
        "id": id_emetteur(), "type": ["Profile"], "name": "Certif Pro",
        "url": public_url("/"),
        "description": _("Certif Pro, certificateur du socle de connaissances et de "
                         "compétences professionnelles CléA."),
        "verificationMethod": [{"id": id_cle(), "type": "Multikey",
                                "controller": id_emetteur(),
                                "publicKeyMultibase": cle_publique_multibase()}],
        "assertionMethod": [id_cle()],
    }


# --- the credential -----------------------------------------------------------------------

def _version_referentiel(certificat: Certificat) -> str:
    version = db.session.scalar(
        select(Referentiel.version).join(Evaluation, Evaluation.referentiel_id == Referentiel.id)
        .where(Evaluation.candidature_id == certificat.candidature_id)
        .order_by(Evaluation.id.desc()).limit(1))
    return version or db.session.scalar(
        select(Referentiel.version).order_by(Referentiel.id.desc()).limit(1)) or ""


def _instant(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time.min).strftime("%Y-%m-%dT%H:%M:%SZ")


def document(certificat: Certificat) -> dict:
    """The credential without its proof."""
    from . import certification

    candidature = certificat.candidature
    public = certification.verifier(certificat.numero) or {}
    niveau = public.get("niveau") or _("CléA — socle")
    emetteur = {"id": id_emetteur(), "type": ["Profile"], "name": "Certif Pro",
                "url": public_url("/")}
    return {
        "@context": list(CONTEXTES),
        "id": certification.url_verification(certificat.numero),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": _("Certificat CléA n° %(numero)s", numero=certificat.numero),
        "issuer": emetteur,
        "validFrom": _instant(certificat.date_jury),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": False,
                            "identityHash": public.get("nom") or _("Titulaire anonymisé")}],
            "activityEndDate": _instant(certificat.date_jury),
            "licenseNumber": certificat.numero,
            "source": {"id": public_url(f"/issuer/jury/{certificat.certificateur_id}"),
                       "type": ["Profile"], "name": certificat.certificateur.nom},
            "achievement": {
                "id": public_url("/issuer/achievement/clea-socle"
                                 + ("-contextualise" if candidature.socle_contextualise
                                    else "")),
                "type": ["Achievement"], "achievementType": "Certificate",
                "name": str(niveau),
                "description": _("Certification CléA : socle de connaissances et de compétences "
                                 "professionnelles (7 domaines, 28 sous-domaines), délivrée "
                                 "par un jury paritaire."),
                "criteria": {"narrative": _(
                    "Maîtrise des 28 sous-domaines du référentiel CléA, établie par une "
                    "évaluation finale et reconnue par la décision du jury.")},
                "version": _version_referentiel(certificat),
                "creator": emetteur,
                "inLanguage": "fr",
            },
        },
    }


def _hash_a_signer(document_: dict, options: dict) -> bytes:
    return hashlib.sha256(jcs(options)).digest() + hashlib.sha256(jcs(document_)).digest()


def signer(document_: dict, cree: Optional[dt.datetime] = None) -> dict:
    """`document_` with its Data Integrity proof (eddsa-jcs-2022)."""
    cree = cree or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    options = {"@context": document_["@context"], "type": "DataIntegrityProof",
               "cryptosuite": SUITE, "created": cree.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "verificationMethod": id_cle(), "proofPurpose": "assertionMethod"}
    signature = _cle().sign(_hash_a_signer(document_, options))
    return {**document_, "proof": {**options, "proofValue": "z" + base58btc(signature)}}


def credential(certificat: Certificat) -> dict:
    """The signed credential of `certificat` (the caller checked the perimeter)."""
    return signer(document(certificat))


def verifier_preuve(signe: Any, cle_multibase: Optional[str] = None) -> bool:
    """Whether `signe` (a parsed credential) carries an eddsa-jcs-2022 proof made with our
    key (or the key given as publicKeyMultibase) over exactly its content. Anything
    malformed is False, never an error."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        if not isinstance(signe, dict) or not isinstance(signe.get("proof"), dict):
            return False
        document_ = copy.deepcopy(signe)
        proof = document_.pop("proof")
        value = proof.pop("proofValue")
        if proof.get("cryptosuite") != SUITE or proof.get("type") != "DataIntegrityProof":
            return False
        if proof.get("@context") != document_.get("@context"):
            return False
        multibase = cle_multibase or cle_publique_multibase()
        raw = depuis_base58btc(multibase[1:])
        if not (multibase.startswith("z") and raw[:2] == _ED25519_MULTICODEC
                and len(raw) == 34 and isinstance(value, str) and value.startswith("z")):
            return False
        Ed25519PublicKey.from_public_bytes(raw[2:]).verify(
            depuis_base58btc(value[1:]), _hash_a_signer(document_, proof))
        return True
    except (InvalidSignature, KeyError, TypeError, ValueError, AttributeError):
        return False
