"""Adding a requirement to a dependency file, or changing the version an entry allows, the way FX001 edits
them (fixer.rules.async_driver for requirements files, fixer.rules.async_driver_pyproject for pyproject.toml):
only the entry concerned changes; comments, order, options, markers, quoting and line endings stay.

Rules FX021 to FX025 describe what they want as `Change`s; `edit` applies them to one file and returns the
findings each change's `finding` builds from the old and new text and the line.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from packaging.utils import canonicalize_name

from fixer.rules.findings import Finding
from fixer.discover.requirements import PhysicalLine, analyse, logical_lines, option_lines, parse_requirement, physical_lines
from fixer.rules.requirement_edit import add_lines, joined, with_head

# finding(old_code, new_code, line, fixed): a change that cannot be written (hash-pinned file) is reported unfixed.
MakeFinding = Callable[[str, str, "int | None", bool], Finding]


@dataclass(frozen=True)
class Change:
    kind: Literal["add", "set"]  # add a requirement the file lacks; set the version an existing entry allows
    name: str  # the distribution
    specifier: str  # "" (any), ">=2.0", "<4.1", "==0.30.0"
    finding: MakeFinding
    after: str | None = None  # add: put it after this distribution's entry when the file has one
    extras: tuple[str, ...] = ()  # add: extras to request
    write: bool = True  # False: only report what the change would be (an unsafe fix without --unsafe-fixes)

    @property
    def requirement(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{self.name}{extras}{self.specifier}"


def is_main_file(path: str) -> bool:
    """A file an install reads for the app's own dependencies (not a dev, test or docs list)."""
    if not path.endswith((".txt", ".toml")):  # asked of every path of the tree, once per requirement placed
        return False
    name = posixpath.basename(path)
    folder = posixpath.basename(posixpath.dirname(path))
    if name == "pyproject.toml" or name == "requirements.txt":
        return True
    if folder == "requirements" and name.endswith(".txt"):
        return name.removesuffix(".txt") in ("base", "main", "common", "prod", "production")
    return False


def target_file(files: Iterable[str], module: str = "") -> str | None:
    """The file new requirements of `module` go to: the main dependency file of the closest folder at or above
    it (a monorepo's backends each have their own), a requirements.txt (or requirements/base.txt) before a
    pyproject.toml; None when no folder above it has one."""
    here = posixpath.dirname(module)

    def depth(path: str) -> int | None:
        folder = posixpath.dirname(path)
        if posixpath.basename(folder) == "requirements":
            folder = posixpath.dirname(folder)
        if folder and here != folder and not here.startswith(folder + "/"):
            return None
        return folder.count("/") + 1 if folder else 0

    ranked = [(depth(f), f) for f in files if is_main_file(f)]
    ranked = [(d, f) for d, f in ranked if d is not None]
    ranked.sort(key=lambda item: (-item[0], posixpath.basename(item[1]) == "pyproject.toml", item[1]))
    return ranked[0][1] if ranked else None


def declared_in(path: str, text: str) -> set[str]:
    """The distributions (canonical names) this requirements file or pyproject.toml lists."""
    if posixpath.basename(path) == "pyproject.toml":
        from fixer.rules.pyproject_lists import dependency_lists, list_entries

        import tomlkit

        try:
            doc = tomlkit.parse(text)
        except Exception:
            return set()
        return {e.name for _, _, deps, _ in dependency_lists(doc) for e in list_entries(deps)}
    logicals = logical_lines(physical_lines(text))
    for logical in logicals:
        analyse(logical)
    return {canonicalize_name(lg.requirement.name) for lg in logicals if lg.requirement is not None}


