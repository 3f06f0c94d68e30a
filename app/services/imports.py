"""« Importer des candidatures » (issue 15): many dossiers at once from an .xlsx or .csv file,
in two steps as Pix Certif's mass session import does.

1. `lire` reads the file (the template `modele` gives its columns, French headers, codes or
   labels in the cells) and `valider` checks every row by the rules of one creation
   (candidatures.valider_identite / valider_dossier, the établissement's habilitation), plus
   the duplicates inside the file and against the platform, and the near-duplicates unless
   they are accepted: a report, one line per row, « valide » or « refusée » with the French
   reason and the field.
2. `importer` creates the validated rows (all of them, or none when one row is refused and
   the user asked for all or nothing), in one transaction: one flush for the people and the
   dossiers, their history, one journal line per dossier, one notification for the lot.

Between the two steps the file and its report are kept in the storage for their owner
(`preparer`, `preparation`, `confirmer`); the screen (views/imports.py) and the API
(POST /api/v1/candidature/import, …/import/<id>/confirmer) call these functions."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import secrets
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.models import Etablissement
from app.models import candidature as C
from app.models.candidature import Candidat, Candidature
from app.security import perimeter
from app.security.access import ensure_can
from app.security.matrix import CREATE

from . import audit, notifications, perimetre
from . import candidatures as dossiers
from .errors import ConflictError, RuleError, ServiceError
from .formats import en_texte
from .habilitations import branches_habilitees
from .texte import normalize

LIGNES_MAX = 10_000  # non-empty rows
CELLULE_MAX = 2_000  # characters: a longer cell is refused on its row, unread by the services
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OUI = {"oui", "o", "vrai", "x", "1", "yes", "true"}
NON = {"non", "n", "faux", "0", "no", "false", ""}


@dataclass(frozen=True)
class Colonne:
    champ: str
    entete: Any  # lazy French header
    obligatoire: bool = False
    codes: Optional[dict] = None  # code → label: a cell may hold either
    oui_non: bool = False


COLONNES = (
    Colonne("civilite", _l("Civilité"), True, dossiers.CIVILITES),
    Colonne("nom_naissance", _l("Nom de naissance"), True),
    Colonne("nom_usage", _l("Nom d'usage")),
    Colonne("prenoms", _l("Prénom(s)"), True),
    Colonne("date_naissance", _l("Date de naissance"), True),
    Colonne("commune_naissance", _l("Commune de naissance")),
    Colonne("departement_naissance", _l("Département de naissance")),
    Colonne("pays_naissance", _l("Pays de naissance")),
    Colonne("email", _l("Adresse e-mail")),
    Colonne("telephone", _l("Téléphone")),
    Colonne("adresse", _l("Adresse")),
    Colonne("code_postal", _l("Code postal")),
    Colonne("ville", _l("Ville")),
    Colonne("type_public", _l("Type de public"), codes=dossiers.TYPES_PUBLIC),
    Colonne("statut_inscription", _l("Statut à l'inscription"), True,
            dossiers.STATUTS_INSCRIPTION),
    Colonne("niveau_formation", _l("Niveau de formation"),
            codes={str(n): label for n, label in dossiers.NIVEAUX.items()}),
    Colonne("origine_demarche", _l("Origine de la démarche"), codes=dossiers.ORIGINES),
    Colonne("objectif_pro", _l("Objectif professionnel"), True),
    Colonne("objectif_extra_pro", _l("Objectif extra-professionnel"), True),
    Colonne("certificat_papier", _l("Certificat papier (oui / non)"), oui_non=True),
)
# only where the établissement holds a branche habilitation (a socle contextualisé)
COLONNES_BRANCHE = (
    Colonne("branche_id", _l("Branche délégataire")),
    Colonne("socle_contextualise", _l("Socle contextualisé (oui / non)"), oui_non=True),
)
# The free texts kept as they are: no longer than the platform stores them (PostgreSQL would
# refuse a longer address at the confirmation). The other columns are checked by a pattern
# or a list of codes, in their own words, once under CELLULE_MAX.
LONGUEURS = {champ: Candidat.__table__.c[champ].type.length for champ in (
    "nom_naissance", "nom_usage", "prenoms", "commune_naissance", "pays_naissance", "email",
    "telephone", "adresse", "ville")}
NOM_AFFICHE_MAX = 80  # characters of a row's name in the report


def colonnes(etablissement: Etablissement) -> list[Colonne]:
    """The template's columns for this établissement: the branche and socle columns only
    when it holds a valid branche habilitation."""
    if branches_habilitees([etablissement.id]).get(etablissement.id):
        return [*COLONNES, *COLONNES_BRANCHE]
    return list(COLONNES)


def modele(etablissement: Etablissement) -> bytes:
    """The .xlsx template: its header row, and an « Aide » sheet (each column, whether it is
    required, the values it takes)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Candidatures")
    cols = colonnes(etablissement)
    sheet.append([str(c.entete) for c in cols])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    aide = book.create_sheet(_("Aide"))
    aide.append([_("Colonne"), _("Obligatoire"), _("Valeurs permises")])
    for cell in aide[1]:
        cell.font = Font(bold=True)
    branches = branches_habilitees([etablissement.id]).get(etablissement.id) or []
    for c in cols:
        if c.codes:
            values = " ; ".join(f"{code} ({label})" for code, label in c.codes.items())
        elif c.oui_non:
            values = _("oui ou non")
        elif c.champ == "branche_id":
            values = " ; ".join(f"{b.code} ({b.nom})" for b in branches)
        elif c.champ == "date_naissance":
            values = _("JJ/MM/AAAA")
        else:
            values = ""
        aide.append([str(c.entete), _("oui") if c.obligatoire else _("non"), values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- reading ---------------------------------------------------------------------------------

def _texte(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _nombre(n: int) -> str:
    """10000 → « 10 000 »."""
    return f"{n:,}".replace(",", " ")


def _excel_illisible() -> RuleError:
    return RuleError(_("Ce fichier Excel ne peut pas être lu : enregistrez-le au format .xlsx et "
                       "recommencez."), field="fichier")


def _rangees_xlsx(contenu: bytes) -> Iterator[list[str]]:
    """The first sheet's header row, then its rows (as wide as the header, so that a cell far
    to the right costs nothing). Any failure while reading, the workbook or its rows (a sheet
    cut short, a broken cell), is the same French refusal."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(contenu), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001  (any unreadable workbook: the same refusal)
        raise _excel_illisible() from None
    try:
        sheet = book.worksheets[0]
        # the sheet's declared dimension may be wrong (some programs write « A1 »): read the
        # rows that are there, never the ones it announces
        sheet.reset_dimensions()
        entetes = [_texte(v) for v in next(sheet.iter_rows(max_row=1, values_only=True), ())]
        while entetes and not entetes[-1]:
            entetes.pop()
        yield entetes
        if entetes:
            for row in sheet.iter_rows(min_row=2, max_col=len(entetes), values_only=True):
                # (a formatted cell far down yields as many empty rows: cheap ones)
                yield [] if row.count(None) == len(row) else [_texte(v) for v in row]
    except Exception:  # noqa: BLE001  (the rows are read lazily: the same refusal)
        raise _excel_illisible() from None
    finally:
        book.close()


def _rangees_csv(contenu: bytes) -> Iterator[list[str]]:
    """The rows of a .csv (UTF-8, « ; » or « , », any line ending)."""
    try:
        texte = contenu.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleError(_("Ce fichier CSV n'est pas en UTF-8 : enregistrez-le en « CSV UTF-8 "
                          "» et recommencez."), field="fichier") from None
    if "\x00" in texte:  # a binary file, or UTF-16 without its mark
        raise RuleError(_("Ce fichier CSV ne peut pas être lu : il contient des caractères "
                          "nuls. Enregistrez-le en « CSV UTF-8 » et recommencez."),
                        field="fichier")
    premiere = re.split(r"\r\n|\r|\n", texte, maxsplit=1)[0]
    # the separator the header uses most: « ; » (a French spreadsheet), « , » or a tab
    separateur = max((";", ",", "\t"), key=premiere.count)
    lecteur = csv.reader(io.StringIO(texte, newline=""), delimiter=separateur)
    numero = 1  # the row being read, as a spreadsheet numbers it
    try:
        for row in lecteur:
            yield [v.strip() for v in row]
            numero += 1
    except csv.Error:
        # past csv's field size limit (128 Kio), or a quote never closed that swallows the
        # rest of the file into one cell
        raise RuleError(_("Ce fichier CSV ne peut pas être lu : la ligne %(n)d a une cellule "
                          "beaucoup trop longue (%(max)s caractères au plus) ou un guillemet "
                          "qui n'est pas refermé.", n=numero, max=_nombre(CELLULE_MAX)),
                        field="fichier") from None


def _rangees(nom: str, contenu: bytes) -> Iterator[list[str]]:
    """The file's rows as texts, its header row first: an .xlsx (its first sheet) or a .csv.
    Read lazily: the caller stops once it has enough."""
    extension = nom.rsplit(".", 1)[-1].lower() if "." in nom else ""
    if extension == "xlsx":
        return _rangees_xlsx(contenu)
    if extension == "csv":
        return _rangees_csv(contenu)
    raise RuleError(_("Format non pris en charge : déposez un fichier .xlsx ou .csv."),
                    field="fichier")


def lire(etablissement: Etablissement, nom: str, contenu: bytes) -> list[tuple[int, dict]]:
    """(row number in the file, {field: text}) for each non-empty row. Refuses in French an
    unknown, missing or repeated column, a column this établissement may not fill, more than
    LIGNES_MAX non-empty rows (the blank ones do not count, and none is dropped: the file is
    refused, read no further than the row past the limit)."""
    with closing(_rangees(nom or "", contenu)) as rangees:
        premiere = next(rangees, None)
        if not premiere or not any(premiere):
            raise RuleError(_("Le fichier est vide : partez du modèle téléchargeable."),
                            field="fichier")
        permises = {normalize(str(c.entete)): c for c in colonnes(etablissement)}
        toutes = {normalize(str(c.entete)): c for c in (*COLONNES, *COLONNES_BRANCHE)}
        entetes: list[Optional[Colonne]] = []
        for entete in premiere:
            key = normalize(entete)
            if not key:
                entetes.append(None)
            elif key in permises:
                colonne = permises[key]
                if any(c is not None and c.champ == colonne.champ for c in entetes):
                    raise RuleError(_("La colonne « %(colonne)s » apparaît deux fois : "
                                      "gardez-en une.", colonne=colonne.entete),
                                    field="fichier")
                entetes.append(colonne)
            elif key in toutes:
                raise RuleError(_("La colonne « %(colonne)s » n'est permise qu'aux "
                                  "établissements habilités pour une branche : retirez-la.",
                                  colonne=entete), field="fichier")
            else:
                raise RuleError(_("Colonne inconnue : « %(colonne)s ». Partez du modèle "
                                  "téléchargeable.", colonne=entete), field="fichier")
        manquantes = [str(c.entete) for c in COLONNES if c.obligatoire and c not in entetes]
        if manquantes:
            raise RuleError(_("Colonnes obligatoires absentes : %(colonnes)s.",
                              colonnes=", ".join(f"« {m} »" for m in manquantes)),
                            field="fichier")
        lignes = []
        for numero, row in enumerate(rangees, start=2):
            if not any(row):
                continue
            if len(lignes) == LIGNES_MAX:
                raise RuleError(_("Le fichier a plus de %(n)s lignes : découpez-le.",
                                  n=_nombre(LIGNES_MAX)), field="fichier")
            lignes.append((numero, {c.champ: (row[i] if i < len(row) else "")
                                    for i, c in enumerate(entetes) if c is not None}))
    if not lignes:
        raise RuleError(_("Le fichier n'a aucune ligne de candidat sous ses en-têtes."),
                        field="fichier")
    return lignes


# --- checking --------------------------------------------------------------------------------

@dataclass
class Ligne:
    """One row of the report."""
    numero: int
    nom: str
    valide: bool = True
    motif: str = ""
    champ: Optional[str] = None
    identite: dict = field(default_factory=dict, repr=False)
    dossier: dict = field(default_factory=dict, repr=False)
    cle: str = ""

    def refuser(self, motif: str, champ: Optional[str] = None) -> None:
        self.valide, self.motif, self.champ = False, str(motif), champ


def _codes_par_libelle() -> dict[str, dict[str, str]]:
    """For each coded column, its codes by their label (accents and case ignored), in the
    language in force: built once per file, not once per cell."""
    return {c.champ: {normalize(str(label)): code for code, label in c.codes.items()}
            for c in (*COLONNES, *COLONNES_BRANCHE) if c.codes}


def _code(valeur: str, codes: dict, par_libelle: dict) -> str:
    """The code a cell means: the code itself, or its label."""
    if valeur in codes:
        return valeur
    return par_libelle.get(normalize(valeur), valeur)


def _date(valeur: str) -> str:
    """JJ/MM/AAAA (a French spreadsheet) or AAAA-MM-JJ (a date cell), as AAAA-MM-JJ; anything
    else is refused in the spreadsheet's own format."""
    for forme in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(valeur, forme).date().isoformat()
        except ValueError:
            continue
    raise RuleError(_("Date invalide : %(v)s (format attendu JJ/MM/AAAA).", v=valeur),
                    field="date_naissance")


def _mesurer(brutes: dict) -> None:
    """A cell longer than its column takes is refused by the column's name, before anything
    else reads it."""
    for colonne in (*COLONNES, *COLONNES_BRANCHE):
        longueur = len(brutes.get(colonne.champ, ""))
        maximum = min(LONGUEURS.get(colonne.champ) or CELLULE_MAX, CELLULE_MAX)
        if longueur > maximum:
            raise RuleError(_("« %(colonne)s » : cellule trop longue (%(n)s caractères, %(max)s "
                              "au plus).", colonne=colonne.entete, n=_nombre(longueur),
                              max=_nombre(maximum)), field=colonne.champ)


def _donnees(brutes: dict, branches: dict[str, int], libelles: dict) -> dict:
    data: dict[str, Any] = {}
    for colonne in (*COLONNES, *COLONNES_BRANCHE):
        valeur = brutes.get(colonne.champ, "")
        if colonne.codes:
            valeur = _code(valeur, colonne.codes, libelles[colonne.champ]) if valeur else ""
        if colonne.oui_non:
            mot = normalize(valeur)
            if mot not in OUI | NON:
                raise RuleError(_("« %(colonne)s » : oui ou non attendu.",
                                  colonne=colonne.entete), field=colonne.champ)
            valeur = mot in OUI
        data[colonne.champ] = valeur
    data["date_naissance"] = _date(data["date_naissance"]) if data["date_naissance"] else ""
    if data.get("branche_id"):
        code = normalize(str(data["branche_id"]))
        if code not in branches:
            raise RuleError(_("Branche inconnue ou sans habilitation de l'établissement : "
                              "%(branche)s.", branche=data["branche_id"]), field="branche_id")
        data["branche_id"] = branches[code]
    return data


def valider(etablissement: Etablissement, lignes: list[tuple[int, dict]], by: Any,
            homonymes_acceptes: bool = False) -> list[Ligne]:
    """The report: each row checked as one creation would be, then the duplicates."""
    ensure_can(by, "Candidature", CREATE)
    etab = perimeter.get_or_404(Etablissement, etablissement.id, by)
    refus = dossiers.peut_creer(etab)
    if refus:
        raise RuleError(refus, field="etablissement_id")
    branches = {}
    for branche in branches_habilitees([etab.id]).get(etab.id) or []:
        branches[normalize(branche.code)] = branche.id
        branches[normalize(branche.nom)] = branche.id
    rapport, premiere, libelles = [], {}, _codes_par_libelle()
    for numero, brutes in lignes:
        nom = " ".join(v for v in (brutes.get("nom_naissance", ""),
                                   brutes.get("prenoms", "")) if v)
        if len(nom) > NOM_AFFICHE_MAX:
            nom = nom[:NOM_AFFICHE_MAX - 1] + "…"
        ligne = Ligne(numero, nom)
        rapport.append(ligne)
        try:
            _mesurer(brutes)
            data = _donnees(brutes, branches, libelles)
            ligne.identite = dossiers.valider_identite(data)
            ligne.dossier = dossiers.valider_dossier(data, etab)
        except ServiceError as error:
            ligne.refuser(error.message, error.field)
            continue
        ligne.cle = dossiers.cle_identite(ligne.identite["nom_naissance"],
                                          ligne.identite["prenoms"],
                                          ligne.identite["date_naissance"])
        if ligne.cle in premiere:
            ligne.refuser(_("Doublon de la ligne %(n)d du fichier (même nom de naissance, "
                            "prénom et date de naissance).", n=premiere[ligne.cle]),
                          "nom_naissance")
        else:
            premiere[ligne.cle] = numero
    a_verifier = [ligne for ligne in rapport if ligne.valide]
    existantes = set()
    cles = [ligne.cle for ligne in a_verifier]
    for start in range(0, len(cles), 1000):
        existantes.update(db.session.scalars(select(Candidat.cle_identite).where(
            Candidat.cle_identite.in_(cles[start:start + 1000]))))
    for ligne in a_verifier:
        if ligne.cle in existantes:
            ligne.refuser(_("Ce candidat existe déjà sur la plateforme : recherchez-le avec la "
                            "loupe et, s'il dépend d'un autre établissement, demandez le "
                            "rattachement de son dossier."), "nom_naissance")
    if homonymes_acceptes:
        return rapport
    restantes = [ligne for ligne in a_verifier if ligne.valide]
    for ligne, proches in zip(restantes, dossiers.homonymes_en_lot(
            [ligne.identite for ligne in restantes])):
        if proches:
            ligne.refuser(_("Candidats proches déjà inscrits : %(noms)s. Vérifiez qu'il ne "
                            "s'agit pas de la même personne, puis importez en acceptant les "
                            "homonymes.", noms=", ".join(
                                f"{c.nom_complet} ({c.date_naissance:%d/%m/%Y})"
                                for c in proches[:3])), "nom_naissance")
    return rapport


# --- creating ----------------------------------------------------------------------------------

@dataclass
class Bilan:
    crees: list[int]
    refusees: int
    etablissement_id: int


def importer(etablissement: Etablissement, rapport: list[Ligne], by: Any,
             tout_ou_rien: bool = False) -> Bilan:
    """Create the report's valid rows in one transaction. With `tout_ou_rien`, a single
    refused row means that nothing is created."""
    ensure_can(by, "Candidature", CREATE)
    etab = perimeter.get_or_404(Etablissement, etablissement.id, by)
    refus = dossiers.peut_creer(etab)
    if refus:
        raise RuleError(refus, field="etablissement_id")
    refusees = sum(1 for ligne in rapport if not ligne.valide)
    if tout_ou_rien and refusees:
        raise RuleError(_("%(n)d ligne(s) refusée(s) : rien n'est importé (« tout ou rien »). "
                          "Corrigez le fichier et recommencez.", n=refusees), field="fichier")
    valeurs = perimetre.valeurs(etab)
    paires = []
    for ligne in rapport:
        if not ligne.valide:
            continue
        candidat = Candidat(**ligne.identite, cle_identite=ligne.cle)
        dossiers._cles_recherche(candidat)
        paires.append((candidat, Candidature(
            candidat=candidat, etablissement_id=etab.id, **valeurs,
            statut=C.ATTENTE_EVAL_PREALABLE, created_by_id=getattr(by, "id", None),
            **ligne.dossier)))
    db.session.add_all([objet for paire in paires for objet in paire])
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ConflictError(_("Un des candidats vient d'être enregistré par ailleurs : "
                              "validez le fichier de nouveau.")) from None
    ids = [candidature.id for _candidat, candidature in paires]  # known once flushed
    motif = _("Création du dossier (import)")
    for _candidat, candidature in paires:
        dossiers._historique(candidature, None, C.ATTENTE_EVAL_PREALABLE, by, motif)
        audit.record(by, "creer", candidature, _("import"))
    if paires:
        notifications.notify(
            notifications.reseau_abonnes_nouvelle_candidature(etab),
            notifications.NOUVELLE_CANDIDATURE,
            _("Import : %(n)d nouvelles candidatures", n=len(paires)),
            _("%(etab)s a importé %(n)d candidatures.", etab=etab.nom, n=len(paires)),
            lien="/evaluations/?etablissement=%d" % etab.id)
    db.session.commit()  # (the objects expire here: reading them again would cost a
    return Bilan(ids, refusees, etab.id)  # statement each)


# --- the two steps across requests -------------------------------------------------------------
# Step 1 keeps the file and its report in the storage (import-<id>.<ext>, import-<id>.json):
# step 2 reads them back for their owner only, checks the rows again (the platform may have
# changed meanwhile) and creates. The storage's sweep erases them after CLEA_ORPHAN_AGE_SECONDS
# (an hour by default): an import not confirmed by then is validated again.

PREFIXE = "import-"


def entete(champ: Optional[str]) -> str:
    """The column a refused field stands in, as the file heads it (« Prénom(s) » for
    `prenoms`); a field with no column of its own keeps its name."""
    if not champ:
        return ""
    for colonne in (*COLONNES, *COLONNES_BRANCHE):
        if colonne.champ == champ:
            return str(colonne.entete)
    return champ


def ligne_dict(ligne: Ligne) -> dict:
    """A row of the report as the screen, the API and the kept report show it: `champ` is
    the field's code (for programs), `colonne` the file's header (for people)."""
    return {"ligne": ligne.numero, "nom": ligne.nom,
            "statut": "valide" if ligne.valide else "refusee",
            "motif": ligne.motif, "champ": ligne.champ, "colonne": entete(ligne.champ)}


def _chemins(ident: str) -> tuple[Any, Any]:
    from .stockage import storage_dir

    if not isinstance(ident, str) or not re.fullmatch(r"[0-9a-f]{32}", ident):
        raise NotFound()
    directory = storage_dir()
    return directory / f"{PREFIXE}{ident}.json", directory


def preparer(etablissement: Etablissement, nom: str, contenu: bytes, by: Any,
             homonymes_acceptes: bool = False) -> tuple[str, list[Ligne]]:
    """Step 1: read and check the file; keep it with its report for its owner. Returns the
    import's id and the report."""
    lignes = lire(etablissement, nom, contenu)
    rapport = valider(etablissement, lignes, by, homonymes_acceptes)
    ident = secrets.token_hex(16)
    meta, directory = _chemins(ident)
    extension = "csv" if (nom or "").lower().endswith(".csv") else "xlsx"
    (directory / f"{PREFIXE}{ident}.{extension}").write_bytes(contenu)
    meta.write_text(json.dumps({
        "user_id": getattr(by, "id", None), "etablissement_id": etablissement.id,
        "nom": nom, "extension": extension, "homonymes_acceptes": bool(homonymes_acceptes),
        "le": dt.datetime.now().isoformat(timespec="seconds"),
        "rapport": [ligne_dict(ligne) for ligne in rapport]}, ensure_ascii=False))
    return ident, rapport


def preparation(ident: Any, by: Any) -> dict:
    """What step 1 kept (its owner only: 404 for anyone else, or once erased)."""
    meta, _directory = _chemins(ident)
    try:
        data = json.loads(meta.read_text())
    except (OSError, ValueError):
        raise NotFound() from None
    if data.get("user_id") != getattr(by, "id", None):
        raise NotFound()
    return data


def confirmer(ident: Any, by: Any, tout_ou_rien: bool = False) -> tuple[Bilan, list[Ligne]]:
    """Step 2: the kept file checked again and its valid rows created; the kept files are
    erased once the dossiers exist."""
    data = preparation(ident, by)
    meta, directory = _chemins(ident)
    etab = perimeter.get_or_404(Etablissement, data["etablissement_id"], by)
    fichier = directory / f"{PREFIXE}{ident}.{data['extension']}"
    try:
        contenu = fichier.read_bytes()
    except OSError:
        raise NotFound() from None
    rapport = valider(etab, lire(etab, data["nom"], contenu), by, data["homonymes_acceptes"])
    bilan = importer(etab, rapport, by, tout_ou_rien)
    meta.unlink(missing_ok=True)
    fichier.unlink(missing_ok=True)
    return bilan, rapport


def rapport_xlsx(rapport: list[dict]) -> bytes:
    """The report as .xlsx: one row per line of the file, its status and reason."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    sheet = book.active
    sheet.title = _("Rapport")
    sheet.append([_("Ligne"), _("Candidat"), _("Statut"), _("Colonne"), _("Motif")])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    libelles = {"valide": _("Valide"), "refusee": _("Refusée")}
    for row in rapport:
        sheet.append([row["ligne"], row["nom"], libelles[row["statut"]],
                      row.get("colonne") or entete(row["champ"]),
                      row["motif"]])
        en_texte(sheet[sheet.max_row])  # the file's names: never formulas
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
