"""FX003 async-sessionmaker: Build async sessions with async_sessionmaker(..., expire_on_commit=False).

## What it does
Turns a `sessionmaker(...)` that makes sessions for an async engine (bound to a `create_async_engine(...)`
engine of the module, without `class_`) into `async_sessionmaker(...)`, drops `autocommit=`, and sets
`expire_on_commit=False` where the project reads an object after `await session.commit()`, on the rewritten
call and on an existing `async_sessionmaker(...)` that lacks it. A factory asked of the engine itself,
`create_async_engine(url).sessionmaker(...)`, becomes `async_sessionmaker(create_async_engine(url), ...)`.
`sessionmaker` imports the rewrite left unused are removed.

## Why is this bad?
A plain `sessionmaker` makes sync sessions, so `async with maker() as session:` fails with `TypeError:
'Session' object does not support the asynchronous context manager protocol` (ENG-SESSIONMAKER);
`autocommit=True` raises `ArgumentError: autocommit=True is no longer supported`. With the default
`expire_on_commit=True`, `await session.commit()` expires every object, and reading `user.name` afterwards
needs a lazy refresh that raises `sqlalchemy.exc.MissingGreenlet` (ENG-EXPIRE).

## Example
```python
from sqlalchemy.orm import sessionmaker

async_session_maker = sessionmaker(bind=engine, autocommit=False)
```

## Use instead
```python
from sqlalchemy.ext.asyncio import async_sessionmaker

async_session_maker = async_sessionmaker(bind=engine, expire_on_commit=False)
```

## Fix safety
Safe where the module's own code shows the async engine the factory is bound to, and for
`expire_on_commit=False` where the project reads an object after a commit, and for `engine.sessionmaker(...)`,
which raises AttributeError wherever it runs. Renaming a working
`sessionmaker(class_=AsyncSession)` is unsafe (made with `--unsafe-fixes`): it works, and only keeps
`expire_on_commit=True`. A sessionmaker bound to a sync engine, or with nothing async about it, is left
alone, and so is every call on SQLAlchemy 1.4, which has no `async_sessionmaker` (VER-SA14-SESSIONMAKER).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from fixer.rules.findings import Category, Finding, Severity
from fixer.rules.base import FixerCodemod
from fixer.rules.tree_walk import dotted as _dotted
from fixer.rules.tree_walk import scan, words

_ASYNC_MODULE = "sqlalchemy.ext.asyncio"
_NEW_NAME = "async_sessionmaker"
_SESSIONMAKERS = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"})
_ASYNC_ENGINE_FACTORIES = frozenset({"create_async_engine", "async_engine_from_config", "AsyncEngine"})
_SYNC_ENGINE_FACTORIES = frozenset({"create_engine", "engine_from_config"})

_ERR_CONTEXT = "TypeError: 'Session' object does not support the asynchronous context manager protocol"
_ERR_AUTOCOMMIT = "ArgumentError: autocommit=True is no longer supported"
_ERR_EXPIRE = "sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call await_() here."


def _module_name(node: cst.ImportFrom) -> str | None:
    if node.relative or node.module is None:
        return None
    return _dotted(node.module)


def _mentions(node: cst.CSTNode, name: str) -> bool:
    """Whether an annotation names `name` (`AsyncEngine`, `x.AsyncEngine`, `AsyncEngine | None`, "AsyncEngine")."""
    finder = _NameFinder(name)
    scan(node, finder)
    return finder.found


class _NameFinder(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.found = False

    def visit_Name(self, node: cst.Name) -> None:
        self.found = self.found or node.value == self.name

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.found = self.found or node.attr.value == self.name

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self.found = self.found or re.search(rf"\b{self.name}\b", node.value) is not None


@dataclass
class _ModuleFacts:
    """What a quick pass over the module says about names: enough to resolve sessionmaker calls."""

    aliases: dict[str, str] = field(default_factory=dict)  # local name -> dotted origin
    module_level_imports: dict[str, str] = field(default_factory=dict)  # same, for top-level statements only
    # local name -> (module, obj, asname) for RemoveImportsVisitor; module None for `import a.b` (binds `a`)
    import_of: dict[str, tuple[str | None, str | None, str | None]] = field(default_factory=dict)
    assignments: list[tuple[str, cst.BaseExpression | None, cst.Annotation | None]] = field(default_factory=list)
    async_session_classes: set[str] = field(default_factory=set)  # local subclasses of AsyncSession
    class_bases: list[tuple[str, list[cst.BaseExpression]]] = field(default_factory=list)
    nested_bindings: set[str] = field(default_factory=set)  # names bound inside functions/classes
    # names bound at module level other than by an import, with each value assigned (None: a def or class)
    module_assigned: dict[str, list[cst.BaseExpression | None]] = field(default_factory=dict)
    async_engines: set[str] = field(default_factory=set)

    def qualify(self, node: cst.BaseExpression) -> str | None:
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        origin = self.aliases.get(head, head)
        return f"{origin}.{rest}" if rest else origin

    def finish(self) -> None:
        async_names: set[str] = set()
        sync_names: set[str] = set()
        for name, value, annotation in self.assignments:
            if annotation is not None and _mentions(annotation, "AsyncEngine"):
                async_names.add(name)
            if isinstance(value, cst.Call):
                factory = (self.qualify(value.func) or "").rpartition(".")[2]
                if factory in _ASYNC_ENGINE_FACTORIES:
                    async_names.add(name)
                elif factory in _SYNC_ENGINE_FACTORIES:
                    sync_names.add(name)
        self.async_engines = async_names - sync_names
        # class MySession(AsyncSession), and subclasses of those, in source order
        for name, bases in self.class_bases:
            if any(self.is_async_session(base) for base in bases):
                self.async_session_classes.add(name)

    def is_async_session(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Name) and node.value in self.async_session_classes:
            return True
        qualified = self.qualify(node)
        return qualified is not None and qualified.rpartition(".")[2] == "AsyncSession"

    def is_async_engine(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Name):
            return node.value in self.async_engines
        if isinstance(node, cst.Call):
            return (self.qualify(node.func) or "").rpartition(".")[2] in _ASYNC_ENGINE_FACTORIES
        return False


class _Prepass(cst.CSTVisitor):
    def __init__(self) -> None:
        self.facts = _ModuleFacts()
        self._depth = 0  # inside how many functions/classes
        self._top_level: set[int] = set()

    def visit_Module(self, node: cst.Module) -> None:
        for stmt in node.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                self._top_level.update(id(small) for small in stmt.body)

    def _bind(
        self, local: str, origin: str, node: cst.CSTNode, removal: tuple[str | None, str | None, str | None]
    ) -> None:
        self.facts.aliases[local] = origin
        self.facts.import_of[local] = removal
        if id(node) in self._top_level:
            self.facts.module_level_imports[local] = origin

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = _dotted(alias.name)
            if dotted is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value, dotted, node, (dotted, None, alias.asname.name.value))
            else:
                head = dotted.partition(".")[0]
                self._bind(head, head, node, (None, None, None))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = _module_name(node)
        if module is None or isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = _dotted(alias.name)
            if name is None:
                continue
            asname = None
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                asname = alias.asname.name.value
            self._bind(asname or name, f"{module}.{name}", node, (module, name, asname))

    def _target(
        self, target: cst.BaseExpression, value: cst.BaseExpression | None, ann: cst.Annotation | None
    ) -> None:
        if isinstance(target, cst.Name):
            self.facts.assignments.append((target.value, value, ann))
            if self._depth:
                self.facts.nested_bindings.add(target.value)
            else:
                self.facts.module_assigned.setdefault(target.value, []).append(value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._target(target.target, node.value, None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._target(node.target, node.value, node.annotation)

    def visit_Param(self, node: cst.Param) -> None:
        if self._depth:
            self.facts.nested_bindings.add(node.name.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._depth:
            self.facts.nested_bindings.add(node.name.value)
        else:
            self.facts.module_assigned.setdefault(node.name.value, []).append(None)
        self._depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if not self._depth:
            self.facts.module_assigned.setdefault(node.name.value, []).append(None)
        self.facts.class_bases.append((node.name.value, [arg.value for arg in node.bases if not arg.keyword]))
        self._depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._depth -= 1


def _kwarg(args: list[cst.Arg], name: str) -> int | None:
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == name:
            return i
    return None


def _class_arg(call: cst.Call) -> cst.BaseExpression | None:
    index = _kwarg(list(call.args), "class_")
    return call.args[index].value if index is not None else None


def _is_true(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _separator(args: list[cst.Arg], call: cst.Call) -> cst.Comma:
    """The comma style between two arguments of this call (copied from a non-last argument)."""
    for arg in args[:-1]:
        if isinstance(arg.comma, cst.Comma):
            return arg.comma
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):  # f(\n    only_arg\n)
        return cst.Comma(whitespace_after=call.whitespace_before_args)
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _without(args: list[cst.Arg], index: int) -> list[cst.Arg]:
    """Drop args[index]; dropping the last one hands its comma and trailing space to the new last one."""
    if index == len(args) - 1 and index > 0:
        gone = args[index]
        args[index - 1] = args[index - 1].with_changes(
            comma=gone.comma, whitespace_after_arg=gone.whitespace_after_arg
        )
    return args[:index] + args[index + 1 :]


def _appended(args: list[cst.Arg], new: cst.Arg, call: cst.Call) -> list[cst.Arg]:
    """Add `new` as the last argument, keeping the call's layout: one per line stays one per line."""
    if not args:
        return [new]
    last = args[-1]
    sep = _separator(args, call)
    if isinstance(last.comma, cst.Comma):  # trailing comma: the new argument gets one too
        last_ws = last.comma.whitespace_after
        sep_ws = sep.whitespace_after
        if isinstance(last_ws, cst.ParenthesizedWhitespace) and isinstance(sep_ws, cst.ParenthesizedWhitespace):
            # keep a comment on the old last line where it is; the new line takes the closing indentation
            sep = last.comma.with_changes(
                whitespace_after=last_ws.with_changes(indent=sep_ws.indent, last_line=sep_ws.last_line)
            )
            new_comma = cst.Comma(
                whitespace_after=cst.ParenthesizedWhitespace(indent=last_ws.indent, last_line=last_ws.last_line)
            )
        else:
            new_comma = last.comma
        return [*args[:-1], last.with_changes(comma=sep), new.with_changes(comma=new_comma)]
    return [
        *args[:-1],
        last.with_changes(comma=sep, whitespace_after_arg=cst.SimpleWhitespace("")),
        new.with_changes(whitespace_after_arg=last.whitespace_after_arg),
    ]


