"""pydantic-settings reading collection fields (`list[str]`, `set`, `Optional[list[str]]`) from the environment the
start sees: the shipped template (.env.example) or the env file the class reads. A value that is not JSON stops
`Settings()`; JSON, `NoDecode`, `enable_decoding=False`, a text field or an unset variable does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.discover.files import discover
from fixer.model import startup

R1 = "fastapi==0.115.12\nsqlmodel==0.0.24\nuvicorn==0.34.0\npydantic-settings\n"
ERROR = 'pydantic_settings.exceptions.SettingsError: error parsing value for field "{}" from source "{}"'


def _predict(root: Path, files: dict[str, str]) -> startup.Prediction:
    files = {"README.md": "uvicorn main:app\n", "requirements.txt": R1,
             "main.py": "from config import settings\napp = 1\n", **files}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    paths = list(discover(root, []))
    return startup.analyse(root, paths, lambda rel: (root / rel).read_text()).primary


def _config(field: str, extra: str = "", config: str = "", head: str = "") -> str:
    return (f"from typing import Annotated, List, Optional\nfrom pydantic import field_validator\n{head}"
            "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n"
            f"class Settings(BaseSettings):\n    model_config = SettingsConfigDict({config})\n    {field}\n{extra}\n"
            "settings = Settings()\n")


def _failures(prediction: startup.Prediction) -> list[str]:
    return [str(f) for f in prediction.failures]


@pytest.mark.parametrize("value", ["http://a.test,http://b.test", "http://a.test", "*"])
def test_a_collection_field_given_text_in_the_template_stops_the_start(tmp_path: Path, value: str) -> None:
    found = _predict(tmp_path, {"config.py": _config('allowed_origins: list[str] = ["http://localhost"]'),
                                ".env.example": f"# where the browser runs\nALLOWED_ORIGINS={value}\n"})
    assert _failures(found) == [ERROR.format("allowed_origins", "EnvSettingsSource")]
    failure = found.failures[0]
    assert (failure.path, failure.line, failure.family) == ("config.py", 9, "settings-decode")
    form = "comma-separated text (2 items)" if "," in value else "plain text"
    assert failure.detail.startswith(f".env.example:2 sets ALLOWED_ORIGINS to {form}, not JSON;")


@pytest.mark.parametrize("annotation", ["List[str]", "set[str]", "tuple[str, ...]", "Annotated[list[str], 'doc']"])
def test_every_collection_annotation_is_read_as_json(tmp_path: Path, annotation: str) -> None:
    found = _predict(tmp_path, {"config.py": _config(f"HOSTS: {annotation} = []", config="case_sensitive=True"),
                                ".env.example": "HOSTS=a,b\n"})
    assert _failures(found) == [ERROR.format("HOSTS", "EnvSettingsSource")]


def test_the_env_file_the_class_reads_is_the_dotenv_source(tmp_path: Path) -> None:
    found = _predict(tmp_path, {"config.py": _config("tags: list[str] = []", config="env_file='.env'"),
                                ".env": "TAGS='a,b'\n"})
    assert _failures(found) == [ERROR.format("tags", "DotEnvSettingsSource")]


def test_prefix_and_alias_name_the_variable(tmp_path: Path) -> None:
    config = _config("hosts: list[str] = []\n    peers: list[str] = Field(default=[], validation_alias='PEER_LIST')",
                     config="env_prefix='APP_'", head="from pydantic import Field\n")
    assert _failures(_predict(tmp_path / "a", {"config.py": config, ".env.example": "APP_HOSTS=a,b\n"})) == [
        ERROR.format("hosts", "EnvSettingsSource")]
    assert _failures(_predict(tmp_path / "b", {"config.py": config, ".env.example": "PEER_LIST=a\nHOSTS=a,b\n"})) == [
        ERROR.format("peers", "EnvSettingsSource")]


def test_optional_collection_passes_text_on_to_validation(tmp_path: Path) -> None:
    found = _predict(tmp_path / "a", {"config.py": _config("tags: Optional[List[str]] = None"),
                                      ".env.example": "TAGS=a,b\n"})
    assert _failures(found) == ["pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings"]
    split = ("    @field_validator('tags', mode='before')\n    @classmethod\n    def split(cls, value):\n"
             "        return value.split(',') if isinstance(value, str) else value\n")
    assert _failures(_predict(tmp_path / "b", {"config.py": _config("tags: list[str] | None = None", split),
                                               ".env.example": "TAGS=a,b\n"})) == []


@pytest.mark.parametrize(("field", "config", "env"), [
    ('origins: list[str] = []', "", 'ORIGINS=["http://a.test", "http://b.test"]\n'),  # the JSON form
    ("origins: Annotated[list[str], NoDecode] = []", "", "ORIGINS=a,b\n"),
    ("origins: list[str] = []", "enable_decoding=False", "ORIGINS=a,b\n"),
    ("origins: str = ''", "", "ORIGINS=a,b\n"),
    ("origins: list[str] | str = []", "", "ORIGINS=a,b\n"),
    ("origins: list[str] = []", "", "OTHER=a,b\n"),  # not set: the default
    ("origins: list[str] = []", "", "ORIGINS=\n"),  # empty: env_ignore_empty decides
    ("origins: list[str] = []", "case_sensitive=True", "ORIGINS=a,b\n"),  # reads `origins`, not ORIGINS
])
def test_values_pydantic_settings_reads_are_left_alone(tmp_path: Path, field: str, config: str, env: str) -> None:
    head = "from pydantic_settings import NoDecode\n"
    found = _predict(tmp_path, {"config.py": _config(field, config=config, head=head), ".env.example": env})
    assert _failures(found) == []


def test_a_factory_beside_the_class_builds_it_at_import(tmp_path: Path) -> None:
    config = _config("origins: list[str] = []").replace(
        "settings = Settings()\n", "def get_settings():\n    return Settings()\n\nsettings = get_settings()\n")
    found = _predict(tmp_path, {"config.py": config, ".env.example": "ORIGINS=a,b\n"})
    assert _failures(found) == [ERROR.format("origins", "EnvSettingsSource")]
    assert (found.failures[0].path, found.failures[0].line) == ("config.py", 10)


def test_a_subclass_inherits_the_fields_and_the_env_file(tmp_path: Path) -> None:
    config = ("from pydantic_settings import BaseSettings, SettingsConfigDict\n\n"
              "class Common(BaseSettings):\n    model_config = SettingsConfigDict(env_file='.env')\n"
              "    origins: list[str] = []\n\nclass Settings(Common):\n    debug: bool = False\n\n"
              "settings = Settings()\n")
    found = _predict(tmp_path, {"config.py": config, ".env": "ORIGINS=a,b\n"})
    assert _failures(found) == [ERROR.format("origins", "DotEnvSettingsSource")]


def test_the_error_is_named_where_the_installed_release_defines_it(tmp_path: Path) -> None:
    found = _predict(tmp_path, {"config.py": _config("origins: list[str] = []"), ".env.example": "ORIGINS=a,b\n",
                                "requirements.txt": R1.replace("pydantic-settings", "pydantic-settings==2.8.1")})
    assert _failures(found) == [ERROR.format("origins", "EnvSettingsSource").replace(".exceptions.", ".sources.")]


def test_pydantic_1_is_not_judged(tmp_path: Path) -> None:
    config = "from pydantic import BaseSettings\nclass Settings(BaseSettings):\n    origins: list = []\nsettings = Settings()\n"
    found = _predict(tmp_path, {"config.py": config, ".env.example": "ORIGINS=a,b\n",
                                "requirements.txt": "fastapi==0.99.1\npydantic==1.10.13\nuvicorn==0.34.0\n"})
    assert _failures(found) == []


def test_a_quoted_value_laid_out_over_lines_is_read_to_its_closing_quote(tmp_path: Path) -> None:
    """python-dotenv reads `'[` ... `]'` across lines: a JSON list laid out is JSON, a comma list so laid out is not."""
    config = _config("origins: list[str] = []", config="env_file='.env'")
    assert _failures(_predict(tmp_path / "json", {"config.py": config,
                                                  ".env": "ORIGINS='[\n  \"https://a.test\"\n]'\n"})) == []
    assert _failures(_predict(tmp_path / "text", {"config.py": config, ".env": "ORIGINS='a,\n  b'\n"})) == [
        ERROR.format("origins", "DotEnvSettingsSource")]
