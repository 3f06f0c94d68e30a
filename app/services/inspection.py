"""What a file really is, before it is accepted (DESIGN §6): the first bytes are exactly the
declared type's signature, no HTML in the head or the tail (a PDF or an image that a browser
could also read as a page: a polyglot), and the archives (XLSX, DOCX, ODT are zip
containers) are opened with limits before acceptance:

- at most CLEA_ARCHIVE_MAX_MEMBERS members;
- at most CLEA_ARCHIVE_MAX_BYTES uncompressed in all, read from the central directory AND
  counted while decompressing, member by member, with the cap (declared sizes can lie: the
  decompression stops at the cap and a member longer than declared is refused);
- a compression ratio of at most CLEA_ARCHIVE_MAX_RATIO per member (members under
  RATIO_FLOOR uncompressed cannot hurt and are not measured);
- no member that is itself an archive, no absolute or « .. » member name, no encryption;
- the structure of the declared type: an XLSX has [Content_Types].xml and xl/workbook.xml,
  a DOCX [Content_Types].xml and word/document.xml, an ODT starts with its « mimetype »
  member and has content.xml.

`verifier(content, extension, nom)` raises a RuleError with a French message; nothing is
stored before it passes."""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib

from flask import current_app
from flask_babel import gettext as _

from .errors import RuleError

HEAD = TAIL = 1024
MAGIC = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "xlsx": (b"PK\x03\x04",),
    "docx": (b"PK\x03\x04",),
    "odt": (b"PK\x03\x04",),
}
ZIP_TYPES = {"xlsx", "docx", "odt"}
# markers that make a browser (or a careless viewer) read bytes as a web page
HTML_MARKERS = re.compile(rb"<\s*(?:html|script|body|iframe|!doctype\s+html)\b|javascript:",
                          re.IGNORECASE)
# first bytes of archives that must not be nested inside a document
NESTED = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c",
          b"Rar!\x1a\x07", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")
NESTED_EXTENSIONS = (".zip", ".jar", ".gz", ".tgz", ".7z", ".rar", ".bz2", ".xz", ".zst",
                     ".tar", ".xlsx", ".docx", ".odt", ".ods", ".odp", ".pptx", ".cab")
REQUIRED = {
    "xlsx": ("[Content_Types].xml", "xl/workbook.xml"),
    "docx": ("[Content_Types].xml", "word/document.xml"),
    "odt": ("mimetype", "content.xml"),
}
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
RATIO_FLOOR = 64 * 1024
CHUNK = 64 * 1024
HEAD_BYTES = 64  # first bytes of each member kept to recognize nested archives


def limites() -> tuple[int, int, int]:
    config = current_app.config
    return (int(config.get("CLEA_ARCHIVE_MAX_MEMBERS", 1000)),
            int(config.get("CLEA_ARCHIVE_MAX_BYTES", 50 * 1024 * 1024)),
            int(config.get("CLEA_ARCHIVE_MAX_RATIO", 100)))


def verifier(content: bytes, extension: str, nom: str) -> None:
    """Refuse (RuleError, field « fichier ») what is not exactly a clean `extension` file."""
    if not any(content.startswith(magic) for magic in MAGIC[extension]):
        raise _refus(_("Le fichier « %(nom)s » ne commence pas par la signature de son type : "
                       "il est refusé.", nom=nom))
    if HTML_MARKERS.search(content[:HEAD]) or HTML_MARKERS.search(content[-TAIL:]):
        raise _refus(_("Le fichier « %(nom)s » contient du code de page web (HTML ou script) : "
                       "il est refusé.", nom=nom))
    if extension == "png" and not content.endswith(b"IEND\xaeB`\x82"):
        raise _refus(_("Le fichier « %(nom)s » contient des données après la fin de l'image : "
                       "il est refusé.", nom=nom))
    if extension in ZIP_TYPES:
        verifier_archive(content, extension, nom)


def _refus(message: str) -> RuleError:
    return RuleError(message, field="fichier")


def _nom_dangereux(name: str) -> bool:
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or re.match(r"^[A-Za-z]:", normalized):
        return True
    return ".." in normalized.split("/") or posixpath.isabs(normalized)


def verifier_archive(content: bytes, extension: str, nom: str) -> None:
    max_members, max_bytes, max_ratio = limites()
    damaged = _refus(_("Le fichier « %(nom)s » est endommagé ou n'est pas un document %(type)s "
                       "valide.", nom=nom, type=extension.upper()))
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise damaged from None
    with archive:
        if len(members) > max_members:
            raise _refus(_("Le fichier « %(nom)s » contient trop d'éléments (%(nombre)s, au "
                           "plus %(max)s) : il est refusé.", nom=nom, nombre=len(members),
                           max=max_members))
        if not members or members[0].header_offset != 0:
            raise damaged  # data before the first member: not a plain document
        bombe = _refus(_("Le fichier « %(nom)s » est une archive qui se décompresse en un "
                         "volume anormal (plus de %(max)s Mo, ou compressée plus de %(ratio)s "
                         "fois) : il est refusé.", nom=nom, max=max_bytes // (1024 * 1024),
                         ratio=max_ratio))
        declared = 0
        for member in members:
            if _nom_dangereux(member.filename):
                raise _refus(_("Le fichier « %(nom)s » contient un élément au chemin interdit "
                               "(« %(element)s ») : il est refusé.", nom=nom,
                               element=member.filename[:100]))
            if member.flag_bits & 0x1:
                raise _refus(_("Le fichier « %(nom)s » est chiffré : il est refusé.", nom=nom))
            if member.filename.lower().endswith(NESTED_EXTENSIONS):
                raise _imbrique(nom, member.filename)
            declared += member.file_size
            if declared > max_bytes or (member.file_size > RATIO_FLOOR and member.file_size >
                                        max_ratio * max(member.compress_size, 1)):
                raise bombe
        names = {m.filename for m in members}
        if any(required not in names for required in REQUIRED[extension]):
            raise damaged
        if extension == "odt" and members[0].filename != "mimetype":
            raise damaged
        total = 0
        for member in members:
            total = _lire_membre(archive, member, total, max_bytes, max_ratio, bombe, damaged,
                                 nom, extension)


def _imbrique(nom: str, element: str) -> RuleError:
    return _refus(_("Le fichier « %(nom)s » contient une autre archive (« %(element)s ») : il "
                    "est refusé.", nom=nom, element=element[:100]))


def _lire_membre(archive, member, total, max_bytes, max_ratio, bombe, damaged, nom,
                 extension) -> int:
    """Decompress one member by chunks, counting what really comes out."""
    size = 0
    head = b""
    try:
        with archive.open(member) as stream:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                if len(head) < HEAD_BYTES:
                    head += chunk[:HEAD_BYTES - len(head)]
                size += len(chunk)
                total += len(chunk)
                if size > member.file_size or total > max_bytes or (
                        size > RATIO_FLOOR and size > max_ratio * max(member.compress_size, 1)):
                    raise bombe
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            ValueError, OSError):
        raise damaged from None
    if any(head.startswith(magic) for magic in NESTED):
        raise _imbrique(nom, member.filename)
    if extension == "odt" and member.filename == "mimetype" and head[:len(ODT_MIMETYPE)] != \
            ODT_MIMETYPE:
        raise damaged
    return total
