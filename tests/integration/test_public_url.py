"""The public address printed on certificates (issue 12, item 9): the verification link and the
QR code come from CLEA_PUBLIC_URL (config.py, environment), never from the host of whoever
downloads the PDF (an internal address behind a proxy); the procès-verbal and e-mails use the
configured address too. Unset (development), the request's host still works."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pdfplumber
import pytest

from app.services import certification, pdf
from tests.integration.test_candidatures import habiliter
from tests.integration.test_certification import a_envoyer, session
from tests.world import PASSWORD, user

PUBLIC = "https://www.certificat-clea.fr"
INTERNAL = "http://10.0.0.7:8000"
OF = "utilisateur_etablissement_a"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_overrides(monkeypatch):
    """The test app is built from config.py read with CLEA_PUBLIC_URL in the environment,
    as a production server behind its proxy."""
    import importlib

    import config

    monkeypatch.setenv("CLEA_PUBLIC_URL", PUBLIC)
    monkeypatch.delenv("CLEA_BASE_URL", raising=False)
    importlib.reload(config)
    yield {}
    monkeypatch.delenv("CLEA_PUBLIC_URL")
    importlib.reload(config)


def text_of(content: bytes) -> str:
    with pdfplumber.open(io.BytesIO(content)) as document:
        return "\n".join(page.extract_text() or "" for page in document.pages)


@pytest.fixture
def certifie(app, world, monkeypatch):
    """A certified dossier, its session closed; the QR codes drawn are recorded."""
    habiliter(world, "etab_a1")
    s = session(world)
    c = a_envoyer(world)
    certification.envoyer_en_certification(c, user(OF))
    certification.decider(c, "certifiee", "", user("jury_a"))
    certification.cloturer_session(s, user("jury_a"))
    drawn = []

    class Spy(pdf.QrCodeWidget):
        def __init__(self, value, *args, **kwargs):
            drawn.append(value)
            super().__init__(value, *args, **kwargs)

    monkeypatch.setattr(pdf, "QrCodeWidget", Spy)
    return s, c, certification.certificat_de(c), drawn


def internal_client(app, username):
    """A browser that reaches the platform through its internal address."""
    client = app.test_client()
    response = client.post("/login/", data={"username": username, "password": PASSWORD},
                           base_url=INTERNAL)
    assert response.status_code == 302
    return client


def test_certificate_pdf_prints_the_public_url_whatever_the_request_host(app, certifie,
                                                                          api_token):
    _, c, certificat, drawn = certifie
    assert app.config["CLEA_PUBLIC_URL"] == PUBLIC  # loaded by config.py
    expected = f"{PUBLIC}/verifier/{certificat.numero}"
    # the OF's screen, reached through the internal host
    screen = internal_client(app, OF).get(f"/candidature/{c.id}/certificat", base_url=INTERNAL)
    assert screen.status_code == 200 and screen.mimetype == "application/pdf"
    text = text_of(screen.data)
    assert expected in text and "10.0.0.7" not in text
    # the jury's screen and the API, from the same internal host
    jury = internal_client(app, "jury_a").get(f"/jury/certificat/{certificat.id}",
                                              base_url=INTERNAL)
    assert expected in text_of(jury.data)
    api = app.test_client().get(f"/api/v1/certificat/{certificat.id}/pdf",
                                headers=api_token(OF), base_url=INTERNAL)
    assert api.status_code == 200 and expected in text_of(api.data)
    # the QR code carries the same address
    assert drawn and set(drawn) == {expected}


def test_proces_verbal_prints_the_public_url(app, certifie):
    s, _, _, _ = certifie
    text = text_of(certification.proces_verbal(s)).replace("\n", " ")
    assert f"{PUBLIC}/verifier/" in text and "localhost" not in text


def test_emails_use_the_public_url_when_no_base_url_is_set(app, certifie):
    from app.services.mail import absolute_url

    with app.test_request_context(base_url=INTERNAL):
        assert absolute_url("/candidature/1") == f"{PUBLIC}/candidature/1"
    app.config["CLEA_BASE_URL"] = "https://clea.intranet.example"
    with app.test_request_context(base_url=INTERNAL):
        assert absolute_url("/candidature/1") == "https://clea.intranet.example/candidature/1"
        # certificates keep the public address
        assert certification.url_verification("CLEA-2026-000001") == \
            f"{PUBLIC}/verifier/CLEA-2026-000001"


def test_config_reads_the_environment():
    """config.py loads CLEA_PUBLIC_URL; without it, CLEA_BASE_URL stands for it."""
    code = "import config; print(config.Config.CLEA_PUBLIC_URL, config.Config.CLEA_BASE_URL)"

    def run(**env):
        base = {k: v for k, v in os.environ.items()
                if k not in ("CLEA_PUBLIC_URL", "CLEA_BASE_URL")}
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env},
                             capture_output=True, text=True, check=True)
        return out.stdout.split()

    assert run(CLEA_PUBLIC_URL=PUBLIC) == [PUBLIC]
    assert run(CLEA_BASE_URL="https://clea.example.fr") == ["https://clea.example.fr"] * 2
    assert run(CLEA_PUBLIC_URL=PUBLIC, CLEA_BASE_URL="https://clea.intranet.example") == [
        PUBLIC, "https://clea.intranet.example"]


def test_unset_in_development_the_request_host_is_used(app, certifie):
    _, _, certificat, _ = certifie
    app.config["CLEA_PUBLIC_URL"] = app.config["CLEA_BASE_URL"] = ""
    with app.test_request_context(base_url="http://127.0.0.1:8080"):
        text = text_of(certification.certificat_pdf(certificat))
    assert f"http://127.0.0.1:8080/verifier/{certificat.numero}" in text
    # outside a request (jobs, CLI) the address of `make run`
    assert certification.url_verification("X") == "http://127.0.0.1:8080/verifier/X"
