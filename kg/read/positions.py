"""Where each front-matter key of a curation file is: 1-based line and column in the file.

Validation results name a file and a key (`link.href`, `communityTopics`); CI reports link
them to a line. `key_positions(text)` composes the file's front matter with libyaml's safe
loader (nodes only, no values built) and records the place of every key, with nested keys
joined by `.` (`link.href`, `featuredImage.size`) and list items by index
(`communityTopics[2]`), plus the text of scalar list items so that a result about one topic
can point at that item. Lines count from the top of the file (the front matter's offset is
added), columns in characters. It is only called for files that have results, so a clean run
never composes anything twice. Pure: no file access.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kg.read.frontmatter import split_front_matter
from kg.read.yaml_loader import too_deep

#: (line, column), both 1-based.
Position = tuple[int, int]


@dataclass(slots=True)
class KeyPositions:
    """The places of a file's front-matter keys (see the module docstring)."""

    keys: dict[str, Position] = field(default_factory=dict)  # "link.href" / "communityTopics[0]" -> place
    items: dict[str, list[tuple[str, Position]]] = field(default_factory=dict)  # list key -> scalar items
    body: Position | None = None  # the first line after the closing fence

    def find(self, key: str) -> Position | None:
        """The place of `key`, else of its closest enclosing key that is written (`link` for a
        missing `link.brand`); None when neither is in the file."""
        while key:
            if key in self.keys:
                return self.keys[key]
            key = key.rpartition(".")[0]
        return None


def key_positions(text: str) -> KeyPositions | None:
    """The positions of the front-matter keys of a decoded file's `text` (LF line ends, as
    `kg.read.frontmatter.decode` gives); None when it has no front matter that composes."""
    try:
        split = split_front_matter(text)
    except ValueError:
        return None
    if split is None:
        return None
    yaml_text, body, first_line = split
    if too_deep(yaml_text):
        return None
    try:
        root = yaml.compose(yaml_text, Loader=yaml.CSafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    out = KeyPositions()
    if isinstance(root, MappingNode):
        _walk(root, "", first_line - 1, out)
    body_line = text.count("\n", 0, len(text) - len(body)) + 1
    out.body = (body_line, 1) if body else None
    return out


def _place(node: Node, offset: int) -> Position:
    return (node.start_mark.line + 1 + offset, node.start_mark.column + 1)


def _walk(node: Node, prefix: str, offset: int, out: KeyPositions) -> None:
    """Record the keys under `node` (named under `prefix`), iteratively (a stack keeps
    Python's recursion limit out of it). A node reached again through a YAML alias is not
    walked again: aliases of aliases would make the walk exponential ("billion laughs")."""
    stack: list[tuple[Node, str]] = [(node, prefix)]
    seen: set[int] = set()
    while stack:
        current, name = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, MappingNode):
            for key, value in current.value:
                if not isinstance(key, ScalarNode):
                    continue
                child = f"{name}.{key.value}" if name else str(key.value)
                out.keys[child] = _place(key, offset)  # a repeated key: the last, as loading keeps
                stack.append((value, child))
        elif isinstance(current, SequenceNode):
            for index, item in enumerate(current.value):
                out.keys.setdefault(f"{name}[{index}]", _place(item, offset))
                if isinstance(item, ScalarNode):
                    out.items.setdefault(name, []).append((str(item.value), _place(item, offset)))
                stack.append((item, f"{name}[{index}]"))
