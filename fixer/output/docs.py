"""Rule pages, as ruff's: each rule's docstring (fixer.rules.ruledoc) rendered for a terminal (`fixer rule ID`)
and as markdown (`docs/rules/FXnnn.md` and an index, written by `python -m fixer.output.docs`).

`python -m fixer.output.docs --check` exits 1 when the committed pages differ from the docstrings.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from fixer.rules.ruledoc import MissingDoc, RuleDoc, rule_doc

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs" / "rules"
REGENERATE = "python -m fixer.output.docs"
_GENERATED = f"<!-- Generated from the rule's docstring by `{REGENERATE}`: edit the docstring, not this file. -->"


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
    from fixer.rules.registry import all_rules

    docs = [rule_doc(rule) for rule in all_rules()]
    return {"README.md": index(docs), **{f"{doc.id}.md": markdown(doc) for doc in docs}}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        wanted = pages()
    except MissingDoc as error:
        print(f"fixer.output.docs: {error}", file=sys.stderr)
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