def specifier_in(path: str, text: str, name: str) -> str | None:
    """What this file's own entries for `name` allow ("" = any), None when it lists none that says. The project's
    declared set joins every file read (a sample's requirements.txt too): an edit of one file starts from that
    file's entry, or it writes another file's pins into it. A Poetry table's entries are not read (None)."""
    key = canonicalize_name(name)
    found: list[str] = []
    if posixpath.basename(path) == "pyproject.toml":
        from fixer.rules.pyproject_lists import array_entries, dependency_lists

        import tomlkit
        from tomlkit.items import Array

        try:
            doc = tomlkit.parse(text)
        except Exception:
            return None
        for _, _, deps, _ in dependency_lists(doc):
            if isinstance(deps, Array):
                found += [str(req.specifier) for e in array_entries(deps) if e.name == key
                          and (req := parse_requirement(e.label)) is not None]
    else:
        logicals = logical_lines(physical_lines(text))
        for logical in logicals:
            analyse(logical)
        found = [str(lg.requirement.specifier) for lg in logicals
                 if lg.requirement is not None and canonicalize_name(lg.requirement.name) == key]
    return ",".join(filter(None, found)) if found else None


def edit(path: str, text: str, changes: Sequence[Change]) -> tuple[str, list[Finding]]:
    """The file with the changes to write made, and a finding per change (those not written: `fixed` False)."""
    new, findings = _edit(path, text, [c for c in changes if c.write])
    held = [replace(c, finding=_unwritten(c.finding)) for c in changes if not c.write]
    if held:
        findings += _edit(path, new, held)[1]
    return new, findings


def _unwritten(finding: MakeFinding) -> MakeFinding:
    return lambda old, new, line, fixed: finding(old, new, line, False)


def _edit(path: str, text: str, changes: Sequence[Change]) -> tuple[str, list[Finding]]:
    if not changes:
        return text, []
    if posixpath.basename(path) == "pyproject.toml":
        return _edit_pyproject(text, changes)
    return _edit_requirements(text, changes)


# ---------------------------------------------------------------------------------------------------
# requirements.txt


def _edit_requirements(text: str, changes: Sequence[Change]) -> tuple[str, list[Finding]]:
    lines = physical_lines(text)
    logicals = logical_lines(lines)
    for logical in logicals:
        analyse(logical)
    by_name = {canonicalize_name(lg.requirement.name): lg for lg in logicals if lg.requirement is not None}
    hash_mode = any("--hash" in lg.options for lg in logicals) or any(
        option.startswith("--require-hashes") for option in option_lines(logicals)
    )
    eol = next((p.eol for p in lines if p.eol), "\n")
    replaced: dict[int, str] = {}  # by id of the logical line
    inserted: dict[int, list[str]] = {}
    appended: list[str] = []
    findings: list[Finding] = []
    for change in changes:
        entry = by_name.get(canonicalize_name(change.name))
        if change.kind == "set":
            # Every entry of the name (`pydantic==X` beside `pydantic[email]==X`): one left behind would conflict.
            for entry in (lg for lg in logicals if lg.requirement is not None
                          and canonicalize_name(lg.requirement.name) == canonicalize_name(change.name)):
                head = with_head(entry.req_text, entry.requirement, _head(entry.requirement, change.specifier))
                new = head + entry.text[len(entry.req_text) :]
                old = "\n".join(p.content for p in lines[entry.start : entry.end])
                if not hash_mode:
                    replaced[id(entry)] = new
                findings.append(change.finding(old, new.strip(), entry.start + 1, not hash_mode))
            continue
        if entry is not None:
            continue  # listed already
        anchor = by_name.get(canonicalize_name(change.after)) if change.after else None
        if anchor is not None:
            indent = anchor.text[: len(anchor.text) - len(anchor.text.lstrip())]
            inserted.setdefault(id(anchor), []).append(indent + change.requirement)
            line = anchor.start + 1
        else:
            appended.append(change.requirement)
            line = max((i for i, p in enumerate(lines) if p.content.strip()), default=-1) + 2
        findings.append(change.finding("", change.requirement, line, not hash_mode))
    if hash_mode or not (replaced or inserted or appended):
        return text, findings
    out: list[PhysicalLine] = []
    for logical in logicals:
        if id(logical) in replaced:
            out.append(PhysicalLine(replaced[id(logical)], lines[logical.end - 1].eol))
        else:
            out.extend(PhysicalLine(p.content, p.eol) for p in lines[logical.start : logical.end])
        add_lines(out, inserted.get(id(logical), []), eol)
    add_lines(out, appended, eol)
    return joined(out, lines, eol), findings


