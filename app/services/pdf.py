"""The PDF documents of certification (DESIGN §7), drawn with reportlab: the certificate (identity,
jury date, certificateur, verification URL and its QR code) and a session's procès-verbal (the
list of decisions and the verification address). Plain data in, bytes out; the callers check rights and perimeter."""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
# escape() quotes text for reportlab's paragraphs; no XML is parsed here.
from xml.sax.saxutils import escape  # nosec B406
from typing import Optional, Sequence

from flask_babel import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .formats import ne_le

BLEU = colors.HexColor("#1d4f91")


def _date(value: Optional[dt.date]) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


@dataclass
class DonneesCertificat:
    numero: str
    civilite: str
    nom: str
    prenoms: str
    date_naissance: dt.date
    lieu_naissance: str
    date_jury: dt.date
    certificateur: str
    url_verification: str


def certificat(d: DonneesCertificat) -> bytes:
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(_("Certificat CléA %(numero)s", numero=d.numero))
    pdf.setAuthor(d.certificateur)
    pdf.setStrokeColor(BLEU)
    pdf.setLineWidth(4)
    pdf.rect(1 * cm, 1 * cm, width - 2 * cm, height - 2 * cm)
    pdf.setFillColor(BLEU)
    pdf.setFont("Helvetica-Bold", 34)
    pdf.drawCentredString(width / 2, height - 4 * cm, _("Certificat CléA"))
    pdf.setFont("Helvetica", 14)
    pdf.drawCentredString(width / 2, height - 5 * cm,
                          _("Socle de connaissances et de compétences professionnelles"))
    pdf.setFillColor(colors.black)
    pdf.setFont("Helvetica", 13)
    pdf.drawCentredString(width / 2, height - 7 * cm,
                          _("Le jury %(jury)s atteste que", jury=d.certificateur))
    pdf.setFont("Helvetica-Bold", 24)
    pdf.drawCentredString(width / 2, height - 8.4 * cm, f"{d.civilite} {d.prenoms} {d.nom}".strip())
    pdf.setFont("Helvetica", 13)
    naissance = ne_le(d.civilite, _date(d.date_naissance))
    if d.lieu_naissance:
        naissance += " " + _("à %(lieu)s", lieu=d.lieu_naissance)
    pdf.drawCentredString(width / 2, height - 9.4 * cm, naissance)
    pdf.drawCentredString(width / 2, height - 10.8 * cm, _(
        "a obtenu la certification CléA, délivrée par le jury du %(date)s.",
        date=_date(d.date_jury)))
    pdf.setFont("Helvetica-Bold", 13)
    pdf.drawString(2 * cm, 4.2 * cm, _("Certificat n° %(numero)s", numero=d.numero))
    pdf.setFont("Helvetica", 10)
    pdf.drawString(2 * cm, 3.4 * cm, _("Vérifiez ce certificat :"))
    pdf.drawString(2 * cm, 2.8 * cm, d.url_verification)
    pdf.drawString(2 * cm, 2.2 * cm, _("Délivré par %(jury)s", jury=d.certificateur))
    qr = QrCodeWidget(d.url_verification)
    x1, y1, x2, y2 = qr.getBounds()
    size = 4 * cm
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(qr)
    renderPDF.draw(drawing, pdf, width - 2 * cm - size, 1.6 * cm)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@dataclass
class LigneProcesVerbal:
    candidat: str
    etablissement: str
    decision: str
    detail: str


def proces_verbal(*, certificateur: str, date_session: dt.date, mode: str, lieu: str,
                  colleges: Sequence[tuple[str, Sequence[str]]],
                  lignes: Sequence[LigneProcesVerbal], totaux: Sequence[tuple[str, int]],
                  close_le: dt.datetime, url_verification: str = "") -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=1.5 * cm, rightMargin=1.5 * cm,
                            topMargin=1.5 * cm, bottomMargin=1.5 * cm,
                            title=_("Procès-verbal du jury du %(date)s",
                                    date=_date(date_session)), author=certificateur)
    styles = getSampleStyleSheet()
    cell = styles["BodyText"]
    cell.fontSize = 9
    cell.leading = 11
    story = [
        Paragraph(_("Procès-verbal du jury CléA"), styles["Title"]),
        Paragraph(escape(_("%(jury)s — session du %(date)s (%(mode)s%(lieu)s)",
                           jury=certificateur, date=_date(date_session), mode=mode,
                           lieu=f", {lieu}" if lieu else "")), styles["Heading3"]),
        Paragraph("<b>%s</b>" % escape(_("Membres présents")), cell),
    ]
    for college, noms in colleges:
        story.append(Paragraph(escape(_("%(college)s (%(num)d) : %(noms)s", college=college,
                                        num=len(noms), noms=", ".join(noms) or "—")), cell))
    story.append(Paragraph(escape(_("Dossiers examinés : %(num)d — %(totaux)s",
                                    num=len(lignes), totaux=" ; ".join(
                                        f"{label} : {n}" for label, n in totaux))), cell))
    story.append(Spacer(1, 0.4 * cm))
    rows = [[_("Candidat"), _("Établissement"), _("Décision"), _("Motif / n° de certificat")]]
    for ligne in lignes:
        rows.append([Paragraph(escape(text), cell) for text in (
            ligne.candidat, ligne.etablissement, ligne.decision, ligne.detail)])
    if len(rows) == 1:
        rows.append([_("Aucun dossier examiné."), "", "", ""])
    table = Table(rows, colWidths=[5 * cm, 4.5 * cm, 3.5 * cm, 5 * cm], repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), BLEU), ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"), ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    story += [table, Spacer(1, 0.6 * cm)]
    if url_verification:
        story.append(Paragraph(escape(_(
            "Chaque certificat délivré se vérifie en ligne avec son numéro : %(url)s",
            url=url_verification)), cell))
    story.append(Paragraph(_("Procès-verbal établi à la clôture de la session, le %(date)s.",
                             date=close_le.strftime("%d/%m/%Y %H:%M")), cell))
    story.append(Spacer(1, 0.8 * cm))
    signatures = [[escape(college) for college, _noms in colleges],
                  [_("Nom, date et signature") for _college in colleges],
                  ["" for _college in colleges]]
    block = Table(signatures, colWidths=[9 * cm] * len(colleges),
                  rowHeights=[None, None, 2.5 * cm])
    block.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"), ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("BOX", (0, 0), (-1, -1), 0.5, colors.grey), ("INNERGRID", (0, 0), (-1, -1), 0.5,
                                                     colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [Paragraph("<b>%s</b>" % escape(_("Signatures des membres du jury")), cell),
              Spacer(1, 0.2 * cm), block]
    doc.build(story)
    return buffer.getvalue()


