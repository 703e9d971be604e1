"""What a broadcast is made of, and the checks a draft must pass before it is saved."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialog_flows import feedback_texts
from dialog_flows.library import IMAGE_NAME, Library

# The channels a broadcast can reach. Console contacts are staff trying the flow.
CHANNELS = ("telegram", "sms", "whatsapp", "facebook", "web")


@dataclass(frozen=True)
class BroadcastSpec:
    campaign_id: str
    name: str
    texts: dict[str, str]
    link: str | None = None
    image: str | None = None
    sources: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


def check_spec(spec: BroadcastSpec, library: Library, flows_dir: Path) -> list[str]:
    """Every problem with a draft, in words staff can act on."""
    problems: list[str] = []
    known_ids = [campaign.id for campaign in library.campaigns]
    if spec.campaign_id not in known_ids:
        known = ", ".join(known_ids)
        return [f"campaign {spec.campaign_id!r} is not known (known: {known})"]
    campaign = library.campaign(spec.campaign_id)
    offered = campaign_languages(library, spec.campaign_id)
    if not spec.name.strip():
        problems.append("the broadcast needs a name")
    if campaign.default_language not in spec.texts:
        problems.append(
            f"text {campaign.default_language}: missing; the campaign's own language "
            "is required (it is the fallback for languages without a text)"
        )
    for language, text in sorted(spec.texts.items()):
        if language not in offered:
            problems.append(
                f"text {language}: the campaign has no such language (it has {', '.join(offered)})"
            )
        problem = feedback_texts.text_problem(text)
        if problem:
            problems.append(f"text {language}: {problem}")
    if spec.link and not spec.link.startswith(("https://", "http://")):
        problems.append(f"link {spec.link!r}: must start with https://")
    if spec.image and not _image_ok(spec.image, flows_dir):
        problems.append(
            f"image {spec.image!r}: must be an https:// address, or an image file in "
            "the flow folder"
        )
    for source in spec.sources:
        if campaign.source(source) is None:
            problems.append(f"audience source {source!r}: the campaign has no such source")
    for channel in spec.channels:
        if channel not in CHANNELS:
            problems.append(f"audience channel {channel!r}: one of {', '.join(CHANNELS)}")
    for language in spec.languages:
        if language not in offered:
            problems.append(f"audience language {language!r}: the campaign has no such one")
    return problems


def campaign_languages(library: Library, campaign_id: str) -> list[str]:
    """Every language any flow of the campaign speaks, its own language first."""
    campaign = library.campaign(campaign_id)
    flow_ids = {campaign.flow, *(s.flow for s in campaign.sources if s.flow)}
    found = [campaign.default_language]
    for flow_id in sorted(flow_ids):
        flow = library.flow(flow_id)
        for language in flow.languages if flow else ():
            if language not in found:
                found.append(language)
    return found


def audience_dict(spec: BroadcastSpec) -> dict[str, Any]:
    return {
        "sources": list(spec.sources),
        "channels": list(spec.channels),
        "languages": list(spec.languages),
    }


def _image_ok(image: str, flows_dir: Path) -> bool:
    """An https:// address, or a file that ``/media/`` serves (the providers fetch it)."""
    if image.startswith("https://"):
        return True
    return bool(IMAGE_NAME.match(image)) and (flows_dir / image).is_file()
