"""Reading a broadcast (återkoppling) from a YAML file of per-language texts.

Staff write the texts in an editor, or get them back from translators, so the file is
plain YAML like a flow file::

    name: Återkoppling Karlslund hösten 2026
    campaign: karlslund                      # optional; --campaign overrides it
    link: https://example.se/karlslund       # optional
    image: https://example.se/poster.png     # optional
    audience: {sources: [badet], channels: [sms], languages: [ar]}   # optional
    texts:
      sv: |
        ...
      arabiska: |
        ...

A language may be written as a code or a name (``ar``, ``arabiska``, ``Arabic``,
``العربية``), as invitation lists allow. Reading happens in two steps because names can
only be matched once the campaign, and so its languages, is known: ``parse`` reads the
file and checks its shape, ``BroadcastFile.spec`` resolves the languages. The problems of
both are reported together, each with its line, so one round of fixes is enough.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dialog_flows.yaml_source import YamlSourceError, parse_yaml
from trygg.invitation_list import find_language
from trygg.service.broadcast_spec import BroadcastSpec

# Where a problem is: "line 7: ", or "" when the line is not known.
At = Callable[..., str]
KEYS = ("name", "campaign", "link", "image", "audience", "texts")
AUDIENCE_KEYS = ("sources", "channels", "languages")


class BroadcastFileError(ValueError):
    """The file cannot become a broadcast; ``str()`` names the file and every problem."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = f"{path}: {self.problems[0]}"
        else:
            message = f"{path}:\n" + "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(message)


@dataclass(frozen=True)
class BroadcastFile:
    """The file's contents, languages still as written."""

    path: Path
    name: str
    campaign: str | None
    texts: dict[str, str]  # language as written -> text
    link: str | None = None
    image: str | None = None
    audience: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # with the file's shape; raised by ``spec``

    def spec(self, campaign_id: str, languages: Sequence[str]) -> BroadcastSpec:
        """The broadcast, with every language key matched to one of the campaign's."""
        offered = tuple(languages)
        problems = list(self.problems)
        texts: dict[str, str] = {}
        written_as: dict[str, str] = {}
        for written, text in self.texts.items():
            code = find_language(written, offered)
            where = self._at(("texts", written))
            if code is None:
                problems.append(
                    f"{where}texts: {written!r} is not one of the campaign's languages "
                    f"({', '.join(offered)}); write a code such as ar or a name such as arabiska"
                )
            elif code in texts:
                problems.append(
                    f"{where}texts: {written!r} and {written_as[code]!r} are both {code}; "
                    "keep one of them"
                )
            else:
                texts[code], written_as[code] = text, written
        audience_languages: list[str] = []
        for index, written in enumerate(self.audience.get("languages", ())):
            code = find_language(written, offered)
            if code is None:
                where = self._at(("audience", "languages", index))
                problems.append(
                    f"{where}audience languages: {written!r} is not one of the campaign's "
                    f"languages ({', '.join(offered)})"
                )
            elif code not in audience_languages:
                audience_languages.append(code)
        if problems:
            raise BroadcastFileError(self.path, problems)
        return BroadcastSpec(
            campaign_id=campaign_id,
            name=self.name,
            texts=texts,
            link=self.link,
            image=self.image,
            sources=self.audience.get("sources", ()),
            channels=self.audience.get("channels", ()),
            languages=tuple(audience_languages),
        )

    def _at(self, path: tuple[str | int, ...]) -> str:
        line = self.lines.get(path)
        return f"line {line}: " if line else ""


def parse(path: Path) -> BroadcastFile:
    """Read the file and check its shape. Raises BroadcastFileError when it cannot be read
    as a broadcast at all; other problems wait for ``spec``, to be named with the rest."""
    try:
        document = parse_yaml(path.read_bytes())
    except OSError as exc:
        raise BroadcastFileError(path, [f"cannot read the file ({exc.strerror})"]) from None
    except YamlSourceError as exc:
        where = f"line {exc.line}: " if exc.line else ""
        raise BroadcastFileError(path, [f"{where}{exc.message}"]) from None
    data = document.data
    if not isinstance(data, dict):
        raise BroadcastFileError(
            path, ["expected name: and texts: (see docs/operations.md for an example)"]
        )
    problems: list[str] = []

    def at(*key: str | int) -> str:
        line = document.line_of(key)
        return f"line {line}: " if line else ""

    for key in data:
        if key not in KEYS:
            problems.append(f"{at(key)}unknown key {key!r}; the keys are {', '.join(KEYS)}")
    name = _text(data, "name", problems, at, required=True)
    campaign = _text(data, "campaign", problems, at)
    link = _text(data, "link", problems, at)
    image = _text(data, "image", problems, at)
    texts = _texts(data.get("texts"), problems, at)
    audience = _audience(data.get("audience"), problems, at)
    return BroadcastFile(
        path, name or "", campaign, texts, link, image, audience, document.lines, tuple(problems)
    )


def _text(
    data: dict[str, Any], key: str, problems: list[str], at: At, *, required: bool = False
) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(f"{at(key)}{key}: missing; give the broadcast a {key}")
        return None
    if not isinstance(value, str):
        problems.append(f"{at(key)}{key}: must be text, not {_kind(value)}")
        return None
    return value.strip()


def _texts(value: Any, problems: list[str], at: At) -> dict[str, str]:
    if value is None:
        problems.append("texts: missing; add texts: with one text per language (sv: ...)")
        return {}
    if not isinstance(value, dict) or not value:
        problems.append(f"{at('texts')}texts: must list one text per language, e.g. sv: | ...")
        return {}
    texts: dict[str, str] = {}
    for language, text in value.items():
        if text is None or (isinstance(text, str) and not text.strip()):
            problems.append(f"{at('texts', language)}text {language}: empty")
        elif not isinstance(text, str):
            problems.append(
                f"{at('texts', language)}text {language}: must be text, not {_kind(text)} "
                "(put it in quotes, or write | and the text on the next lines)"
            )
        else:
            texts[language] = text
    return texts


def _audience(value: Any, problems: list[str], at: At) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(
            f"{at('audience')}audience: expected sources:, channels: and/or languages:, each a list"
        )
        return {}
    audience: dict[str, tuple[str, ...]] = {}
    for key, items in value.items():
        if key not in AUDIENCE_KEYS:
            problems.append(
                f"{at('audience', key)}audience: unknown key {key!r}; "
                f"the keys are {', '.join(AUDIENCE_KEYS)}"
            )
            continue
        listed = [items] if isinstance(items, str) else items
        if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
            problems.append(f"{at('audience', key)}audience {key}: must be a list of words")
            continue
        audience[key] = tuple(item.strip() for item in listed if item.strip())
    return audience


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
