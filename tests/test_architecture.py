"""The package's shape, read from its imports with `ast`: the folders of fixer/ are the stages data flows through.

    cli → discover → model → rules → apply → output        verify: its own wing
    tables, tablefiles, sourcetexts (and fixer/data) and the package's __init__: facts every stage may read

A stage imports only the stages whose data reaches it (earlier ones) and the shared facts; `cli` drives every
stage and nothing imports it; `verify` reads from any stage but `cli`, and only `cli` imports it. Every import
counts: at the top of a module or inside a function, `import a.b`, `from . import x`. An import under
`if TYPE_CHECKING:` never runs, so it cannot close a circle; it still may not point to a later stage.

`python tests/test_architecture.py` prints the graph's numbers.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "fixer"

STAGES = ("cli", "discover", "model", "rules", "apply", "output")
WING = "verify"
SHARED = ("tables", "tablefiles", "sourcetexts")  # with `fixer` itself (its version, its address); fixer/data is not Python
MAX_LINES = 600
# Modules allowed past MAX_LINES, each with the reason it cannot be split by meaning.
LONG_MODULES: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    runs: bool  # False under `if TYPE_CHECKING:`


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_only_nodes(tree: ast.Module) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            out |= {id(inner) for statement in node.body for inner in ast.walk(statement)}
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _innermost(name: str, known: dict[str, Path]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


@dataclass
class Graph:
    known: dict[str, Path]
    imports: list[Import]
    private: list[str]  # "importer:line imports module._name"

    def edges(self, runs_only: bool = True) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {name: set() for name in self.known}
        for imp in self.imports:
            if imp.runs or not runs_only:
                out[imp.importer].add(imp.imported)
        return out


@functools.cache
def graph(package: Path = PACKAGE) -> Graph:
    known = modules(package)
    imports: list[Import] = []
    private: list[str] = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        type_only = _type_only_nodes(tree)
        is_package = path.name == "__init__.py"
        aliases: dict[str, str] = {}  # local name → the fixer module it names
        for node in ast.walk(tree):
            runs = id(node) not in type_only
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = _innermost(alias.name, known) if alias.name.split(".")[0] == "fixer" else None
                    if target and target != name:
                        imports.append(Import(name, target, node.lineno, runs))
                        if alias.asname:
                            aliases[alias.asname] = target
            elif isinstance(node, ast.ImportFrom):
                base = _base(name, is_package, node)
                if base.split(".")[0] != "fixer":
                    continue
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    if submodule in known:
                        target = submodule
                        aliases[alias.asname or alias.name] = submodule
                    else:
                        target = _innermost(base, known) or base
                        if _private(alias.name) and target != name:
                            private.append(f"{name}:{node.lineno} imports {target}.{alias.name}")
                    if target != name:
                        imports.append(Import(name, target, node.lineno, runs))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and _private(node.attr) and aliases[node.value.id] != name):
                private.append(f"{name}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return Graph(known, imports, private)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def stage(module: str) -> str | None:
    """The stage a module belongs to, by its folder; None for a module outside every stage folder."""
    parts = module.split(".")
    if module == "fixer" or (len(parts) == 2 and parts[1] in SHARED):
        return "shared"
    if module == "fixer.__main__":
        return "cli"
    if parts[1] in (*STAGES, WING) and (len(parts) > 2 or (PACKAGE / parts[1]).is_dir()):
        return parts[1]
    return None


def allowed(importer: str, imported: str) -> bool:
    """Whether a module of stage `importer` may import one of stage `imported`."""
    if imported in ("shared", importer) or importer == "cli":
        return True
    if imported == "cli":
        return False
    if importer == WING:
        return True
    if imported == WING:
        return False
    return STAGES.index(imported) < STAGES.index(importer)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def levels(edges: dict[str, set[str]]) -> int:
    """Modules on the longest chain of imports (the graph has no circle)."""
    depth: dict[str, int] = {}

    def of(module: str) -> int:
        if module not in depth:
            depth[module] = 0  # a circle, if any, counts once
            depth[module] = 1 + max((of(t) for t in edges.get(module, ())), default=0)
        return depth[module]

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(edges) + 100))
    return max((of(m) for m in edges), default=0)


def upward(g: Graph) -> list[str]:
    out = []
    for imp in g.imports:
        source, target = stage(imp.importer), stage(imp.imported)
        if source and target and not allowed(source, target):
            out.append(f"{imp.importer}:{imp.line} ({source}) imports {imp.imported} ({target})")
    return sorted(set(out))


def long_modules(g: Graph) -> list[tuple[str, int]]:
    sizes = [(name, len(path.read_text(encoding="utf-8").splitlines())) for name, path in g.known.items()]
    return sorted(((name, n) for name, n in sizes if n > MAX_LINES and name not in LONG_MODULES), key=lambda x: -x[1])


def test_every_module_sits_in_a_stage_folder() -> None:
    outside = [name for name in graph().known if stage(name) is None]
    assert not outside, f"modules outside the stage folders ({', '.join(STAGES)}, {WING}): {outside}"


def test_no_import_circles() -> None:
    found = cycles(graph().edges())
    assert not found, f"import circles: {found}"


def test_no_stage_imports_a_later_one() -> None:
    found = upward(graph())
    assert not found, f"imports of a later stage: {found}"


def test_no_module_imports_another_modules_private_names() -> None:
    found = graph().private
    assert not found, f"private names used across modules (make them public, or move them where both belong): {found}"


def test_no_module_is_too_long_to_hold_in_mind() -> None:
    found = long_modules(graph())
    assert not found, f"modules over {MAX_LINES} lines (split them by meaning): {found}"


def test_the_long_module_allowances_name_existing_modules() -> None:
    assert set(LONG_MODULES) <= set(graph().known)


README = PACKAGE.parent / "README.md"


def test_the_readme_says_how_fixer_works_as_the_package_is() -> None:
    """README's "How fixer works": the stage folders in the order data flows, the wing, and where a rule goes."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## How fixer works", 1)[1].split("\n## ", 1)[0]
    folders = re.findall(r"^\d+\. `fixer/(\w+)/`", section, re.M)
    assert folders == list(STAGES)
    assert f"`fixer/{WING}/`" in section
    for path in re.findall(r"`(fixer/[\w/.]+|tests/[\w/.]+)`", section):
        assert (PACKAGE.parent / path).exists(), path
    for module in re.findall(r"`python -m ([\w.]+)`", section):
        assert (PACKAGE.parent / (module.replace(".", "/") + ".py")).is_file(), module
    registry = (PACKAGE / "rules" / "registry.py").read_text(encoding="utf-8")
    for name in re.findall(r"`([A-Z_]{4,})`", section):
        assert re.search(rf"^{name}\b", registry, re.M), name


