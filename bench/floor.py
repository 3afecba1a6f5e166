"""The floor a LibCST tool cannot go below, as its own process (interpreter start and `import libcst` included).

    python bench/floor.py parse     LIST   parse every file of LIST with libcst.parse_module
    python bench/floor.py roundtrip LIST   the same, then print the tree back (`.code`)
    python bench/floor.py scan      LIST PATTERNS PARSED
        read every file of LIST, search it with fixer's text checks (PATTERNS: JSON written by run.py)
        and parse and print back (`.code`) the files of PARSED among those the checks pass: what fixer must at
        least do on a tree, the files it parses being those that can matter.

LIST is a file of paths, one a line, relative to the line `root: DIR` that starts it. Prints a JSON
summary (files read, parsed, bytes) to stderr. Of fixer it imports only `fixer.discover.textcheck.TextCheck` (plain
`re`, no LibCST), so that the scan searches the files exactly as fixer does.
"""

from __future__ import annotations

import json
import os
import re
import sys


def _read_list(path: str) -> tuple[str, list[str]]:
    with open(path, encoding="utf-8") as handle:
        first, *rest = handle.read().splitlines()
    assert first.startswith("root: "), f"{path}: first line must be `root: DIR`"
    return first[len("root: ") :], [line for line in rest if line]


def _compile(spec: dict) -> re.Pattern[bytes]:
    return re.compile(spec["pattern"].encode("latin-1"), spec["flags"])


def main(argv: list[str]) -> int:
    mode, list_file = argv[0], argv[1]
    root, files = _read_list(list_file)

    import libcst

    parsed = read = size = 0
    if mode in ("parse", "roundtrip"):
        for rel in files:
            with open(os.path.join(root, rel), "rb") as handle:
                source = handle.read()
            read += 1
            size += len(source)
            module = libcst.parse_module(source)
            parsed += 1
            if mode == "roundtrip":
                module.code  # noqa: B018 - generating the code is the point
    elif mode == "scan":
        with open(argv[2], encoding="utf-8") as handle:
            patterns = json.load(handle)
        from fixer.discover.textcheck import TextCheck

        prefilter = TextCheck([_compile(spec) for spec in patterns["prefilter"]])
        wanted = set(_read_list(argv[3])[1])
        for rel in files:
            with open(os.path.join(root, rel), "rb") as handle:
                source = handle.read()
            read += 1
            prefilter(source)  # the check runs on every file, as fixer's does
            # What is parsed is fixer's own list: the model adds files no check picks (the use layer's callers).
            if rel in wanted:
                libcst.parse_module(source).code  # noqa: B018 - generating the code is the point
                parsed += 1
                size += len(source)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps({"mode": mode, "read": read, "parsed": parsed, "parsed_bytes": size}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
