"""The platform's signature on the certificates it generates (DESIGN §7, issue 17): a PAdES
signature (pyHanko, PAdES baseline B-B, SHA-256) made with the platform's key and
certificate, so that any PDF reader shows that the file has not been altered since it was
issued, and `verifier_pdf` tells whether a PDF carries our unaltered signature.

The key and its certificate are two PEM files (CLEA_SIGNATURE_CLE, CLEA_SIGNATURE_CERTIFICAT).
Where neither exists, a self-signed pair is created (`flask clea init`, or the first
certificate of a development instance): an ECDSA P-256 key, its certificate named « Plateforme
CléA — signature de développement ». Such a signature proves the file intact to whoever
trusts that certificate; a PDF reader does not know it, and the verification page says it is
a development signature. In production, give a key and a certificate issued for Certif Pro.

A certificate the jury uploaded already signed is served as it is: it keeps its own
signature (services/certification.certificat_pdf)."""
from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from flask import current_app

log = logging.getLogger(__name__)

CHAMP = "SignatureCleA"  # the signature field of our certificates
NOM_DEVELOPPEMENT = "Plateforme CléA — signature de développement"
_VERROU = threading.Lock()


def _hors_boucle(fonction, *args, **kwargs):
    """Call one of pyHanko's synchronous functions, which run their coroutine with
    asyncio.run: that refuses to run in a thread where an event loop is already running
    (a server or a test harness built on asyncio, Playwright's in the browser tests), so
    there the call goes to a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fonction(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyhanko") as fil:
        return fil.submit(fonction, *args, **kwargs).result()


def chemins() -> tuple[Path, Path]:
    """The key's and the certificate's files, as configured."""
    config = current_app.config
    return Path(config["CLEA_SIGNATURE_CLE"]), Path(config["CLEA_SIGNATURE_CERTIFICAT"])


def ecrire_cle_privee(chemin: Path, key) -> None:
    """Write a private key (PEM, PKCS#8) to a new file readable by its owner only; an
    existing file is never overwritten (FileExistsError)."""
    from cryptography.hazmat.primitives import serialization

    chemin.parent.mkdir(parents=True, exist_ok=True)
    descripteur = os.open(chemin, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descripteur, "wb") as sortie:
        sortie.write(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def creer_paire_developpement() -> Optional[tuple[Path, Path]]:
    """Create the self-signed development pair where neither file exists (the key readable by
    its owner only); returns the two paths when it created them, None when a pair (or half
    of one) is already there: an existing key is never replaced."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cle, certificat = chemins()
    with _VERROU:
        if cle.exists() or certificat.exists():
            return None
        key = ec.generate_private_key(ec.SECP256R1())
        nom = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Certif Pro"),
                         x509.NameAttribute(NameOID.COMMON_NAME, NOM_DEVELOPPEMENT)])
        maintenant = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(nom).issuer_name(nom)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(maintenant - dt.timedelta(days=1))
                .not_valid_after(maintenant + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, content_commitment=True, key_cert_sign=True,
                    crl_sign=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, encipher_only=False, decipher_only=False),
                    critical=True)
                .sign(key, hashes.SHA256()))
        certificat.parent.mkdir(parents=True, exist_ok=True)
        ecrire_cle_privee(cle, key)
        certificat.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    log.warning("Paire de signature de développement créée (auto-signée) : %s, %s", cle,
                certificat)
    return cle, certificat


@dataclass(frozen=True)
class _Signataire:
    empreinte: tuple  # the files' paths and modification times: reloaded when they change
    signer: Any
    certificat: Any   # asn1crypto's certificate (trust root of our own verification)
    autosigne: bool


def _signataire() -> _Signataire:
    """The loaded key and certificate, kept by the application until the files change (the
    development pair created first where there is none)."""
    from pyhanko.sign import signers

    cle, certificat = chemins()
    if not cle.exists() and not certificat.exists():
        creer_paire_developpement()
    empreinte = (str(cle), cle.stat().st_mtime_ns, str(certificat), certificat.stat().st_mtime_ns)
    kept = current_app.extensions.get("clea_signataire")
    if kept is not None and kept.empreinte == empreinte:
        return kept
    signer = signers.SimpleSigner.load(str(cle), str(certificat))
    if signer is None:
        raise RuntimeError(f"clé ou certificat de signature illisible : {cle}, {certificat}")
    cert = signer.signing_cert
    kept = _Signataire(empreinte, signer, cert, cert.subject == cert.issuer)
    current_app.extensions["clea_signataire"] = kept
    return kept


def est_de_developpement() -> bool:
    """True when the certificates are signed with a self-signed certificate (the development
    pair, or any certificate no authority issued): the pages say so."""
    return _signataire().autosigne


def signer_pdf(contenu: bytes, motif: str, lieu: str = "France") -> bytes:
    """`contenu` (a PDF) with the platform's PAdES signature appended as an incremental
    update (the signed bytes are the original ones, byte for byte)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signataire = _signataire()
    writer = IncrementalPdfFileWriter(io.BytesIO(contenu), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=CHAMP, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=motif, location=lieu, name="Certif Pro")
    return _hors_boucle(signers.sign_pdf, writer, meta, signer=signataire.signer).getvalue()


@dataclass
class Verification:
    signe: bool          # a signature of ours is in the file
    intact: bool         # the signed bytes are unchanged
    valide: bool         # intact, made with our certificate, nothing added after it
    signataire: str = ""
    motif: str = ""      # the signature's reason (it names the certificate's number)


def verifier_pdf(contenu: bytes) -> Verification:
    """Whether `contenu` carries the platform's signature, unaltered: its signature field
    checked by pyHanko against our certificate as the only trust root (a PDF signed by
    anyone else, or changed after the signature, is not valid here). Any unreadable PDF is
    « not signed », never an error."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    signataire = _signataire()
    try:
        reader = PdfFileReader(io.BytesIO(contenu), strict=False)
        signatures = [s for s in reader.embedded_signatures if s.field_name == CHAMP]
        if not signatures:
            return Verification(False, False, False)
        contexte = ValidationContext(trust_roots=[signataire.certificat])
        statut = _hors_boucle(validate_pdf_signature, signatures[-1], contexte)
    except Exception:  # noqa: BLE001  (a malformed or truncated file: not our signature)
        return Verification(False, False, False)
    sujet = statut.signing_cert.subject.human_friendly if statut.signing_cert else ""
    de_nous = statut.signing_cert is not None and (
        statut.signing_cert.sha256 == signataire.certificat.sha256)
    intact = bool(statut.intact and statut.valid)
    couvre_tout = statut.coverage is not None and statut.coverage.name == "ENTIRE_FILE"
    motif = str(signatures[-1].sig_object.get("/Reason", "") or "")
    return Verification(True, intact, bool(intact and de_nous and statut.trusted
                                           and couvre_tout), sujet, motif)
