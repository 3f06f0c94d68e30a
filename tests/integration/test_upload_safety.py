"""What is accepted as a file (finding 5 of issue 13): archives (XLSX, DOCX, ODT) are opened
with limits before acceptance — a zip bomb, a nested archive, a path-traversal member or too
many members are refused in French and nothing is stored, as a document and as an
evaluation's signed matrice; polyglots (a PDF or an image that is also a web page) are
refused; files are served as attachments with their checked type and nosniff."""
from __future__ import annotations

import io
import struct
import zipfile

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.evaluation import Document
from app.services import candidatures, certification, documents, evaluations, matrice
from app.services.errors import RuleError
from tests.integration.test_candidatures import T, dossier, habiliter
from tests.integration.test_evaluations import PDF
from tests.world import user

OF = "utilisateur_etablissement_a"
MIB = 1024 * 1024
CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                 b'openxmlformats.org/package/2006/content-types"/>')
WORKBOOK = b'<?xml version="1.0"?><workbook/>'
REFUS_BOMBE = "est une archive qui se décompresse en un volume anormal"


def zip_bytes(members, first=("[Content_Types].xml", CONTENT_TYPES)) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if first:
            archive.writestr(*first)
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def xlsx_with(*members) -> bytes:
    return zip_bytes([("xl/workbook.xml", WORKBOOK), *members])


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """An .xlsx of ~400 Kio whose sheet decompresses to 400 Mio of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            zeros = bytes(MIB)
            for _ in range(400):
                member.write(zeros)
    data = buffer.getvalue()
    assert len(data) < MIB and documents.detect(data) == "xlsx"
    return data


def lying_sizes(data: bytes, name: str, declared: int) -> bytes:
    """The same archive whose central directory declares `declared` bytes for `name`."""
    raw = bytearray(data)
    start = 0
    while True:
        start = raw.index(b"PK\x01\x02", start)
        name_length = struct.unpack_from("<H", raw, start + 28)[0]
        if raw[start + 46:start + 46 + name_length] == name.encode():
            struct.pack_into("<I", raw, start + 24, declared)
            return bytes(raw)
        start += 4


def openpyxl_xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["Critère", "Acquis"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    return zip_bytes([("_rels/.rels", b"<Relationships/>"),
                      ("word/document.xml", b"<w:document><w:body/></w:document>")])


def odt_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", b"application/vnd.oasis.opendocument.text",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", b"<manifest:manifest/>",
                         compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", b"<office:document-content/>",
                         compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def image(kind: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue()


HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def stored():
    count = db.session.execute(select(func.count()).select_from(Document)).scalar_one()
    directory = documents.storage_dir()
    return count, sorted(p.name for p in directory.iterdir())


@pytest.fixture
def cand(app, world):
    habiliter(world, "etab_a1")
    return candidatures.creer(dossier(world), user(OF))


def refused(cand, name, content, expected):
    with pytest.raises(RuleError) as error:
        documents.enregistrer(cand, name, content, user(OF))
    assert expected in error.value.message, error.value.message
    db.session.rollback()
    assert stored() == (0, [])


# --- archives -----------------------------------------------------------------------------

def test_zip_bomb_refused_as_document_through_the_api(app, cand, bomb, api_token):
    response = app.test_client().post("/api/v1/document/", headers=api_token(OF), data={
        "candidature_id": cand.id, "fichier": (io.BytesIO(bomb), "bilan.xlsx")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.json["message"] == (
        "Le fichier « bilan.xlsx » est une archive qui se décompresse en un volume anormal "
        "(plus de 50 Mo, ou compressée plus de 100 fois) : il est refusé.")
    assert stored() == (0, [])


def test_zip_bomb_refused_as_signed_matrice(app, cand, bomb, login):
    evaluation = evaluations.creer(cand, user(OF))
    response = login(OF).post(f"/evaluation/{evaluation.id}/deposer", data={
        "nature": "matrice", "fichier": (io.BytesIO(bomb), "matrice signée.xlsx")},
        content_type="multipart/form-data", follow_redirects=True)
    assert ("Le fichier « matrice signée.xlsx » est une archive qui se décompresse en un "
            "volume anormal") in T(response)
    assert "déposé." not in T(response)
    assert stored() == (0, [])


def test_declared_sizes_that_lie_are_caught_while_decompressing(app, cand):
    honest = xlsx_with(("xl/worksheets/sheet1.xml", bytes(10 * MIB)))
    lying = lying_sizes(honest, "xl/worksheets/sheet1.xml", 20_000)
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo("xl/worksheets/sheet1.xml").file_size \
        == 20_000
    refused(cand, "bilan.xlsx", lying, "est endommagé ou n'est pas un document XLSX valide")
    refused(cand, "bilan.xlsx", honest, REFUS_BOMBE)  # ratio ~1000 > 100


def test_nested_archive_refused(app, cand):
    inner = zip_bytes([("a.txt", b"a")], first=None)
    refused(cand, "bilan.xlsx", xlsx_with(("xl/embeddings/inner.zip", inner)),
            "contient une autre archive (« xl/embeddings/inner.zip »)")
    refused(cand, "bilan.xlsx", xlsx_with(("xl/media/image1.png", inner)),
            "contient une autre archive (« xl/media/image1.png »)")


def test_path_traversal_and_absolute_members_refused(app, cand):
    for name in ("../../etc/cron.d/x", "xl/../../x", "/etc/passwd", "C:/Windows/x.dll",
                 "xl\\..\\..\\x"):
        refused(cand, "bilan.xlsx", xlsx_with((name, b"x")),
                f"contient un élément au chemin interdit (« {name} »)")


def test_too_many_members_refused(app, cand):
    members = [(f"xl/media/m{i}.xml", b"<a/>") for i in range(1000)]
    refused(cand, "bilan.xlsx", xlsx_with(*members),
            "contient trop d'éléments (1002, au plus 1000) : il est refusé.")


def test_xlsx_must_be_a_real_xlsx(app, cand):
    fake = zip_bytes([("xl/worksheets/sheet1.xml", b"<worksheet/>")])
    assert documents.detect(fake) == "xlsx"
    refused(cand, "bilan.xlsx", fake, "n'est pas un document XLSX valide")
    fake_docx = zip_bytes([("word/styles.xml", b"<w:styles/>")])
    refused(cand, "lettre.docx", fake_docx, "n'est pas un document DOCX valide")


def test_valid_xlsx_docx_odt_and_generated_matrice_accepted(app, cand, login):
    by = user(OF)
    for name, content in (("tableau.xlsx", openpyxl_xlsx()), ("lettre.docx", docx_bytes()),
                          ("lettre.odt", odt_bytes())):
        document = documents.enregistrer(cand, name, content, by)
        assert documents.chemin(document).read_bytes() == content
        assert document.type_mime == documents.ALLOWED[name.rsplit(".", 1)[1]]
    evaluation = evaluations.creer(cand, by)
    response = login(OF).post(f"/evaluation/{evaluation.id}/deposer", data={
        "nature": "matrice", "fichier": (io.BytesIO(matrice.generer(evaluation)),
                                         "matrice signée.xlsx")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Fichier « matrice signée.xlsx » déposé." in T(response)
    assert stored()[0] == 4


# --- polyglots ----------------------------------------------------------------------------

def test_pdf_polyglots_refused(app, cand):
    web = "contient du code de page web (HTML ou script) : il est refusé."
    refused(cand, "cv.pdf", b"%PDF-1.4\n" + HTML + b"\n" + PDF[9:], web)
    refused(cand, "cv.pdf", PDF + HTML, web)
    refused(cand, "cv.pdf", b"%PDF-1.4\n%<!DOCTYPE html>\n" + PDF[9:], web)


def test_pdf_with_content_before_its_signature_refused(app, cand):
    refused(cand, "cv.pdf", HTML + PDF, "n'est pas d'un type accepté")
    refused(cand, "cv.pdf", b" " + PDF, "n'est pas d'un type accepté")


def test_image_polyglots_refused(app, cand):
    jpeg, png = image("JPEG"), image("PNG")
    web = "contient du code de page web (HTML ou script) : il est refusé."
    refused(cand, "photo.jpg", jpeg + HTML, web)
    comment = b"\xff\xfe" + struct.pack(">H", len(HTML) + 2) + HTML
    refused(cand, "photo.jpg", jpeg[:2] + comment + jpeg[2:], web)
    refused(cand, "photo.png", png + HTML, web)
    refused(cand, "photo.png", png + b"trailing", "contient des données après la fin de l'image")


def test_declared_type_must_be_the_content(app, cand):
    refused(cand, "photo.jpg", PDF, "n'a pas le contenu qu'annonce son nom (son contenu est "
                                    "de type PDF) : il est refusé.")
    document = documents.enregistrer(cand, "scan", PDF, user(OF))
    assert document.nom_original == "scan.pdf"


def test_normal_pdf_jpeg_png_accepted_and_served_as_attachments(app, cand, login, api_token):
    by = user(OF)
    ids = {}
    for name, content, mime in (("cv.pdf", PDF, "application/pdf"),
                                ("photo.jpg", image("JPEG"), "image/jpeg"),
                                ("photo.png", image("PNG"), "image/png")):
        ids[name] = (documents.enregistrer(cand, name, content, by).id, content, mime)
    screen, api, headers = login(OF), app.test_client(), api_token(OF)
    for name, (pk, content, mime) in ids.items():
        for response in (screen.get(f"/evaluation/document/{pk}"),
                         api.get(f"/api/v1/document/{pk}/fichier", headers=headers)):
            assert response.status_code == 200 and response.data == content
            assert response.headers["Content-Type"] == mime
            assert response.headers["Content-Disposition"].startswith("attachment;")
            assert name in response.headers["Content-Disposition"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in response.headers["Content-Security-Policy"]


def test_signed_certificate_polyglot_refused(app, world):
    from tests.integration.test_deletions import certified

    habiliter(world, "etab_a1")
    c = certified(world)
    certificat = certification.certificat_de(c)
    with pytest.raises(RuleError) as error:
        certification.deposer_certificat_signe(certificat, "signe.pdf", PDF + HTML,
                                               user("jury_a"))
    assert "contient du code de page web" in error.value.message
    db.session.rollback()
    db.session.refresh(certificat)
    assert certificat.fichier_signe is None
    assert [p.name for p in documents.storage_dir().iterdir()
            if p.name.startswith(("certificat-", ".tmp-certificat-"))] == []
