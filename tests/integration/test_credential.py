"""The certificate's Open Badges 3.0 credential (issue 17, second part): the JSON-LD has what
Open Badges 3.0 requires of an OpenBadgeCredential (AchievementCredential), its
eddsa-jcs-2022 proof verifies — here recomputed independently — with the key published in
Certif Pro's profile at /issuer, and fails once a field or the proof is changed; the OF
downloads it from the dossier (audited), nobody outside the perimeter does."""
from __future__ import annotations

import copy
import hashlib
import json
import re

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from app.services import certification, credential
from tests.integration.test_certification import a_envoyer
from tests.integration.test_jury import OF, en_session, ready  # noqa: F401
from tests.world import user

URI = re.compile(r"^(https?|urn):")
INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@pytest.fixture
def cle(app, tmp_path):
    app.config["CLEA_CREDENTIAL_CLE"] = str(tmp_path / "ed25519.pem")
    app.extensions.pop("clea_cle_credential", None)


def certifie(ready):  # noqa: F811
    _, (c,) = en_session(ready)
    certification.decider(c, "certifiee", "", user("jury_a"))
    return c, certification.certificat_de(c)


def types(value) -> list:
    return value if isinstance(value, list) else [value]


def check_open_badges_3(cred: dict) -> None:
    """What Open Badges 3.0 (and VC Data Model 2.0) require of an AchievementCredential."""
    assert cred["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert any(c.startswith("https://purl.imsglobal.org/spec/ob/v3p0/context")
               for c in cred["@context"][1:])
    assert URI.match(cred["id"])
    assert "VerifiableCredential" in types(cred["type"])
    assert {"OpenBadgeCredential", "AchievementCredential"} & set(types(cred["type"]))
    assert isinstance(cred["name"], str) and cred["name"]
    issuer = cred["issuer"]
    assert URI.match(issuer["id"]) and "Profile" in types(issuer["type"])
    assert INSTANT.match(cred["validFrom"])
    subject = cred["credentialSubject"]
    assert "AchievementSubject" in types(subject["type"])
    achievement = subject["achievement"]
    assert URI.match(achievement["id"]) and "Achievement" in types(achievement["type"])
    for required in ("name", "description"):
        assert isinstance(achievement[required], str) and achievement[required]
    assert achievement["criteria"].get("narrative") or achievement["criteria"].get("id")
    for identity in subject.get("identifier", []):
        assert identity["type"] == "IdentityObject"
        assert isinstance(identity["hashed"], bool) and identity["identityHash"]
        assert identity["identityType"]
    proof = cred["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["proofPurpose"] == "assertionMethod"
    assert INSTANT.match(proof["created"]) and proof["proofValue"].startswith("z")


def b58decode(text: str) -> bytes:
    n = 0
    for char in text:
        n = n * 58 + B58.index(char)
    return b"\0" * (len(text) - len(text.lstrip("1"))) + n.to_bytes((n.bit_length() + 7) // 8,
                                                                     "big")


def verifies(cred: dict, multikey: str) -> bool:
    """eddsa-jcs-2022, recomputed here: SHA-256(JCS(proof options)) ‖ SHA-256(JCS(document))
    signed with Ed25519."""
    doc = copy.deepcopy(cred)
    proof = doc.pop("proof")
    value = proof.pop("proofValue")

    def jcs(v):
        return json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

    data = hashlib.sha256(jcs(proof)).digest() + hashlib.sha256(jcs(doc)).digest()
    raw = b58decode(multikey[1:])
    assert raw[:2] == b"\xed\x01"
    try:
        Ed25519PublicKey.from_public_bytes(raw[2:]).verify(b58decode(value[1:]), data)
        return True
    except InvalidSignature:
        return False


def test_credential_has_what_open_badges_3_requires_and_its_proof_verifies(app, ready,  # noqa: F811
                                                                           cle):
    c, certificat = certifie(ready)
    client = app.test_client()
    profil = client.get("/issuer/")
    assert profil.status_code == 200 and profil.mimetype == "application/ld+json"
    profil = profil.get_json()
    assert "Profile" in profil["type"] and profil["name"] == "Certif Pro"
    (methode,) = profil["verificationMethod"]
    assert methode["type"] == "Multikey" and methode["id"] in profil["assertionMethod"]
    with app.test_request_context():
        cred = credential.credential(certificat)
    check_open_badges_3(cred)
    assert cred["issuer"]["id"] == profil["id"]
    assert cred["proof"]["verificationMethod"] == methode["id"]
    assert cred["id"].endswith(f"/verifier/{certificat.numero}")
    subject = cred["credentialSubject"]
    assert subject["licenseNumber"] == certificat.numero
    assert subject["identifier"][0]["identityHash"] == "Élodie Marie DUPRÉAA"
    assert subject["activityEndDate"].startswith(certificat.date_jury.isoformat())
    assert subject["source"]["name"] == certificat.certificateur.nom
    assert subject["achievement"]["name"] == "CléA — socle" and subject["achievement"]["version"]
    assert verifies(cred, methode["publicKeyMultibase"])
    with app.test_request_context():
        assert credential.verifier_preuve(cred)


@pytest.mark.parametrize("change", ["nom", "date", "numero", "preuve", "sans_preuve"])
def test_a_changed_field_or_proof_fails(app, ready, cle, change):  # noqa: F811
    _c, certificat = certifie(ready)
    with app.test_request_context():
        cred = credential.credential(certificat)
        multikey = credential.cle_publique_multibase()
    altered = copy.deepcopy(cred)
    if change == "nom":
        altered["credentialSubject"]["identifier"][0]["identityHash"] = "Jean DUPONT"
    elif change == "date":
        altered["validFrom"] = "2020-01-01T00:00:00Z"
    elif change == "numero":
        altered["credentialSubject"]["licenseNumber"] = "CLEA-2020-000001"
    elif change == "preuve":
        value = altered["proof"]["proofValue"]
        altered["proof"]["proofValue"] = value[:-2] + ("1" if value[-2] != "1" else "2") + value[-1]
    else:
        altered.pop("proof")
    with app.test_request_context():
        assert not credential.verifier_preuve(altered)
    if change != "sans_preuve":
        assert not verifies(altered, multikey)
    with app.test_request_context():
        assert not credential.verifier_preuve("pas un credential")
        assert not credential.verifier_preuve({"proof": {"proofValue": 3}})


def test_the_of_downloads_it_from_the_dossier_and_no_one_else(app, ready, cle, login):  # noqa: F811
    c, certificat = certifie(ready)
    response = login(OF).get(f"/candidature/{c.id}/credential")
    assert response.status_code == 200
    assert f'filename={certificat.numero}.json' in response.headers["Content-Disposition"]
    cred = json.loads(response.data)
    check_open_badges_3(cred)
    with app.test_request_context():
        assert credential.verifier_preuve(cred)
    assert db.session.scalar(select(AuditLog.id).where(
        AuditLog.action == "telecharger_credential")) is not None
    assert login("utilisateur_etablissement_b").get(
        f"/candidature/{c.id}/credential").status_code == 404
    sans = a_envoyer(ready, nom_naissance="Sanscertificat")  # no certificate yet
    assert login(OF).get(f"/candidature/{sans.id}/credential").status_code == 404


def test_the_api_gives_it_to_the_perimeter_only(app, ready, cle, api_token):  # noqa: F811
    c, certificat = certifie(ready)
    client = app.test_client()
    headers = api_token(OF)
    response = client.get(f"/api/v1/certificat/{certificat.id}/credential", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    cred = response.get_json()
    check_open_badges_3(cred)
    with app.test_request_context():
        assert credential.verifier_preuve(cred)
    outsider = api_token("utilisateur_etablissement_b")
    refused = client.get(f"/api/v1/certificat/{certificat.id}/credential", headers=outsider)
    assert refused.status_code == 404
    assert client.get("/api/v1/certificat/999999999/credential",
                      headers=headers).status_code == 404


def test_a_file_dropped_on_the_verification_page_is_checked_and_not_kept(app, ready, cle,  # noqa: F811
                                                                         tmp_path):
    """« Vérifier un fichier »: the certificate's PDF and its credential read « authentique,
    valide »; the same files changed by one byte or one field read « non authentique »;
    anything else, nothing or too big is refused in French; no file is kept."""
    import io as io_

    from tests.integration.test_candidatures import T

    app.config["CLEA_SIGNATURE_CLE"] = str(tmp_path / "sig" / "cle.pem")
    app.config["CLEA_SIGNATURE_CERTIFICAT"] = str(tmp_path / "sig" / "certificat.pem")
    app.extensions.pop("clea_signataire", None)
    _c, certificat = certifie(ready)
    with app.test_request_context():
        pdf = certification.certificat_pdf(certificat)
        cred = json.dumps(credential.credential(certificat)).encode()
    uploads = list((tmp_path / "uploads").rglob("*")) if (tmp_path / "uploads").exists() else []
    visitor = app.test_client()

    def drop(content: bytes, name: str):
        return visitor.post("/verifier/fichier", data={"fichier": (io_.BytesIO(content), name)},
                            content_type="multipart/form-data")

    for content, name in ((pdf, "certificat.pdf"), (cred, "certificat.json")):
        response = drop(content, name)
        page = T(response)
        assert response.status_code == 200, page
        assert "Fichier authentique : certificat valide" in page
        assert f"Le certificat CléA n° {certificat.numero} a été délivré à Élodie Marie DUPRÉAA" \
            in page
    altered = bytearray(pdf)
    altered[len(pdf) // 4] ^= 0x01
    assert "Fichier non authentique" in T(drop(bytes(altered), "certificat.pdf"))
    faux = json.loads(cred)
    faux["credentialSubject"]["identifier"][0]["identityHash"] = "Jean DUPONT"
    assert "Fichier non authentique" in T(drop(json.dumps(faux).encode(), "faux.json"))
    refused = drop(b"GIF89a not a certificate", "photo.gif")
    assert refused.status_code == 400 and "ni un certificat CléA au format PDF" in T(refused)
    empty = visitor.post("/verifier/fichier", data={}, content_type="multipart/form-data")
    assert empty.status_code == 400 and "Choisissez le fichier du certificat" in T(empty)
    big = drop(b"%PDF-" + b"0" * (4 * 1024 * 1024), "gros.pdf")
    assert big.status_code == 400 and "taille maximale de 4 Mo" in T(big)
    after = list((tmp_path / "uploads").rglob("*")) if (tmp_path / "uploads").exists() else []
    assert after == uploads  # nothing was stored
