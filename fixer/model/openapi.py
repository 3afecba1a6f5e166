"""FastAPI(...) asserts a title and a version while it builds the app (unless `openapi_url` is None or empty):
a value that is empty or None where the start reaches it stops the start there. `OpenAPIChecks` is the part of
the import walk (`fixer.model.importwalk`) that checks it, with the evaluator of `fixer.model.connect` run on the
platform's environment, which sets the database URL's variable and nothing else.
"""

from __future__ import annotations

import ast
from pathlib import Path

from fixer.model.connect import NOT_KNOWN
from fixer.model.settingsenv import named_by_environment

__all__ = ["OpenAPIChecks"]

_FIELDS = (("title", "'My API'"), ("version", "'2.1.0'"))


class OpenAPIChecks:
    def openapi_fields(self, call: ast.Call, where: tuple[Path, int]) -> None:
        given = self.fastapi_keywords(call, where)
        if "openapi_url" in given and given["openapi_url"][1] in (None, ""):
            return
        for field, example in _FIELDS:
            expression, value, mapped = given.get(field, (None, NOT_KNOWN, False))
            if value in ("", None) and not self.set_by_environment(expression, field if mapped else None):
                self.fail(f"openapi:{field}", "AssertionError", f"A {field} must be provided for OpenAPI, e.g.: {example}",
                          where, "empty-setting", f"`{field}` is {value!r} where the start reaches `{ast.unparse(call)}` "
                          "(the platform's environment does not set it), and FastAPI asserts it while it builds the app")
                return

    def fastapi_keywords(self, call: ast.Call, where: tuple[Path, int]) -> dict[str, tuple[ast.expr, object, bool]]:
        """Each keyword FastAPI(...) gets: (the expression that gives it, its value where the start reaches the
        call or NOT_KNOWN, whether a `**mapping` the code builds gives it)."""
        function = self.running[-1] if self.running else None
        statement = next((s for s in function.body if s.lineno <= call.lineno <= (s.end_lineno or s.lineno)), None) \
            if function is not None and function.lineno <= call.lineno <= (function.end_lineno or function.lineno) else None

        def value(node: ast.expr):
            return self.function_value(function, statement, node, where) if statement is not None \
                else self.known_value(node, where)

        given: dict[str, tuple[ast.expr, object, bool]] = {}
        for keyword in call.keywords:
            found = value(keyword.value)
            if keyword.arg is not None:
                given[keyword.arg] = (keyword.value, found, False)
            elif isinstance(found, dict):
                given.update((k, (keyword.value, v, True)) for k, v in found.items() if isinstance(k, str))
            else:
                return {}  # a mapping not worked out may set any keyword
        return given

    def set_by_environment(self, expression: ast.expr | None, entry: str | None) -> bool:
        """Whether a file the deploy's start reads names a variable `expression` may read (`settings.app_name`),
        or, for a mapping's `entry`, one named after it (`APP_TITLE` for "title": what the mapping read is not
        traced to its variable)."""
        if expression is None:
            return False
        names = {n.attr for n in ast.walk(expression) if isinstance(n, ast.Attribute)} | {
            n.value for n in ast.walk(expression) if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value}
        names |= {expression.id} if isinstance(expression, ast.Name) else set()
        return named_by_environment(self.backend, self.paths, names | ({entry} if entry else set()))
