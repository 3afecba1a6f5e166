"""The rule registry. Python codemods run in this order on one parse of each file: FX002 turns
`create_engine` into `create_async_engine` before FX003 and FX004 look for async engines. The use-layer
rules (FX010-FX019) decide nothing themselves (the model's plan does) and run first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fixer.rules.alembic_app_url import AlembicAppUrl
from fixer.rules.annotated_default import AnnotatedDefault
from fixer.rules.async_driver import AsyncDriverDependency
from fixer.rules.asyncpg_dsn import AsyncpgDsn
from fixer.rules.aware_datetime import AwareDatetime
from fixer.rules.async_imports import AsyncImports
from fixer.rules.async_propagation import AsyncPropagation
from fixer.rules.async_sessionmaker import AsyncSessionmaker
from fixer.rules.await_session_calls import AwaitSessionCalls
from fixer.rules.base import FixerCodemod, RuleMeta, TextRule
from fixer.rules.create_all_run_sync import CreateAllRunSync
from fixer.rules.engine_arguments import EngineArguments
from fixer.rules.dependency_floors import DependencyFloors
from fixer.rules.pydantic_regression import PydanticDefaultFactory
from fixer.rules.import_roots import ImportRoots, ImportRootsStartCommand
from fixer.rules.lifespan import Lifespan
from fixer.rules.missing_dependency import MissingDependency
from fixer.rules.new_keyword import NewKeyword
from fixer.rules.passlib_bcrypt import PasslibBcrypt
from fixer.rules.pydantic_settings import PydanticSettings, PydanticSettingsDependency
from fixer.rules.database_url import DatabaseUrlCodemod
from fixer.rules.url_normaliser import RuntimeUrlNormaliser
from fixer.rules.database_url_text import DatabaseUrlTextRule
from fixer.rules.lazy_relationship import LazyRelationship
from fixer.rules.lifespan_never_passed import LifespanNeverPassed
from fixer.rules.legacy_query import LegacyQuery
from fixer.rules.raw_sql_text import RawSqlText
from fixer.rules.removed_module import RemovedModule
from fixer.rules.session_annotations import SessionAnnotations
from fixer.rules.settings_url_validator import SettingsUrlValidator
from fixer.rules.session_dependency import SessionDependency
from fixer.rules.shared_session import SharedSession
from fixer.rules.static_dir import StaticDir
from fixer.rules.url_cleaner import UrlCleaner
from fixer.rules.startup_checks import STARTUP_RULES
from fixer.rules.sync_driver_dependency import SyncDriverDependency
from fixer.rules.sync_driver_url import SyncDriverUrlCodemod, SyncDriverUrlTextRule
from fixer.rules.sync_session_on_async_engine import SyncSessionOnAsyncEngine
from fixer.rules.table_creator_uncalled import TableCreatorUncalled
from fixer.rules.undecided_session import UndecidedSession

PYTHON_CODEMODS: tuple[type[FixerCodemod], ...] = (
    # The use layer first: each applies its part of the model's conversion plan (fixer.model.uses), by
    # function name; FX002 and FX003 then see the engine used the async way (`async with engine.begin()`).
    SessionDependency,
    SyncSessionOnAsyncEngine,
    CreateAllRunSync,
    RawSqlText,
    LegacyQuery,
    AwaitSessionCalls,
    AsyncPropagation,
    SessionAnnotations,
    LazyRelationship,
    SharedSession,
    UndecidedSession,
    ImportRoots,
    AsyncImports,
    AsyncSessionmaker,
    DatabaseUrlCodemod,
    RuntimeUrlNormaliser,
    SettingsUrlValidator,
    AsyncpgDsn,
    SyncDriverUrlCodemod,
    PydanticSettings,
    Lifespan,
    AwareDatetime,
    EngineArguments,
    StaticDir,
    LifespanNeverPassed,
    UrlCleaner,
    TableCreatorUncalled,
    AnnotatedDefault,
    AlembicAppUrl,
)
TEXT_RULES: tuple[type[TextRule], ...] = (
    AsyncDriverDependency,
    DatabaseUrlTextRule,
    SyncDriverUrlTextRule,
    SyncDriverDependency,
    MissingDependency,
    PasslibBcrypt,
    DependencyFloors,
    PydanticDefaultFactory,
    RemovedModule,
    NewKeyword,
    PydanticSettingsDependency,
    ImportRootsStartCommand,
    *STARTUP_RULES,
)


@dataclass(frozen=True)
class Rule:
    """One rule ID, with every class (codemod or text rule) that implements it."""

    id: str
    name: str
    classes: tuple[type[RuleMeta], ...]

    @property
    def title(self) -> str:
        from fixer.rules.ruledoc import MissingDoc, rule_doc

        try:
            return rule_doc(self).title
        except MissingDoc:
            return self.classes[0].title()


def all_rules() -> list[Rule]:
    by_id: dict[str, list[type[RuleMeta]]] = {}
    for cls in (*TEXT_RULES, *PYTHON_CODEMODS):
        by_id.setdefault(cls.RULE_ID, []).append(cls)
    return [Rule(rule_id, classes[0].RULE_NAME, tuple(classes)) for rule_id, classes in sorted(by_id.items())]


class UnknownRule(ValueError):
    pass


def select(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Rule]:
    """Rules chosen the ruff way: by ID, ID prefix (`FX`) or name; `ignore` wins over `select`."""
    rules = all_rules()

    def matching(token: str) -> set[str]:
        hits = {r.id for r in rules if r.id.startswith(token.upper()) or r.name == token.lower()}
        if not hits:
            raise UnknownRule(f"unknown rule {token!r} (see `fixer rules`)")
        return hits

    chosen = set().union(*(matching(t) for t in select)) if select else {r.id for r in rules}
    dropped = set().union(*(matching(t) for t in ignore)) if ignore else set()
    return [r for r in rules if r.id in chosen - dropped]
