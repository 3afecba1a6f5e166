"""A file's change line by line: the lines fixer changes, matched as the patch matches them, and which of them
the patch must hold back (a secret git does not track, fixer.apply.disclosure). The patch (fixer.output.diff), the plan and
the outputs that place each fix (fixer.output) all read a change from here, so they agree on every line.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter
from dataclasses import dataclass

from fixer.apply.disclosure import is_env_file, shows_secret
from fixer.rules.findings import FileResult


def _split_lines(text: str) -> list[str]:
    # Only "\n" ends a line for git; str.splitlines would also split on \x0c, \u2028 and friends.
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _decode(data: bytes, encoding: str) -> str:
    return data.decode(encoding, errors="surrogateescape")


@dataclass(frozen=True)
class Review:
    old: list[str]
    new: list[str]
    changes: list[tuple[int, int, int, int]]  # (i1, i2, j1, j2) of each change, in file order
    withheld: frozenset[int]  # indexes into `changes` the patch leaves out
    whole: bool  # the whole file is left out (an untracked credentials file)


_CONTEXT = 3


def review_changes(result: FileResult) -> Review:
    old = _split_lines(_decode(result.old, result.encoding))
    new = _split_lines(_decode(result.new, result.encoding))
    changes = [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in line_opcodes(old, new) if tag != "equal"]
    whole = is_env_file(result.path) and not result.tracked
    # A change's hunk shows its new lines and the old lines around it: what the patch shows around a change
    # is the old file there, whether the change beside it is shown or not.
    withheld = frozenset(range(len(changes))) if whole else frozenset(
        n for n, (i1, i2, j1, j2) in enumerate(changes)
        if any(shows_secret(line, result) for line in (*old[max(0, i1 - _CONTEXT):i2 + _CONTEXT], *new[j1:j2]))
    )
    return Review(old, new, changes, withheld, whole)


def shown_lines(review: Review) -> list[str]:
    """The new file with the withheld changes left undone."""
    out: list[str] = []
    at = 0
    for n, (i1, i2, j1, j2) in enumerate(review.changes):
        out += review.old[at:i1]
        out += review.old[i1:i2] if n in review.withheld else review.new[j1:j2]
        at = i2
    return out + review.old[at:]


def shown(result: FileResult) -> bytes:
    """The bytes the patch gives when applied: the fix without the changes it leaves out."""
    review = review_changes(result)
    if not review.withheld:
        return result.new
    return "".join(shown_lines(review)).encode(result.encoding, errors="surrogateescape")


def line_opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    """Opcodes as `difflib.SequenceMatcher(None, old, new).get_opcodes()` gives them, from `Anchored`."""
    return Anchored(old, new).get_opcodes()


class Anchored(difflib.SequenceMatcher):
    """A line matcher whose cost follows the file's length on a large file with fixes all through it.

    SequenceMatcher looks for the longest matching run, then recurses on each side: with changes spread
    over a long file, every step scans much of what is left (measured: 0.9 s for a 0.5 MB module, 6 s for
    1 MB). The lines found once in each file (as patience diff does), taken in an order both files agree on,
    cut the files into short stretches, and SequenceMatcher only matches within a stretch. A file without
    such lines is one stretch: as slow as before, never slower."""

    def __init__(self, a: list[str], b: list[str]) -> None:
        super().__init__(None, a, b, autojunk=False)

    def get_matching_blocks(self) -> list[difflib.Match]:
        if self.matching_blocks is None:
            self.matching_blocks = self._anchored_blocks()
        return self.matching_blocks

    def _anchored_blocks(self) -> list[difflib.Match]:
        a, b = self.a, self.b
        blocks: list[tuple[int, int, int]] = []
        (i, j) = (0, 0)
        for anchor_i, anchor_j in [*_anchors(a, b), (len(a), len(b))]:
            stretch = difflib.SequenceMatcher(None, a[i:anchor_i], b[j:anchor_j], autojunk=False)
            blocks += [(i + x, j + y, n) for x, y, n in stretch.get_matching_blocks() if n]
            blocks.append((anchor_i, anchor_j, 1))
            (i, j) = (anchor_i + 1, anchor_j + 1)
        blocks[-1] = (len(a), len(b), 0)
        merged: list[difflib.Match] = []
        for x, y, n in blocks:  # adjacent runs as one, as SequenceMatcher gives them
            if merged and merged[-1].a + merged[-1].size == x and merged[-1].b + merged[-1].size == y and n:
                merged[-1] = difflib.Match(merged[-1].a, merged[-1].b, merged[-1].size + n)
            else:
                merged.append(difflib.Match(x, y, n))
        return merged


def _anchors(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Pairs (i, j) with a[i] == b[j] a line found once in each, the longest chain of them increasing in both."""
    count_a, count_b = Counter(a), Counter(b)
    where_b = {line: j for j, line in enumerate(b) if count_b[line] == 1}
    pairs = [(i, where_b[line]) for i, line in enumerate(a) if count_a[line] == 1 and line in where_b]
    # The longest chain increasing in j (pairs come in i order), by patience sorting.
    tails: list[int] = []  # tails[k]: the pair ending the best chain of length k + 1 found so far
    tail_js: list[int] = []  # their j, increasing
    previous: list[int] = []
    for index, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tail_js, j)
        previous.append(tails[k - 1] if k else -1)
        if k == len(tails):
            tails.append(index)
            tail_js.append(j)
        else:
            tails[k] = index
            tail_js[k] = j
    chain: list[tuple[int, int]] = []
    index = tails[-1] if tails else -1
    while index >= 0:
        chain.append(pairs[index])
        index = previous[index]
    return chain[::-1]


@dataclass(frozen=True)
class Hunk:
    """One changed stretch of a file, without context: `old[start:stop]` (0-based lines) becomes `new_lines`.

    The outputs that locate each fix (JSON, SARIF, GitHub, GitLab, markdown suggestions) are fed from these.
    `start == stop` is a pure insertion before line `start`."""

    start: int
    stop: int
    old_lines: tuple[str, ...]
    new_lines: tuple[str, ...]
    withheld: bool  # the patch leaves this change out (it would show a secret git does not track)


def old_lines(result: FileResult) -> list[str]:
    """The file as it was, split into lines the way the patch splits them (each with its "\n")."""
    return _split_lines(_decode(result.old, result.encoding))


def hunks(result: FileResult) -> list[Hunk]:
    """The file's changes as zero-context hunks, in file order (the same matching as the patch)."""
    review = review_changes(result)
    return [
        Hunk(i1, i2, tuple(review.old[i1:i2]), tuple(review.new[j1:j2]), n in review.withheld)
        for n, (i1, i2, j1, j2) in enumerate(review.changes)
    ]
