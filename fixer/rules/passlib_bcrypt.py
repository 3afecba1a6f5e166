"""FX024 passlib-bcrypt: Hold bcrypt below 5 for passlib.

## What it does
When the app's live code imports passlib and bcrypt installs beside it (`passlib[bcrypt]`, or bcrypt declared),
caps bcrypt where passlib is declared: an existing bcrypt entry keeps what it allows and gets `<5` added
(`bcrypt>=4.3` becomes `bcrypt>=4.3,<5`; `==4.0.1` when what it allows is all 5 or newer), and a file that
only lists `passlib[bcrypt]` gets `bcrypt<5` after it. passlib 1.7.4 (2020) is the last passlib release; it
probes bcrypt with a 255-byte password, which bcrypt 5 refuses, and reads bcrypt's version from
`bcrypt.__about__`, which bcrypt 4.1 removed.

## Why is this bad?
With bcrypt 5 the first hash fails (DEP-PASSLIB): `ValueError: password cannot be longer than 72 bytes,
truncate manually if necessary (e.g. my_password[:72])`, so registration and login answer 500. With bcrypt
4.1 to 4.3 hashing works, but every start logs `(trapped) error reading bcrypt version` with the traceback of
`AttributeError: module 'bcrypt' has no attribute '__about__'`. Checked with passlib 1.7.4 and bcrypt 4.0.1
(clean), 4.1.3 and 4.3.0 (the warning) and 5.0.0 (the error).

## Example
```text
fastapi
passlib[bcrypt]
```

## Use instead
```text
fastapi
passlib[bcrypt]
bcrypt<5
```

## Fix safety
Safe when some install route gives bcrypt 5 or newer (a fresh install of an unpinned bcrypt does): the first
hash fails there, and bcrypt 4.x hashes (4.0.1 has a wheel for every CPython fixer knows, abi3). Unsafe when
only bcrypt 4.1 to 4.x installs: only a logged warning, silenced by holding bcrypt below 4.1. With
`--unsafe-fixes` the hold below 4.1 is made at once, in place of `<5`. Nothing when
bcrypt below 4.1 installs, when the code does not import passlib, or when the project uses `libpass` (the
maintained fork, which reads bcrypt's version properly).
"""

from __future__ import annotations

from functools import cache
from typing import ClassVar

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from fixer.rules.findings import Category, Finding, Severity
from fixer.model import ProjectModel
from fixer.rules.base import TextRule
from fixer.rules.dependency_edit import Change, declared_in, edit, is_main_file, specifier_in

# bcrypt 5 refuses the 255-byte password passlib 1.7.4 probes it with: raised by its compiled code, so no table
# reads it (tools/README.md, "What stays hard-coded").
CAP = "<5"
_BREAKS = SpecifierSet(">=5")


@cache
def _about() -> tuple[Version, str]:
    """The last bcrypt whose wheel has `bcrypt/__about__.py` (what passlib 1.7.4 reads the version from: 4.0.1),
    and the series that dropped it ("4.1"), as the tables read the wheels."""
    from fixer import tables

    last = tables.releases_with("bcrypt", "about-module")[-1]
    dropped = next(v for v in tables.releases("bcrypt") if v > last and not v.is_prerelease)
    return last, f"{dropped.major}.{dropped.minor}"


def bcrypt_versions(facts: ProjectModel) -> list[Version]:
    """The bcrypt the documented start's install gives (each install route's when it syncs no lock; the newest
    release allowed when no route records it)."""
    from fixer import tables

    found = facts.install_versions("bcrypt")
    if found:
        return found
    newest = tables.newest_allowed("bcrypt", facts.versions.declared.get("bcrypt", ""))
    return [newest] if newest is not None else []


