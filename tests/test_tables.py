"""The generated tables (fixer/data) agree with the defect catalogue, and the query API behaves.

Only the committed data is read: no network, no package installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from fixer import tables as t

ASYNC = "sqlalchemy.ext.asyncio"
SM_SESSION = "sqlmodel.ext.asyncio.session"


def test_data_files_are_small():
    total = 0
    for name in ("exports.json", "requires.json", "releases.json", "wheels.json", "modules.json", "keywords.json",
                 "messages.json", "loaders.json"):
        data = resources.files("fixer").joinpath("data", name).read_bytes()
        json.loads(data)
        total += len(data)
    assert total < 1_000_000


# --- caps (VER-SA14-SESSIONMAKER, catalogue C) ----------------------------------------------------------------


def test_sqlmodel_008_caps_sqlalchemy_14_and_pydantic_1():
    assert t.cap("sqlmodel", "0.0.8", "sqlalchemy") == SpecifierSet(">=1.4.17,<=1.4.41")
    pyd = t.cap("sqlmodel", "0.0.8", "pydantic")
    assert Version("1.10.27") in pyd and Version("2.0") not in pyd
    assert t.newest_allowed("sqlalchemy", t.cap("sqlmodel", "0.0.8", "sqlalchemy")) == Version("1.4.41")


def test_sqlmodel_048_is_the_first_to_allow_sqlalchemy_21():
    assert t.newest_allowed("sqlalchemy", t.cap("sqlmodel", "0.0.47", "sqlalchemy")) < Version("2.1")
    assert t.newest_allowed("sqlalchemy", t.cap("sqlmodel", "0.0.48", "sqlalchemy")) >= Version("2.1")
    extras = {str(r.marker) for r in t.requires("sqlmodel", "0.0.48") if r.marker is not None}
    assert 'extra == "asyncio"' in extras
    assert not any("extra" in str(r.marker) for r in t.requires("sqlmodel", "0.0.47") if r.marker is not None)


def test_fastapi_caps_pydantic_and_starlette():
    assert Version("2.0") not in t.cap("fastapi", "0.99.1", "pydantic")
    assert Version("2.1.1") in t.cap("fastapi", "0.100.0", "pydantic")
    assert Version("2.0") not in t.cap("fastapi", "0.100.0", "pydantic")  # excludes 2.0.0 and 2.0.1 by name
    assert Version("1.10.27") in t.cap("fastapi", "0.100.0", "pydantic")
    assert t.cap("fastapi", "0.115.0", "starlette") is not None
    assert t.cap("fastapi", "0.115.0", "sqlalchemy") is None  # not required at all


def test_pydantic_settings_needs_pydantic_2():
    assert Version("1.10.27") not in t.cap("pydantic-settings", "2.0.0", "pydantic")
    assert Version("2.0") in t.cap("pydantic-settings", "2.0.0", "pydantic")


def test_sqlalchemy_21_makes_greenlet_an_extra():
    def greenlet(v):
        return [r for r in t.requires("sqlalchemy", v) if r.name == "greenlet"]

    assert any("extra" not in str(r.marker) for r in greenlet("2.0.58"))
    assert greenlet("2.1.9") and all('extra == "asyncio"' in str(r.marker) for r in greenlet("2.1.9"))


def test_requires_unknown_release_is_none():
    assert t.requires("sqlmodel", "9.9.9") is None
    assert t.requires("no-such-dist", "1.0") is None


# --- exports (ENG-IMPORT, VER-SQLMODEL-ASYNCENGINE, DEP-BASESETTINGS, VER-PYDANTIC1) ----------------------------


def test_async_sessionmaker_new_in_sqlalchemy_20():
    assert "async_sessionmaker" in t.exports("sqlalchemy", "2.0.0", ASYNC)
    assert "async_sessionmaker" not in t.exports("sqlalchemy", "1.4.54", ASYNC)
    assert "AsyncSession" in t.exports("sqlalchemy", "1.4.41", ASYNC)
    assert t.exported("sqlalchemy", ">=2.0", ASYNC, "async_sessionmaker") is True
    check = t.export_check("sqlalchemy", ">=1.4.17,<2.1", ASYNC, "async_sessionmaker")
    assert check.value is None and check.reason == "mixed"
    assert Version("1.4.41") in check.not_exporting and Version("2.0.0") in check.exporting


def test_sqlalchemy_141_has_no_asyncio():
    assert t.exports("sqlalchemy", "1.3.24", ASYNC) == frozenset()
    assert "No module named" in t.import_error("sqlalchemy", "1.3.24", ASYNC)


@pytest.mark.parametrize("module", ["sqlalchemy", "sqlalchemy.orm", "sqlalchemy.engine"])
@pytest.mark.parametrize("name", ["AsyncEngine", "AsyncSession", "async_sessionmaker", "create_async_engine"])
def test_async_names_never_in_sync_modules(module, name):
    assert t.exported("sqlalchemy", ">=1.4.0", module, name) is False


def test_sqlmodel_never_reexports_async_names():
    for name in ("AsyncEngine", "AsyncSession", "create_async_engine"):
        assert t.exported("sqlmodel", ">=0.0.8", "sqlmodel", name) is False
    assert t.exported("sqlmodel", ">=0.0.8", SM_SESSION, "AsyncSession") is True


def test_sqlmodel_asyncengine_from_session_module_depends_on_version():
    assert "AsyncEngine" in t.exports("sqlmodel", "0.0.8", SM_SESSION)
    latest = t.releases("sqlmodel")[-1]
    assert "AsyncEngine" not in t.exports("sqlmodel", latest, SM_SESSION)
    assert t.exported("sqlmodel", "==0.0.8", SM_SESSION, "AsyncEngine") is True
    assert t.exported("sqlmodel", ">=0.0.24", SM_SESSION, "AsyncEngine") is False
    assert t.export_check("sqlmodel", ">=0.0.8", SM_SESSION, "AsyncEngine").reason == "mixed"


def test_basesettings_moved_in_pydantic_2():
    assert "BaseSettings" in t.exports("pydantic", "1.10.27", "pydantic")
    assert "BaseSettings" in t.exports("pydantic", "1.10.2", "pydantic")  # nearest recorded at or below
    assert "BaseSettings" not in t.exports("pydantic", "2.5.0", "pydantic")
    msg = t.moved("pydantic", "2.5.0", "pydantic", "BaseSettings")
    assert msg.startswith("PydanticImportError: `BaseSettings` has been moved to the `pydantic-settings` package")
    assert t.moved("pydantic", "1.10.27", "pydantic", "BaseSettings") is None
    assert t.exported("pydantic", "<2", "pydantic", "BaseSettings") is None  # 1.7 and older are not recorded
    assert t.exported("pydantic", ">=1.8,<2", "pydantic", "BaseSettings") is True
    assert t.exported("pydantic", ">=2", "pydantic", "BaseSettings") is False
    assert {"BaseSettings", "SettingsConfigDict"} <= t.exports("pydantic-settings", "2.0.0", "pydantic_settings")


def test_pydantic_2_lazy_names_are_exports():
    names = t.exports("pydantic", "2.10.6", "pydantic")
    assert {"BaseModel", "ConfigDict", "field_validator", "EmailStr"} <= names
    assert "field_validator" not in t.exports("pydantic", "1.10.27", "pydantic")


def test_fastapi_security_and_starlette():
    assert "OAuth2PasswordRequestForm" in t.exports("fastapi", "0.100.0", "fastapi.security")
    assert t.exported("fastapi", ">=0.68", "fastapi", "FastAPI") is True
    assert "CORSMiddleware" in t.exports("starlette", "0.27.0", "starlette.middleware.cors")


def test_exports_unknowns():
    assert t.exports("sqlalchemy", "2.0.0", "not.recorded") is None
    assert t.exports("no-such-dist", "1.0", "x") is None
    assert t.exports("sqlalchemy", "0.9.0", "sqlalchemy") is None  # older than every record
    assert t.export_check("sqlalchemy", ">=99", "sqlalchemy", "select").reason == "no-release"
    check = t.export_check("sqlalchemy", ">=1.0", ASYNC, "AsyncSession")
    assert check.value is None and check.reason == "unknown" and Version("1.2.0") in check.unknown


def test_dist_names_are_canonicalised():
    assert t.exports("SQLAlchemy", "2.0.0", ASYNC) == t.exports("sqlalchemy", Version("2.0.0"), ASYNC)
    assert t.cap("SQLModel", "0.0.8", "SQLAlchemy") == t.cap("sqlmodel", "0.0.8", "sqlalchemy")
    assert t.recorded_versions("Pydantic_Settings")[0] == Version("2.0.0")


# --- releases ----------------------------------------------------------------------------------------------------


def test_releases_and_newest_allowed():
    rel = t.releases("sqlalchemy")
    assert rel == sorted(rel)
    assert Version("1.4.41") in rel and Version("2.0.0") in rel and Version("2.1.0") in rel
    by_upload = t.releases("sqlalchemy", by_upload=True)
    assert by_upload.index(Version("1.4.54")) > by_upload.index(Version("2.0.0"))  # 1.4 kept being patched
    assert t.newest_allowed("sqlalchemy", "<2.0") == max(v for v in rel if v.release[:2] == (1, 4))
    assert t.newest_allowed("sqlalchemy", "~=1.4.0") == Version("1.4.54")
    assert t.newest_allowed("sqlalchemy", ">=99") is None
    assert t.uploaded("sqlalchemy", "2.0.0").startswith("2023-01")
    assert Version("3.7") not in t.requires_python("sqlalchemy", "2.1.9")


def test_newest_allowed_for_a_python():
    newest = t.newest_allowed("sqlalchemy", "")
    old_py = t.newest_allowed("sqlalchemy", "", python="3.7")
    assert old_py < newest


# --- wheels (catalogue C: wheels for new Pythons) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "dist, version, python",
    [
        ("asyncpg", "0.30.0", "3.13"),
        ("asyncpg", "0.31.0", "3.14"),
        ("psycopg2-binary", "2.9.10", "3.13"),
        ("psycopg2-binary", "2.9.11", "3.14"),
        ("pydantic-core", "2.27.2", "3.13"),
        ("pydantic-core", "2.35.0", "3.14"),
        ("greenlet", "3.1.1", "3.13"),
        ("greenlet", "3.2.4", "3.14"),
        ("uvloop", "0.21.0", "3.13"),
        ("uvloop", "0.22.1", "3.14"),
        ("httptools", "0.6.4", "3.13"),
        ("httptools", "0.7.1", "3.14"),
    ],
)
def test_wheels_for_new_pythons(dist, version, python):
    assert t.has_wheel(dist, version, python) is True


def test_old_pins_have_no_wheel_for_new_pythons():
    assert t.has_wheel("asyncpg", "0.29.0", "3.13") is False  # builds from source and fails
    assert t.has_wheel("asyncpg", "0.30.0", "3.14") is False
    assert t.has_wheel("psycopg2-binary", "2.9.9", "3.13") is False
    assert t.has_wheel("asyncpg", "0.29.0", "2.7") is None
    assert t.has_wheel("asyncpg", "99.0", "3.12") is None


# --- import name -> distribution (issue 11) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "module, dist",
    [
        ("jose", "python-jose"),
        ("jwt", "pyjwt"),
        ("dateutil", "python-dateutil"),
        ("yaml", "pyyaml"),
        ("dotenv", "python-dotenv"),
        ("multipart", "python-multipart"),
        ("email_validator", "email-validator"),
        ("passlib", "passlib"),
        ("bcrypt", "bcrypt"),
        ("asyncpg", "asyncpg"),
        ("aiosqlite", "aiosqlite"),
        ("alembic", "alembic"),
        ("sqlmodel", "sqlmodel"),
        ("pydantic_settings", "pydantic-settings"),
        ("PIL", "pillow"),
        ("bs4", "beautifulsoup4"),
        ("psycopg2.extras", "psycopg2-binary"),
    ],
)
def test_distribution_of(module, dist):
    assert t.distribution_of(module) == dist


def test_psycopg2_has_two_providers():
    assert t.distributions_of("psycopg2")[:2] == ("psycopg2-binary", "psycopg2")
    assert t.distribution_of("no_such_module_here") is None


def test_import_is_light():
    """Importing the module loads no table and no heavy dependency."""
    code = (
        "import sys; import fixer.tables as t; "
        "assert t._load.cache_info().currsize == 0; "
        "assert 'libcst' not in sys.modules and 'json' in sys.modules; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_a_release_between_two_records_may_have_what_the_next_one_has():
    """AsyncAttrs arrived in a SQLAlchemy 2.0.x after 2.0.0 and before the next recorded 2.0 release: a pin between
    the two records is not known to lack it, so no `cannot import name` is predicted for it."""
    recorded = t.recorded_versions("sqlalchemy")
    before = max(v for v in recorded if v.release[:2] == (2, 0) and "AsyncAttrs" not in t.exports("sqlalchemy", v, ASYNC))
    after = min(v for v in recorded if v > before)
    assert "AsyncAttrs" in t.exports("sqlalchemy", after, ASYNC)
    between = f"{before.major}.{before.minor}.{before.micro + 1}"
    assert t.may_export("sqlalchemy", between, ASYNC, "AsyncAttrs") is True
    assert t.may_export("sqlalchemy", before, ASYNC, "AsyncAttrs") is False  # the recorded release itself lacks it
    assert t.may_export("sqlalchemy", between, ASYNC, "NoSuchName") is False
    assert t.import_error("sqlalchemy", "1.3.24", ASYNC) is not None


def test_keyword_parameters_of_sqlmodel_field_per_release():
    assert "ondelete" not in t.keywords("sqlmodel", "0.0.16", "sqlmodel", "Field")
    assert "ondelete" in t.keywords("SQLModel", "0.0.21", "sqlmodel.main", "Field")
    assert t.first_accepting("sqlmodel", "sqlmodel", "Field", "ondelete", "0.0.16") == Version("0.0.21")
    assert t.keywords("sqlmodel", "0.0.16", "sqlmodel", "select") is None
    assert t.keywords("fastapi", "0.110.0", "fastapi", "Query") is None


# --- texts in a package's source, modules that load an extra (messages.json, loaders.json) ----------------------


def test_pydantic_email_message_per_release():
    """What `EmailStr` raises without email-validator, as each release words it (failures.py repeats it): the extra
    bare up to 2.11, quoted from 2.12; the newest wording for an unknown version, the oldest below the floor."""
    bare = "email-validator is not installed, run `pip install pydantic[email]`"
    quoted = "email-validator is not installed, run `pip install 'pydantic[email]'`"
    assert t.message("pydantic", "1.10.13", "email-validator") == bare
    assert t.message("pydantic", "2.11.7", "email-validator") == bare
    assert t.message("pydantic", "2.12.0b1", "email-validator") == bare
    assert t.message("pydantic", "1.0", "email-validator") == bare
    assert t.message("pydantic", "2.12.0", "email-validator") == quoted
    assert t.message("pydantic", None, "email-validator") == quoted
    assert t.message("pydantic", "2.10.0", "no-such-text") is None
    assert t.message("fastapi", "0.115.0", "email-validator") is None


def test_pydantic_default_factory_regression_is_one_release():
    """FX049: the releases whose FieldInfo.get_default raises without validated_data, and the one after them."""
    key = "default-factory-validated-data"
    assert t.releases_with("pydantic", key) == (Version("2.10.0"),)
    assert t.message("pydantic", "2.10.0", key) == "'validated_data' must be provided if 'call_default_factory' is True."
    assert t.message("pydantic", "2.10.1", key) is None and t.message("pydantic", "2.9.2", key) is None


def test_modules_that_load_an_extra_at_import():
    assert t.loaded_at_import("starlette.middleware.sessions") == (("itsdangerous", "itsdangerous"),)
    assert t.loaded_at_import("starlette.middleware.sessions.SessionMiddleware") == (("itsdangerous", "itsdangerous"),)
    assert t.loaded_at_import("starlette.middleware") == ()
    assert t.loaded_at_import("starlette.templating") == ()  # jinja2 is imported under try: it loads without it


def test_source_texts_the_prediction_keys_on():
    """Every key of messages.json that fixer reads, with the boundary its code relied on when it was hard-coded."""
    assert t.message("pydantic", "2.13.0", "migration-docs") == "https://docs.pydantic.dev/"
    assert t.message("pydantic", "2.0", "migration-docs") == "https://docs.pydantic.dev/"
    assert t.message("pydantic", "2.14.0", "migration-docs") == "https://pydantic.dev/docs/validation/"
    assert t.message("pydantic-settings", "2.8.1", "settings-error-in-exceptions") is None
    assert t.message("pydantic-settings", "2.9.0", "settings-error-in-exceptions") == "SettingsError"
    assert t.message("pydantic-settings", None, "settings-error-in-exceptions") == "SettingsError"
    # starlette's Config raises on a missing env file in 0.36.0 to 0.37.0 only (0.35 skips it, 0.37.1 warns)
    raising = t.releases_with("starlette", "config-file-missing-raises")
    assert (raising[0], raising[-1]) == (Version("0.36.0"), Version("0.37.0"))
    assert t.message("starlette", "0.36.3", "config-file-missing-raises") and \
        not t.message("starlette", "0.35.1", "config-file-missing-raises") and \
        not t.message("starlette", "0.37.2", "config-file-missing-raises")
    assert t.message("psycopg", "3.2.6", "resolve-host-error") is None
    assert t.message("psycopg", "3.3.0", "resolve-host-error") == "failed to resolve host"
    assert t.message("psycopg", None, "resolve-host-error") == "failed to resolve host"
    for old in ("1.4.41", "2.0.0", "2.0.38"):
        assert t.message("sqlalchemy", old, "postgresql-default-driver") == "psycopg2"
        assert t.message("sqlalchemy", old, "greenlet-required") == "greenlet"
    for new in ("2.1.0b1", "2.1.0"):
        assert t.message("sqlalchemy", new, "postgresql-default-driver") == "psycopg"
        assert t.message("sqlalchemy", new, "greenlet-required") is None
        assert t.message("sqlalchemy", new, "greenlet-error").startswith(
            "The SQLAlchemy asyncio module requires that the Python 'greenlet' library is installed.")
    assert t.message("fastapi", "0.115.0", "multipart-error").splitlines()[0].strip() == \
        'Form data requires "python-multipart" to be installed.'
    assert t.message("fastapi", "0.55.0", "multipart-error") is None  # it did not check as routes were declared


def test_bcrypt_about_module_until_4_0_1():
    """FX024: passlib 1.7.4 reads `bcrypt.__about__`, which the wheels have up to 4.0.1 (4.1 dropped it)."""
    assert t.releases_with("bcrypt", "about-module")[-1] == Version("4.0.1")
    assert t.message("bcrypt", "4.1.3", "about-module") is None and t.message("bcrypt", "5.0.0", "about-module") is None


def _message_releases(dist: str) -> list[str]:
    """The releases messages.json read of ``dist``."""
    table = json.loads(resources.files("fixer").joinpath("data", "messages.json").read_text(encoding="utf-8"))
    return table["dists"][dist]["versions"]


def test_sqlalchemy_unparsable_url_text_per_release():
    """create_engine's error for a text that is no URL quotes it up to 2.0.40 (1.4 reads as 2.0's oldest), and not
    from 2.0.41; every recorded release says one or the other."""
    quoted = "Could not parse SQLAlchemy URL from string '%s'"
    for old in ("1.4.41", "2.0.0", "2.0.40"):
        assert t.message("sqlalchemy", old, "unparsable-url") == quoted
    for new in ("2.0.41", "2.1.0", None):
        assert t.message("sqlalchemy", new, "unparsable-url") == "Could not parse SQLAlchemy URL from given URL string"
    assert len(t.releases_with("sqlalchemy", "unparsable-url")) == len(_message_releases("sqlalchemy"))


def test_uvicorn_server_run_gets_the_loop_before_0_15():
    """uvicorn's Server.run asks asyncio.get_event_loop() up to 0.14 (in main.py, _impl/asyncio.py in 0.12.3, then
    server.py) and runs asyncio.run from 0.15.0 (its own asyncio_run from 0.36)."""
    key = "server-run-loop"
    for old in ("0.10.0", "0.11.0", "0.12.3", "0.13.4", "0.14.0"):
        assert t.message("uvicorn", old, key) == "asyncio.get_event_loop"
    for new in ("0.15.0", "0.30.0"):
        assert t.message("uvicorn", new, key) == "asyncio.run"
    assert t.message("uvicorn", None, key) == t.message("uvicorn", "0.36.0", key) == "asyncio_run"
    assert len(t.releases_with("uvicorn", key)) == len(_message_releases("uvicorn"))


def test_uvloop_policy_subclasses_asyncio_before_0_22():
    """uvloop's EventLoopPolicy is asyncio's (which makes a loop in get_event_loop) up to 0.21; 0.22's raises."""
    key = "policy-subclasses-asyncio"
    assert t.message("uvloop", "0.14.0", key) == t.message("uvloop", "0.21.0", key) == "__BasePolicy"
    assert t.releases_with("uvloop", key)[-1] == Version("0.21.0")
    assert t.message("uvloop", "0.22.1", key) is None and t.message("uvloop", None, key) is None


def test_fastapi_annotated_assertions_from_0_95():
    """What declaring a route asserts of a marker in `Annotated` beside another as the default: from 0.95.0, each
    text followed by the parameter's repr."""
    keys = {"annotated-depends-default": "Cannot specify `Depends` in `Annotated` and default value together for ",
            "annotated-marker-depends-default":
                "Cannot specify a FastAPI annotation in `Annotated` and `Depends` as a default value together for ",
            "annotated-field-default": "Cannot specify FastAPI annotations in `Annotated` and default value together for "}
    for key, text in keys.items():
        assert t.releases_with("fastapi", key)[0] == Version("0.95.0")
        assert t.message("fastapi", "0.94.1", key) is None
        assert t.message("fastapi", "0.95.0", key) == t.message("fastapi", "0.115.0", key) == text
        assert t.message("fastapi", None, key) == text
