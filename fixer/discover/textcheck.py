"""TextCheck: many regexes' `search`, answered by plain byte searches first."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence


class TextCheck:
    """`any(p.search(data) for p in patterns)`, the same answer, sooner.

    A regex that starts with `\\b` is tried at every position of the file, so the alternation of all the rules'
    checks costs about as much as reading the file ten times over. But every alternative needs some literal
    text (`AsyncSession`, `postgres`, ...), which `bytes in bytes` finds at memory speed: an alternative runs
    only on a file that holds the literals it needs. The literals come from the patterns themselves (Python's
    own regex parser), so a rule's check stays the one place that decides what it matches.
    """

    def __init__(self, patterns: Sequence[re.Pattern[bytes]]) -> None:
        self._parts: list[tuple[_Need | None, Callable[[bytes], object]]] = [
            (_needed_text(pattern.pattern, pattern.flags), pattern.search) for pattern in patterns
        ]

    def __call__(self, data: bytes) -> bool:
        for need, search in self._parts:
            if (need is None or _holds(need, data)) and search(data):
                return True
        return False


# What a match needs: a literal, all of several needs, or any of several; None: nothing known.
_Need = tuple  # ("lit", bytes) | ("all", list) | ("any", list)


def _holds(need: _Need, data: bytes) -> bool:
    kind, value = need
    if kind == "lit":
        return value in data
    if kind == "all":
        return all(_holds(part, data) for part in value)
    return any(_holds(part, data) for part in value)


def _needed_text(pattern: bytes, flags: int) -> _Need | None:
    """Text any match of `pattern` must contain (a necessary condition, never a sufficient one)."""
    try:
        from re import _constants as sre, _parser as parser  # type: ignore[attr-defined]
    except ImportError:  # Python 3.10
        try:
            import sre_constants as sre  # type: ignore[no-redef]
            import sre_parse as parser  # type: ignore[no-redef]
        except ImportError:
            return None
    try:
        parsed = parser.parse(pattern, flags)
        if parsed.state.flags & (re.IGNORECASE | re.LOCALE):
            return None
        return _needed_in(list(parsed), sre)
    except Exception:  # an internal API that moved: check with the regex alone
        return None


def _needed_in(items: list, sre: object) -> _Need | None:
    needs: list[_Need] = []
    run = bytearray()
    for op, av in items + [(None, None)]:
        if op is sre.LITERAL:  # type: ignore[attr-defined]
            run.append(av)
            continue
        if len(run) >= 2:
            needs.append(("lit", bytes(run)))
        run = bytearray()
        need = None
        if op is sre.SUBPATTERN:  # type: ignore[attr-defined]
            _group, add_flags, _del_flags, sub = av
            if add_flags & (re.IGNORECASE | re.LOCALE):
                return None  # case-insensitive literals: no plain-text need can be sure of them
            need = _needed_in(list(sub), sre)
        elif op is sre.BRANCH:  # type: ignore[attr-defined]
            branches = [_needed_in(list(branch), sre) for branch in av[1]]
            need = None if any(b is None for b in branches) else ("any", branches)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)):  # type: ignore[attr-defined]
            low, _high, sub = av
            need = _needed_in(list(sub), sre) if low >= 1 else None
        elif op is getattr(sre, "ATOMIC_GROUP", None):
            need = _needed_in(list(av), sre)
        if need is not None:
            needs.append(need)
    if not needs:
        return None
    # Longest literals first: the rarer text, so a file without it is ruled out after one search.
    needs.sort(key=lambda n: -len(n[1]) if n[0] == "lit" else 0)
    return needs[0] if len(needs) == 1 else ("all", needs)