def _head(req: Any, specifier: str) -> str:
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{req.name}{extras}{specifier}"


# ---------------------------------------------------------------------------------------------------
# pyproject.toml


def _edit_pyproject(text: str, changes: Sequence[Change]) -> tuple[str, list[Finding]]:
    import tomlkit
    import tomlkit.exceptions
    from tomlkit.items import Array, InlineTable, String

    from fixer.rules.pyproject_lists import (
        Locator,
        append_to_array,
        array_entries,
        dependency_lists,
        insert_after,
        keep_trivia,
        poetry_entries,
        same_line_ends,
        string_like,
        toml_line,
    )
    from fixer.rules.base import Unparseable

    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as error:
        raise Unparseable(f"not valid TOML: {error}") from error
    locator = Locator(text)
    lists = dependency_lists(doc)
    findings: list[Finding] = []
    for change in changes:
        wanted = canonicalize_name(change.name)
        if change.kind == "set":
            for table, key, deps, _ in lists:
                if isinstance(deps, Array):
                    for entry in array_entries(deps):
                        if entry.name != wanted:
                            continue
                        old = deps[entry.index]
                        req = parse_requirement(str(old))
                        new = string_like(old, with_head(str(old), req, _head(req, change.specifier)))
                        deps[entry.index] = new
                        line = locator.item(table, key, old.as_string())
                        findings.append(change.finding(old.as_string(), new.as_string(), line, True))
                else:
                    for name, entry in poetry_entries(deps):
                        if entry.name != wanted:
                            continue
                        value = deps[name]
                        if isinstance(value, InlineTable):
                            value["version"] = change.specifier
                            new_value = value
                        elif isinstance(value, (str, String)):
                            new_value = keep_trivia(value, tomlkit.string(change.specifier))
                            deps[name] = new_value
                        else:
                            continue  # several constraints, or a git/path source: not a version to change
                        findings.append(
                            change.finding(entry.old_code, toml_line(name, new_value), locator.key(table, name), True)
                        )
            continue
        mains = [(table, key, deps) for table, key, deps, main in lists if main]
        if not mains or any(wanted in {e.name for e in _list_entries_of(deps)} for _, _, deps in mains):
            continue
        table, key, deps = next(((t, k, d) for t, k, d in mains if len(d)), mains[0])
        if isinstance(deps, Array):
            entries = array_entries(deps)
            item = string_like(deps[entries[-1].index], change.requirement) if entries else tomlkit.string(change.requirement)
            anchor = next((e for e in entries if change.after and e.name == canonicalize_name(change.after)), None)
            if anchor is not None:
                deps.insert(anchor.index + 1, item)
            else:
                append_to_array(deps, item)
            line = (locator.item(table, key, (anchor or entries[-1]).old_code) if entries else None) or locator.key(table, key)
            findings.append(change.finding("", item.as_string(), line, True))
        else:
            value: Any = tomlkit.string(change.specifier or "*")
            if change.extras:
                value = tomlkit.inline_table()
                value["version"] = change.specifier or "*"
                value["extras"] = list(change.extras)
            keyed = {entry.name: name for name, entry in poetry_entries(deps)}
            anchor_key = keyed.get(canonicalize_name(change.after)) if change.after else None
            if anchor_key is not None:
                insert_after(deps.value, anchor_key, change.name, value)
            else:
                deps.add(change.name, value)
            line = locator.key(table, anchor_key) if anchor_key else locator.headers.get(table, 0) + 1
            findings.append(change.finding("", toml_line(change.name, value), line, True))
    if not any(f.fixed for f in findings):
        return text, findings
    return same_line_ends(text, tomlkit.dumps(doc)), findings


def _list_entries_of(deps: Any) -> list:
    from fixer.rules.pyproject_lists import list_entries

    return list_entries(deps)
