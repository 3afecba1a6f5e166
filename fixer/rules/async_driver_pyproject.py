"""FX001 in pyproject.toml: PEP 621 dependencies and extras, PEP 735 groups and Poetry tables, edited with tomlkit.

The same plan as for requirements files (fixer.rules.async_driver_plan), applied to TOML arrays and tables so
that comments, layout and quoting stay as they were. Imported only when a pyproject.toml is fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import tomlkit
import tomlkit.exceptions
from packaging.utils import canonicalize_name
from tomlkit.items import Array, InlineTable, String, Table

from fixer.model import ProjectModel
from fixer.rules.findings import Finding
from fixer.discover.requirements import parse_requirement
from fixer.rules.sync_driver_dependency import asyncpg_predicted
from fixer.rules.async_driver_plan import (
    ASYNCPG_REQUIREMENT,
    ASYNCPG_SPEC,
    Entry,
    GREENLET_SPEC,
    greenlet_requirement,
    PSYCOPG2,
    action_finding,
    plan_actions,
)
from fixer.rules.requirement_edit import add_asyncio_extra, marker_text, with_head
from fixer.rules.base import Unparseable
from fixer.rules.pyproject_lists import (
    Locator,
    append_to_array,
    array_entries,
    dependency_lists,
    insert_after,
    keep_trivia,
    list_entries,
    poetry_entries,
    same_line_ends,
    string_like,
    toml_line,
)


def _fix_array(
    array: Array,
    facts: ProjectModel,
    context: Sequence[Entry],
    siblings: Sequence[Entry],
    table: str,
    key: str,
    locator: Locator,
) -> list[Finding]:
    """Edit a PEP 508 string array in place; tomlkit keeps its layout, comments and trailing comma."""
    entries = array_entries(array)
    actions = plan_actions(entries, facts, context, siblings, asyncpg_predicted(facts))
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
            item = string_like(array[entries[-1].index], requirement) if entries else tomlkit.string(requirement)
            line = locator.item(table, key, entries[-1].old_code) if entries else locator.key(table, key)
            append_to_array(array, item)
            findings[n] = action_finding(action, "", item.as_string(), line, facts)
            continue
        old = array[entry.index]
        value = str(old)
        req = parse_requirement(value)
        assert isinstance(old, String) and req is not None
        line = locator.item(table, key, old.as_string())
        if action.kind == "replace":
            new = string_like(old, with_head(value, req, ASYNCPG_REQUIREMENT))
            array[entry.index] = new
            findings[n] = action_finding(action, old.as_string(), new.as_string(), line, facts)
        elif action.kind == "remove":
            del array[entry.index]
            findings[n] = action_finding(action, old.as_string(), "", line, facts)
        elif action.kind == "add_extra":
            new = string_like(old, add_asyncio_extra(value, req))
            array[entry.index] = new
            findings[n] = action_finding(action, old.as_string(), new.as_string(), line, facts)
        else:  # insert_after
            marker = marker_text(value, req) if entry.name in PSYCOPG2 else ""
            new = string_like(old, ASYNCPG_REQUIREMENT + marker)
            array.insert(entry.index + 1, new)
            findings[n] = action_finding(action, "", new.as_string(), line, facts)
    return [findings[n] for n in range(len(actions))]


_POETRY_SOURCE_KEYS = frozenset({"git", "path", "url", "file"})


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


def _fix_poetry_table(
    doc: Any,
    table: Table,
    facts: ProjectModel,
    context: Sequence[Entry],
    siblings: Sequence[Entry],
    path: str,
    locator: Locator,
) -> list[Finding]:
    keyed = poetry_entries(table)
    entries = [e for _, e in keyed]
    keys = {e.index: k for k, e in keyed}
    actions = plan_actions(entries, facts, context, siblings, asyncpg_predicted(facts))
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
            findings.append(action_finding(action, "", toml_line("sqlalchemy", new_value), line, facts))
            continue
        key = keys[entry.index]
        value = table[key]
        line = locator.key(path, key)
        if action.kind == "replace":
            new_value = keep_trivia(value, _poetry_asyncpg_value(value))
            container._replace(key, "asyncpg", new_value)
            _poetry_extras(doc, key, "replace")
            findings.append(action_finding(action, entry.old_code, toml_line("asyncpg", new_value), line, facts))
        elif action.kind == "remove":
            table.remove(key)
            _poetry_extras(doc, key, "remove")
            findings.append(action_finding(action, entry.old_code, "", line, facts))
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
                table[key] = keep_trivia(value, new_value)
            findings.append(action_finding(action, entry.old_code, toml_line(key, new_value), line, facts))
        else:
            if entry.name in PSYCOPG2:
                new_value = _poetry_asyncpg_value(value)
                _poetry_extras(doc, key, "insert_after")
            else:
                new_value = tomlkit.string(ASYNCPG_SPEC)
            insert_after(container, key, "asyncpg", new_value)
            findings.append(action_finding(action, "", toml_line("asyncpg", new_value), line, facts))
    return findings


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
                names[i] = string_like(names[i], "asyncpg") if isinstance(names[i], String) else "asyncpg"
                has_asyncpg = True
            else:
                del names[i]


def pyproject_fix(text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as error:
        raise Unparseable(f"not valid TOML: {error}") from error
    locator = Locator(text)
    lists = dependency_lists(doc)
    before = [list_entries(deps) for _, _, deps, _ in lists]
    findings: list[Finding] = []
    # Extras and groups are installed on top of the main list of their kind, as the main list is once fixed.
    pep621_main: list[Entry] = []
    poetry_main: list[Entry] = []
    for i, (table, key, deps, is_main) in enumerate(lists):
        siblings = [e for j, entries in enumerate(before) if j != i for e in entries]
        if isinstance(deps, Array):
            findings += _fix_array(deps, facts, () if is_main else pep621_main, siblings, table, key, locator)
            if is_main:
                pep621_main = array_entries(deps)
        else:
            context = () if is_main else poetry_main
            findings += _fix_poetry_table(doc, deps, facts, context, siblings, table, locator)
            if is_main:
                poetry_main = list_entries(deps)
    if not findings:
        return text, []
    return same_line_ends(text, tomlkit.dumps(doc)), findings


