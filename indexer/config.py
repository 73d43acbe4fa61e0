"""The configuration file: every section, the root ``Settings`` and ``load_settings``.

Sources, strongest first: environment variables ``SNAPFIT_<SECTION>__<KEY>`` (and
``TELEGRAM_BOT_TOKEN`` for the token), then the TOML file, then built-in defaults. Sections are
strict (an unknown key is an error), and every problem becomes one ``ConfigError`` line that names
the key, the file or the variable, never showing a secret's value. List keys read environment values
as JSON or comma-separated. Plain pydantic data: the bot and the indexer both import it.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from indexer.categories import category_code, is_category_code


def _list_from_text(value: Any) -> Any:
    """An environment variable's list: JSON (``["001","002"]``) or comma-separated (``001,002``)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError("is neither a JSON list nor comma-separated values") from None
    return [item.strip() for item in text.split(",") if item.strip()]


_Item = TypeVar("_Item")
# A list key: pydantic-settings leaves its environment value undecoded (NoDecode), and
# _list_from_text reads it, so both `[1,2]` and `1,2` work. File values arrive as lists already.
EnvList = Annotated[list[_Item], NoDecode, BeforeValidator(_list_from_text)]


class Section(BaseModel):
    """Base for every config section: unknown keys are rejected, values are validated."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)


class MusinsaSettings(Section):
    api_url: str = "https://api.musinsa.com"
    web_url: str = "https://www.musinsa.com"
    image_url: str = "https://image.msscdn.net"
    categories: EnvList[str] = Field(
        default_factory=lambda: ["001", "002", "003", "004", "100", "101", "103"]
    )
    expand_subcategories: bool = True
    max_pages: int = Field(default=0, ge=0)
    page_size: int = Field(default=100, ge=1, le=100)
    sort_code: str = "POPULAR"
    gender: Literal["A", "M", "F"] = "A"
    requests_per_second: float = Field(default=2.0, gt=0, le=20)
    max_concurrency: int = Field(default=4, ge=1, le=64)
    max_retries: int = Field(default=5, ge=0, le=20)
    timeout_seconds: float = Field(default=20.0, gt=0)
    max_backoff_seconds: float = Field(default=60.0, gt=0)
    backoff_seconds: float = Field(default=1.0, ge=0)
    max_consecutive_blocks: int = Field(default=10, ge=1)
    placeholder_sha256: EnvList[str] = Field(default_factory=list)
    obey_robots_txt: bool = True
    user_agent: str = "snapfit/0.1 (+https://github.com/snapfit/snapfit)"

    @field_validator("api_url", "web_url", "image_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("categories")
    @classmethod
    def _category_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not is_category_code(code):
                raise ValueError(f"{code!r} is not a Musinsa category code (3, 6 or 9 digits, e.g. '001')")
            category_code(code)  # under a known top-level category, or UnknownCategoryError
        return value

    @field_validator("placeholder_sha256")
    @classmethod
    def _sha256_digests(cls, value: list[str]) -> list[str]:
        for digest in value:
            if not re.match(r"^[0-9a-fA-F]{64}$", digest):
                raise ValueError(f"{digest!r} is not a sha256 hex digest (64 hex digits)")
        return [digest.lower() for digest in value]

    @field_validator("user_agent")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class ImageSettings(Section):
    max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    max_pixels: int = Field(default=50_000_000, ge=1)
    max_decoded_mb: int = Field(default=200, ge=1)
    decode_budget_mb: int = Field(default=400, ge=1)
    download_concurrency: int = Field(default=8, ge=1, le=64)
    requests_per_second: float = Field(default=8.0, gt=0, le=50)


class ModelSettings(Section):
    name: str = "hf-hub:Marqo/marqo-fashionSigLIP"
    pretrained: str = ""
    device: str = "auto"
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    batch_size: int = Field(default=32, ge=1, le=1024)
    preprocess: Literal["model", "squash", "shortest", "longest"] = "model"
    threads: int = Field(default=0, ge=0)
    cache_dir: str = ""
    engine: Literal["torch", "onnx"] = "torch"
    quantize: Literal["none", "int8"] = "none"
    bulk_chunk: int = Field(default=0, ge=0, le=1024)

    @field_validator("name")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name an open_clip model, e.g. 'hf-hub:Marqo/marqo-fashionSigLIP'")
        return value.strip()

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if not re.match(r"^(auto|cpu|cuda(:\d+)?|mps)$", value):
            raise ValueError(f"must be auto, cpu, cuda, cuda:N or mps, got {value!r}")
        return value


class StoreSettings(Section):
    path: str = "data/qdrant"
    url: str = ""
    api_key: str = Field(default="", repr=False)
    collection: str = "products"
    shards: int = Field(default=1, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    quantization: Literal["none", "int8"] = "int8"
    timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _server_url(cls, value: str) -> str:
        value = value.strip()
        if value and value != ":memory:" and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(
                f"must be empty (embedded index at `path`), an http(s) URL of a Qdrant server, "
                f"or ':memory:' (tests only), got {value!r}"
            )
        return value.rstrip("/")

    @field_validator("collection")
    @classmethod
    def _collection(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9_-]{1,64}$", value):
            raise ValueError("must be 1-64 letters, digits, '_' or '-'")
        return value


class SyncSettings(Section):
    remove_after_missed: int = Field(default=2, ge=1)
    min_crawl_ratio: float = Field(default=0.5, ge=0, le=1)
    embed_batch_size: int = Field(default=16, ge=1, le=1024)
    rebuild_max_failed_ratio: float = Field(default=0.02, ge=0, le=1)


class ScheduleSettings(Section):
    enabled: bool = True
    nightly_at: str = "04:00"
    timezone: str = "Asia/Seoul"
    misfire_grace_seconds: int = Field(default=3600, ge=1)
    sync_when_empty: bool = True

    @field_validator("nightly_at")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ValueError(f"must be a time of day like '04:00', got {value!r}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like 'Asia/Seoul')") from None
        return value

    @property
    def time_of_day(self) -> time:
        return time.fromisoformat(self.nightly_at).replace(tzinfo=ZoneInfo(self.timezone))


class DataSettings(Section):
    dir: str = "data/"

    @property
    def path(self) -> Path:
        return Path(self.dir)


class AlertSettings(Section):
    """Price-drop and restock alerts after each sync (the bot's ``bot.alerts``).

    A price drop is told when the new price is below the price last told to the user by at least
    ``min_drop_percent`` of it AND at least ``min_drop_won`` (both must hold). One message per user
    per sync lists up to ``max_items_per_message`` products, then "and K more". ``messages_per_second``
    paces all alert messages together (Telegram allows about 30 a second overall).
    """

    enabled: bool = True
    min_drop_percent: float = Field(default=5.0, ge=0, le=100)
    min_drop_won: int = Field(default=1000, ge=0)
    max_items_per_message: int = Field(default=10, ge=1, le=30)
    messages_per_second: float = Field(default=25.0, gt=0, le=30)
    poll_seconds: float = Field(default=60.0, ge=1)


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = False


class MetricsSettings(Section):
    """Prometheus ``/metrics`` and ``/healthz`` of ``snapfit run`` and ``snapfit schedule``.

    Loopback by default: a laptop's bot opens no port to the network. The container image
    sets ``host = "0.0.0.0"`` so that Prometheus and Docker's health check can reach it.
    """

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=9108, ge=0, le=65535)  # 0: any free port (tests), logged at start
    max_sync_age_hours: float = Field(default=0.0, ge=0)  # 0: a stale sync does not make /healthz fail
    health_timeout_seconds: float = Field(default=5.0, gt=0, le=120)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return _listen_address(value)


def _listen_address(value: str) -> str:
    value = value.strip()
    if not value or any(ch.isspace() or ch in "/[]" for ch in value):
        raise ValueError(f"must be an address or host name to listen on, like '127.0.0.1', got {value!r}")
    return value


def garment_label(name: str) -> str:
    """A parser label in its one spelling: lower case, '-' between words ('Left_shoe' -> 'left-shoe')."""
    return re.sub(r"[\s_]+", "-", name.strip().lower()).strip("-")


def _default_garment_categories() -> dict[str, list[str]]:
    return {
        "upper-clothes": ["001", "002"],  # tops or outerwear: the default parser does not separate them
        "pants": ["003"],
        "skirt": ["100"],
        "dress": ["100"],
        "shoes": ["103"],
        "bag": ["004"],
        "hat": ["101"],
        "scarf": ["101"],
        "belt": ["101"],
        "sunglasses": ["101"],
    }


class GarmentSettings(Section):
    """The garment parser: which model finds garments in a photo, and how they map to categories.

    ``categories`` decides what is a garment: a parser label (after ``merge``) that has no entry
    is not one (background, skin, hair, face, arms, legs). Keys are parser label names, so the
    table serves any parser; ``merge`` joins several labels into one garment (left and right shoe).
    """

    enabled: bool = True
    model: str = "mattmdjaga/segformer_b2_clothes"
    min_area: float = Field(default=0.02, ge=0, lt=1)
    crop_mode: Literal["box", "cutout"] = "box"
    padding: float = Field(default=0.1, ge=0, le=1)
    pending_per_user: int = Field(default=3, ge=1, le=20)
    pending_ttl_seconds: float = Field(default=900.0, gt=0, le=86_400)
    categories: dict[str, list[str]] = Field(default_factory=_default_garment_categories)
    merge: dict[str, list[str]] = Field(default_factory=lambda: {"shoes": ["left-shoe", "right-shoe"]})

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(
                "must name a segmentation model: a Hugging Face id like 'mattmdjaga/segformer_b2_clothes' "
                "or a local folder"
            )
        return value.strip()

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        table: dict[str, list[str]] = {}
        for label, codes in value.items():
            key = garment_label(label)
            if not key:
                raise ValueError(f"{label!r} is not a label name")
            if not codes:
                raise ValueError(f"{label!r} needs at least one category code (or remove the entry)")
            for code in codes:
                if not is_category_code(code):
                    raise ValueError(f"{label}: {code!r} is not a Musinsa category code (e.g. '001')")
            table[key] = list(dict.fromkeys(codes))
        return table

    @field_validator("merge")
    @classmethod
    def _merge(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        table: dict[str, list[str]] = {}
        owner: dict[str, str] = {}
        for garment, labels in value.items():
            key = garment_label(garment)
            if not key or not labels:
                raise ValueError(f"{garment!r} must name a garment and the labels it joins")
            parts = [garment_label(label) for label in labels]
            for part in parts:
                if part in owner and owner[part] != key:
                    raise ValueError(f"label {part!r} is merged into both {owner[part]!r} and {key!r}")
                owner[part] = key
            table[key] = list(dict.fromkeys(parts))
        return table


ENV_PREFIX = "SNAPFIT_"
ENV_CONFIG_PATH = "SNAPFIT_CONFIG"
ENV_TOKEN = "TELEGRAM_BOT_TOKEN"
DEFAULT_CONFIG_PATH = Path("config.toml")


class ConfigError(Exception):
    """A configuration problem, phrased as one line a person can act on."""


WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram delivers webhooks to
_WEBHOOK_URL = re.compile(
    r"https://(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?(?P<path>/[A-Za-z0-9/_.-]*)?"
)


class TelegramSettings(Section):
    """The bot's Telegram side; plain data (nothing here imports ``telegram``)."""

    token: str = Field(default="", repr=False)
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    admin_ids: EnvList[int] = Field(default_factory=list)
    results_per_page: int = Field(default=6, ge=2, le=10)
    photos_per_minute: int = Field(default=10, ge=1)
    # Webhook mode: Telegram POSTs updates to ``webhook_url`` (HTTPS, through a reverse proxy) and the
    # bot listens on plain HTTP at ``webhook_listen:webhook_port``, the URL's path. Empty: long polling.
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    secret_token: str = Field(default="", repr=False)  # empty: a random one at each start

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        match = _WEBHOOK_URL.fullmatch(value)
        if match is None:
            raise ValueError(
                "must be empty (long polling) or an https:// URL like 'https://bot.example.com/telegram' "
                f"(Telegram delivers webhooks over HTTPS only; path letters, digits, '/', '_', '-', '.'), "
                f"got {value!r}"
            )
        port = match.group("port")
        if port is not None and int(port) not in WEBHOOK_PORTS:
            raise ValueError(f"Telegram delivers webhooks only to ports 443, 80, 88 or 8443, got {port}")
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _listen_host(cls, value: str) -> str:
        return _listen_address(value)

    @field_validator("secret_token")
    @classmethod
    def _secret_token(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]{0,256}", value):
            raise ValueError(
                "must be 1-256 letters, digits, '_' or '-' (or empty: a random one at each start)"
            )
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
    alerts: AlertSettings = Field(default_factory=AlertSettings)
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


_SECRET_NAME = re.compile(r"token|secret|api_key|password", re.IGNORECASE)


def _is_secret(loc: tuple[Any, ...]) -> bool:
    """Whether ``loc`` is a secret key (``repr=False``, or named like one), or a section that holds one."""
    section = Settings.model_fields.get(str(loc[0])) if loc else None
    model = section.annotation if section is not None else None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return False
    fields = model.model_fields
    if len(loc) == 1:
        return any(not field.repr or _SECRET_NAME.search(name) for name, field in fields.items())
    field = fields.get(str(loc[1]))
    return _SECRET_NAME.search(str(loc[1])) is not None or (field is not None and not field.repr)


def _describe(error: dict[str, Any], source: str) -> str:
    loc = tuple(error["loc"])
    key = ".".join(str(part) for part in loc) or "(top level)"
    # The key's own variable, else its section's (a JSON object); names are case-insensitive.
    present = {name.upper(): name for name in os.environ}
    names = [present[name] for name in (_env_name(loc), _env_name(loc[:1])) if name in present]
    origin = f"environment variable {names[0]}" if names else source
    if error["type"] == "extra_forbidden":
        what = "section" if len(loc) == 1 else "key"
        return f"{origin}: unknown {what} '{key}'"
    value = error.get("input")
    if isinstance(value, dict):
        shown = ""
    elif _is_secret(loc):
        shown = " (a secret: the value is not shown)"
    else:
        shown = f" (got {json.dumps(value, ensure_ascii=False, default=str)})"
    message = error["msg"].removeprefix("Value error, ")
    return f"{origin}: {key}: {message}{shown}"


def _unreadable_variable(error: SettingsError) -> str:
    """One line for an environment value pydantic-settings could not decode, naming the variable.

    Only JSON values get here (a section as one variable, or a table key); list keys also read
    comma-separated values. The value itself is never shown: it may be a secret.
    """
    match = re.search(r'field "(\w+)"', str(error))
    section = match.group(1) if match else ""
    prefix = f"{ENV_PREFIX}{section.upper()}"
    section_field = Settings.model_fields.get(section)
    fields = getattr(section_field.annotation, "model_fields", {}) if section_field else {}

    def decoded_as_json(name: str) -> bool:
        # The section as one variable, or a table key (list keys also take comma-separated values).
        if name.upper() == prefix:
            return True
        field = fields.get(name[len(prefix) + 2 :].lower())
        return field is not None and get_origin(field.annotation) is dict

    candidates = sorted(
        name for name in os.environ if name.upper() == prefix or name.upper().startswith(prefix + "__")
    )
    for name in filter(decoded_as_json, candidates):
        try:
            json.loads(os.environ[name])
        except ValueError:
            if name.upper() == prefix:
                return (
                    f"environment variable {name}: not a JSON object; "
                    f"set one key at a time instead, as {prefix}__<KEY>"
                )
            return f'environment variable {name}: not valid JSON (a table is written as {{"key": ["value"]}})'
    return f"environment variable {prefix} or {prefix}__<KEY>: cannot be read"


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
    except SettingsError as exc:
        raise ConfigError(_unreadable_variable(exc)) from None
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = _describe(errors[0], source)
        extra = len(errors) - 1
        more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
        raise ConfigError(first + more) from None
