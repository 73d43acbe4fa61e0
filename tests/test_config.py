"""Configuration: sources, precedence, and one clear line for every mistake."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import typing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from indexer.config import ConfigError, Settings, load_settings

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
        ('[musinsa]\ncategories = ["001", "555"]\n', "unknown category code '555'"),
        ('[schedule]\nnightly_at = "25:99"\n', "schedule.nightly_at: must be a time of day"),
        ('[schedule]\ntimezone = "Mars/Base"\n', "unknown time zone 'Mars/Base'"),
        ('[model]\nprecision = "fp8"\n', "model.precision"),
        ('[musinsa]\napi_url = "ftp://x"\n', "musinsa.api_url: must be an http(s) URL"),
        ('[telegram]\nwebhook_url = "http://bot.example.com/hook"\n', "telegram.webhook_url: must be empty"),
        ('[telegram]\nwebhook_url = "https://bot.example.com:9000/hook"\n', "ports 443, 80, 88 or 8443"),
        ('[telegram]\nwebhook_url = "https://bot.example.com/a b"\n', "telegram.webhook_url"),
        ("[telegram]\nwebhook_port = 0\n", "telegram.webhook_port"),
        ('[telegram]\nwebhook_listen = " "\n', "telegram.webhook_listen: must be an address"),
        ('[telegram]\nsecret_token = "not secret!"\n', "telegram.secret_token: must be 1-256 letters"),
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


def test_webhook_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(None).telegram.webhook_url == ""  # long polling by default
    path = write(
        tmp_path,
        '[telegram]\nwebhook_url = "https://bot.example.com:8443/telegram/hook"\nwebhook_port = 8081\n',
    )
    monkeypatch.setenv("SNAPFIT_TELEGRAM__WEBHOOK_LISTEN", "0.0.0.0")
    monkeypatch.setenv("SNAPFIT_TELEGRAM__SECRET_TOKEN", "A-b_9")
    telegram = load_settings(path).telegram
    assert (telegram.webhook_url, telegram.webhook_listen, telegram.webhook_port, telegram.secret_token) == (
        "https://bot.example.com:8443/telegram/hook",
        "0.0.0.0",
        8081,
        "A-b_9",
    )
    assert "A-b_9" not in repr(telegram)


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


def test_garment_settings_from_the_file_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        '[garments]\nmodel = "models/segformer"\ncrop_mode = "cutout"\n\n'
        '[garments.categories]\nUpper_Clothes = ["002"]\n"left shoe" = ["103", "103"]\n\n'
        '[garments.merge]\nShoes = ["Left_Shoe", "right-shoe"]\n',
    )
    settings = load_settings(path).garments
    assert settings.model == "models/segformer" and settings.crop_mode == "cutout"
    # Label names are kept in one spelling; the table replaces the default one as a whole.
    assert settings.categories == {"upper-clothes": ["002"], "left-shoe": ["103"]}
    assert settings.merge == {"shoes": ["left-shoe", "right-shoe"]}
    assert settings.min_area == 0.02 and settings.pending_per_user == 3
    # An environment table is merged into the file's, entry by entry.
    monkeypatch.setenv("SNAPFIT_GARMENTS__CATEGORIES", '{"pants": ["003"], "Upper-clothes": ["001"]}')
    monkeypatch.setenv("SNAPFIT_GARMENTS__ENABLED", "false")
    settings = load_settings(path).garments
    assert settings.categories == {"upper-clothes": ["001"], "left-shoe": ["103"], "pants": ["003"]}
    assert settings.enabled is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[garments]\ncrop_mode = "mask"\n', "garments.crop_mode: Input should be 'box' or 'cutout'"),
        ("[garments]\nmin_area = 1.5\n", "garments.min_area: Input should be less than 1"),
        ('[garments]\nmodel = " "\n', "garments.model: must name a segmentation model"),
        ("[garments]\npending_per_user = 0\n", "garments.pending_per_user: Input should be greater"),
        ('[garments.categories]\npants = ["trousers"]\n', "'trousers' is not a Musinsa category code"),
        ("[garments.categories]\npants = []\n", "'pants' needs at least one category code"),
        (
            '[garments.merge]\nshoes = ["left-shoe"]\nfeet = ["Left_Shoe"]\n',
            "label 'left-shoe' is merged into both 'shoes' and 'feet'",
        ),
        ("[garments]\nmodels = 1\n", "unknown key 'garments.models'"),
    ],
)
def test_bad_garment_settings_are_one_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_the_catalog_side_loads_the_configuration_without_the_bot() -> None:
    # `snapfit schedule` and the sync read the same Settings; indexer/ never imports bot/ or telegram.
    probe = (
        "import sys, indexer.config, indexer.monitoring, indexer.sync; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('bot', 'telegram')))"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"


# Every list key with two values a person would type; a new list key must be added here.
LIST_SAMPLES = {
    ("telegram", "admin_ids"): (["123", "456"], [123, 456]),
    ("musinsa", "categories"): (["001", "003002"], ["001", "003002"]),
    ("musinsa", "placeholder_sha256"): (["a" * 64, "B" * 64], ["a" * 64, "b" * 64]),
}


def _list_keys() -> set[tuple[str, str]]:
    keys = set()
    for section, field in Settings.model_fields.items():
        for key, inner in field.annotation.model_fields.items():
            if typing.get_origin(inner.annotation) is list:
                keys.add((section, key))
    return keys


def test_every_list_key_has_a_sample() -> None:
    assert _list_keys() == set(LIST_SAMPLES)


def _snapfit_config() -> tuple[int, dict, str]:
    from bot.cli import app

    result = CliRunner().invoke(app, ["config"])
    shown = json.loads(result.stdout) if result.exit_code == 0 else {}
    return result.exit_code, shown, result.stderr


@pytest.mark.parametrize("form", ["comma", "comma-spaced", "json", "single"])
@pytest.mark.parametrize(("section", "key"), sorted(LIST_SAMPLES))
def test_list_keys_from_the_environment_as_json_or_comma_separated(
    monkeypatch: pytest.MonkeyPatch, section: str, key: str, form: str
) -> None:
    typed, expected = LIST_SAMPLES[(section, key)]
    if form == "single":
        typed, expected = typed[:1], expected[:1]
    is_int = isinstance(expected[0], int)
    value = {
        "comma": ",".join(typed),
        "comma-spaced": " " + " , ".join(typed) + " ,",
        "json": json.dumps([int(v) if is_int else v for v in typed]),
        "single": typed[0],
    }[form]
    monkeypatch.setenv(f"SNAPFIT_{section.upper()}__{key.upper()}", value)
    code, shown, stderr = _snapfit_config()
    assert code == 0, stderr
    assert shown[section][key] == expected


def test_an_empty_list_variable_is_an_empty_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNAPFIT_TELEGRAM__ADMIN_IDS", "")
    assert load_settings(None).telegram.admin_ids == []


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SNAPFIT_TELEGRAM__ADMIN_IDS", "123,me", "telegram.admin_ids.1: Input should be a valid integer"),
        ("SNAPFIT_TELEGRAM__ADMIN_IDS", "[1,", "neither a JSON list nor comma-separated values"),
        ("SNAPFIT_MUSINSA__CATEGORIES", "001,tops", "'tops' is not a Musinsa category code"),
        ("SNAPFIT_GARMENTS__CATEGORIES", "pants=003", "not valid JSON"),
        ("SNAPFIT_TELEGRAM", "admin_ids=1", "not a JSON object; set one key at a time"),
        ("SNAPFIT_MUSINSA__MAX_PAGES", "all", "musinsa.max_pages: Input should be a valid integer"),
    ],
)
def test_unreadable_variables_exit_2_with_one_line_naming_them(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    code, _, stderr = _snapfit_config()
    assert code == 2
    assert stderr.count("\n") == 1 and stderr.startswith(f"snapfit: environment variable {name}: ")
    assert expected in stderr


SECRET = "123456:SECRET-token-never-shown"


@pytest.mark.parametrize(
    "text",
    [
        f'[telegram]\ntoken = ["{SECRET}"]\n',
        f"[telegram]\ntoken = {{ value = '{SECRET}' }}\n",
        f'[store]\napi_key = ["{SECRET}"]\n',
        f'telegram = "{SECRET}"\n',
    ],
)
def test_config_errors_never_echo_a_secret_from_the_file(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    assert SECRET not in str(caught.value)
    assert "not shown" in str(caught.value) or "telegram.token" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SNAPFIT_TELEGRAM", json.dumps({"token": [SECRET]})),
        ("SNAPFIT_TELEGRAM", json.dumps(SECRET)),
        ("SNAPFIT_TELEGRAM", SECRET),
        ("SNAPFIT_STORE", json.dumps({"api_key": [SECRET]})),
        ("SNAPFIT_STORE", '{"api_key": "' + SECRET),
    ],
)
def test_config_errors_never_echo_a_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    code, _, stderr = _snapfit_config()
    assert code == 2 and stderr.startswith(f"snapfit: environment variable {name}: ")
    assert SECRET not in stderr and SECRET.split(":")[1] not in stderr


def example_comment(section: str, key: str) -> str:
    """The comment lines right above ``key = ...`` in ``[section]`` of config.example.toml, joined."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"[{section}]")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    position = next(i for i in range(start, end) if lines[i].startswith(f"{key} ="))
    comment: list[str] = []
    for line in reversed(lines[start + 1 : position]):
        if not line.startswith("#"):
            break
        comment.insert(0, line.lstrip("# "))
    return " ".join(comment)


