"""What a URL read from the environment has become when it reaches a driver: the project's own code between the
two (settings classes and their validators, URL helpers, `str` methods, `re`, `urllib.parse`, SQLAlchemy's
`make_url`), run on the platform URL by a restricted evaluator.

Why an evaluator and not the project's code in a subprocess: the code that builds a URL sits in modules that do
other things at import (load `.env` files, open clients, import what the fresh install may not have), and its
helpers call SQLAlchemy, which fixer does not install. The evaluator executes none of the project's code: it
interprets, node by node, only assignments, `if`, `return`, `raise`, `try`, loops over known values, and calls
of the project's own functions and classes, of the methods of `str`, `dict`, `list` and of a fixed list of pure
library functions (`os.getenv`, `os.path`, `re`, `urllib.parse`, `make_url` as SQLAlchemy documents it). Anything
else (an attribute of an unknown object, a call of an unlisted function) makes the value unknown (`Unknown`),
and the caller falls back on what it knew before. A step budget bounds the work, so a loop cannot run away.
"""

from __future__ import annotations

import ast
import builtins
import os
import re
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["Evaluator", "Raised", "Unknown", "Url", "make_url"]

_BUDGET = 20000
_STR_METHODS = frozenset({
    "replace", "split", "rsplit", "partition", "rpartition", "startswith", "endswith", "lower", "upper", "strip",
    "lstrip", "rstrip", "removeprefix", "removesuffix", "format", "join", "find", "rfind", "index", "count",
    "casefold", "splitlines", "isdigit", "title", "encode", "decode"})
_CONTAINER_METHODS = frozenset({"get", "pop", "items", "keys", "values", "copy", "update", "setdefault", "append",
                                "extend", "insert", "index", "count", "group", "groups", "groupdict", "start",
                                "end", "geturl", "_replace", "sub", "subn", "match", "fullmatch", "search",
                                "split", "findall"})
_BUILTINS = {name: getattr(builtins, name) for name in (
    "str", "int", "bool", "len", "dict", "list", "tuple", "any", "all", "sorted", "min", "max", "enumerate",
    "zip", "set", "frozenset", "repr", "isinstance", "float", "reversed", "filter", "map")}
_EXCEPTIONS = frozenset({"ValueError", "TypeError", "RuntimeError", "KeyError", "Exception", "AssertionError",
                         "FileNotFoundError", "OSError"})


class Unknown(Exception):
    """The value depends on something the evaluator does not run."""


class Raised(Exception):
    """The project's code raises: `raise ValueError("...")` reached with the platform's values."""

    def __init__(self, exception: str, message: str) -> None:
        super().__init__(f"{exception}: {message}")
        self.exception, self.message = exception, message


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class Url:
    """SQLAlchemy's `URL` as `make_url` gives it: the parts, `set()`, `update_query_dict()`, and `str()` masking
    the password as `***` (`render_as_string(hide_password=False)` keeps it)."""

    def __init__(self, drivername, username, password, host, port, database, query) -> None:
        self.drivername, self.username, self.password = drivername, username, password
        self.host, self.port, self.database, self.query = host, port, database, dict(query)

    def set(self, **parts: Any) -> Url:
        values = {**vars(self), **parts}
        return Url(**values)

    def update_query_dict(self, query: dict, append: bool = False) -> Url:
        return self.set(query={**self.query, **query})

    def difference_update_query(self, names) -> Url:
        return self.set(query={k: v for k, v in self.query.items() if k not in set(names)})

    def get_backend_name(self) -> str:
        return self.drivername.partition("+")[0]

    def get_driver_name(self) -> str:
        return self.drivername.partition("+")[2]

    def render_as_string(self, hide_password: bool = True) -> str:
        out = self.drivername + "://"
        if self.username is not None:
            out += urllib.parse.quote(self.username, safe=" +")
            if self.password is not None:
                out += ":" + ("***" if hide_password else urllib.parse.quote(str(self.password), safe=" +"))
            out += "@"
        if self.host is not None:
            out += f"[{self.host}]" if ":" in self.host else self.host
        if self.port is not None:
            out += f":{self.port}"
        if self.database is not None:
            out += "/" + urllib.parse.quote(self.database, safe=" +/")
        if self.query:
            out += "?" + "&".join(f"{k}={v}" for k, v in sorted(self.query.items()))  # as SQLAlchemy renders it
        return out

    def __str__(self) -> str:
        return self.render_as_string(hide_password=True)


