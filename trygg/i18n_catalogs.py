"""The translator's workflow: extract the template, update catalogs, make new ones, compile.

``trygg i18n extract`` writes locales/trygg.pot from the system texts and every flow;
``update`` merges it into each locales/<lang>/LC_MESSAGES/trygg.po (a changed Swedish text
keeps its old translation, marked fuzzy, which is not shown until a translator clears
it); ``init LANG`` starts a new language with CLDR's plural rules; ``compile`` checks the
catalogs and writes .mo files for standard gettext tools. The service itself reads the
.po files, so there is no compile step to forget.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from dialog_flows import texts
from dialog_flows.i18n_extract import COMMENT_TAGS, PYTHON_KEYWORDS, extract_flow
from dialog_flows.library import DOMAIN, flow_files

PROJECT = "Trygg"
DRAFT_HEADER = "DRAFT: machine-assisted draft awaiting review by a native speaker."


def build_template(flow_paths: list[Path], root: Path) -> Catalog:
    template = Catalog(
        project=PROJECT,
        version="1",
        domain=DOMAIN,
        fuzzy=False,
        creation_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    texts_file = Path(texts.__file__)
    for line, message, comments, context in extract_from_file(
        "python",
        str(texts_file),
        keywords=PYTHON_KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
    ):
        template.add(
            message,
            locations=[(_relative(texts_file, root), line)],
            auto_comments=comments,
            context=context,
        )
    for path in flow_files(flow_paths):
        with path.open("rb") as handle:
            for line, _, (context, msgid), comments in extract_flow(handle, (), (), {}):
                existing = template.get(msgid, context)
                location = (_relative(path, root), line)
                if existing is not None:  # the same text in two versions of a flow
                    existing.locations.append(location)
                    continue
                template.add(msgid, locations=[location], auto_comments=comments, context=context)
    return template


def write_catalog(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=88, sort_output=False, include_previous=True)


def catalog_path(locales_dir: Path, language: str) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, language: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language.replace("-", "_"), domain=DOMAIN)


def update_catalogs(template: Catalog, locales_dir: Path) -> list[Path]:
    updated = []
    for path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        language = path.parent.parent.name
        catalog = read_catalog(path, language)
        catalog.update(template)
        write_catalog(catalog, path)
        updated.append(path)
    return updated


def init_catalog(template: Catalog, locales_dir: Path, language: str, draft: bool) -> Path:
    path = catalog_path(locales_dir, language)
    if path.exists():
        raise FileExistsError(path)
    catalog = Catalog(
        locale=language.replace("-", "_"), domain=DOMAIN, project=PROJECT, version="1", fuzzy=False
    )
    catalog.update(template)
    if draft:
        catalog.header_comment = f"# {DRAFT_HEADER}\n" + catalog.header_comment
    write_catalog(catalog, path)
    return path


def compile_catalogs(locales_dir: Path) -> list[str]:
    """Check every catalog and write its .mo. Returns the problems found."""
    problems: list[str] = []
    for path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        catalog = read_catalog(path, path.parent.parent.name)
        for message, errors in catalog.check():
            for error in errors:
                problems.append(f"{path}:{message.lineno}: {error}")
        with path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog)
    return problems


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return path.name
