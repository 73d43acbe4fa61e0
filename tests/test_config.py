"""Configuration: sources, precedence, and one clear line for every mistake."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file() -> None:
    settings = load_settings(None)
    assert settings.musinsa.api_url == "https://api.musinsa.com"
    assert settings.model.name == "hf-hub:Marqo/marqo-fashionSigLIP"
    assert settings.store.path == "data/qdrant"
    assert settings.schedule.nightly_at == "04:00"
    assert settings.musinsa.obey_robots_txt is True


def test_file_values_override_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, '[musinsa]\npage_size = 30\ncategories = ["001004"]\n')
    settings = load_settings(path)
    assert settings.musinsa.page_size == 30
    assert settings.musinsa.categories == ["001004"]
    assert settings.musinsa.max_retries == 5


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "[musinsa]\npage_size = 30\nmax_pages = 7\n")
    monkeypatch.setenv("SNAPFIT_MUSINSA__PAGE_SIZE", "60")
    monkeypatch.setenv("SNAPFIT_MUSINSA__CATEGORIES", '["002"]')
    settings = load_settings(path)
    assert settings.musinsa.page_size == 60
    assert settings.musinsa.max_pages == 7
    assert settings.musinsa.categories == ["002"]


def test_token_from_telegram_bot_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[telegram]\ntoken = "from-file"\nadmin_ids = [1]\n')
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:from-env")
    settings = load_settings(path)
    assert settings.telegram.token == "123:from-env"
    assert settings.telegram.admin_ids == [1]
    monkeypatch.setenv("SNAPFIT_TELEGRAM__TOKEN", "123:most-specific")
    assert load_settings(path).telegram.token == "123:most-specific"


def test_snapfit_config_variable_and_local_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Path("config.toml").write_text("[musinsa]\nmax_pages = 2\n", encoding="utf-8")
    assert load_settings(None).musinsa.max_pages == 2
    other = tmp_path / "other.toml"
    other.write_text("[musinsa]\nmax_pages = 9\n", encoding="utf-8")
    monkeypatch.setenv("SNAPFIT_CONFIG", str(other))
    assert load_settings(None).musinsa.max_pages == 9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[musinsa]\npage_sz = 3\n", "unknown key 'musinsa.page_sz'"),
        ("[musinsa]\npage_size = 'many'\n", "musinsa.page_size: Input should be a valid integer"),
        ("[musinsa]\npage_size = 500\n", "musinsa.page_size: Input should be less than or equal to 100"),
        ("[colours]\nred = 1\n", "unknown section 'colours'"),
        ("[musinsa\n", "invalid TOML"),
        ('[musinsa]\ncategories = ["tops"]\n', "'tops' is not a Musinsa category code"),
        ('[schedule]\nnightly_at = "25:99"\n', "schedule.nightly_at: must be a time of day"),
        ('[schedule]\ntimezone = "Mars/Base"\n', "unknown time zone 'Mars/Base'"),
        ('[model]\nprecision = "fp8"\n', "model.precision"),
        ('[musinsa]\napi_url = "ftp://x"\n', "musinsa.api_url: must be an http(s) URL"),
    ],
)
def test_mistakes_give_one_line_naming_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_environment_mistake_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNAPFIT_MUSINSA__MAX_RETRIES", "lots")
    with pytest.raises(ConfigError, match="environment variable SNAPFIT_MUSINSA__MAX_RETRIES"):
        load_settings(None)


def test_named_file_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"config file not found: .*missing\.toml"):
        load_settings(tmp_path / "missing.toml")
    monkeypatch.setenv("SNAPFIT_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match=r"config file not found: .*gone\.toml"):
        load_settings(None)


def test_example_file_documents_every_key_with_its_default() -> None:
    """config.example.toml parses, has no unknown key, lists every key, and shows the defaults."""
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    defaults = Settings().model_dump(mode="json")
    assert set(example) == set(defaults), "sections differ between config.example.toml and Settings"
    for section, keys in defaults.items():
        assert set(example[section]) == set(keys), f"[{section}] keys differ"
        for key, value in keys.items():
            assert example[section][key] == value, f"{section}.{key}: example shows {example[section][key]!r}"
    assert load_settings(EXAMPLE) == Settings()


def test_every_example_key_has_a_comment() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            previous = lines[number - 1].strip()
            assert previous.startswith("#") or "=" in previous, f"line {number + 1} has no comment: {line}"
