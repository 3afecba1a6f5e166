"""Rule pages: every registered rule documents itself in the one format, `fixer rule ID` reads as text (no
markdown, no internal names), and docs/rules/ is what the docstrings generate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from fixer.output import docs
from fixer.rules.registry import all_rules
from fixer.rules import ruledoc
from tests.cli_helpers import fixer

RULES = all_rules()


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_every_rule_has_every_section(rule) -> None:
    doc = ruledoc.rule_doc(rule)
    assert list(doc.sections) == list(ruledoc.SECTIONS)
    assert all(body.strip() for body in doc.sections.values()), rule.id
    for section in ("Example", "Use instead"):
        assert "```" in doc.sections[section], (rule.id, section)
    assert doc.title[0].isupper() and not doc.title.endswith(".")


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_the_terminal_page_has_no_markdown_and_no_internal_names(rule) -> None:
    page = click.unstyle(docs.terminal(ruledoc.rule_doc(rule)))
    assert "```" not in page and "`" not in page and "**" not in page
    assert not re.search(r"^#+ ", page, re.M)
    internal = {cls.__name__ for r in RULES for cls in r.classes}
    for name in internal:
        assert not re.search(rf"\b{name}\b", page), (rule.id, name)
    assert not re.search(r"\bfixer\.\w|\bfacts\.", page), rule.id
    for section in ruledoc.SECTIONS:
        assert f"\n{section}\n" in page


def test_fixer_rule_prints_the_page_without_styles_in_a_pipe() -> None:
    done = fixer("rule", "FX004")
    assert done.returncode == 0
    text = done.stdout.decode()
    assert "\x1b[" not in text
    assert text.startswith("FX004 async-database-url: ")
    assert "What it does" in text and "Fix safety" in text
    assert "docs/rules/FX004.md" in text


def test_committed_rule_pages_are_up_to_date(capsys) -> None:
    code = docs.main(["--check"])
    assert code == 0, f"{capsys.readouterr().err.strip()} (docs/rules/ is generated from the rules' docstrings)"


def test_a_rule_without_the_format_is_named(tmp_path) -> None:
    class Undocumented:
        """Does something."""

        __module__ = __name__
        DEFECTS = ()

    @dataclass
    class FakeRule:
        id: str = "FX999"
        name: str = "new-rule"
        classes: tuple = (Undocumented,)

    with pytest.raises(ruledoc.MissingDoc, match="FX999"):
        ruledoc.rule_doc(FakeRule())

    Undocumented.__doc__ = "FX999 new-rule: Title.\n\n## What it does\nx\n## Example\ny\n"
    with pytest.raises(ruledoc.MissingDoc, match="missing Why is this bad\\?, Use instead, Fix safety"):
        ruledoc.rule_doc(FakeRule())


README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_rule_table_is_fixer_rules_with_each_rules_own_defects() -> None:
    """Every rule `fixer rules` lists, in order, with its name and the defect IDs `fixer rule ID` prints."""
    from fixer.rules.registry import all_rules

    rows = re.findall(r"^\| (FX\d{3}) \| ([\w-]+) \| .* \| ([^|]*) \|$", README.read_text(encoding="utf-8"), re.M)
    expected = []
    for rule in all_rules():
        defects = list(dict.fromkeys(d for cls in rule.classes for d in cls.DEFECTS))
        expected.append((rule.id, rule.name, defects))
    assert [(i, n) for i, n, _ in rows] == [(i, n) for i, n, _ in expected]
    for (rule_id, _, shown), (_, _, defects) in zip(rows, expected):
        if defects:
            assert [d.strip() for d in shown.split(",")] == defects, rule_id


def test_readme_counts_of_rules_and_codemods_are_the_registrys() -> None:
    from fixer.rules.registry import PYTHON_CODEMODS, all_rules

    text = README.read_text(encoding="utf-8")
    assert set(map(int, re.findall(r"\b(\d+) rules\b", text))) == {len(all_rules())}
    assert set(map(int, re.findall(r"\b(\d+) codemods\b", text))) == {len(PYTHON_CODEMODS)}


def test_readme_states_no_release_tag_and_no_test_time_it_cannot_back() -> None:
    import subprocess

    text = README.read_text(encoding="utf-8")
    tags = subprocess.run(["git", "tag"], cwd=README.parent, capture_output=True, text=True).stdout.split()
    for tag in set(re.findall(r"\bv\d+\.\d+\.\d+\b", text)):
        assert tag in tags, f"README names the tag {tag}, which does not exist"
    tests = text[text.index("## Tests"):]
    assert not re.search(r"\d+ min\b|\d+ s\b(?! each)", tests.split("\n## ")[0]), "a test time in README that no test measures"


def test_every_test_readmes_safety_section_names_exists() -> None:
    safety = README.read_text(encoding="utf-8").split("## Safety", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"\b(test_\w+)\b(?!\.py)", safety))
    defined = {name for path in README.parent.joinpath("tests").rglob("test_*.py")
               for name in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M)}
    assert named and named <= defined, sorted(named - defined)
