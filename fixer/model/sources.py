"""The one way the model's analyses get a Python file's text and `ast` tree while the model is built: the
start points (`fixer.model.entrypoints`, `fixer.model.apps`), the flow, the use layer and the startup walk.

The runner reads every Python file once, as bytes, and hands the model only those its text checks pick
(`held`); any other file is read on demand. A file is parsed at most once per run as long as some analysis
said it will ask again (`pin`); nothing else is kept, so memory follows what is live, not the size of the
tree. `text` and `tree` answer None for a file that cannot be read, decoded or parsed (the rule that edits it
reports why).
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)


class Sources:
    def __init__(self, read_text: Callable[[str], str | None], held: Mapping[str, bytes] | None = None) -> None:
        """`read_text` reads any file by its path relative to the root (None when it cannot); `held` has the bytes
        of files already read."""
        self._read_text = read_text
        self._held = held or {}
        self._pinned: Counter[str] = Counter()  # path -> how many analyses pinned it
        self._trees: dict[str, ast.Module | None] = {}  # pinned paths only

    def pin(self, paths: Iterable[str]) -> None:
        """Paths some analysis will ask for again: their trees are kept once parsed, until as many `release`s."""
        self._pinned.update(paths)

    def release(self, paths: Iterable[str] | None = None) -> None:
        """The analysis that pinned `paths` is done (None: every analysis is): a tree no analysis still pins is
        dropped."""
        if paths is None:
            self._pinned.clear()
            self._trees.clear()
            return
        for path in paths:
            self._pinned[path] -= 1
            if self._pinned[path] <= 0:
                del self._pinned[path]
                self._trees.pop(path, None)

    def holds(self, path: str) -> bool:
        """Whether the file's bytes were handed in (read by the runner's one pass and picked by a text check)."""
        return path in self._held

    def text(self, path: str) -> str | None:
        data = self._held.get(path)
        if data is None:
            return self._read_text(path)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None

    def tree(self, path: str, text: str | None = None) -> ast.Module | None:
        """The file's module tree (from `text` when the caller has it already); kept while `path` is pinned."""
        if path in self._trees:
            return self._trees[path]
        text = self.text(path) if text is None else text
        tree = None
        if text is not None:
            try:
                tree = ast.parse(text)
            except _PARSE_ERRORS:
                pass
        if path in self._pinned:
            self._trees[path] = tree
        return tree
