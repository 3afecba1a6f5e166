"""What LibCST node types can stand under which, and a read-only walk that uses it.

LibCST's `tree.visit(visitor)` rebuilds every node of the tree, validation included, even for a visitor that
changes nothing: a rule's analysis pass (which names are used, which engines are async) costs as much as a
transform. `scan` calls the same `visit_<Node>` / `leave_<Node>` methods by reading the nodes' fields instead,
and does not enter a field whose declared types cannot hold a node the visitor has a method for.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from collections.abc import Callable

import libcst as cst


class NodeKinds:
    """Which LibCST node types can occur below which, read from the nodes' own field annotations.

    Bit masks over every CSTNode subclass; `below[C]` holds every type that may stand anywhere under a C,
    `fields[C][f]` every type that may stand in or under its field `f`. A field whose annotation cannot be
    read counts as holding anything.
    """

    def __init__(self) -> None:
        classes: list[type] = []
        stack, seen = [cst.CSTNode], set()
        while stack:
            for sub in stack.pop().__subclasses__():
                if sub not in seen:
                    seen.add(sub)
                    classes.append(sub)
                    stack.append(sub)
        self.bit = {cls: 1 << i for i, cls in enumerate(classes)}
        self.everything = (1 << len(classes)) - 1
        self.named: dict[str, int] = {}
        for cls, bit in self.bit.items():
            self.named[cls.__name__] = self.named.get(cls.__name__, 0) | bit

        members: dict[type, list[type]] = {}  # a declared type -> the classes that may stand for it

        def members_of(declared: type) -> list[type]:
            found = members.get(declared)
            if found is None:
                found = [declared] if declared in self.bit else []
                for sub in declared.__subclasses__():
                    found.extend(member for member in members_of(sub) if member not in found)
                members[declared] = found
            return found

        # Every dataclass field (ClassVar pseudo-fields too: more types only means fewer skips).
        declared = {cls: {name: _declared_types(cls, f.type) for name, f in _all_fields(cls).items()} for cls in classes}
        used = {d for per_field in declared.values() for types in per_field.values() if types for d in types}
        for d in used:
            members_of(d)
        self.below = {cls: 0 for cls in classes}
        changed = True
        while changed:
            changed = False
            reach = {d: 0 for d in used}
            for d in used:
                for member in members[d]:
                    reach[d] |= self.bit[member] | self.below[member]
            for cls in classes:
                mask = 0
                for types in declared[cls].values():
                    mask |= self.everything if types is None else _or(reach[d] for d in types)
                if mask != self.below[cls]:
                    self.below[cls] = mask
                    changed = True
        self.fields = {
            cls: {
                name: self.everything if types is None else _or(reach[d] for d in types)
                for name, types in per_field.items()
            }
            for cls, per_field in declared.items()
        }


def _all_fields(cls: type) -> dict[str, dataclasses.Field]:
    return getattr(cls, "__dataclass_fields__", {})


def _or(masks: typing.Iterable[int]) -> int:
    out = 0
    for mask in masks:
        out |= mask
    return out


class _Unknown(Exception):
    pass


def _declared_types(cls: type, annotation: object) -> list[type] | None:
    """The CSTNode classes an annotation names (an empty list: none can stand there); None: unreadable."""
    namespace = vars(sys.modules[cls.__module__]) if cls.__module__ in sys.modules else {}
    out: list[type] = []

    def walk(annotation: object) -> None:
        if isinstance(annotation, (str, typing.ForwardRef)):
            name = annotation if isinstance(annotation, str) else annotation.__forward_arg__
            if name not in namespace:
                raise _Unknown(name)
            annotation = namespace[name]
        if isinstance(annotation, type):
            if cst.CSTNode in annotation.__mro__:
                out.append(annotation)
            return
        if typing.get_origin(annotation) is typing.Literal:
            return
        args = typing.get_args(annotation)
        if not args:
            raise _Unknown(annotation)
        for arg in args:
            walk(arg)

    try:
        walk(annotation)
    except (_Unknown, TypeError):
        return None
    return out


_KINDS: list[NodeKinds] = []


def node_kinds() -> NodeKinds:
    if not _KINDS:
        _KINDS.append(NodeKinds())
    return _KINDS[0]


# Per visitor class, per node class: (visit method, leave method, the fields worth entering).
_Plan = tuple[Callable | None, Callable | None, tuple[str, ...]]
_PLANS: dict[type, tuple[int, dict[type, _Plan]]] = {}


def scan(tree: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """`tree.visit(visitor)` for a visitor that only reads, without rebuilding the tree.

    The visitor's `visit_<Node>` (returning False skips the node's children) and `leave_<Node>` methods are
    called as LibCST calls them, nested the same way and with the items of each sequence in order. Only the
    order between two different fields of one node may differ from the source's (a function's decorators
    come after its body): analyses that care about that order must use `tree.visit`. Visitors that override
    `on_visit` & co. or use matcher decorators are refused.
    """
    cls = type(visitor)
    if any(getattr(cls, hook) is not getattr(cst.CSTVisitor, hook) for hook in _DISPATCH):
        raise TypeError(f"{cls.__name__} overrides LibCST's dispatch: run it with tree.visit")
    known = _PLANS.get(cls)
    if known is None:
        known = _PLANS[cls] = (_hooked(cls), {})
    hooked, plans = known
    _walk(tree, visitor, plans, hooked, node_kinds().bit)


_DISPATCH = ("on_visit", "on_leave", "on_visit_attribute", "on_leave_attribute")


def _hooked(cls: type) -> int:
    found = hooked_kinds(cls)
    if found is None or found[1]:
        raise TypeError(f"{cls.__name__}: scan calls only visit_<Node> and leave_<Node> methods")
    return found[0]


def hooked_kinds(cls: type) -> tuple[int, int] | None:
    """The node types `cls` has visit_/leave_ methods for, and those among them with a visit_<Node>_<attr> or
    leave_<Node>_<attr> one; None when a method's name names no node type."""
    kinds = node_kinds()
    hooked = attr_hooked = 0
    for name in _hook_names(cls):
        if hook(cls, name) is None:
            continue
        node, _, attr = name.partition("_")[2].partition("_")
        if node not in kinds.named:
            return None
        hooked |= kinds.named[node]
        if attr:
            attr_hooked |= kinds.named[node]
    return hooked, attr_hooked


