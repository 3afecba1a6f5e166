"""Rule pages: every registered rule documents itself in the one format, `fixer rule ID` reads as text (no
markdown, no internal names), and docs/rules/ is what the docstrings generate."""

from __future__ import annotations

import re
from dataclasses import dataclass

import click
import pytest

from fixer import docs
from fixer.registry import all_rules
from tests.cli_helpers import fixer

RULES = all_rules()


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_every_rule_has_every_section(rule) -> None:
    doc = docs.rule_doc(rule)
    assert list(doc.sections) == list(docs.SECTIONS)
    assert all(body.strip() for body in doc.sections.values()), rule.id
    for section in ("Example", "Use instead"):
        assert "```" in doc.sections[section], (rule.id, section)
    assert doc.title[0].isupper() and not doc.title.endswith(".")


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_the_terminal_page_has_no_markdown_and_no_internal_names(rule) -> None:
    page = click.unstyle(docs.terminal(docs.rule_doc(rule)))
    assert "```" not in page and "`" not in page and "**" not in page
    assert not re.search(r"^#+ ", page, re.M)
    internal = {cls.__name__ for r in RULES for cls in r.classes}
    for name in internal:
        assert not re.search(rf"\b{name}\b", page), (rule.id, name)
    assert not re.search(r"\bfixer\.\w|\bfacts\.", page), rule.id
    for section in docs.SECTIONS:
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

    with pytest.raises(docs.MissingDoc, match="FX999"):
        docs.rule_doc(FakeRule())

    Undocumented.__doc__ = "FX999 new-rule: Title.\n\n## What it does\nx\n## Example\ny\n"
    with pytest.raises(docs.MissingDoc, match="missing Why is this bad\\?, Use instead, Fix safety"):
        docs.rule_doc(FakeRule())
