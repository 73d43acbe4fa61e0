"""The [telegram] section and the loader for the whole configuration file.

Sources, strongest first: environment variables ``SNAPFIT_<SECTION>__<KEY>`` (and
``TELEGRAM_BOT_TOKEN`` for the token), then the TOML file, then built-in defaults.
The file is ``--config PATH``, else ``$SNAPFIT_CONFIG``, else ``./config.toml`` when it
exists. Every problem becomes one ``ConfigError`` line that names the key or the file.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from indexer.config import (
    DataSettings,
    GarmentSettings,
    ImageSettings,
    LoggingSettings,
    MetricsSettings,
    ModelSettings,
    MusinsaSettings,
    ScheduleSettings,
    Section,
    StoreSettings,
    SyncSettings,
)

ENV_PREFIX = "SNAPFIT_"
ENV_CONFIG_PATH = "SNAPFIT_CONFIG"
ENV_TOKEN = "TELEGRAM_BOT_TOKEN"
DEFAULT_CONFIG_PATH = Path("config.toml")


class ConfigError(Exception):
    """A configuration problem, phrased as one line a person can act on."""


class TelegramSettings(Section):
    token: str = Field(default="", repr=False)
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    admin_ids: list[int] = Field(default_factory=list)
    results_per_page: int = Field(default=6, ge=2, le=10)
    photos_per_minute: int = Field(default=10, ge=1)

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value


class Settings(BaseSettings):
    """Every section of config.toml."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_nested_max_split=1,
        extra="forbid",
        frozen=True,
    )

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    musinsa: MusinsaSettings = Field(default_factory=MusinsaSettings)
    images: ImageSettings = Field(default_factory=ImageSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    garments: GarmentSettings = Field(default_factory=GarmentSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's contents arrive as init kwargs (see load_settings); env beats the file.
        return (env_settings, init_settings)


def resolve_config_path(explicit: str | Path | None) -> tuple[Path | None, bool]:
    """Which file to read, and whether the user named it (a named file must exist)."""
    if explicit:
        return Path(explicit), True
    from_env = os.environ.get(ENV_CONFIG_PATH)
    if from_env:
        return Path(from_env), True
    if DEFAULT_CONFIG_PATH.is_file():
        return DEFAULT_CONFIG_PATH, False
    return None, False


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config path is a directory, not a file: {path}") from None
    except PermissionError:
        raise ConfigError(f"config file is not readable: {path}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _env_name(loc: tuple[Any, ...]) -> str:
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc[:2])


def _describe(error: dict[str, Any], source: str) -> str:
    loc = tuple(error["loc"])
    key = ".".join(str(part) for part in loc) or "(top level)"
    env_name = _env_name(loc)
    origin = f"environment variable {env_name}" if env_name in os.environ else source
    if error["type"] == "extra_forbidden":
        what = "section" if len(loc) == 1 else "key"
        return f"{origin}: unknown {what} '{key}'"
    value = error.get("input")
    shown = "" if isinstance(value, dict) else f" (got {json.dumps(value, ensure_ascii=False, default=str)})"
    message = error["msg"].removeprefix("Value error, ")
    return f"{origin}: {key}: {message}{shown}"


def load_settings(config: str | Path | None = None) -> Settings:
    """Read, merge and validate the configuration, or raise ConfigError with one clear line."""
    path, named = resolve_config_path(config)
    data: dict[str, Any] = {}
    if path is not None:
        if named and not path.exists():
            raise ConfigError(f"config file not found: {path}")
        data = _read_toml(path)
    source = str(path) if path is not None else "defaults"
    token = os.environ.get(ENV_TOKEN)
    if token and f"{ENV_PREFIX}TELEGRAM__TOKEN" not in os.environ:
        telegram = data.get("telegram")
        data["telegram"] = {**(telegram if isinstance(telegram, dict) else {}), "token": token}
    try:
        return Settings(**data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = _describe(errors[0], source)
        extra = len(errors) - 1
        more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
        raise ConfigError(first + more) from None