def hook(cls: type, name: str) -> Callable | None:
    """The method `name` of `cls`, unless it is LibCST's no-op default."""
    found = getattr(cls, name, None)
    return None if found is None or getattr(found, "_is_no_op", False) else found


_OWN_HOOK_NAMES: dict[type, frozenset[str]] = {}


def _hook_names(cls: type) -> set[str]:
    """The visit_/leave_ names some class of the MRO defines as something other than LibCST's no-op default."""
    names: set[str] = set()
    for klass in cls.__mro__:
        own = _OWN_HOOK_NAMES.get(klass)
        if own is None:
            own = _OWN_HOOK_NAMES[klass] = frozenset(
                name
                for name, value in vars(klass).items()
                if name.startswith(("visit_", "leave_")) and not getattr(value, "_is_no_op", False)
            )
        names |= own
    return names


def _plan(node_cls: type, visitor_cls: type, hooked: int) -> _Plan:
    kinds = node_kinds()
    reach = kinds.fields.get(node_cls)
    fields = tuple(
        f.name
        for f in dataclasses.fields(node_cls)
        if reach is None or reach.get(f.name, kinds.everything) & hooked
    )
    name = node_cls.__name__
    return hook(visitor_cls, f"visit_{name}"), hook(visitor_cls, f"leave_{name}"), fields


def _walk(node: cst.CSTNode, visitor: cst.CSTVisitor, plans: dict[type, _Plan], hooked: int, nodes: dict) -> None:
    # `type(x) in nodes` (every CSTNode class) instead of isinstance: CSTNode is an ABC, and its instance
    # check was a third of the walk.
    kind = type(node)
    plan = plans.get(kind)
    if plan is None:
        plan = plans[kind] = _plan(kind, type(visitor), hooked)
    visit, leave, fields = plan
    if visit is None or visit(visitor, node) is not False:
        for name in fields:
            value = getattr(node, name)
            kind = type(value)
            if kind in nodes:
                _walk(value, visitor, plans, hooked, nodes)
            elif kind is tuple or kind is list:
                for item in value:
                    if type(item) in nodes:
                        _walk(item, visitor, plans, hooked, nodes)
    if leave is not None:
        leave(visitor, node)


# The pseudo-word a statement "mentions" when one of its string literals could hold a PostgreSQL URL.
POSTGRES_STRING = "\0postgres-string"


class _Words(cst.CSTVisitor):
    def __init__(self) -> None:
        self.words: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.words.add(node.value)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if "postgres" in node.value:
            self.words.add(POSTGRES_STRING)

    def visit_FormattedStringText(self, node: cst.FormattedStringText) -> None:
        if "postgres" in node.value:
            self.words.add(POSTGRES_STRING)

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        self.words.add(POSTGRES_STRING)  # the URL may be split across the parts


# The codemods of one file ask about the same statements, which they pass on as the same objects: the words
# of the last thousand statements asked about are kept (with the statement, so that its id stays its own).
_WORDS_KEPT = 1024
_words_of: dict[int, tuple[cst.CSTNode, frozenset[str]]] = {}


def words(node: cst.CSTNode) -> frozenset[str]:
    """Every identifier `node` mentions (names, attribute names, keywords of arguments), and POSTGRES_STRING."""
    known = _words_of.get(id(node))
    if known is not None and known[0] is node:
        return known[1]
    found = _Words()
    scan(node, found)
    if len(_words_of) >= _WORDS_KEPT:
        _words_of.clear()
    result = _words_of[id(node)] = (node, frozenset(found.words))
    return result[1]


def visit_statements(
    tree: cst.Module, transformer: cst.CSTTransformer, enters: Callable[[cst.BaseStatement], bool]
) -> cst.Module:
    """`tree.visit(transformer)`, walking only the top-level statements `enters` accepts.

    The others are kept as they are, the same objects: for a transformer that could change nothing in them
    the result is the same, and most statements of a module have nothing to do with a given rule. An entered
    statement that comes back equal is kept as the same object too, and a module with no statement changed
    is returned as the same object, so that the runner need not print it back.
    """
    if transformer.on_visit(tree) is False:
        return transformer.on_leave(tree, tree)
    body: list[cst.BaseStatement] = []
    changed = False
    for statement in tree.body:
        if not enters(statement):
            body.append(statement)
            continue
        new = statement.visit(transformer)
        if isinstance(new, cst.CSTNode) and new is not statement and new.deep_equals(statement):
            new = statement
        changed = changed or new is not statement
        if isinstance(new, cst.FlattenSentinel):
            body.extend(new.nodes)
        elif not isinstance(new, cst.RemovalSentinel):
            body.append(new)
    updated = tree.with_changes(body=body) if changed else tree
    return transformer.on_leave(tree, updated)


def dotted(node: cst.CSTNode | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None