def test_example_comments_match_the_code() -> None:
    """The example's claims that the code decides: what is retried, threads, pass sizes."""
    from indexer.embedding.encoder import CPU_BULK_CHUNK
    from indexer.musinsa.client import BLOCK_STATUSES

    retries = example_comment("musinsa", "max_retries")
    for answer in [*map(str, sorted(BLOCK_STATUSES)), "408", "5xx", "timeouts", "malformed"]:
        assert answer in retries, f"max_retries: {answer} is retried too"
    assert "ONNX Runtime" in example_comment("model", "threads")
    # On the CPU bulk work runs passes of bulk_chunk, not batch_size.
    assert "bulk_chunk" in example_comment("model", "batch_size")
    assert f"{CPU_BULK_CHUNK} on the CPU" in example_comment("model", "bulk_chunk")
    assert f"{CPU_BULK_CHUNK} on the CPU" in example_comment("model", "batch_size")
    # One knob bounds a user's wait behind bulk work: the sync's chunk is cut into bulk_chunk passes.
    promises = [line for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if "at most one" in line]
    assert len(promises) == 1 and "at most one such pass" in example_comment("model", "bulk_chunk")
    # Timings are measurements of one machine: BENCHMARKS.md has them, not the example's comments.
    assert not re.search(r"(~|about )\d+(\.\d+)? ?(s|ms|seconds)\b", EXAMPLE.read_text(encoding="utf-8"))
