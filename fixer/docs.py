"""Rule pages, as ruff's: read from each rule's docstring, rendered for a terminal (`fixer rule ID`) and as
markdown (`docs/rules/FXnnn.md` and an index, written by `python -m fixer.docs`).

A rule's docstring (its module's, or its class's) has this shape, which every rule follows:

    FXnnn rule-name: one-line title.

    ## What it does
    ## Why is this bad?
    ## Example
    ## Use instead
    ## Fix safety

`python -m fixer.docs --check` exits 1 when the committed pages differ from the docstrings.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety")
DOCS_DIR = Path(__file__).resolve().parent.parent / "docs" / "rules"
REGENERATE = "python -m fixer.docs"
_HEAD = re.compile(r"(?P<id>FX\d{3})\s+(?P<name>[a-z0-9-]+):\s*(?P<title>.+)")
_GENERATED = f"<!-- Generated from the rule's docstring by `{REGENERATE}`: edit the docstring, not this file. -->"


class MissingDoc(ValueError):
    """A rule whose docstring does not follow the format (the message says what is wrong and where)."""


@dataclass(frozen=True)
class RuleDoc:
    id: str
    name: str
    title: str
    defects: tuple[str, ...]
    sections: dict[str, str]  # heading → markdown body, in SECTIONS order


def rule_doc(rule) -> RuleDoc:
    """The documentation of a registered rule (`fixer.registry.Rule`): the first docstring among its module's
    and its classes' that starts with `FXnnn name:`."""
    import inspect

    candidates = []
    for cls in rule.classes:
        candidates += [getattr(sys.modules.get(cls.__module__), "__doc__", None), cls.__doc__]
    for doc in candidates:
        text = inspect.cleandoc(doc or "")
        head = _HEAD.fullmatch(text.split("\n", 1)[0].strip())
        if head and head["id"] == rule.id:
            return _parse(rule, head, text)
    where = ", ".join(sorted({cls.__module__ for cls in rule.classes}))
    raise MissingDoc(f"{rule.id}: no docstring starting with '{rule.id} {rule.name}: title.' in {where}")


def _parse(rule, head: re.Match[str], text: str) -> RuleDoc:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    fenced = False
    for line in text.split("\n")[1:]:
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
            continue
        if current is not None:
            current.append(line)
    missing = [name for name in SECTIONS if name not in sections]
    extra = [name for name in sections if name not in SECTIONS]
    if missing or extra:
        problems = [f"missing {', '.join(missing)}"] * bool(missing) + [f"unknown {', '.join(extra)}"] * bool(extra)
        raise MissingDoc(f"{rule.id}: the docstring's sections: {'; '.join(problems)} (expected: {', '.join(SECTIONS)})")
    defects = tuple(dict.fromkeys(d for cls in rule.classes for d in getattr(cls, "DEFECTS", ())))
    return RuleDoc(
        id=rule.id,
        name=head["name"],
        title=head["title"].rstrip("."),
        defects=defects,
        sections={name: "\n".join(sections[name]).strip("\n") for name in SECTIONS},
    )


def markdown(doc: RuleDoc) -> str:
    parts = [_GENERATED, "", f"# {doc.id} {doc.name}", "", f"{doc.title}.", ""]
    if doc.defects:
        parts += [f"Defect catalogue: {', '.join(doc.defects)}.", ""]
    for name, body in doc.sections.items():
        parts += [f"## {name}", "", body, ""]
    return "\n".join(parts)


def index(docs: list[RuleDoc]) -> str:
    rows = [f"| [{d.id}]({d.id}.md) | {d.name} | {d.title} |" for d in docs]
    return "\n".join(
        [_GENERATED, "", "# Rules", "", "| ID | name | what it fixes |", "|---|---|---|", *rows, "",
         "Select or skip rules with `--select` / `--ignore` (IDs, ID prefixes or names) or `[tool.fixer]`;",
         "keep one finding with `# fixer: ignore[FXnnn]` on its line (see the README).", ""]
    )


def terminal(doc: RuleDoc) -> str:
    """The page for a terminal: titles bold and underlined, code indented, no markdown marks. Styles are
    ANSI codes that `click.echo` drops when stdout is not a terminal."""
    import click

    out = [click.style(f"{doc.id} {doc.name}", bold=True) + f": {_inline(doc.title)}.", ""]
    if doc.defects:
        out += [f"Defect catalogue: {', '.join(doc.defects)}.", ""]
    for name, body in doc.sections.items():
        out += [click.style(name, bold=True, underline=True), ""]
        for fenced, block in _blocks(body):
            if fenced:
                out += ["    " + line if line else "" for line in block.split("\n")] + [""]
            else:
                out += _inline(block).split("\n") + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def _blocks(body: str) -> list[tuple[bool, str]]:
    """The body as (is code, text) blocks; a fence's language and its marks dropped."""
    blocks: list[tuple[bool, list[str]]] = [(False, [])]
    for line in body.split("\n"):
        if line.startswith("```"):
            blocks.append((not blocks[-1][0], []))
        else:
            blocks[-1][1].append(line)
    return [(fenced, "\n".join(lines).strip("\n")) for fenced, lines in blocks if any(line.strip() for line in lines)]


def _inline(text: str) -> str:
    """Markdown's inline marks as styles (a code span may run over a line break)."""
    import click

    text = re.sub(r"\*\*(.+?)\*\*", lambda m: click.style(m[1], bold=True), text, flags=re.S)
    return re.sub(r"`([^`]+)`", lambda m: "\n".join(click.style(part, fg="cyan") for part in m[1].split("\n")), text)


def pages() -> dict[str, str]:
    """Every file of docs/rules/, by name."""
    from fixer.registry import all_rules

    docs = [rule_doc(rule) for rule in all_rules()]
    return {"README.md": index(docs), **{f"{doc.id}.md": markdown(doc) for doc in docs}}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        wanted = pages()
    except MissingDoc as error:
        print(f"fixer.docs: {error}", file=sys.stderr)
        return 1
    if "--check" in argv:
        stale = sorted(name for name, text in wanted.items() if _read(DOCS_DIR / name) != text)
        stale += sorted(p.name for p in DOCS_DIR.glob("*.md") if p.name not in wanted)
        if stale:
            print(f"docs/rules is out of date ({', '.join(stale)}): run `{REGENERATE}`", file=sys.stderr)
            return 1
        return 0
    DOCS_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in wanted.items():
        if _read(DOCS_DIR / name) != text:
            (DOCS_DIR / name).write_text(text, encoding="utf-8")
            print(f"wrote docs/rules/{name}")
    for old in DOCS_DIR.glob("*.md"):
        if old.name not in wanted:
            old.unlink()
            print(f"removed docs/rules/{old.name}")
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
