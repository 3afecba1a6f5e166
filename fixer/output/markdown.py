"""`--output-format markdown`: a pull-request review. Each fix is a GitHub ```` ```suggestion ```` block on the
exact lines it replaces (`start_line`..`line` of the file as it is), which a reviewer commits with one click.

A suggestion replaces whole lines, so it is made from a zero-context hunk: an insertion is anchored on the
line before it (or, at the top of a file, the line after) and repeats that line. Committing every suggestion
gives the bytes `fixer apply` writes. Files whose edits are withheld (credentials) are only named.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from fixer.apply.changes import Hunk, old_lines
from fixer import rule_doc_url
from fixer.output.diagnostics import Diagnostic, Diagnostics

_STATUS = {
    "unsafe": "`fixer apply --unsafe-fixes` makes this fix",
    "manual": "needs a person",
    "note": "not decided by fixer: check it",
}


@dataclass(frozen=True)
class Suggestion:
    path: str
    start_line: int  # 1-based, the first line replaced
    line: int  # 1-based, the last line replaced (GitHub's `line`; equal to start_line for one line)
    content: str  # the lines that replace them, each ending in "\n" as in the file
    items: tuple[Diagnostic, ...]  # the findings it fixes
    replaced: str = ""  # the lines start_line..line as they are

    @property
    def where(self) -> str:
        lines = f"line {self.line}" if self.start_line == self.line else f"lines {self.start_line}-{self.line}"
        return f"`{self.path}` {lines}"

    def body(self, applied: bool = False) -> str:
        """The review comment: what it fixes, then the suggestion (once applied, the change as a diff)."""
        said = "\n".join(f"{_rule_link(item)}: {item.message}" for item in self.items)
        if applied:
            return f"{said}\n\n{fenced('diff', _diff(self.replaced, self.content))}"
        return f"{said}\n\n{fenced('suggestion', self.content)}"


def _diff(old: str, new: str) -> str:
    """old -> new as diff lines, the lines both start or end with (a suggestion's anchor) as context."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    lines = [" " + line for line in a[:head]]
    lines += ["-" + line for line in a[head:len(a) - tail]] + ["+" + line for line in b[head:len(b) - tail]]
    return "".join(lines + [" " + line for line in a[len(a) - tail:]])


def fenced(info: str, content: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{content}{'' if not content or content.endswith(chr(10)) else chr(10)}{fence}"


def _rule_link(item: Diagnostic) -> str:
    """The rule's ID linked to its page, its title shown on hover."""
    finding = item.finding
    title = _titles().get(finding.rule, "").replace("\\", "\\\\").replace('"', '\\"')
    return f'**[{finding.rule}]({rule_doc_url(finding.rule)} "{title}")** ({finding.severity.value.lower()})'


@functools.cache
def _titles() -> dict[str, str]:
    from fixer.rules.registry import all_rules

    return {rule.id: rule.title for rule in all_rules()}


MERGE_GAP = 2  # hunks this few unchanged lines apart make one suggestion (a reviewer reads one change)


def suggestions(diagnostics: Diagnostics) -> tuple[list[Suggestion], list[tuple[str, Hunk]]]:
    """The suggestions in file and line order, and the hunks no suggestion can carry (a file that was empty)."""
    owners: dict[str, dict[Hunk, list[Diagnostic]]] = {}
    for item in diagnostics.fixes:
        for edit in item.edits:
            owners.setdefault(item.path, {}).setdefault(edit.hunk, []).append(item)
    made: list[Suggestion] = []
    left: list[tuple[str, Hunk]] = []
    for path in sorted(owners):
        old = old_lines(diagnostics.results[path])
        groups: list[tuple[int, int, str, list[Diagnostic]]] = []  # start, stop, new text, findings
        for hunk in sorted(owners[path], key=lambda h: h.start):
            items = owners[path][hunk]
            new = "".join(hunk.new_lines)
            if groups and hunk.start - groups[-1][1] <= MERGE_GAP:
                start, stop, text, mine = groups[-1]
                groups[-1] = (start, hunk.stop, text + "".join(old[stop:hunk.start]) + new, mine + items)
            else:
                groups.append((hunk.start, hunk.stop, new, list(items)))
        for start, stop, text, items in groups:
            unique = tuple(dict.fromkeys(items))
            if start < stop:
                made.append(Suggestion(path, start + 1, stop, text, unique, "".join(old[start:stop])))
            elif start > 0:
                made.append(Suggestion(path, start, start, old[start - 1] + text, unique, old[start - 1]))
            elif old:
                made.append(Suggestion(path, 1, 1, text + old[0], unique, old[0]))
            else:
                left.append((path, Hunk(start, stop, (), tuple(text.splitlines(keepends=True)), False)))
    return made, left


def render(diagnostics: Diagnostics, inline: frozenset[Suggestion] = frozenset()) -> str:
    """The review as one markdown document; suggestions in `inline` are left out (posted on their lines)."""
    made, left = suggestions(diagnostics)
    files = {s.path for s in made} | {path for path, _ in left}
    withheld = [item for item in diagnostics.fixes if item.withheld]
    files |= {item.path for item in withheld}
    count = len({id(item) for item in diagnostics.fixes})
    verb = "wrote" if diagnostics.applied else "suggests"
    out = [f"### fixer {verb} {count} fix(es) in {len(files)} file(s)\n"]
    if made and not diagnostics.applied:
        out.append("Each suggestion below is the fix `fixer apply` writes, on the lines it replaces; "
                   "committing all of them gives the same files" + (", but for what is not shown (below)" if withheld else "")
                   + ".\n")
    for suggestion in made:
        if suggestion not in inline:
            out.append(f"#### {suggestion.where}\n\n{suggestion.body(diagnostics.applied)}\n")
    for path, hunk in left:
        out.append(f"#### `{path}` (new content)\n\n{fenced('diff', ''.join('+' + line for line in hunk.new_lines))}\n")
    if withheld:
        out.append("#### Not shown: it would show a secret git does not track\n")
        out += [f"- `{item.path}` line {item.start.line}: {_rule_link(item)}: {item.message.rstrip('.')}; "
                "`fixer apply` writes it" for item in withheld]
        out.append("")
    others = [item for item in diagnostics.items if item.status in _STATUS]
    if others:
        out.append("#### Not fixed by `fixer apply`\n")
        out += [f"- `{item.path}` line {item.start.line}: {_rule_link(item)}: {item.message.rstrip('.')} "
                f"({_STATUS[item.status]})" for item in others]
        out.append("")
    if diagnostics.skipped:
        out.append("#### Skipped files\n")
        out += [f"- `{s.path}`: {s.message}" for s in diagnostics.skipped]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