class PasslibBcrypt(TextRule):
    """Hold bcrypt below 5 for passlib."""

    RULE_ID: ClassVar[str] = "FX024"
    RULE_NAME: ClassVar[str] = "passlib-bcrypt"
    DEFECTS: ClassVar[tuple[str, ...]] = ("DEP-PASSLIB",)

    def applies_to(self, path: str) -> bool:
        return is_main_file(path)

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        uses = [n for n in facts.needs if n.module == "passlib" and not n.guarded]
        if not uses or facts.versions.declares("libpass") or not facts.installed.has("bcrypt"):
            return text, []
        listed = declared_in(path, text)
        if "passlib" not in listed and "bcrypt" not in listed:
            return text, []
        # This file's own entry is what the edit starts from; a version it already excludes (a lock file
        # still pins it until relocked) needs no edit here, so a second round or run changes nothing.
        own = specifier_in(path, text, "bcrypt")
        versions = [v for v in bcrypt_versions(facts) if own is None or SpecifierSet(own).contains(v, prereleases=True)]
        last, dropped = _about()
        breaking = [v for v in versions if v in _BREAKS]
        warning = [v for v in versions if v in SpecifierSet(f">={dropped}")]
        if not warning:
            return text, []
        safe = bool(breaking)
        from fixer import tables

        # The author's specifiers stay, first, with the bound added after them.
        declared = own if own is not None else facts.versions.declared.get("bcrypt", "")
        # With --unsafe-fixes the warning's hold is wanted too: made at once, or a second run would add it.
        bound = CAP if safe and not facts.unsafe_fixes else f"<{dropped}"
        held = SpecifierSet(declared) & SpecifierSet(bound)
        pinned = f"=={last}"
        specifier = ",".join(filter(None, (declared, bound))) if tables.allowed("bcrypt", held) else pinned
        python = facts.python_version
        if python is not None and tables.has_wheel("bcrypt", tables.newest_allowed("bcrypt", specifier) or last, python) is False:
            return text, []
        write = safe or facts.unsafe_fixes
        shown = ", ".join(str(v) for v in sorted(set(breaking if safe else warning)))

        def make(old: str, new: str, line: int | None, fixed: bool) -> Finding:
            return Finding(
                rule=self.RULE_ID,
                category=Category.DEPENDENCY,
                severity=Severity.CRITICAL if safe else Severity.LOW,
                problem=(
                    f"passlib with bcrypt {shown}: the first password hash fails"
                    if safe
                    else f"passlib with bcrypt {shown}: every start logs an error reading bcrypt's version"
                ),
                root_cause=(
                    "passlib 1.7.4, its last release, probes bcrypt with a 255-byte password, which bcrypt 5 refuses: "
                    "`ValueError: password cannot be longer than 72 bytes, truncate manually if necessary` on the "
                    f"first hash; and it reads `bcrypt.__about__`, gone since bcrypt {dropped}: `(trapped) error "
                    "reading bcrypt version` / `AttributeError: module 'bcrypt' has no attribute '__about__'`."
                ),
                old_code=old,
                new_code=new,
                explanation=(
                    f"bcrypt is held at {specifier} ({last} has wheels for every CPython 3.8 to 3.14)"
                    + (f": bcrypt {dropped} to 4.x still log the version warning." if safe and specifier != pinned
                       else ".")
                    + " The lasting fix is to hash with `bcrypt` directly, or move to `libpass`, passlib's maintained fork."
                    + (" Lock files were not changed: run the lock command again." if facts.versions.locked else "")
                ),
                fixed=fixed,
                defects=self.DEFECTS,
                line=line,
                safe=safe,
                evidence=f"{uses[0].path} imports passlib; bcrypt {shown} installs ({facts.versions.why.get('bcrypt', 'newest release: nothing holds it back')})",
            )

        if "bcrypt" in listed:
            change = Change("set", "bcrypt", specifier, make, write=write)
        elif canonicalize_name("bcrypt") in facts.versions.declared:
            return text, []  # held in another file: that file gets the change
        else:
            change = Change("add", "bcrypt", specifier, make, after="passlib", write=write)
        return edit(path, text, [change])