def test_the_graph_reads_every_kind_of_import(tmp_path: Path) -> None:
    """The reader itself: relative, function-level, submodule and type-only imports all count."""
    package = tmp_path / "fixer"
    for folder in ("model", "rules"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "model" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from fixer.rules.b import B\n"
        "def f():\n    from . import c\n    return c._hidden\n")
    (package / "model" / "c.py").write_text("import fixer.model.a\n")
    (package / "rules" / "b.py").write_text("from ..model.c import _x\nfrom fixer.model import a\n")
    g = graph(package)
    assert {(i.importer, i.imported, i.runs) for i in g.imports} == {
        ("fixer.model.a", "fixer.rules.b", False), ("fixer.model.a", "fixer.model.c", True),
        ("fixer.model.c", "fixer.model.a", True), ("fixer.rules.b", "fixer.model.c", True),
        ("fixer.rules.b", "fixer.model.a", True),
    }
    assert cycles(g.edges()) == [["fixer.model.a", "fixer.model.c"]]
    assert sorted(g.private) == ["fixer.model.a:6 uses fixer.model.c._hidden", "fixer.rules.b:1 imports fixer.model.c._x"]
    assert allowed("rules", "model") and not allowed("model", "rules") and not allowed("output", "cli")
    assert allowed("verify", "output") and not allowed("output", "verify") and allowed("cli", "verify")


def main() -> None:
    g = graph()
    edges = g.edges()
    print(f"modules: {len(g.known)}, imports between them: {sum(map(len, edges.values()))}")
    found = cycles(edges)
    print(f"levels: {levels(edges) if not found else 'n/a (circles)'}")
    print(f"cycles: {len(found)}", *(f"  {' ↔ '.join(c)}" for c in found), sep="\n")
    ups = upward(g)
    print(f"upward: {len(ups)}", *(f"  {u}" for u in ups), sep="\n")
    print(f"private: {len(g.private)}", *(f"  {p}" for p in g.private), sep="\n")
    print(f"outside the stages: {[m for m in g.known if stage(m) is None]}")
    sizes = sorted(((len(p.read_text(encoding='utf-8').splitlines()), n) for n, p in g.known.items()), reverse=True)
    print("largest:", *(f"  {n} {name}" for n, name in sizes[:8]), sep="\n")


if __name__ == "__main__":
    main()
