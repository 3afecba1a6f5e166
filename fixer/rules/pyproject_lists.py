"""The dependency lists of a pyproject.toml, read and edited with tomlkit: PEP 621 dependencies and extras, PEP 735
groups and Poetry tables, each entry with its place in the text, and edits that keep comments, layout and
quoting as they were. FX001 and the rules that add a dependency line share them."""

from __future__ import annotations

from typing import Any

import tomlkit
import tomlkit.exceptions
from packaging.utils import canonicalize_name
from tomlkit.items import Array, InlineTable, String, StringType, Table

from fixer.discover.requirements import parse_requirement
from fixer.rules.async_driver_plan import Entry, entry_of


def string_like(old: String, value: str) -> String:
    literal = old.type in (StringType.SLL, StringType.MLL) and "'" not in value and "\n" not in value
    return tomlkit.string(value, literal=literal)


class Locator:
    """Best-effort 1-based line numbers in the original TOML text (tomlkit keeps no positions)."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.headers: dict[str, int] = {}
        for i, line in enumerate(self.lines):
            stripped = line.strip()
            if stripped.startswith("[") and not stripped.startswith("[[") and "]" in stripped:
                name = ".".join(part.strip().strip("\"'") for part in stripped[1 : stripped.find("]")].split("."))
                self.headers.setdefault(name, i)

    def _is_key(self, i: int, key: str) -> bool:
        stripped = self.lines[i].lstrip()
        for written in (key, f'"{key}"', f"'{key}'"):
            if stripped.startswith(written) and stripped[len(written) :].lstrip().startswith("="):
                return True
        return False

    def key(self, table: str, key: str) -> int | None:
        """The line of `key = ...` in `[table]`."""
        start = self.headers.get(table, -1) + 1
        return next((i + 1 for i in range(start, len(self.lines)) if self._is_key(i, key)), None)

    def item(self, table: str, key: str, needle: str) -> int | None:
        """The line of the array item written `needle` in `key = [...]` of `[table]`."""
        start = (self.key(table, key) or self.headers.get(table, -1) + 2) - 1
        for first in (start, 0):
            for i in range(first, len(self.lines)):
                if needle in self.lines[i]:
                    return i + 1
        return None


def array_entries(array: Array) -> list[Entry]:
    entries = []
    for i, item in enumerate(array):
        if isinstance(item, String):
            req = parse_requirement(str(item))
            if req is not None:
                entries.append(entry_of(i, req, item.as_string(), str(item)))
    return entries


def append_to_array(array: Array, item: String) -> None:
    """Append as the array is written: a multi-line array with a trailing comma keeps one, even when a
    comment line closes it (tomlkit's append would drop the comma there)."""
    written = array.as_string()
    if "\n" in written and "\r\n" not in written and len(array):  # add_line writes "\n"
        last = array[-1].as_string() if hasattr(array[-1], "as_string") else ""
        at = written.rfind(last) if last else -1
        if at >= 0 and written[at + len(last) :].lstrip().startswith(","):
            line_start = written.rfind("\n", 0, at) + 1
            indent = written[line_start:at]
            if not indent.strip():
                array.add_line(item, indent=indent)
                return
    array.append(item)


def _poetry_marker(value: Any) -> str | None:
    if isinstance(value, dict):
        parts = [f"{k}={value[k]}" for k in ("python", "markers", "platform") if k in value]
        return ";".join(parts) or None
    return None


def poetry_entries(table: Table) -> list[tuple[str, Entry]]:
    entries = []
    for i, (key, value) in enumerate(table.items()):
        name = canonicalize_name(key)
        if name == "python":
            continue
        extras: list[str] = []
        if isinstance(value, dict):
            extras = [str(x) for x in value.get("extras", [])]
        elif isinstance(value, list):  # multiple constraints: take the extras of any of them
            extras = [str(x) for v in value if isinstance(v, dict) for x in v.get("extras", [])]
        old = f"{key} = {value.as_string().strip() if hasattr(value, 'as_string') else value}"
        entries.append(
            (
                key,
                Entry(
                    index=i,
                    name=name,
                    extras=frozenset(canonicalize_name(x) for x in extras),
                    marker=_poetry_marker(value),
                    old_code=old,
                ),
            )
        )
    return entries


def keep_trivia(old: Any, new: Any) -> Any:
    if hasattr(old, "trivia") and hasattr(new, "trivia"):
        new.trivia.indent = old.trivia.indent
        new.trivia.comment_ws = old.trivia.comment_ws
        new.trivia.comment = old.trivia.comment
        new.trivia.trail = old.trivia.trail
    return new


def toml_line(key: str, value: Any) -> str:
    return f"{key} = {value.as_string().strip()}"


def insert_after(container: Any, after: str, key: str, value: Any) -> None:
    """`key = value` on the line after `after`. tomlkit has no public insert: 0.15 dropped `_insert_after`, and
    `_insert_at` (the older of the two) is what it was built on."""
    if hasattr(container, "_insert_after"):
        container._insert_after(after, key, value)
        return
    index = next(i for i, (k, _) in enumerate(container.body) if k is not None and k.key == after)
    if index + 1 >= len(container.body):
        container.append(key, value)
    else:
        container._insert_at(index + 1, key, value)


def dependency_lists(doc: Any) -> list[tuple[str, str, Array | Table, bool]]:
    """(table path, key, list, is main) for every dependency list of a pyproject, mains first."""
    lists: list[tuple[str, str, Array | Table, bool]] = []
    project = doc.get("project")
    if isinstance(project, (Table, InlineTable)):
        if isinstance(project.get("dependencies"), Array):
            lists.append(("project", "dependencies", project["dependencies"], True))
        optional = project.get("optional-dependencies")
        if isinstance(optional, (Table, InlineTable)):
            lists += [
                ("project.optional-dependencies", k, v, False) for k, v in optional.items() if isinstance(v, Array)
            ]
    groups = doc.get("dependency-groups")  # PEP 735
    if isinstance(groups, (Table, InlineTable)):
        lists += [("dependency-groups", k, v, False) for k, v in groups.items() if isinstance(v, Array)]
    tool = doc.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, (Table, InlineTable)) else None
    if isinstance(poetry, Table):
        if isinstance(poetry.get("dependencies"), Table):
            lists.append(("tool.poetry.dependencies", "", poetry["dependencies"], True))
        if isinstance(poetry.get("dev-dependencies"), Table):
            lists.append(("tool.poetry.dev-dependencies", "", poetry["dev-dependencies"], False))
        poetry_groups = poetry.get("group")
        if isinstance(poetry_groups, Table):
            for name, group in poetry_groups.items():
                deps = group.get("dependencies") if isinstance(group, Table) else None
                if isinstance(deps, Table):
                    lists.append((f"tool.poetry.group.{name}.dependencies", "", deps, False))
    return lists


def list_entries(deps: Array | Table) -> list[Entry]:
    return array_entries(deps) if isinstance(deps, Array) else [e for _, e in poetry_entries(deps)]


def same_line_ends(old: str, new: str) -> str:
    """tomlkit writes "\n" after what it adds: give a CRLF file CRLF, and keep a missing final newline."""
    if "\n" in old and old.count("\r\n") == old.count("\n"):
        new = new.replace("\r\n", "\n").replace("\n", "\r\n")
    if old and not old.endswith("\n"):
        new = new.removesuffix("\n").removesuffix("\r")
    return new
