"""Suppression comments: a finding the project keeps on purpose (the deliberate sync URL, the test that must
keep a raw URL) is neither reported nor edited.

    engine = create_engine("postgresql://...")  # fixer: ignore[FX004]
    engine = create_engine("postgresql://...")  # noqa: FX004
    DATABASE_URL=postgresql://...                 # fixer: ignore   (every rule)
    # fixer: ignore[FX004]                        (alone on its line: for the line below)
    # fixer: ignore-file[FX004]                   (in the first lines: the whole file)

Every format fixer edits (Python, requirements, .env, ini, TOML, YAML) comments with `#` (ini with `;` too).
A bare `# noqa` is flake8's and ruff's business, not fixer's: only `# noqa: FXnnn` names a fixer rule.
It works for any rule, present or future, without code in the rule: the runner drops a suppressed finding
and the edit that goes with it (see fixer.apply.runner).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ALL = "*"
HEAD_LINES = 10  # a file-level suppression sits in the first lines, as ruff's `# ruff: noqa`
MARKER = re.compile(rb"fixer:\s*ignore|noqa:\s*FX", re.IGNORECASE)  # cheap check on a file's bytes

_CODES = r"\[\s*(?P<codes>[A-Za-z0-9_,\s-]*)\]"
_LINE = re.compile(rf"[#;]\s*fixer:\s*ignore(?!-file)(?:{_CODES})?|#\s*noqa:\s*(?P<noqa>FX\d+(?:[,\s]+FX\d+)*)", re.IGNORECASE)
_FILE = re.compile(rf"[#;]\s*fixer:\s*ignore-file(?:{_CODES})?", re.IGNORECASE)
_COMMENT_ONLY = re.compile(r"\s*[#;]")


@dataclass(frozen=True)
class Suppressions:
    lines: dict[int, frozenset[str]] = field(default_factory=dict)  # 1-based line → rule IDs (or ALL)
    whole_file: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.lines or self.whole_file)

    def covers(self, rule: str, line: int | None) -> bool:
        if _matches(self.whole_file, rule):
            return True
        return line is not None and _matches(self.lines.get(line, frozenset()), rule)

    def touches(self, rule: str) -> bool:
        """Whether any suppression here names `rule`."""
        return _matches(self.whole_file, rule) or any(_matches(rules, rule) for rules in self.lines.values())

    def file_wide(self, rule: str) -> bool:
        return _matches(self.whole_file, rule)


def _matches(rules: frozenset[str], rule: str) -> bool:
    return ALL in rules or rule in rules


def parse(text: str, python: bool = False) -> Suppressions:
    """The suppressions of a file's text. A comment alone on its line applies to the next line too. In Python a
    comment anywhere on a statement that spans lines applies to all of them: a finding is reported on the line
    where its code starts, and the comment may sit on a later line of the same call."""
    if not MARKER.search(text.encode("utf-8", errors="replace")):
        return Suppressions()
    lines: dict[int, frozenset[str]] = {}
    whole: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if number <= HEAD_LINES and (match := _FILE.search(line)):
            whole |= _rules(match.group("codes"))
            continue
        match = _LINE.search(line)
        if match is None:
            continue
        rules = _rules(match.group("noqa") or match.group("codes"))
        lines[number] = lines.get(number, frozenset()) | rules
        if _COMMENT_ONLY.match(line):
            lines[number + 1] = lines.get(number + 1, frozenset()) | rules
    if python and lines:
        for first, last in _statements(text):
            rules = frozenset().union(*(lines.get(n, frozenset()) for n in range(first, last + 1)))
            if rules:
                lines.update({n: rules for n in range(first, last + 1)})
    return Suppressions(lines, frozenset(whole))


def _statements(text: str) -> list[tuple[int, int]]:
    """(first line, last line) of each Python logical line that spans more than one line."""
    import io
    import tokenize

    spans = []
    first = None
    skipped = (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NEWLINE:
                if first is not None and token.start[0] > first:
                    spans.append((first, token.start[0]))
                first = None
            elif first is None and token.type not in skipped:
                first = token.start[0]
    except (tokenize.TokenError, SyntaxError):
        pass
    return spans


def _rules(codes: str | None) -> frozenset[str]:
    if not codes or not codes.strip():
        return frozenset({ALL})
    return frozenset(code.upper() for code in re.split(r"[,\s]+", codes.strip()) if code)