_URL = re.compile(r"(?P<name>[\w\+]+)://(?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?"
                  r"(?:(?:\[(?P<ipv6host>[^/\?]+)\]|(?P<ipv4host>[^/:\?]+))?(?::(?P<port>[^/\?]*))?)?"
                  r"(?:/(?P<database>[^\?]*))?(?:\?(?P<query>.*))?", re.X)


def make_url(text: Any) -> Url:
    """`sqlalchemy.engine.make_url`: a URL parsed as SQLAlchemy's pattern reads it (the database up to `?`)."""
    if isinstance(text, Url):
        return text
    match = _URL.match(str(text))
    if match is None:
        raise Raised("sqlalchemy.exc.ArgumentError", f"Could not parse SQLAlchemy URL from given URL string")
    query = dict(urllib.parse.parse_qsl(match["query"])) if match["query"] else {}
    unquote = urllib.parse.unquote
    return Url(match["name"], unquote(match["username"]) if match["username"] is not None else None,
               unquote(match["password"]) if match["password"] is not None else None,
               match["ipv4host"] or match["ipv6host"], int(match["port"]) if match["port"] else None,
               match["database"], query)


class _Function:
    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef, module: _Scope, owner: Any = None) -> None:
        self.node, self.module, self.owner = node, module, owner


class _Class:
    def __init__(self, node: ast.ClassDef, module: _Scope) -> None:
        self.node, self.module = node, module
        self.settings = any("Settings" in ast.unparse(b) for b in node.bases)


class _Instance:
    def __init__(self, cls: _Class) -> None:
        self.cls, self.attrs = cls, {}


class _Scope:
    """A module's globals as its top-level statements leave them (a line limit stops early)."""

    def __init__(self, name: str, package: str, file: Path | None) -> None:
        self.name, self.package, self.file = name, package, file
        self.names: dict[str, Any] = {}


_UNKNOWN = object()
_ENV = object()  # os.environ
_LIBRARY: dict[str, Any] = {
    "os.getenv": "getenv", "os.environ": _ENV, "os.path.join": os.path.join, "os.path.dirname": os.path.dirname,
    "os.path.abspath": os.path.abspath, "os.path.realpath": os.path.realpath, "os.path.basename": os.path.basename,
    "os.path.isfile": os.path.isfile, "os.path.exists": os.path.exists,
    "sqlalchemy.engine.make_url": make_url, "sqlalchemy.engine.url.make_url": make_url, "sqlalchemy.make_url": make_url,
    "dotenv.load_dotenv": lambda *a, **k: True, "dotenv.find_dotenv": lambda *a, **k: "",
    "dotenv.dotenv_values": "dotenv_values", "dotenv.main.dotenv_values": "dotenv_values",
    **{f"re.{n}": getattr(re, n) for n in ("sub", "subn", "match", "fullmatch", "search", "split", "findall",
                                           "compile", "escape", "IGNORECASE", "I")},
    **{f"urllib.parse.{n}": getattr(urllib.parse, n) for n in (
        "urlparse", "urlsplit", "urlunparse", "urlunsplit", "parse_qs", "parse_qsl", "urlencode", "quote",
        "quote_plus", "unquote", "unquote_plus")},
}