@dataclass
class FicheSeance:
    """One candidate's summary in the session pack: plain texts, already translated."""

    candidat: str
    identite: Sequence[tuple[str, str]]  # (label, value)
    parcours: Sequence[tuple[str, str]]
    evaluations: Sequence[Sequence[str]]  # rows: type, date, évaluateur, résultat
    domaines: Sequence[tuple[str, str]]  # (domaine, « 4 / 5 acquis — non acquis : 2.3 »)
    formations: Sequence[Sequence[str]]  # rows: intitulé, organisme, du, au, heures
    documents: Sequence[str]
    decisions: Sequence[Sequence[str]]  # rows: session, décision, motif, réponse


def dossier_de_seance(*, certificateur: str, date_session: dt.date, mode: str, lieu: str,
                      fiches: Sequence[FicheSeance]) -> bytes:
    """The session pack: a cover listing the dossiers, then one page (or more) per candidate
    with the file the jury reads on screen, for members who work on paper."""
    from reportlab.platypus import PageBreak

    buffer = io.BytesIO()
    titre = _("Dossier de séance du jury du %(date)s", date=_date(date_session))
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=1.5 * cm, rightMargin=1.5 * cm,
                            topMargin=1.5 * cm, bottomMargin=1.5 * cm, title=titre,
                            author=certificateur)
    styles = getSampleStyleSheet()
    cell = styles["BodyText"]
    cell.fontSize = 9
    cell.leading = 11

    def table(rows, widths, header=True):
        data = [[Paragraph(escape(str(text)).replace("\n", "<br/>"), cell) for text in row]
                for row in rows]
        t = Table(data, colWidths=widths, repeatRows=1 if header else 0)
        style = [("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        if header:
            style += [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7"))]
        t.setStyle(TableStyle(style))
        return t

    story = [Paragraph(escape(titre), styles["Title"]),
             Paragraph(escape(_("%(jury)s — %(mode)s%(lieu)s", jury=certificateur, mode=mode,
                                lieu=f", {lieu}" if lieu else "")), styles["Heading3"]),
             Paragraph(escape(_("%(num)d dossier(s) ; un dossier par page.", num=len(fiches))),
                       cell), Spacer(1, 0.3 * cm)]
    if fiches:
        story.append(table([[_("N°"), _("Candidat")]] +
                           [[str(i), f.candidat] for i, f in enumerate(fiches, 1)],
                           [1.5 * cm, 16.5 * cm]))
    else:
        story.append(Paragraph(escape(_("Aucun dossier dans cette session.")), cell))
    for i, f in enumerate(fiches, 1):
        story += [PageBreak(), Paragraph(escape(_("Dossier %(n)d sur %(total)d — %(nom)s",
                                                  n=i, total=len(fiches), nom=f.candidat)),
                                         styles["Heading2"])]
        for titre_bloc, lignes in ((_("Identité"), f.identite), (_("Parcours"), f.parcours)):
            story += [Paragraph("<b>%s</b>" % escape(titre_bloc), cell),
                      table(lignes, [5 * cm, 13 * cm], header=False), Spacer(1, 0.2 * cm)]
        blocs = (
            (_("Évaluations"), [[_("Évaluation"), _("Date"), _("Évaluateur"), _("Résultat")]],
             f.evaluations, [3 * cm, 3 * cm, 6 * cm, 6 * cm], _("Aucune évaluation.")),
            (_("Résultats de la dernière évaluation, par domaine"),
             [[_("Domaine"), _("Résultats")]], f.domaines, [8 * cm, 10 * cm], None),
            (_("Formations CléA"), [[_("Intitulé"), _("Organisme formateur"), _("Du"), _("Au"),
                                     _("Heures")]], f.formations,
             [5 * cm, 5 * cm, 2.5 * cm, 2.5 * cm, 3 * cm], _("Aucune formation.")),
            (_("Décisions précédentes"), [[_("Session"), _("Décision"), _("Motif"),
                                           _("Réponse de l'organisme")]], f.decisions,
             [3 * cm, 3 * cm, 6 * cm, 6 * cm], None),
        )
        for titre_bloc, entete, lignes, largeurs, vide in blocs:
            if not lignes and vide is None:
                continue
            story.append(Paragraph("<b>%s</b>" % escape(titre_bloc), cell))
            story.append(table(entete + list(lignes), largeurs) if lignes
                         else Paragraph(escape(vide), cell))
            story.append(Spacer(1, 0.2 * cm))
        story += [Paragraph("<b>%s</b>" % escape(_("Documents du dossier")), cell),
                  Paragraph(escape(", ".join(f.documents) or _("Aucun document.")), cell)]
    doc.build(story)
    return buffer.getvalue()
