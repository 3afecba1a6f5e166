"""FX052 annotated-default: Remove a route parameter's `= Depends()` default that repeats the dependency its `Annotated` type already names.

## What it does
Where the prediction of the documented start fails with `AssertionError: Cannot specify `Depends` in `Annotated`
and default value together for 'user'` at a route (fastapi 0.95 and later read `Annotated` metadata), and the
parameter's default is `Depends()` or the same `Depends(...)` the annotation holds (the annotation itself, or a
module-level alias such as `CurrentUser = Annotated[User, Depends(get_current_user)]`, also imported from
another module of the project), removes the default. Where a parameter with a default comes before it, the
parameters from it on become keyword-only (`*,`), as Python wants a parameter without a default there.

## Why is this bad?
Code written for fastapi before 0.95, where `Annotated` metadata was ignored and `= Depends()` named the
dependency, or a half-done move to `Annotated`: fastapi asserts while the route is declared, at import, and the
server never starts.

## Example
```python
CurrentUser = Annotated[User, Depends(get_current_user)]

@router.get("/me")
async def me(current_user: CurrentUser = Depends()):
    ...
```

## Use instead
```python
@router.get("/me")
async def me(current_user: CurrentUser):
    ...
```

## Fix safety
Safe: the prediction fails on that route without the edit, and fastapi resolves the same dependency from the
annotation with it (`Depends()` asked for what the annotation names). Moving parameters after `*` changes
nothing for fastapi, which passes every parameter by name. Not made where the default names another dependency
or the annotation holds another marker (`Query`, `Path`, ...): which one the code means is a person's choice,
and the startup report (FX030) says so.
"""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst
from libcst.metadata import PositionProvider

from fixer.model import ProjectModel
from fixer.model.annotated import REDUNDANT
from fixer.model.evidence import cite
from fixer.rules.base import FixerCodemod
from fixer.rules.findings import Category, Finding, Severity


def _redundant(model: ProjectModel, path: str) -> dict[str, tuple[set[str], object]]:
    """Function name -> (the parameters whose default to remove, the predicted failure) at `path`."""
    prediction = model.startup.primary
    out: dict[str, tuple[set[str], object]] = {}
    for failure in prediction.failures if prediction is not None else ():
        if failure.family != "annotated-default" or failure.path != path:
            continue
        function = re.search(r"`\w+` of (\w+)\(\)", failure.detail)
        names = failure.detail.partition(REDUNDANT)[2]
        if function and names:
            out.setdefault(function.group(1), (set(), failure))[0].update(n.strip() for n in names.split(","))
    return out


class AnnotatedDefault(FixerCodemod):
    __doc__ = __doc__
    RULE_ID: ClassVar[str] = "FX052"
    RULE_NAME: ClassVar[str] = "annotated-default"
    DEFECTS: ClassVar[tuple[str, ...]] = ()
    TRIGGER: ClassVar[re.Pattern[bytes]] = re.compile(rb"\bDepends\s*\(|\bSecurity\s*\(")

    @classmethod
    def wants(cls, path: str, model: ProjectModel) -> bool:
        return bool(_redundant(model, path))

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        path = (self.context.filename or "").replace("\\", "/")
        redundant = _redundant(self.facts, path)
        if not redundant:
            return tree
        positions = cst.MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
        spans = {node: (span.start.line, span.end.line) for node, span in positions.items()
                 if isinstance(node, cst.FunctionDef)}
        return tree.visit(_Defaults(self, redundant, spans))

    def report_removed(self, old: cst.FunctionDef, new: cst.FunctionDef, names: list[str], failure) -> None:
        self.report(Finding(
            rule=self.RULE_ID,
            category=Category.IMPORT,
            severity=Severity.CRITICAL,
            problem=f"{old.name.value}() gives {', '.join(f'`{n}`' for n in names)} a `Depends` default that repeats "
                    "the one its `Annotated` type holds: fastapi asserts when the route is declared",
            root_cause=f"fastapi 0.95 and later read `Annotated` metadata: `{failure}`.",
            old_code=self.code(old.params).strip(),
            new_code=self.code(new.params).strip(),
            explanation="The default is removed; fastapi takes the same dependency from the annotation.",
            evidence=cite(self.facts, failure),
        ))


class _Defaults(cst.CSTTransformer):
    def __init__(self, rule: AnnotatedDefault, redundant: dict[str, tuple[set[str], object]],
                 spans: dict[cst.CSTNode, tuple[int, int]]) -> None:
        super().__init__()
        self.rule, self.redundant, self.spans = rule, redundant, spans

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        found = self.redundant.get(original.name.value)
        span = self.spans.get(original)
        if found is None or span is None or not span[0] <= found[1].line <= span[1]:
            return updated
        names, failure = found
        params = updated.params
        if params.posonly_params:  # a default before `/` would make every later parameter keyword-only: a person's
            return updated
        removed = [p.name.value for p in (*params.params, *params.kwonly_params)
                   if p.name.value in names and p.default is not None]
        if not removed:
            return updated

        def bare(param: cst.Param) -> cst.Param:
            if param.name.value not in names or param.default is None:
                return param
            return param.with_changes(default=None, equal=cst.MaybeSentinel.DEFAULT)

        positional = [bare(p) for p in params.params]
        kwonly = [bare(p) for p in params.kwonly_params]
        # Python wants no parameter without a default after one with: from the first such, keyword-only.
        first_default = next((i for i, p in enumerate(positional) if p.default is not None), None)
        split = next((i for i, p in enumerate(positional) if first_default is not None and i > first_default
                      and p.default is None), None)
        changes: dict = {"params": positional, "kwonly_params": kwonly}
        if split is not None:
            changes["params"], moved = positional[:split], positional[split:]
            changes["kwonly_params"] = moved + kwonly
            if not isinstance(params.star_arg, cst.Param):
                # `*,` laid out as the parameters are: on a line of its own in a list written one per line
                before = positional[split - 1].comma
                changes["star_arg"] = cst.ParamStar(comma=cst.Comma(whitespace_after=before.whitespace_after)) \
                    if isinstance(before, cst.Comma) else cst.ParamStar()
        new = updated.with_changes(params=params.with_changes(**changes))
        self.rule.report_removed(updated, new, removed, failure)
        return new
