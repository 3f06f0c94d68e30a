"""Security scans run with the tests (`make test`, CI): bandit finds nothing in app/ (each
accepted finding carries `# nosec <id>` and its reason on the line above), pip-audit knows no
vulnerability in the installed packages, and workbooks are parsed without XML entities.

pip-audit asks PyPI about each installed version. A PyPI that cannot be reached is a
failure, never a silent pass; when PyPI does not answer for one version (a mirror serving
only each project's page), the project's page is read instead, whose vulnerabilities are
those of its latest version: exactly the installed one, or that package is named as not
audited."""
from __future__ import annotations

import importlib.metadata
import io
import json
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPI = "https://pypi.org/pypi"


def test_bandit_finds_nothing_in_app():
    run = subprocess.run([sys.executable, "-m", "bandit", "-r", "app", "-q"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"bandit -r app :\n{run.stdout}\n{run.stderr}"


def _pip_audit() -> list[dict]:
    run = subprocess.run([sys.executable, "-m", "pip_audit", "--format", "json",
                          "--progress-spinner", "off", "--skip-editable"],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        pytest.fail("pip-audit n'a pas pu interroger PyPI (réseau ?) : "
                    f"code {run.returncode}\n{run.stderr[-2000:]}")
    # Our own package (installed editable) is not on PyPI.
    return [d for d in report["dependencies"] if "editable" not in d.get("skip_reason", "")]


def _project_page(session, name: str) -> dict | None:
    import requests

    try:
        answer = session.get(f"{PYPI}/{name}/json", timeout=60)
    except requests.RequestException as error:
        pytest.fail(f"PyPI injoignable pour {name} : {error}")
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    return answer.json()


def test_pip_audit_knows_no_vulnerability_in_the_installed_packages():
    import requests

    dependencies = _pip_audit()
    found = [f"{d['name']} {d['version']} : {v['id']} (corrigé en {', '.join(v['fix_versions']) or '?'})"
             for d in dependencies for v in d.get("vulns", [])]
    audited = [d for d in dependencies if "skip_reason" not in d]
    not_audited = []
    session = requests.Session()
    for dep in (d for d in dependencies if "skip_reason" in d):
        version = importlib.metadata.version(dep["name"])
        page = _project_page(session, dep["name"])
        if page is None or page["info"]["version"] != version:
            not_audited.append(f"{dep['name']} {version}")
            continue
        audited.append(dep)
        found += [f"{dep['name']} {version} : {v['id']} "
                  f"(corrigé en {', '.join(v.get('fixed_in') or []) or '?'})"
                  for v in page.get("vulnerabilities", []) if not v.get("withdrawn")]
    assert found == [], "vulnérabilités connues :\n" + "\n".join(found)
    assert audited, "aucun paquet n'a pu être audité : PyPI ne répond sur aucune version"
    installed = {d.metadata["Name"].lower() for d in importlib.metadata.distributions()}
    assert len(audited) + len(not_audited) >= len(installed) - 1  # all but our own package
    if not_audited:
        warnings.warn("versions que PyPI ne décrit pas ici, non auditées : "
                      + ", ".join(sorted(not_audited)), stacklevel=1)


def _workbook_with_entities() -> bytes:
    """A real .xlsx whose sheet declares nested entities (« billion laughs »)."""
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    bomb = ('<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
            + "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefg", "bcdefgh"))
            + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&h;</t></is></c></row>'
              '</sheetData></worksheet>')
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = bomb.encode()
            target.writestr(item, data)
    return out.getvalue()


def test_workbooks_are_read_without_xml_entities():
    """openpyxl parses with defusedxml when it is installed: a workbook declaring entities
    is refused instead of expanding them (10⁸ characters here)."""
    import openpyxl
    from defusedxml import DTDForbidden, EntitiesForbidden

    assert openpyxl.DEFUSEDXML is True
    with pytest.raises(ValueError, match="Unable to read workbook") as refused:
        openpyxl.load_workbook(io.BytesIO(_workbook_with_entities()))
    assert isinstance(refused.value.__cause__, (EntitiesForbidden, DTDForbidden))
