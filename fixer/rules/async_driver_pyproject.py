"""FX001 in pyproject.toml: PEP 621 dependencies and extras, PEP 735 groups and Poetry tables, edited with tomlkit.

The same plan as for requirements files (fixer.rules.async_driver), applied to TOML arrays and tables so
that comments, layout and quoting stay as they were. Imported only when a pyproject.toml is fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import tomlkit
import tomlkit.exceptions
from packaging.utils import canonicalize_name
from tomlkit.items import Array, InlineTable, String, StringType, Table

from fixer.model import ProjectModel
from fixer.findings import Finding
from fixer.requirements import parse_requirement
from fixer.rules.async_driver import (
    ASYNCPG_REQUIREMENT,
    ASYNCPG_SPEC,
    greenlet_requirement,
    GREENLET_SPEC,
    _PSYCOPG2,
    _add_asyncio_extra,
    _entry,
    _Entry,
    _finding,
    _marker_text,
    _plan,
    _with_head,
)
from fixer.rules.base import Unparseable


def _string_like(old: String, value: str) -> String:
    literal = old.type in (StringType.SLL, StringType.MLL) and "'" not in value and "\n" not in value
    return tomlkit.string(value, literal=literal)


class _Locator:
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


def _array_entries(array: Array) -> list[_Entry]:
    entries = []
    for i, item in enumerate(array):
        if isinstance(item, String):
            req = parse_requirement(str(item))
            if req is not None:
                entries.append(_entry(i, req, item.as_string(), str(item)))
    return entries


def _append(array: Array, item: String) -> None:
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


def _fix_array(
    array: Array,
    facts: ProjectModel,
    context: Sequence[_Entry],
    siblings: Sequence[_Entry],
    table: str,
    key: str,
    locator: _Locator,
) -> list[Finding]:
    """Edit a PEP 508 string array in place; tomlkit keeps its layout, comments and trailing comma."""
    entries = _array_entries(array)
    actions = _plan(entries, facts, context, siblings)
    findings: dict[int, Finding] = {}  # by position in `actions`, to report in plan order

    # Append first, then edit from the end so that indexes stay valid.
    def position(n: int) -> int:
        entry = actions[n].entry
        return -len(entries) - 1 if entry is None else -entry.index  # an entry at index 1 must not tie with the append

    order = sorted(range(len(actions)), key=position)
    for n in order:
        action = actions[n]
        entry = action.entry
        if entry is None:  # append
            requirement = greenlet_requirement(facts)
            item = _string_like(array[entries[-1].index], requirement) if entries else tomlkit.string(requirement)
            line = locator.item(table, key, entries[-1].old_code) if entries else locator.key(table, key)
            _append(array, item)
            findings[n] = _finding(action, "", item.as_string(), line, facts)
            continue
        old = array[entry.index]
        value = str(old)
        req = parse_requirement(value)
        assert isinstance(old, String) and req is not None
        line = locator.item(table, key, old.as_string())
        if action.kind == "replace":
            new = _string_like(old, _with_head(value, req, ASYNCPG_REQUIREMENT))
            array[entry.index] = new
            findings[n] = _finding(action, old.as_string(), new.as_string(), line, facts)
        elif action.kind == "remove":
            del array[entry.index]
            findings[n] = _finding(action, old.as_string(), "", line, facts)
        elif action.kind == "add_extra":
            new = _string_like(old, _add_asyncio_extra(value, req))
            array[entry.index] = new
            findings[n] = _finding(action, old.as_string(), new.as_string(), line, facts)
        else:  # insert_after
            marker = _marker_text(value, req) if entry.name in _PSYCOPG2 else ""
            new = _string_like(old, ASYNCPG_REQUIREMENT + marker)
            array.insert(entry.index + 1, new)
            findings[n] = _finding(action, "", new.as_string(), line, facts)
    return [findings[n] for n in range(len(actions))]


_POETRY_SOURCE_KEYS = frozenset({"git", "path", "url", "file"})


def _poetry_marker(value: Any) -> str | None:
    if isinstance(value, dict):
        parts = [f"{k}={value[k]}" for k in ("python", "markers", "platform") if k in value]
        return ";".join(parts) or None
    return None


def _poetry_entries(table: Table) -> list[tuple[str, _Entry]]:
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
                _Entry(
                    index=i,
                    name=name,
                    extras=frozenset(canonicalize_name(x) for x in extras),
                    marker=_poetry_marker(value),
                    old_code=old,
                ),
            )
        )
    return entries


def _poetry_asyncpg_value(value: Any) -> Any:
    """`"^2.9"` -> `">=0.31"`; an inline table keeps its python/markers/optional keys."""
    if isinstance(value, InlineTable) and not (set(value) & _POETRY_SOURCE_KEYS):
        new = tomlkit.inline_table()
        for k, v in value.items():
            if k == "extras":
                continue
            new[k] = ASYNCPG_SPEC if k == "version" else v
        if "version" not in new:
            new["version"] = ASYNCPG_SPEC
        return new
    return tomlkit.string(ASYNCPG_SPEC)


def _keep_trivia(old: Any, new: Any) -> Any:
    if hasattr(old, "trivia") and hasattr(new, "trivia"):
        new.trivia.indent = old.trivia.indent
        new.trivia.comment_ws = old.trivia.comment_ws
        new.trivia.comment = old.trivia.comment
        new.trivia.trail = old.trivia.trail
    return new


def _render(key: str, value: Any) -> str:
    return f"{key} = {value.as_string().strip()}"


def _fix_poetry_table(
    doc: Any,
    table: Table,
    facts: ProjectModel,
    context: Sequence[_Entry],
    siblings: Sequence[_Entry],
    path: str,
    locator: _Locator,
) -> list[Finding]:
    keyed = _poetry_entries(table)
    entries = [e for _, e in keyed]
    keys = {e.index: k for k, e in keyed}
    actions = _plan(entries, facts, context, siblings)
    findings: list[Finding] = []
    container = table.value
    new_value: Any
    for action in actions:
        entry = action.entry
        if entry is None:
            new_value = tomlkit.inline_table()
            new_value["version"] = greenlet_requirement(facts).partition("]")[2] or "*"
            new_value["extras"] = ["asyncio"]
            anchor = keys[entries[-1].index] if entries else None
            table.add("sqlalchemy", new_value)
            line = locator.key(path, anchor) if anchor else None
            findings.append(_finding(action, "", _render("sqlalchemy", new_value), line, facts))
            continue
        key = keys[entry.index]
        value = table[key]
        line = locator.key(path, key)
        if action.kind == "replace":
            new_value = _keep_trivia(value, _poetry_asyncpg_value(value))
            container._replace(key, "asyncpg", new_value)
            _poetry_extras(doc, key, "replace")
            findings.append(_finding(action, entry.old_code, _render("asyncpg", new_value), line, facts))
        elif action.kind == "remove":
            table.remove(key)
            _poetry_extras(doc, key, "remove")
            findings.append(_finding(action, entry.old_code, "", line, facts))
        elif action.kind == "add_extra":
            if isinstance(value, (InlineTable, Table, Array)):  # an Array holds several constraint tables
                for constraint in value if isinstance(value, Array) else [value]:
                    if isinstance(constraint, (InlineTable, Table)):
                        extras = constraint.get("extras")
                        if isinstance(extras, Array):
                            extras.append("asyncio")
                        else:
                            constraint["extras"] = ["asyncio"]
                new_value = value
            else:
                new_value = tomlkit.inline_table()
                new_value["version"] = str(value) if isinstance(value, str) else GREENLET_SPEC
                new_value["extras"] = ["asyncio"]
                table[key] = _keep_trivia(value, new_value)
            findings.append(_finding(action, entry.old_code, _render(key, new_value), line, facts))
        else:
            if entry.name in _PSYCOPG2:
                new_value = _poetry_asyncpg_value(value)
                _poetry_extras(doc, key, "insert_after")
            else:
                new_value = tomlkit.string(ASYNCPG_SPEC)
            _insert_after(container, key, "asyncpg", new_value)
            findings.append(_finding(action, "", _render("asyncpg", new_value), line, facts))
    return findings


def _insert_after(container: Any, after: str, key: str, value: Any) -> None:
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


def _poetry_extras(doc: Any, psycopg2_key: str, kind: Literal["replace", "remove", "insert_after"]) -> None:
    """Keep `[tool.poetry.extras]` naming the driver the dependency table now has."""
    extras = doc.get("tool", {}).get("poetry", {}).get("extras")
    if not isinstance(extras, (Table, InlineTable)):
        return
    target = canonicalize_name(psycopg2_key)
    for _, names in extras.items():
        if not isinstance(names, Array):
            continue
        positions = [i for i, n in enumerate(names) if isinstance(n, str) and canonicalize_name(n) == target]
        has_asyncpg = any(isinstance(n, str) and canonicalize_name(n) == "asyncpg" for n in names)
        for i in reversed(positions):
            if kind == "insert_after":
                if not has_asyncpg:
                    names.insert(i + 1, "asyncpg")
                    has_asyncpg = True
            elif not has_asyncpg:  # replaced or removed: the extra now names asyncpg
                names[i] = _string_like(names[i], "asyncpg") if isinstance(names[i], String) else "asyncpg"
                has_asyncpg = True
            else:
                del names[i]


def _dependency_lists(doc: Any) -> list[tuple[str, str, Array | Table, bool]]:
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


def _list_entries(deps: Array | Table) -> list[_Entry]:
    return _array_entries(deps) if isinstance(deps, Array) else [e for _, e in _poetry_entries(deps)]


def pyproject_fix(text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as error:
        raise Unparseable(f"not valid TOML: {error}") from error
    locator = _Locator(text)
    lists = _dependency_lists(doc)
    before = [_list_entries(deps) for _, _, deps, _ in lists]
    findings: list[Finding] = []
    # Extras and groups are installed on top of the main list of their kind, as the main list is once fixed.
    pep621_main: list[_Entry] = []
    poetry_main: list[_Entry] = []
    for i, (table, key, deps, is_main) in enumerate(lists):
        siblings = [e for j, entries in enumerate(before) if j != i for e in entries]
        if isinstance(deps, Array):
            findings += _fix_array(deps, facts, () if is_main else pep621_main, siblings, table, key, locator)
            if is_main:
                pep621_main = _array_entries(deps)
        else:
            context = () if is_main else poetry_main
            findings += _fix_poetry_table(doc, deps, facts, context, siblings, table, locator)
            if is_main:
                poetry_main = _list_entries(deps)
    if not findings:
        return text, []
    return _same_line_ends(text, tomlkit.dumps(doc)), findings


def _same_line_ends(old: str, new: str) -> str:
    """tomlkit writes "\n" after what it adds: give a CRLF file CRLF, and keep a missing final newline."""
    if "\n" in old and old.count("\r\n") == old.count("\n"):
        new = new.replace("\r\n", "\n").replace("\n", "\r\n")
    if old and not old.endswith("\n"):
        new = new.removesuffix("\n").removesuffix("\r")
    return new
