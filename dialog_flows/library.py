"""Loading a folder of flow and campaign files, and the translation catalogs, as one whole.

This module reads files; the rest of the package does not. Files are checked one by one
(``loader``, ``campaigns``) and then against each other: campaigns name flows that exist,
source ids are unique, an easy-read flow shares its question ids with the main flow in a
compatible way, images exist and every offered language has a catalog.

Old versions of a flow may stay in the folder beside the new one (``karlslund.v1.yaml``),
so sessions started on them can finish on them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.pofile import read_po

from dialog_flows.campaigns import load_campaign_text
from dialog_flows.model import CHOICE_KINDS, Campaign, Flow
from dialog_flows.problems import FlowError, Problem
from dialog_flows.translations import LanguageCatalog, Translations
from dialog_flows.yaml_source import parse_yaml

DOMAIN = "trygg"
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_FLOWS_DIR = PACKAGE_DIR / "flows"
DEFAULT_LOCALES_DIR = PACKAGE_DIR.parent / "locales"
# The image files ``/media/`` serves from the flow folder: a plain name, no path.
IMAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.(?:jpe?g|png|webp|gif)$", re.IGNORECASE)


@dataclass
class Library:
    flows: dict[tuple[str, int], Flow] = field(default_factory=dict)
    campaigns: tuple[Campaign, ...] = ()
    translations: Translations = field(default_factory=Translations)
    sources: dict[tuple[str, int], str] = field(default_factory=dict)  # each flow's YAML text

    def flow(self, flow_id: str, version: int | None = None) -> Flow | None:
        if version is not None:
            return self.flows.get((flow_id, version))
        versions = [flow for (fid, _), flow in self.flows.items() if fid == flow_id]
        return max(versions, key=lambda flow: flow.version) if versions else None

    def current_flows(self) -> list[Flow]:
        ids = sorted({flow_id for flow_id, _ in self.flows})
        return [flow for flow in (self.flow(flow_id) for flow_id in ids) if flow is not None]

    def campaign(self, campaign_id: str | None = None) -> Campaign:
        """The named campaign, or the default one (the first, by file name)."""
        for campaign in self.campaigns:
            if campaign_id is None or campaign.id == campaign_id:
                return campaign
        raise KeyError(campaign_id or "no campaign is defined")


def load_catalogs(locales_dir: Path) -> tuple[Translations, list[Problem]]:
    catalogs: list[LanguageCatalog] = []
    problems: list[Problem] = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        language = po_path.parent.parent.name.replace("_", "-")
        try:
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=language.replace("-", "_"), domain=DOMAIN)
        except Exception as exc:  # Babel raises several kinds; every one is a broken file
            problems.append(Problem(str(po_path), 0, f"cannot read the catalog: {exc}"))
            continue
        catalogs.append(LanguageCatalog.from_catalog(language, catalog))
    return Translations.from_catalogs(catalogs), problems


def flow_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.glob("*.yaml") if p.is_file()))
            files.extend(sorted(p for p in path.glob("*.yml") if p.is_file()))
        else:
            files.append(path)
    return files


def load_library(
    flow_paths: Iterable[Path] = (DEFAULT_FLOWS_DIR,), locales_dir: Path = DEFAULT_LOCALES_DIR
) -> Library:
    """Load and check everything. Raises ``FlowError`` listing every problem found."""
    from dialog_flows.loader import load_flow_text  # noqa: PLC0415 (keeps import order simple)

    problems: list[Problem] = []
    library = Library()
    campaigns: list[Campaign] = []
    for path in flow_files(flow_paths):
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(str(path), 0, f"cannot read the file: {exc.strerror}"))
            continue
        try:
            if _is_campaign(raw):
                campaigns.append(load_campaign_text(raw, str(path)))
                continue
            flow = load_flow_text(raw, str(path))
        except FlowError as exc:
            problems.extend(exc.problems)
            continue
        key = (flow.id, flow.version)
        if key in library.flows:
            other = library.flows[key].source_file
            problems.append(
                Problem(
                    str(path), 1, f"version {flow.version} is also defined in {other}", flow=flow.id
                )
            )
            continue
        library.flows[key] = flow
        library.sources[key] = raw.decode("utf-8")
        problems.extend(_check_images(flow, path.parent))
    library.campaigns = tuple(campaigns)
    translations, catalog_problems = load_catalogs(locales_dir)
    library.translations = translations
    problems.extend(catalog_problems)
    problems.extend(_check_languages(library, locales_dir))
    problems.extend(_check_campaigns(library))
    if problems:
        raise FlowError(problems)
    return library


def _is_campaign(raw: bytes) -> bool:
    try:
        data = parse_yaml(raw).data
    except ValueError:
        return False  # the flow loader reports the YAML error with its line
    return isinstance(data, dict) and "campaign" in data


def _check_images(flow: Flow, folder: Path) -> list[Problem]:
    problems = []
    for step in flow.steps:
        for image in (step.image, step.place.image if step.place else None):
            if not image or image.startswith(("https://", "http://")):
                continue
            if not (folder / image).is_file():
                problems.append(
                    Problem(
                        flow.source_file,
                        step.line,
                        f"image '{image}' is not in {folder}",
                        flow=flow.id,
                        step=step.id,
                        field="image",
                    )
                )
    return problems


def _check_languages(library: Library, locales_dir: Path) -> list[Problem]:
    problems = []
    available = set(library.translations.languages())
    for flow in library.flows.values():
        for code in flow.languages[1:]:
            if code not in available:
                problems.append(
                    Problem(
                        flow.source_file,
                        1,
                        f"language '{code}' is offered but {locales_dir}/{code}/LC_MESSAGES/"
                        f"{DOMAIN}.po does not exist",
                        flow=flow.id,
                        field="languages",
                    )
                )
    return problems


def _check_campaigns(library: Library) -> list[Problem]:
    problems: list[Problem] = []
    seen_sources: dict[str, str] = {}
    seen_keywords: dict[str, str] = {}
    seen_ids: dict[str, str] = {}
    for campaign in library.campaigns:

        def problem(message: str, field: str) -> None:
            problems.append(
                Problem(campaign.source_file, 1, message, campaign=campaign.id, field=field)  # noqa: B023
            )

        if campaign.id in seen_ids:
            problem(
                f"campaign {campaign.id} is also defined in {seen_ids[campaign.id]}", "campaign"
            )
        seen_ids.setdefault(campaign.id, campaign.source_file)

        if campaign.keyword in seen_keywords:
            problem(
                f"keyword {campaign.keyword} is also used by {seen_keywords[campaign.keyword]}",
                "keyword",
            )
        seen_keywords[campaign.keyword] = campaign.id
        main = library.flow(campaign.flow)
        if main is None:
            problem(f"flow '{campaign.flow}' does not exist", "flow")
        elif campaign.default_language not in main.languages:
            problem(
                f"default language '{campaign.default_language}' is not offered by flow {main.id}",
                "default_language",
            )
        for source in campaign.sources:
            key = source.id.casefold()
            if key in seen_sources and seen_sources[key] != campaign.id:
                problem(
                    f"source '{source.id}' is also used by campaign {seen_sources[key]}", "sources"
                )
            seen_sources[key] = campaign.id
            if source.flow is None:
                continue
            other = library.flow(source.flow)
            if other is None:
                problem(f"source '{source.id}': flow '{source.flow}' does not exist", "sources")
            elif main is not None:
                problems.extend(_check_shared_ids(main, other))
    return problems


def _check_shared_ids(main: Flow, variant: Flow) -> list[Problem]:
    """A variant (e.g. easy-read) that reuses a question id must ask the same question:
    the same kind and a subset of the choice ids, so that results add up."""
    problems = []
    for step in variant.steps:
        if not step.answers or not main.has_step(step.id):
            continue
        original = main.step(step.id)
        where = {"flow": variant.id, "step": step.id}
        if original.kind is not step.kind:
            problems.append(
                Problem(
                    variant.source_file,
                    step.line,
                    f"shares its id with flow {main.id}, where it is a "
                    f"{original.kind.value} step, not {step.kind.value}",
                    **where,
                )
            )
        elif step.kind in CHOICE_KINDS:
            extra = {c.id for c in step.choices} - {c.id for c in original.choices}
            if extra:
                problems.append(
                    Problem(
                        variant.source_file,
                        step.line,
                        f"shares its id with flow {main.id}, which has no choices "
                        f"{', '.join(sorted(extra))}",
                        field="choices",
                        **where,
                    )
                )
    return problems