class Evaluator:
    """`env(name)` is what the environment holds (None: unset); `load(name)` a project module's (tree, file,
    package), None when it is not the project's; `env_file(path, module_file)` the variables python-dotenv's
    `dotenv_values(path)` reads there (path None: the `.env` it finds from the calling module's folder up), {}
    when no such file is there at the start; without it, such a call's value is not known."""

    def __init__(self, env: Callable[[str], str | None],
                 load: Callable[[str], tuple[ast.Module, Path | None, str] | None],
                 env_file: Callable[[str | None, Path | None], dict[str, str | None] | None] | None = None) -> None:
        self.env, self.load, self.env_file = env, load, env_file
        self.steps = 0
        self.scopes: dict[tuple[str, int | None], _Scope] = {}

    def _step(self) -> None:
        self.steps += 1
        if self.steps > _BUDGET:
            raise Unknown("step budget")

    # -- modules

    def module(self, name: str, until: int | None = None) -> _Scope:
        key = (name, until)
        if key in self.scopes:
            return self.scopes[key]
        loaded = self.load(name)
        if loaded is None:
            raise Unknown(name)
        tree, file, package = loaded
        scope = self.scopes[key] = _Scope(name, package, file)
        if file is not None:
            scope.names["__file__"] = str(file)
        for statement in tree.body:
            if until is not None and statement.lineno >= until:
                break
            self.top(scope, statement)
        return scope

    def top(self, scope: _Scope, node: ast.stmt) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if isinstance(node, ast.Import):
                    scope.names[alias.asname or alias.name.split(".")[0]] = ("module", alias.asname and alias.name
                                                                             or alias.name.split(".")[0])
                else:
                    base = self._absolute(scope, node.module or "", node.level)
                    scope.names[alias.asname or alias.name] = ("from", base, alias.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scope.names[node.name] = _Function(node, scope)
        elif isinstance(node, ast.ClassDef):
            scope.names[node.name] = _Class(node, scope)
        else:
            try:
                self.run([node], scope, scope.names)
            except (Unknown, Raised, _Return, RecursionError):
                for target in ast.walk(node):  # what the statement would have bound is not known
                    if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store):
                        scope.names[target.id] = _UNKNOWN

    @staticmethod
    def _absolute(scope: _Scope, module: str, level: int) -> str:
        if not level:
            return module
        parts = scope.package.split(".") if scope.package else []
        base = ".".join(parts[: len(parts) - level + 1]) if level <= len(parts) + 1 else ""
        return f"{base}.{module}".strip(".") if module else base

    def imported(self, ref: tuple) -> Any:
        if ref[0] == "module":
            return ("dotted", ref[1])
        _, base, attr = ref
        if f"{base}.{attr}" in _LIBRARY:
            return _LIBRARY[f"{base}.{attr}"]
        try:
            return self.lookup(self.module(base), attr)
        except Unknown:
            try:
                return ("dotted", self.module(f"{base}.{attr}").name)
            except Unknown:
                return ("dotted", f"{base}.{attr}")

    def lookup(self, scope: _Scope, name: str) -> Any:
        if name not in scope.names:
            raise Unknown(name)
        value = scope.names[name]
        if value is _UNKNOWN:
            raise Unknown(name)
        if isinstance(value, tuple) and value[:1] in (("module",), ("from",)):
            return self.imported(value)
        return value

    # -- statements

    def run(self, body: list[ast.stmt], scope: _Scope, names: dict[str, Any]) -> None:
        for node in body:
            self._step()
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                if node.value is None:
                    continue
                value = self.expr(node.value, scope, names)
                if isinstance(node, ast.AugAssign):
                    value = _binary(node.op, self.expr(node.target, scope, names), value)
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    self.assign(target, value, scope, names)
            elif isinstance(node, ast.If):
                self.run(node.body if self.expr(node.test, scope, names) else node.orelse, scope, names)
            elif isinstance(node, ast.Return):
                raise _Return(self.expr(node.value, scope, names) if node.value is not None else None)
            elif isinstance(node, ast.Raise):
                raise self._raised(node.exc, scope, names)
            elif isinstance(node, ast.Try):
                try:
                    self.run(node.body, scope, names)
                except Raised:
                    if not node.handlers:
                        raise
                    self.run(node.handlers[0].body, scope, names)
                else:
                    self.run(node.orelse, scope, names)
                self.run(node.finalbody, scope, names)
            elif isinstance(node, ast.For):
                for item in list(self.expr(node.iter, scope, names)):
                    self.assign(node.target, item, scope, names)
                    self.run(node.body, scope, names)
            elif isinstance(node, ast.Expr):
                if not isinstance(node.value, ast.Constant):
                    self._statement_call(node.value, scope, names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names[node.name] = _Function(node, scope)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self.top(scope, node) if names is scope.names else None
            elif not isinstance(node, (ast.Pass, ast.Global, ast.Nonlocal)):
                raise Unknown(type(node).__name__)

    def _statement_call(self, node: ast.expr, scope: _Scope, names: dict[str, Any]) -> None:
        """An expression run for its effect. A call whose value is dropped and that gets only strings and
        numbers (`config.set_main_option("sqlalchemy.url", url)`, `logger.info(...)`) changes none of the values
        evaluated here even when the evaluator does not know what it calls: the code after it still is."""
        try:
            self.expr(node, scope, names)
        except Unknown:
            if not isinstance(node, ast.Call) or node.keywords:
                raise
            for argument in node.args:
                if not isinstance(self.expr(argument, scope, names), (str, int, float, bool, type(None))):
                    raise

    def _raised(self, exc: ast.expr | None, scope: _Scope, names: dict[str, Any]) -> Raised:
        if isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name) and exc.func.id in _EXCEPTIONS:
            message = self.expr(exc.args[0], scope, names) if exc.args else ""
            return Raised(exc.func.id, str(message))
        raise Unknown("raise")

    def assign(self, target: ast.expr, value: Any, scope: _Scope, names: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            names[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = list(value)
            if len(values) != len(target.elts):
                raise Unknown("unpacking")
            for inner, item in zip(target.elts, values):
                self.assign(inner, item, scope, names)
        elif isinstance(target, ast.Attribute):
            owner = self.expr(target.value, scope, names)
            if not isinstance(owner, _Instance):
                raise Unknown("attribute target")
            owner.attrs[target.attr] = value
        elif isinstance(target, ast.Subscript):
            owner = self.expr(target.value, scope, names)
            if not isinstance(owner, (dict, list)):
                raise Unknown("subscript target")
            owner[self.expr(target.slice, scope, names)] = value
        else:
            raise Unknown("target")

    # -- expressions

    def expr(self, node: ast.expr, scope: _Scope, names: dict[str, Any]) -> Any:
        self._step()
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in names and names is not scope.names:
                return names[node.id]
            if node.id in scope.names:
                return self.lookup(scope, node.id)
            if node.id in _BUILTINS or node.id in _EXCEPTIONS or node.id in ("True", "False", "None"):
                return _BUILTINS.get(node.id, ("exception", node.id))
            raise Unknown(node.id)
        if isinstance(node, ast.JoinedStr):
            return "".join(str(self.expr(v, scope, names)) for v in node.values)
        if isinstance(node, ast.FormattedValue):
            value = self.expr(node.value, scope, names)
            value = {115: str, 114: repr}.get(node.conversion, lambda v: v)(value)
            spec = self.expr(node.format_spec, scope, names) if node.format_spec else ""
            return format(value, spec)
        if isinstance(node, ast.Attribute):
            return self.attribute(self.expr(node.value, scope, names), node.attr)
        if isinstance(node, ast.Call):
            return self.call(node, scope, names)
        if isinstance(node, ast.IfExp):
            return self.expr(node.body if self.expr(node.test, scope, names) else node.orelse, scope, names)
        if isinstance(node, ast.BoolOp):
            value = None
            for inner in node.values:
                value = self.expr(inner, scope, names)
                if bool(value) == isinstance(node.op, ast.Or):
                    return value
            return value
        if isinstance(node, ast.UnaryOp):
            value = self.expr(node.operand, scope, names)
            return {ast.Not: lambda v: not v, ast.USub: lambda v: -v, ast.UAdd: lambda v: +v}[type(node.op)](value)
        if isinstance(node, ast.BinOp):
            return _binary(node.op, self.expr(node.left, scope, names), self.expr(node.right, scope, names))
        if isinstance(node, ast.Compare):
            left = self.expr(node.left, scope, names)
            for op, right_node in zip(node.ops, node.comparators):
                right = self.expr(right_node, scope, names)
                if not _compare(op, left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.Subscript):
            owner = self.expr(node.value, scope, names)
            key = self.expr(node.slice, scope, names)
            if owner is _ENV:
                value = self.env(key)
                if value is None:
                    raise Raised("KeyError", repr(key))
                return value
            if not isinstance(owner, (str, list, tuple, dict)) and not hasattr(owner, "_fields"):
                raise Unknown("subscript")
            return owner[key]
        if isinstance(node, ast.Slice):
            return slice(*(self.expr(p, scope, names) if p is not None else None for p in (node.lower, node.upper, node.step)))
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = [self.expr(e, scope, names) for e in node.elts]
            return {ast.Tuple: tuple, ast.List: list, ast.Set: set}[type(node)](items)
        if isinstance(node, ast.Dict):
            return {self.expr(k, scope, names): self.expr(v, scope, names) for k, v in zip(node.keys, node.values)
                    if k is not None}
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)) and len(node.generators) == 1:
            generator, out = node.generators[0], []
            for item in list(self.expr(generator.iter, scope, names)):
                inner = dict(names)
                self.assign(generator.target, item, scope, inner)
                if all(self.expr(test, scope, inner) for test in generator.ifs):
                    out.append(self.expr(node.elt, scope, inner))
            return out
        if isinstance(node, ast.Await):
            raise Unknown("await")
        raise Unknown(type(node).__name__)

    def attribute(self, owner: Any, attr: str) -> Any:
        if isinstance(owner, tuple) and owner[:1] == ("dotted",):
            dotted = f"{owner[1]}.{attr}"
            if dotted in _LIBRARY:
                return _LIBRARY[dotted]
            try:
                return self.lookup(self.module(owner[1]), attr)
            except Unknown:
                return ("dotted", dotted)
        if isinstance(owner, _Instance):
            if attr in owner.attrs:
                return owner.attrs[attr]
            found = self.class_attribute(owner.cls, attr, owner)
            if isinstance(found, _Function) and any(ast.unparse(d).endswith(("property", "computed_field"))
                                                    for d in found.node.decorator_list):
                return self.invoke(found, [owner], {})
            return found
        if isinstance(owner, _Class):
            return self.class_attribute(owner, attr, owner)
        if owner is _ENV and attr == "get":
            return "getenv"
        if isinstance(owner, Url) and (attr in vars(owner) or not attr.startswith("_")):
            return getattr(owner, attr)
        if isinstance(owner, str) and attr in _STR_METHODS:
            return getattr(owner, attr)
        if attr in _CONTAINER_METHODS or attr in ("hostname", "port", "username", "password", "scheme", "netloc",
                                                   "path", "query", "params", "fragment"):
            if isinstance(owner, (dict, list, tuple, re.Pattern, re.Match)) or hasattr(owner, "_fields"):
                return getattr(owner, attr)
        raise Unknown(f".{attr}")

    def class_attribute(self, cls: _Class, attr: str, bound: Any) -> Any:
        for item in cls.node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == attr:
                return _Function(item, cls.module, bound)
        # The class body runs top to bottom in its own namespace: `URL = f"...{DB_USER}..."` reads the
        # attribute assigned above it (the project assembles the URL from parts, no variable holds it whole).
        body: dict[str, Any] = {}
        for item in cls.node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.value is not None:
                targets, value = [item.target.id], item.value
            elif isinstance(item, ast.Assign):
                targets, value = [t.id for t in item.targets if isinstance(t, ast.Name)], item.value
            else:
                continue
            if attr in targets:
                return self.expr(value, cls.module, body)
            try:
                body.update(dict.fromkeys(targets, self.expr(value, cls.module, body)))
            except Unknown:
                continue  # a name read later then stays unknown, as the module's own do
        raise Unknown(f"{cls.node.name}.{attr}")

    def call(self, node: ast.Call, scope: _Scope, names: dict[str, Any]) -> Any:
        func = self.expr(node.func, scope, names)
        args = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args += list(self.expr(arg.value, scope, names))
            else:
                args.append(self.expr(arg, scope, names))
        kwargs = {}
        for keyword in node.keywords:
            value = self.expr(keyword.value, scope, names)
            if keyword.arg is None:
                kwargs.update(value)
            else:
                kwargs[keyword.arg] = value
        if func == "getenv":
            value = self.env(args[0])
            return value if value is not None else (args[1] if len(args) > 1 else kwargs.get("default"))
        if func == "dotenv_values":
            # the file's variables only: dotenv_values() never reads the environment the platform sets
            path = args[0] if args else kwargs.get("dotenv_path")
            if self.env_file is None or kwargs.get("stream") is not None or not isinstance(path, (str, type(None))):
                raise Unknown("dotenv_values")
            found = self.env_file(path, scope.file)
            if found is None:
                raise Unknown("dotenv_values")
            return found
        if isinstance(func, tuple) and func[:1] == ("exception",):
            return Raised(func[1], str(args[0]) if args else "")
        if isinstance(func, _Function):
            bound = [func.owner] if func.owner is not None and not any(
                ast.unparse(d) == "staticmethod" for d in func.node.decorator_list) else []
            if bound and any(ast.unparse(d) == "classmethod" for d in func.node.decorator_list) \
                    and isinstance(func.owner, _Instance):
                bound = [func.owner.cls]
            return self.invoke(func, [*bound, *args], kwargs)
        if isinstance(func, _Class):
            return self.instantiate(func, args, kwargs)
        if callable(func) and (func in _LIBRARY.values() or func in _BUILTINS.values()
                               or getattr(func, "__self__", None) is not None):
            if any(isinstance(a, tuple) and a[:1] == ("dotted",) for a in (*args, *kwargs.values())):
                raise Unknown("call")  # a name not evaluated (a module's attribute): `str()` of it is no value
            try:
                return func(*args, **kwargs)
            except Raised:
                raise
            except Exception as error:
                raise Raised(type(error).__name__, str(error)) from None
        raise Unknown("call")

    def invoke(self, function: _Function, args: list[Any], kwargs: dict[str, Any]) -> Any:
        node = function.node
        if isinstance(node, ast.AsyncFunctionDef):
            raise Unknown("async def")
        params = [*node.args.posonlyargs, *node.args.args]
        defaults = [None] * (len(params) - len(node.args.defaults)) + list(node.args.defaults)
        local: dict[str, Any] = {}
        for index, (param, default) in enumerate(zip(params, defaults)):
            if index < len(args):
                local[param.arg] = args[index]
            elif param.arg in kwargs:
                local[param.arg] = kwargs[param.arg]
            elif default is not None:
                local[param.arg] = self.expr(default, function.module, function.module.names)
            else:
                local[param.arg] = None  # pydantic's `info`/`values`: not read by the URL code that matters
        for param, default in zip(node.args.kwonlyargs, node.args.kw_defaults):
            local[param.arg] = kwargs.get(param.arg, self.expr(default, function.module, function.module.names)
                                          if default is not None else None)
        try:
            self.run(node.body, function.module, local)
        except _Return as returned:
            return returned.value
        return None

    def instantiate(self, cls: _Class, args: list[Any], kwargs: dict[str, Any]) -> _Instance:
        """A settings class reads each field from the environment (its name, case-insensitive) and runs its field
        validators; another class runs its `__init__`."""
        instance = _Instance(cls)
        if not cls.settings:
            init = next((i for i in cls.node.body if isinstance(i, ast.FunctionDef) and i.name == "__init__"), None)
            if init is not None:
                self.invoke(_Function(init, cls.module, instance), [instance, *args], kwargs)
            return instance
        for item in cls.node.body:
            if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                continue
            name = item.target.id
            value = kwargs.get(name, self.env(name.upper()))
            if value is None:
                continue  # the default: read when asked (`class_attribute`)
            for validator in cls.node.body:
                if isinstance(validator, ast.FunctionDef) and _validates(validator, name):
                    value = self.invoke(_Function(validator, cls.module), [cls, value, None], {})
            instance.attrs[name] = value
        return instance


def _validates(function: ast.FunctionDef, field: str) -> bool:
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func).rpartition(".")[2] in (
                "field_validator", "validator") and any(
                isinstance(a, ast.Constant) and a.value in (field, "*") for a in decorator.args):
            return True
    return False


def _binary(op: ast.operator, left: Any, right: Any) -> Any:
    operations = {ast.Add: lambda a, b: a + b, ast.Mod: lambda a, b: a % b, ast.Sub: lambda a, b: a - b,
                  ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}
    if type(op) not in operations or not all(isinstance(v, (str, int, float, list, tuple)) for v in (left, right)):
        raise Unknown("operator")
    return operations[type(op)](left, right)


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    comparisons = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.In: lambda a, b: a in b,
                   ast.NotIn: lambda a, b: a not in b, ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b,
                   ast.Lt: lambda a, b: a < b, ast.Gt: lambda a, b: a > b, ast.LtE: lambda a, b: a <= b,
                   ast.GtE: lambda a, b: a >= b}
    try:
        return comparisons[type(op)](left, right)
    except TypeError:
        raise Unknown("comparison") from None