class AsyncSessionmaker(FixerCodemod):
    __doc__ = __doc__

    RULE_ID = "FX003"
    RULE_NAME = "async-sessionmaker"
    DEFECTS = ("ENG-SESSIONMAKER", "ENG-EXPIRE")
    # `\bsessionmaker\b` alone misses `async_sessionmaker` (`_` is a word character, so there is no \b before "s")
    TRIGGER = re.compile(rb"\b(?:async_)?sessionmaker\b")

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        if any(isinstance(s, cst.Try) and _NEW_NAME in words(s) for s in tree.body):
            # `try: from sqlalchemy.ext.asyncio import async_sessionmaker / except ImportError: ...`: the
            # module handles SQLAlchemy versions itself; an unguarded import would defeat it on 1.4.
            return tree
        prepass = _Prepass()
        scan(tree, prepass)
        self._mod = prepass.facts
        self._mod.finish()
        self._renamed = False  # some call now needs async_sessionmaker
        self._parameters: list[set[str]] = []  # parameter names of the enclosing functions
        self._removals: set[tuple[str, str | None, str | None]] = set()
        existing = [
            local
            for local, origin in self._mod.module_level_imports.items()
            if origin.startswith("sqlalchemy.") and origin.rpartition(".")[2] == _NEW_NAME
        ]
        # reuse an existing module-level import (also `as` one); else the plain name, unless a local binds it
        self._new_name = _NEW_NAME if _NEW_NAME in existing else (existing[0] if existing else None)
        self._import_needed = self._new_name is None
        if self._new_name is None and _NEW_NAME not in self._mod.nested_bindings and not self._binds_own_new_name():
            self._new_name = _NEW_NAME

        self._words = {"sessionmaker", _NEW_NAME} | {
            local for local, origin in self._mod.aliases.items() if origin.rpartition(".")[2] in ("sessionmaker", _NEW_NAME)
        }
        tree = super().transform_module_impl(tree)

        if self._renamed and self._import_needed:
            AddImportsVisitor.add_needed_import(self.context, _ASYNC_MODULE, _NEW_NAME)
        for module, obj, asname in sorted(self._removals, key=str):
            RemoveImportsVisitor.remove_unused_import(self.context, module, obj, asname)
        return tree

    def _binds_own_new_name(self) -> bool:
        """Whether the module's own `async_sessionmaker` is something else than a session factory (3, a def):
        a renamed call would call it. `async_sessionmaker = sessionmaker(...)` is harmless, its right side
        being evaluated first."""
        return any(
            not (isinstance(value, cst.Call) and self._mod.qualify(value.func) in _SESSIONMAKERS)
            for value in self._mod.module_assigned.get(_NEW_NAME, [])
        )

    def enters(self, statement: cst.BaseStatement) -> bool:
        # A call of (async_)sessionmaker names it, as `sessionmaker(...)`, `orm.sessionmaker(...)` or an alias.
        return not self._words.isdisjoint(words(statement))

    # ---------------------------------------------------------------- calls

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params = node.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
        self._parameters.append({p.name.value for p in every})

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self._parameters.pop()
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        head = (_dotted(original_node.func) or "").partition(".")[0]
        if any(head in names for names in self._parameters):
            return updated_node  # a parameter named like the factory (a pytest fixture): not SQLAlchemy's
        func = original_node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("sessionmaker", _NEW_NAME) and \
                self._mod.is_async_engine(func.value) and self._new_name is not None and \
                self.facts.versions.supports("sqlalchemy", ">=2.0"):
            return self._engine_method(original_node, updated_node)
        qualified = self._mod.qualify(func)
        if qualified is None:
            return updated_node
        if qualified in _SESSIONMAKERS:
            if self._new_name is None or not self._makes_async_sessions(original_node):
                return updated_node
            if not self.facts.versions.supports("sqlalchemy", ">=2.0"):
                return updated_node  # VER-SA14-SESSIONMAKER: sessionmaker(class_=AsyncSession) is 1.4's idiom
            return self._fix(original_node, updated_node, rename=True)
        if qualified.startswith("sqlalchemy.") and qualified.rpartition(".")[2] == _NEW_NAME:
            # `async_sessionmaker = async_sessionmaker(...)` makes the name a factory: calling it makes a session.
            if (_dotted(original_node.func) or "").partition(".")[0] in self._mod.module_assigned:
                return updated_node
            return self._fix(original_node, updated_node, rename=False)
        return updated_node

    def _engine_method(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        """`create_async_engine(url).sessionmaker(...)`: an AsyncEngine has no such method, so the line raises
        AttributeError wherever it runs; the factory takes the engine as its first argument."""
        assert self._new_name is not None and isinstance(updated.func, cst.Attribute)
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if updated.args else cst.MaybeSentinel.DEFAULT
        new_call = updated.with_changes(func=cst.Name(self._new_name),
                                        args=[cst.Arg(value=updated.func.value, comma=comma), *updated.args])
        self._renamed = True
        self.report(Finding(
            rule=self.RULE_ID, category=Category.DATABASE, severity=Severity.HIGH,
            problem=f"`.{updated.func.attr.value}(...)` is called on an AsyncEngine, which has no such method.",
            root_cause="A session factory is built by calling async_sessionmaker with the engine, not a method of "
                       "the engine: the line raises `AttributeError: 'AsyncEngine' object has no attribute "
                       f"'{updated.func.attr.value}'` where it runs.",
            old_code=self.code(original), new_code=self.code(new_call),
            explanation=f"The engine becomes async_sessionmaker's first argument (from {_ASYNC_MODULE}).",
            defects=("ENG-SESSIONMAKER",),
        ))
        return self._fix(new_call, new_call, rename=False)  # now an async_sessionmaker: expire_on_commit as for one

    def _makes_async_sessions(self, call: cst.Call) -> bool:
        args = list(call.args)
        class_index = _kwarg(args, "class_")
        if class_index is not None:
            return self._mod.is_async_session(args[class_index].value)
        bind_index = _kwarg(args, "bind")
        if bind_index is None:
            positional = [arg for arg in args if arg.keyword is None and not arg.star]
            if not positional or args[0] is not positional[0]:
                return False
            return self._mod.is_async_engine(positional[0].value)
        return self._mod.is_async_engine(args[bind_index].value)

    def _fix(self, original: cst.Call, updated: cst.Call, *, rename: bool) -> cst.Call:
        """Make what fails today (safe); offer the rest (unsafe, made with --unsafe-fixes).

        Fails today: a sessionmaker without `class_` bound to an async engine makes sync Sessions; autocommit=True
        raises; expire_on_commit left True where the project reads an object after `await commit()` (the
        model's expired reads, ENG-EXPIRE). A sessionmaker(class_=AsyncSession) works on SQLAlchemy 2: renaming
        it, and expire_on_commit=False where nothing shows the need, change code that works."""
        args = list(updated.args)
        autocommit = _kwarg(args, "autocommit")
        autocommit_true = autocommit is not None and _is_true(args[autocommit].value)
        expire = _kwarg(args, "expire_on_commit")
        mapping = any(arg.star == "**" for arg in args)
        expire_wrong = (expire is None and not mapping) or (expire is not None and _is_true(args[expire].value))
        shown = self.facts.flow.expired_reads
        unsafe = self.facts.unsafe_fixes
        do_rename = rename and (_class_arg(original) is None or autocommit_true or (expire_wrong and bool(shown)) or unsafe)
        do_expire = expire_wrong and (do_rename or bool(shown) or unsafe)
        if (rename and not do_rename) or (expire_wrong and not do_expire):
            offered, flags = self._rewrite(original, updated, rename=rename, expire=True)
            finding = self._finding(original, offered, rename=rename, **flags)
            if rename:
                problem = "sessionmaker(class_=AsyncSession) works; async_sessionmaker is its typed form."
                if expire_wrong:
                    problem = (
                        "sessionmaker(class_=AsyncSession) works, but keeps expire_on_commit=True: an object read after "
                        "`await session.commit()` raises MissingGreenlet. Nothing in the project reads one yet."
                    )
                finding = replace(finding, problem=problem)
            # Code that works today: a latent MissingGreenlet once something reads after a commit, else style.
            severity = Severity.MEDIUM if expire_wrong else Severity.LOW
            self.report(replace(finding, fixed=False, safe=False, severity=severity))
        if not (do_rename or do_expire or autocommit is not None):
            return updated
        if not (do_rename or do_expire) and not autocommit_true and not rename:
            return updated  # async_sessionmaker(autocommit=False) works: nothing fails to fix
        if rename and not do_rename:
            return updated
        new_call, flags = self._rewrite(original, updated, rename=do_rename, expire=do_expire)
        if new_call is updated:
            return updated
        if do_rename:
            self._note_rename(original)
        evidence = "; ".join(f"{r.path}:{r.line} reads `{r.name}` after commit" for r in shown[:3])
        self.report(replace(self._finding(original, new_call, rename=do_rename, **flags), evidence=evidence if flags["expire_fixed"] else ""))
        return new_call

    def _rewrite(
        self, original: cst.Call, updated: cst.Call, *, rename: bool, expire: bool
    ) -> tuple[cst.Call, dict[str, bool]]:
        """The call with autocommit= dropped, expire_on_commit=False set (with `expire`) and renamed (with
        `rename`), and what changed; `updated` itself when nothing did."""
        args = list(updated.args)
        dropped: cst.Arg | None = None
        autocommit = _kwarg(args, "autocommit")
        if autocommit is not None:
            dropped = args[autocommit]
            args = _without(args, autocommit)

        expire_fixed = expire_left = False
        index = _kwarg(args, "expire_on_commit")
        if index is None and any(arg.star == "**" for arg in args):
            expire_left = True  # the mapping may carry it already: adding it again would be a TypeError
        elif not expire:
            pass
        elif index is not None:
            if _is_true(args[index].value):
                args[index] = args[index].with_changes(value=cst.Name("False"))
                expire_fixed = True
        elif not args and dropped is not None:  # f(autocommit=False) -> f(expire_on_commit=False), same layout
            args = [dropped.with_changes(keyword=cst.Name("expire_on_commit"), value=cst.Name("False"))]
            expire_fixed = True
        else:
            equal = next((arg.equal for arg in args if isinstance(arg.equal, cst.AssignEqual)), None)
            if equal is None:  # the default AssignEqual renders as ` = `
                no_space = cst.SimpleWhitespace("")
                equal = cst.AssignEqual(whitespace_before=no_space, whitespace_after=no_space)
            new_arg = cst.Arg(keyword=cst.Name("expire_on_commit"), value=cst.Name("False"), equal=equal)
            args = _appended(args, new_arg, updated)
            expire_fixed = True

        flags = {"dropped_autocommit": dropped is not None, "expire_fixed": expire_fixed, "expire_left": expire_left}
        if not (rename or dropped or expire_fixed):
            return updated, flags
        new_call = updated.with_changes(args=args)
        if rename:
            assert self._new_name is not None
            new_call = new_call.with_changes(func=cst.Name(self._new_name))
        return new_call, flags

    def _note_rename(self, original: cst.Call) -> None:
        self._renamed = True
        dotted = _dotted(original.func)
        if dotted is None:
            return
        local = dotted.partition(".")[0]
        removal = self._mod.import_of.get(local)
        # only module-level imports: RemoveImportsVisitor would empty a try/except or if block into `pass`
        if removal is None or local not in self._mod.module_level_imports:
            return
        if removal[0] is None:  # `import sqlalchemy.orm` binds `sqlalchemy`: the module is the call's prefix
            removal = (dotted.rpartition(".")[0], None, None)
        self._removals.add(removal)

    def _finding(
        self,
        original: cst.Call,
        new_call: cst.Call,
        *,
        rename: bool,
        dropped_autocommit: bool,
        expire_fixed: bool,
        expire_left: bool,
    ) -> Finding:
        class_arg = _class_arg(original)
        if rename and class_arg is not None and self._mod.is_async_session(class_arg):
            problem = "The sync sessionmaker() is used to build AsyncSession objects (class_=AsyncSession)."
            root_cause = (
                "The code moved to SQLAlchemy's asyncio layer but kept the sync session factory, which is typed as "
                "making sync Sessions and keeps their defaults, notably expire_on_commit=True."
            )
            explanation = f"Renamed to async_sessionmaker (from {_ASYNC_MODULE}), the factory made for AsyncSession. "
        elif rename:
            problem = "sessionmaker() bound to an AsyncEngine builds sync Session objects."
            root_cause = (
                "The engine moved to SQLAlchemy's asyncio layer (create_async_engine) but the session factory is "
                "still the sync sessionmaker, whose sessions cannot be used with `async with` or awaited."
            )
            explanation = (
                f"Renamed to async_sessionmaker (from {_ASYNC_MODULE}). The sync factory fails at the first "
                f"`async with maker() as session:` with `{_ERR_CONTEXT}`. "
            )
        else:
            problem = "async_sessionmaker() keeps the default expire_on_commit=True, so objects expire on commit."
            root_cause = (
                "After `await session.commit()` every loaded object is expired; reading an attribute then needs a "
                "lazy refresh, which an async session cannot do implicitly."
            )
            explanation = ""
        if dropped_autocommit:
            explanation += (
                "Dropped autocommit=: async sessions never autocommit, and autocommit=True raises "
                f"`{_ERR_AUTOCOMMIT}`. "
            )
        if expire_fixed:
            explanation += (
                "Set expire_on_commit=False: with the default True, reading e.g. `user.id` after "
                f"`await session.commit()` raises `{_ERR_EXPIRE}`"
            )
        elif expire_left:
            explanation += (
                "expire_on_commit was not added because a **mapping is passed: make sure it sets "
                "expire_on_commit=False."
            )
        defects: list[str] = []
        if rename or dropped_autocommit:
            defects.append("ENG-SESSIONMAKER")
        if expire_fixed:
            defects.append("ENG-EXPIRE")
        if not rename:  # an async_sessionmaker: the expire fix is the point
            defects.sort(key=lambda d: d != "ENG-EXPIRE")
        return Finding(
            rule=self.RULE_ID,
            category=Category.DATABASE,
            severity=Severity.CRITICAL,
            problem=problem,
            root_cause=root_cause,
            old_code=self.code(original),
            new_code=self.code(new_call),
            explanation=explanation.strip(),
            defects=tuple(defects),
        )
