"""The two shapes a rule takes: a LibCST codemod over Python, or a text rule over another file format.

Both carry the same metadata (a stable ID, a name, a docstring whose first line is the title and whose
body says what the rule fixes, why, and shows a before/after example) and report `Finding`s.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import FunctionType, GetSetDescriptorType, MethodDescriptorType, WrapperDescriptorType
from typing import Any, ClassVar

import libcst as cst
from libcst.codemod import Codemod, CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor, ImportItem, RemoveImportsVisitor

from fixer.model import ProjectModel, gather
from fixer.rules.findings import Finding
from fixer.rules.tree_walk import hook, hooked_kinds, node_kinds, visit_statements
from fixer.rules.unused_imports import remove_unreferenced

FINDINGS_KEY = "fixer.findings"


class RuleMeta:
    """Metadata shared by every rule class."""

    RULE_ID: ClassVar[str]  # stable, e.g. "FX002"
    RULE_NAME: ClassVar[str]  # kebab-case, e.g. "async-imports"
    DEFECTS: ClassVar[tuple[str, ...]] = ()  # defect-catalogue IDs this rule handles

    @classmethod
    def title(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]


# ---------------------------------------------------------------------------------------------------
# Speed. LibCST's codemod machinery charges every codemod, on every file, for features fixer's rules do not
# use. What follows drops those charges and nothing else (the output stays the same, byte for byte):
# - `Codemod.transform_module` deep-copies the tree into a `MetadataWrapper` even for a codemod that declares
#   no metadata; `_NoCopyWithoutMetadata` wraps the tree without the copy then (the copy only exists so
#   that metadata lookups by node never meet one node twice).
# - Matcher-decoratable visitors and transformers (every codemod, and LibCST's import helpers) scan
#   `dir(self)`, hundreds of attributes, for matcher decorators at every construction, then test the
#   (usually empty) matchers and look up LibCST's no-op visit_/leave_ defaults at every node and every
#   attribute of every node. For a class without matcher decorators the scan is answered from the class
#   (once), and calls go straight to the visit_/leave_ methods the class defines. Anything decorated runs
#   LibCST's code as is.
# - A visitor walks, and a transformer rebuilds, the whole tree even where no node it handles can occur
#   (a transformer of import statements inside every expression). From LibCST's own field annotations,
#   `NodeKinds` knows which node types can occur under which; the dispatch does not descend into a subtree
#   that cannot hold a node the class has a method for (classes that override on_visit & co. are walked
#   in full). A skipped subtree is the same object afterwards instead of an equal copy.


def _trim_matcher_overhead() -> None:
    try:
        from libcst.matchers import _decorators, _visitors

        attrs = (
            _decorators.VISIT_POSITIVE_MATCHER_ATTR,
            _decorators.VISIT_NEGATIVE_MATCHER_ATTR,
            _decorators.CONSTRUCTED_VISIT_MATCHER_ATTR,
            _decorators.CONSTRUCTED_LEAVE_MATCHER_ATTR,
        )
        classes = (_visitors.MatcherDecoratableTransformer, _visitors.MatcherDecoratableVisitor)
        scans = ("_gather_constructed_visit_funcs", "_gather_constructed_leave_funcs", "_gather_matchers")
        if not all(callable(getattr(_visitors, name, None)) for name in scans):
            return
    except (ImportError, AttributeError):  # pragma: no cover - another LibCST: run its code as it is
        return
    for name in scans:
        scan = getattr(_visitors, name)
        if not getattr(scan, "_fixer_memoised", False):
            setattr(_visitors, name, _memoised_scan(scan, attrs))
    for cls in classes:
        if not getattr(cls.on_visit, "_fixer_direct", False):
            _direct_dispatch(cls, transformer=cls is _visitors.MatcherDecoratableTransformer)


def _memoised_scan(scan: Callable[[object], dict], attrs: tuple[str, ...]) -> Callable[[object], dict]:
    """`scan` (which reads every attribute of the instance for matcher decorators), answered without the
    scan for instances of a class that provably has none: see `_undecorated`."""

    def memoised(obj: object) -> dict:
        own = getattr(obj, "__dict__", None)
        if own is None or any(getattr(value, attr, None) for value in own.values() for attr in attrs):
            return scan(obj)
        return {} if _undecorated(type(obj), attrs) else scan(obj)

    memoised._fixer_memoised = True  # type: ignore[attr-defined]
    return memoised


_UNDECORATED: dict[type, bool] = {}  # per class, for its whole MRO
_UNDECORATED_OWN: dict[type, bool] = {}  # per class, for its own __dict__


def _undecorated(cls: type, attrs: tuple[str, ...]) -> bool:
    """No attribute of `cls` (in any class of its MRO, shadowed ones too) carries a matcher decorator, and
    nothing can make one appear (a descriptor other than functions and properties, `__getattr__`, ...)."""
    known = _UNDECORATED.get(cls)
    if known is None:
        known = _UNDECORATED[cls] = all(_own_undecorated(klass, attrs) for klass in cls.__mro__ if klass is not object)
    return known


def _own_undecorated(klass: type, attrs: tuple[str, ...]) -> bool:
    known = _UNDECORATED_OWN.get(klass)
    if known is not None:
        return known
    plain = (FunctionType, staticmethod, classmethod, property, WrapperDescriptorType, MethodDescriptorType)
    verdict = True
    for name, value in vars(klass).items():
        if name in ("__getattr__", "__getattribute__", "__dir__"):
            verdict = False
        elif name in ("__dict__", "__weakref__") and isinstance(value, GetSetDescriptorType):
            continue  # the instance's own dict, checked by the caller
        elif isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        elif isinstance(value, property):
            continue  # LibCST's scan skips properties
        elif hasattr(type(value), "__get__") and not isinstance(value, plain):
            verdict = False  # some other descriptor: what it returns is anyone's guess
        if not verdict or any(getattr(value, attr, None) for attr in attrs):
            verdict = False
            break
    _UNDECORATED_OWN[klass] = verdict
    return verdict


_DIRECT_METHODS = ("on_visit", "on_leave", "on_visit_attribute", "on_leave_attribute")
_DIRECT_FUNCS: set[Any] = set()


class _Hooks:
    """The visit_/leave_ methods one class really defines, by node type (None: only LibCST's no-op default),
    and, by node type, whether its subtree can hold anything those methods would see.

    Skipping a subtree that can't changes nothing: a visitor sees no node of it, and a transformer would
    only rebuild it equal. Classes that override the dispatch (on_visit, ...) are always walked in full.
    """

    __slots__ = ("cls", "visit", "leave", "visit_attr", "leave_attr", "hooked", "attr_hooked")

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.visit: dict[type, tuple[str | None, bool]] = {}  # node type -> (visit method, descend)
        self.leave: dict[type, str | None] = {}
        self.visit_attr: dict[tuple[type, str], str | None] = {}
        self.leave_attr: dict[tuple[type, str], str | None] = {}
        self.hooked: int | None = None  # node types with a method (None: walk everything)
        self.attr_hooked = 0  # node types with a visit_<Node>_<attr> or leave_<Node>_<attr> method
        if not all(getattr(cls, method, None) in _DIRECT_FUNCS for method in _DIRECT_METHODS):
            return
        found = hooked_kinds(cls)
        if found is not None:  # else a method name we do not understand: walk everything
            self.hooked, self.attr_hooked = found

    def find(self, name: str) -> str | None:
        return None if hook(self.cls, name) is None else name

    def visit_entry(self, kind: type) -> tuple[str | None, bool]:
        descend = True
        if self.hooked is not None:
            kinds = node_kinds()
            bit = kinds.bit.get(kind)
            if bit is not None and not bit & self.attr_hooked:
                descend = bool(kinds.below[kind] & self.hooked)
        return self.find(f"visit_{kind.__name__}"), descend


_HOOKS: dict[type, _Hooks] = {}
_HOOKS_KEY = "_fixer_hooks"


def _hooks(visitor: Any) -> _Hooks | None:
    """The direct-call table for this visitor, or None when LibCST's own dispatch must run (matchers in use)."""
    own = getattr(visitor, "__dict__", None)
    if own is None:
        return None
    try:
        return own[_HOOKS_KEY]
    except KeyError:
        pass
    hooks = None
    if not (
        visitor._extra_visit_funcs
        or visitor._extra_leave_funcs
        or visitor._matchers
        or any(name.startswith(("visit_", "leave_")) for name in own)
    ):
        cls = type(visitor)
        hooks = _HOOKS.get(cls)
        if hooks is None:
            hooks = _HOOKS[cls] = _Hooks(cls)
    own[_HOOKS_KEY] = hooks
    return hooks


def _direct_dispatch(cls: type, transformer: bool) -> None:
    slow_visit, slow_leave = cls.on_visit, cls.on_leave  # type: ignore[attr-defined]
    slow_visit_attr, slow_leave_attr = cls.on_visit_attribute, cls.on_leave_attribute  # type: ignore[attr-defined]

    def on_visit(self: Any, node: cst.CSTNode) -> bool:
        try:
            hooks = self.__dict__[_HOOKS_KEY]
        except (KeyError, AttributeError):
            hooks = _hooks(self)
        if hooks is None:
            return slow_visit(self, node)
        kind = type(node)
        try:
            name, descend = hooks.visit[kind]
        except KeyError:
            name, descend = hooks.visit[kind] = hooks.visit_entry(kind)
        if name is not None and getattr(self, name)(node) is False:
            return False
        return descend

    if transformer:

        def on_leave(self: Any, original_node: Any, updated_node: Any) -> Any:
            try:
                hooks = self.__dict__[_HOOKS_KEY]
            except (KeyError, AttributeError):
                hooks = _hooks(self)
            if hooks is None:
                return slow_leave(self, original_node, updated_node)
            kind = type(original_node)
            try:
                name = hooks.leave[kind]
            except KeyError:
                name = hooks.leave[kind] = hooks.find(f"leave_{kind.__name__}")
            return updated_node if name is None else getattr(self, name)(original_node, updated_node)

    else:

        def on_leave(self: Any, original_node: Any) -> None:  # type: ignore[misc]
            try:
                hooks = self.__dict__[_HOOKS_KEY]
            except (KeyError, AttributeError):
                hooks = _hooks(self)
            if hooks is None:
                return slow_leave(self, original_node)
            kind = type(original_node)
            try:
                name = hooks.leave[kind]
            except KeyError:
                name = hooks.leave[kind] = hooks.find(f"leave_{kind.__name__}")
            if name is not None:
                getattr(self, name)(original_node)
            return None

    def on_visit_attribute(self: Any, node: cst.CSTNode, attribute: str) -> None:
        try:
            hooks = self.__dict__[_HOOKS_KEY]
        except (KeyError, AttributeError):
            hooks = _hooks(self)
        if hooks is None:
            return slow_visit_attr(self, node, attribute)
        key = (type(node), attribute)
        try:
            name = hooks.visit_attr[key]
        except KeyError:
            name = hooks.visit_attr[key] = hooks.find(f"visit_{key[0].__name__}_{attribute}")
        if name is not None:
            getattr(self, name)(node)
        return None

    def on_leave_attribute(self: Any, original_node: cst.CSTNode, attribute: str) -> None:
        try:
            hooks = self.__dict__[_HOOKS_KEY]
        except (KeyError, AttributeError):
            hooks = _hooks(self)
        if hooks is None:
            return slow_leave_attr(self, original_node, attribute)
        key = (type(original_node), attribute)
        try:
            name = hooks.leave_attr[key]
        except KeyError:
            name = hooks.leave_attr[key] = hooks.find(f"leave_{key[0].__name__}_{attribute}")
        if name is not None:
            getattr(self, name)(original_node)
        return None

    for func, slow in (
        (on_visit, slow_visit),
        (on_leave, slow_leave),
        (on_visit_attribute, slow_visit_attr),
        (on_leave_attribute, slow_leave_attr),
    ):
        func.__doc__ = slow.__doc__
        func._fixer_direct = True  # type: ignore[attr-defined]
        _DIRECT_FUNCS.add(func)
        setattr(cls, slow.__name__, func)


_trim_matcher_overhead()


class _NoCopyWithoutMetadata:
    """Mixin for LibCST codemods: no deep copy of the tree when the codemod declares no metadata."""

    @contextmanager
    def _handle_metadata_reference(self, module: cst.Module) -> Iterator[cst.Module]:
        if self.get_inherited_dependencies():  # type: ignore[attr-defined]
            with super()._handle_metadata_reference(module) as tree:  # type: ignore[misc]
                yield tree
            return
        # As Codemod's, minus the copy: the wrapper only serves `context.module` here.
        context: CodemodContext = self.context  # type: ignore[has-type]
        old_wrapper = context.wrapper
        wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
        with self.resolve(wrapper):  # type: ignore[attr-defined]
            self.context = replace(context, wrapper=wrapper)
            try:
                yield wrapper.module
            finally:
                self.context = replace(self.context, wrapper=old_wrapper)


class FixerCodemod(RuleMeta, _NoCopyWithoutMetadata, VisitorBasedCodemodCommand):
    """Base of fixer's Python rules. A standard LibCST codemod command, so `python -m libcst.tool codemod` runs it too."""

    # Cheap text check on the raw bytes: a file it does not match is never parsed for this rule.
    TRIGGER: ClassVar[re.Pattern[bytes]]

    def __init__(self, context: CodemodContext, facts: ProjectModel | None = None) -> None:
        super().__init__(context)
        self.DESCRIPTION = self.title()
        self._facts = facts

    @property
    def facts(self) -> ProjectModel:
        # Run alone (e.g. by libcst.tool) there is no project scan: the file speaks for the project.
        if self._facts is None:
            module = self.context.module
            source = module.code.encode() if module is not None else b""
            self._facts = gather([(self.context.filename or "", source)])
        return self._facts

    @classmethod
    def wants(cls, path: str, model: ProjectModel) -> bool:
        """Whether the project model gives this rule anything to do in `path` (a file it does not want is never
        parsed for it): for rules whose text check alone would pick nearly every file."""
        return True

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        return visit_statements(tree, self, self.enters)

    @classmethod
    def planned(cls, model: ProjectModel, path: str) -> bool:
        """Whether the project model plans edits in `path` for this codemod whatever its TRIGGER says (the
        use-layer rules edit the files the model's call graph reaches)."""
        return False

    def enters(self, statement: cst.BaseStatement) -> bool:
        """Whether this codemod could change anything in this top-level statement: the others are not walked."""
        return True

    def transform_module(self, tree: cst.Module) -> cst.Module:
        # As CodemodCommand.transform_module, but imports are merged in order (see _OrderedAddImports)
        # and removed without scope metadata.
        tree = Codemod.transform_module(self, tree)
        if AddImportsVisitor.CONTEXT_KEY in self.context.scratch:
            self.context.scratch[_FIRST_PARTY_KEY] = self.facts.first_party
            for batch in _import_batches(self.context.scratch[AddImportsVisitor.CONTEXT_KEY]):
                self.context.scratch[AddImportsVisitor.CONTEXT_KEY] = batch
                tree = self._instantiate_and_run(_OrderedAddImports, tree)
        if RemoveImportsVisitor.CONTEXT_KEY in self.context.scratch:
            # The standard request API, a cheaper removal: see fixer.rules.unused_imports.
            tree = remove_unreferenced(tree, self.context.scratch.pop(RemoveImportsVisitor.CONTEXT_KEY))
        return tree

    def report(self, finding: Finding) -> None:
        self.context.scratch.setdefault(FINDINGS_KEY, []).append(finding)

    @staticmethod
    def code(node: cst.CSTNode) -> str:
        return cst.Module(body=[]).code_for_node(node)


class Unparseable(ValueError):
    """A text rule's file is not valid in its own format: the runner reports it and leaves it as it is."""


class TextRule(RuleMeta):
    """Base of fixer's rules over non-Python files (requirements, pyproject, .env, ini, compose)."""

    def applies_to(self, path: str) -> bool:
        """Whether this rule reads the file at `path` (relative to the root, POSIX separators)."""
        raise NotImplementedError

    def related(self, path: str, text: str) -> list[str]:
        """Further files (relative to the root) this file pulls in, e.g. `-r other.txt`; the runner reads them too."""
        return []

    def fix(self, path: str, text: str, facts: ProjectModel) -> tuple[str, list[Finding]]:
        """Return the new text (the same object when nothing changes) and what was found."""
        raise NotImplementedError

    def missing(self, facts: ProjectModel) -> list[tuple[str, Finding]]:
        """Findings about a file the project lacks, as (the path it would have, finding): no file to edit."""
        return []


class _OrderedAddImports(_NoCopyWithoutMetadata, AddImportsVisitor):
    """AddImportsVisitor that merges a name into an existing `from m import ...` in sorted position.

    LibCST's own puts new names first, so `from m import b, c` plus `a` would come out `a, b, c` only by luck
    and `x` as `x, b, c`; a reviewer then sees the import reordered. Keep the names' order and layout instead.
    """

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        # Only module-level import lines are ever extended (LibCST's own `all_imports` check): walk those only.
        return visit_statements(tree, self, _holds_import)

    def visit_Module(self, node: cst.Module) -> None:
        # LibCST only merges into the imports before the first other statement; AI-written modules often
        # import again after `load_dotenv()`. Treat every module-level `from m import ...` as mergeable.
        super().visit_Module(node)
        for statement in node.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and not small.relative and not isinstance(small.names, cst.ImportStar):
                    if small in self.all_imports or small.module is None:
                        continue
                    self.all_imports.append(small)
                    module = cst.Module(body=[]).code_for_node(small.module)
                    present = {_alias_key(a)[2] for a in small.names if a.asname is None}
                    if module in self.module_mapping:
                        self.module_mapping[module] -= present
                        if not self.module_mapping[module]:
                            del self.module_mapping[module]

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        """LibCST appends a new import line after the module's last import, often the project's own
        (`from app.config import settings`): move it into its isort section (stdlib, third party, first party),
        after that section's last line, where isort and ruff's `I` rules would have it."""
        result = super().leave_Module(original_node, updated_node)
        first_party = self.context.scratch.get(_FIRST_PARTY_KEY, frozenset())
        old = {id(statement) for statement in updated_node.body}
        body = list(result.body)
        for new in [s for s in body if id(s) not in old and _holds_import(s)]:
            section = _section(new, first_party)
            body.remove(new)
            leading = [i for i, s in enumerate(body) if _holds_import(s)]
            same = [i for i in leading if _section(body[i], first_party) == section]
            later = [i for i in leading if _section(body[i], first_party) > section]
            at = _sorted_place(body, same, new)
            if at is not None:  # a section in isort's order keeps it; the section's blank lines stay above it
                body.insert(at, new.with_changes(leading_lines=body[at].leading_lines))
                body[at + 1] = body[at + 1].with_changes(leading_lines=())
            elif later and (before := [i for i in same if i < later[0]]):
                # After its section's last line above the later section: an import of the same section further
                # down (a stray `from sqlalchemy import select` at the module's end) does not move it there.
                body.insert(before[-1] + 1, new.with_changes(leading_lines=()))
            elif later and not same and all(_section(body[i], first_party) < section for i in leading if i < later[0]):
                # The first of its section: it opens the section, ahead of the later one (isort's blank line between).
                at = later[0]
                body.insert(at, new.with_changes(leading_lines=body[at].leading_lines))
                body[at + 1] = body[at + 1].with_changes(leading_lines=[cst.EmptyLine()])
            else:
                body.insert(next(i for i, s in enumerate(result.body) if s is new), new)
        return result.with_changes(body=body)

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        merged = super().leave_ImportFrom(original_node, updated_node)
        if merged is updated_node or isinstance(merged.names, cst.ImportStar) or isinstance(updated_node.names, cst.ImportStar):
            return merged
        names = list(updated_node.names)
        added = list(merged.names)[: len(merged.names) - len(names)]
        keys = [_alias_key(alias) for alias in names]
        in_order = keys == sorted(keys)
        for alias in added:
            at = len(names)
            if in_order:
                at = next((i for i, existing in enumerate(names) if _alias_key(existing) > _alias_key(alias)), len(names))
            # A comma carries the whitespace before the next name: reuse one that separates two names.
            separator = names[0].comma if len(names) > 1 else _first_separator(updated_node)
            if at == len(names):
                last = names[-1]
                names[-1] = last.with_changes(comma=separator)
                names.append(alias.with_changes(comma=last.comma))
            else:
                names.insert(at, alias.with_changes(comma=names[at - 1].comma if at else separator))
        return updated_node.with_changes(names=names)


_FIRST_PARTY_KEY = "fixer.first_party"


def _section(statement: cst.BaseStatement, first_party: frozenset[str]) -> int:
    """isort's sections: 0 `__future__`, 1 standard library, 2 third party, 3 first party and relative."""
    import sys

    small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
    if isinstance(small, cst.ImportFrom):
        if small.relative or small.module is None:
            return 3
        top = cst.Module(body=[]).code_for_node(small.module).partition(".")[0]
    elif isinstance(small, cst.Import):
        top = cst.Module(body=[]).code_for_node(small.names[0].name).partition(".")[0]
    else:
        return 3
    if top == "__future__":
        return 0
    if top in first_party:
        return 3
    return 1 if top in sys.stdlib_module_names else 2


def _isort_key(statement: cst.BaseStatement) -> tuple[int, str]:
    """isort's and ruff's default order in a section: `import x` lines, then `from x import y` lines, each by
    module name, case-insensitively."""
    small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
    if isinstance(small, cst.Import):
        return 0, cst.Module(body=[]).code_for_node(small.names[0].name).lower()
    if isinstance(small, cst.ImportFrom) and small.module is not None:
        return 1, ("." * len(small.relative) + cst.Module(body=[]).code_for_node(small.module)).lower()
    return 2, ""


def _sorted_place(body: list[cst.BaseStatement], same: list[int], new: cst.BaseStatement) -> int | None:
    """Where `new` goes among its section's lines (`same`, indexes into `body`) when they are one run already
    in isort's order and `new` sorts before the last of them; else None (after the section's last line)."""
    if len(same) < 2 or same != list(range(same[0], same[-1] + 1)):
        return None
    keys = [_isort_key(body[i]) for i in same]
    if keys != sorted(keys) or any(body[i].leading_lines for i in same[1:]):
        return None  # not isort's order, or blank lines and comments that group the section by hand
    if any(line.comment is not None for line in body[same[0]].leading_lines):
        return None  # a comment heads the section: it stays first
    key = _isort_key(new)
    return next((same[n] for n, k in enumerate(keys) if k > key), None)


def _import_batches(items: list[ImportItem]) -> list[list[ImportItem]]:
    """LibCST sorts the names it adds to a module as (name, alias) pairs, which fails for a name wanted both
    plain and aliased (None against "AE"): the plain one is added in a second pass, merged into the line the
    first one wrote."""
    aliased = {(item.module_name, item.obj_name) for item in items if item.alias is not None}
    later = [item for item in items if item.alias is None and (item.module_name, item.obj_name) in aliased]
    return [[item for item in items if item not in later], later] if later else [items]


def _holds_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and any(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def _alias_key(alias: cst.ImportAlias) -> tuple[int, str, str]:
    """isort/ruff `order-by-type`: CONSTANTS, then Classes, then everything else."""
    name = cst.Module(body=[]).code_for_node(alias.name)
    rank = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return rank, name.lower(), name


def _first_separator(node: cst.ImportFrom) -> cst.Comma:
    # `from m import (\n    a,\n)`: a second name goes on its own line, as the first does.
    if node.lpar is not None and isinstance(node.lpar.whitespace_after, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=node.lpar.whitespace_after)
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
