"""Read a flow file's YAML into plain values, remembering the line of every value.

Why not ``yaml.safe_load``: validation errors must name the line a staff member has to
fix, and safe_load forgets positions. We compose the node tree ourselves and keep a map
from each value's path (``("steps", 3, "choices", 0, "id")``) to its 1-based line.

Hostile files: flows are small, hand-written documents, so we refuse what they never
need and what makes YAML dangerous: anchors and aliases (the "billion laughs" bomb),
deep nesting, very large files and tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_FILE_BYTES = 512 * 1024
MAX_DEPTH = 20

Path = tuple[str | int, ...]


class YamlSourceError(ValueError):
    """The file is not YAML we accept. ``line`` is 1-based, or 0 when unknown."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class YamlDocument:
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 0


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases and deep nesting while composing."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if self._depth > MAX_DEPTH:
            # Checked here, not only in _convert: PyYAML composes recursively, so
            # "[[[[..." a few hundred levels deep would otherwise raise RecursionError.
            raise YamlSourceError(
                f"the file is nested more than {MAX_DEPTH} levels deep",
                line,
            )
        if isinstance(event, yaml.AliasEvent):
            raise YamlSourceError(
                "anchors and aliases (& and *) are not allowed in flow files; "
                "write the text out in full",
                line,
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise YamlSourceError(
                f"anchor '&{anchor}' is not allowed in flow files; write the text out in full",
                line,
            )
        self._depth += 1
        try:
            node: Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1


def parse_yaml(text: str | bytes) -> YamlDocument:
    """Parse one YAML document into plain dicts, lists and scalars with line numbers."""
    # A str is measured in UTF-8 bytes too: 'ö' counts twice, as it does in the file.
    if len(text) > MAX_FILE_BYTES or (
        isinstance(text, str) and len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES
    ):
        raise YamlSourceError(f"the file is larger than {MAX_FILE_BYTES // 1024} KiB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlSourceError(f"the file is not UTF-8 (byte {exc.start})") from None
    try:
        loader = _NoAliasLoader(text)
    except yaml.reader.ReaderError as exc:
        # The reader checks every character before parsing starts, outside the try below.
        line = text.count("\n", 0, exc.position) + 1
        raise YamlSourceError(
            f"invalid YAML: the character #x{exc.character:04x} is not allowed in a flow file",
            line,
        ) from None
    try:
        root = loader.get_single_node()
    except YamlSourceError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlSourceError(f"invalid YAML: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise YamlSourceError(f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    document = YamlDocument(data=None)
    if root is None:
        return document
    document.data = _convert(root, (), document.lines, 0)
    return document


def _convert(node: Node, path: Path, lines: dict[Path, int], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise YamlSourceError(
            f"the file is nested more than {MAX_DEPTH} levels deep", node.start_mark.line + 1
        )
    lines[path] = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise YamlSourceError("a key must be a plain word", key_node.start_mark.line + 1)
            key = _scalar(key_node)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                raise YamlSourceError(f"key '{key}' appears twice", key_node.start_mark.line + 1)
            result[key] = _convert(value_node, (*path, key), lines, depth + 1)
            # Point at the key's line: that is where a person looks for "field X".
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, SequenceNode):
        return [
            _convert(item, (*path, index), lines, depth + 1)
            for index, item in enumerate(node.value)
        ]
    if isinstance(node, ScalarNode):
        return _scalar(node)
    raise YamlSourceError("unsupported YAML node", node.start_mark.line + 1)  # pragma: no cover


_PLAIN_NUMBER = re.compile(r"^[-+]?(0|[1-9][0-9]*)(\.[0-9]+)?$")
_SAFE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


def _scalar(node: ScalarNode) -> Any:
    if node.tag == "tag:yaml.org,2002:bool" and node.value.lower() not in ("true", "false"):
        # YAML 1.1 reads yes/no/on/off as booleans, so a choice with "id: no" would
        # silently become False. Only true and false are booleans in flow files.
        return node.value
    if node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") and not _PLAIN_NUMBER.match(
        node.value
    ):
        # YAML 1.1 also reads 30_44 as 3044, 013 as 11 and 1:30 as 90. Ids such as an
        # age group "30_44" must stay as written, so only plain decimals are numbers.
        return node.value
    if node.tag not in _SAFE_TAGS:
        # Timestamps and binary become plain text: staff write dates as text anyway,
        # and an unexpected type is easier to report than to guess at.
        return node.value
    construct = SafeConstructor.yaml_constructors[node.tag]
    return construct(_CONSTRUCTOR, node)


_CONSTRUCTOR = SafeConstructor()
