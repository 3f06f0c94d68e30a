"""The certificates' PAdES signature (issue 17, first part): a generated certificate carries
the platform's signature, which pyHanko's own validator accepts with the platform's
certificate as trust root, and which fails once one signed byte is changed; a certificate the
jury uploaded keeps its own bytes; `flask clea init` creates a development pair once (the key
readable by its owner only) and says so, and the verification page says that the signature
is a development one."""
from __future__ import annotations

import io
import stat

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from app.services import certification, signature
from tests.integration.test_candidatures import T
from tests.integration.test_jury import OF, en_session, pdf_text, ready  # noqa: F401
from tests.world import user


@pytest.fixture
def paire(app, tmp_path):
    """This test's own key and certificate files (created by the first signature)."""
    app.config["CLEA_SIGNATURE_CLE"] = str(tmp_path / "signature" / "cle.pem")
    app.config["CLEA_SIGNATURE_CERTIFICAT"] = str(tmp_path / "signature" / "certificat.pem")
    app.extensions.pop("clea_signataire", None)
    return tmp_path / "signature"


def certifie(ready):  # noqa: F811
    _, (c,) = en_session(ready)
    certification.decider(c, "certifiee", "", user("jury_a"))
    return certification.certificat_de(c)


def _statut(content: bytes, app):
    with app.app_context():
        racine = signature._signataire().certificat
    reader = PdfFileReader(io.BytesIO(content), strict=False)
    (sig,) = reader.embedded_signatures
    # pyHanko's own validator (in a thread of its own where an event loop runs: the browser
    # tests' Playwright leaves one in this process)
    return sig, signature._hors_boucle(validate_pdf_signature, sig,
                                       ValidationContext(trust_roots=[racine]))


def test_generated_certificate_is_signed_and_validates(app, ready, paire):  # noqa: F811
    certificat = certifie(ready)
    with app.test_request_context():
        content = certification.certificat_pdf(certificat)
        assert signature.verifier_pdf(content).valide
    sig, statut = _statut(content, app)
    assert sig.field_name == signature.CHAMP
    assert statut.intact and statut.valid and statut.trusted and statut.bottom_line
    assert statut.coverage.name == "ENTIRE_FILE"
    assert "Certif Pro" in statut.signing_cert.subject.human_friendly
    # the signed file still reads as the certificate it was
    assert certificat.numero in pdf_text(content)


def test_one_changed_byte_breaks_the_signature(app, ready, paire):  # noqa: F811
    certificat = certifie(ready)
    with app.test_request_context():
        content = certification.certificat_pdf(certificat)
    sig, _statut_ok = _statut(content, app)
    debut, longueur = sig.byte_range[0], sig.byte_range[1]
    position = debut + longueur // 2  # a byte of the signed part, the page's own content
    altered = bytearray(content)
    altered[position] = (altered[position] + 1) % 256
    with app.test_request_context():
        resultat = signature.verifier_pdf(bytes(altered))
    assert resultat.signe and not resultat.intact and not resultat.valide
    _sig, statut = _statut(bytes(altered), app)
    assert not statut.intact and not statut.bottom_line
    # nothing signed, or not a PDF at all: « not signed », never an error
    with app.test_request_context():
        assert not signature.verifier_pdf(b"%PDF-1.4\n%%EOF\n").signe
        assert not signature.verifier_pdf(b"GIF89a").signe


def test_a_pdf_signed_with_another_key_is_not_ours(app, ready, paire, tmp_path):  # noqa: F811
    certificat = certifie(ready)
    with app.test_request_context():
        content = certification.certificat_pdf(certificat)
    # another platform's pair: the same file signed by it is intact but not ours
    app.config["CLEA_SIGNATURE_CLE"] = str(tmp_path / "autre" / "cle.pem")
    app.config["CLEA_SIGNATURE_CERTIFICAT"] = str(tmp_path / "autre" / "certificat.pem")
    with app.test_request_context():
        resultat = signature.verifier_pdf(content)
    assert resultat.signe and resultat.intact and not resultat.valide


def test_the_jurys_signed_upload_keeps_its_own_bytes(app, ready, paire):  # noqa: F811
    certificat = certifie(ready)
    theirs = b"%PDF-1.4\n% signed by the jury\n%%EOF\n"
    certification.deposer_certificat_signe(certificat, "signe.pdf", theirs, user("jury_a"))
    assert certification.certificat_pdf(certificat) == theirs


def test_init_creates_the_development_pair_once_and_says_so(app, paire):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["clea", "init"])
    assert first.exit_code == 0, first.output
    assert "Paire de signature de développement créée (certificat auto-signé)" in first.output
    cle, cert = paire / "cle.pem", paire / "certificat.pem"
    assert stat.S_IMODE(cle.stat().st_mode) == 0o600
    avant = cle.read_bytes(), cert.read_bytes()
    again = runner.invoke(args=["clea", "init"])
    assert again.exit_code == 0 and "Paire de signature" not in again.output
    assert (cle.read_bytes(), cert.read_bytes()) == avant  # never replaced


def test_the_verification_page_says_the_signature_is_a_development_one(app, ready,  # noqa: F811
                                                                        paire):
    certificat = certifie(ready)
    page = T(app.test_client().get(f"/verifier/{certificat.numero}"))
    assert "Certificat valide" in page
    assert "signature de développement" in page


def test_signs_and_checks_where_an_event_loop_is_running(app, paire):
    """pyHanko's synchronous calls run asyncio.run, refused where a loop already runs (an
    asyncio server, Playwright's harness in the same process): a PDF is signed and checked
    there all the same (here inside a coroutine, on a thread of the test's own)."""
    import asyncio
    import threading

    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Certificat CléA n° CLEA-2026-000042")
    page.save()
    result = {}

    async def sous_une_boucle():
        with app.app_context():
            signed = signature.signer_pdf(buffer.getvalue(), "CLEA-2026-000042")
            return signature.verifier_pdf(signed)

    def fil():
        result["verification"] = asyncio.run(sous_une_boucle())

    worker = threading.Thread(target=fil)
    worker.start()
    worker.join()
    assert result["verification"].valide
    assert result["verification"].motif == "CLEA-2026-000042"
