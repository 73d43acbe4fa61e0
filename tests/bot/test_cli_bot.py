"""``snapfit search``, ``snapfit similar`` and ``snapfit run``'s startup errors, through the command line."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app
from indexer.config import StoreSettings
from indexer.store import open_catalog
from tests.bot.conftest import World
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_ptb import TEST_TOKEN
from tests.image_corpus import CORPUS_MAX_BYTES, case

runner = CliRunner()
REQUIRED_KEYS = {
    "id",
    "score",
    "name",
    "brand",
    "price",
    "normal_price",
    "url",
    "image_url",
    "category",
    "gender",
    "sold_out",
}


def toml_value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_config(
    path: Path,
    world: World,
    store_dir: Path,
    *,
    model: str | None = None,
    telegram: dict[str, Any] | None = None,
) -> Path:
    sections: dict[str, dict[str, Any]] = {
        "musinsa": {
            "api_url": world.musinsa.url,
            "web_url": world.musinsa.url,
            "image_url": world.musinsa.url,
            "requests_per_second": 20.0,
            "backoff_seconds": 0.001,
            "max_backoff_seconds": 5.0,
            "timeout_seconds": 5.0,
        },
        "images": {"max_bytes": CORPUS_MAX_BYTES, "requests_per_second": 50.0},
        "model": {"name": model or f"local-dir:{world.model_dir}"},
        "store": {"path": str(store_dir)},
        "data": {"dir": str(path.parent / "data")},
        "metrics": {"port": 0},  # any free port: tests (and other checkouts' tests) run side by side
    }
    if telegram:
        sections["telegram"] = telegram
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def config(world: World, store_dir: Path, tmp_path: Path) -> Path:
    return write_config(tmp_path / "config.toml", world, store_dir)


def one_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip() and " INFO " not in line]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_search_json(config: Path, world: World, tmp_path: Path) -> None:
    target = world.products[9]
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(world.musinsa.image_bytes(target.id))
    result = runner.invoke(app, ["search", str(photo), "--json", "--limit", "4", "--config", str(config)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list) and len(rows) == 4
    assert all(set(row) >= REQUIRED_KEYS for row in rows)
    first = rows[0]
    assert first["id"] == target.id and isinstance(first["id"], int)
    assert first["score"] == pytest.approx(1.0, abs=1e-3)
    assert first["name"] == target.name and first["brand"] == target.brand
    assert first["price"] == target.effective_price and first["normal_price"] == target.normal_price
    assert first["url"] == target.url and first["image_url"] == target.image_url
    assert first["category"] == target.category
    assert [row["rank"] for row in rows] == [1, 2, 3, 4]

    tops = runner.invoke(app, ["search", str(photo), "--category", "상의", "--json", "--config", str(config)])
    assert tops.exit_code == 0, tops.output
    assert {row["category"][:3] for row in json.loads(tops.stdout)} == {"001"}

    table = runner.invoke(app, ["search", str(photo), "--config", str(config)])
    assert table.exit_code == 0, table.output
    assert str(target.id) in table.stdout


def test_similar_json(config: Path, world: World) -> None:
    target = world.products[4]
    by_id = runner.invoke(app, ["similar", str(target.id), "--json", "--limit", "5", "--config", str(config)])
    assert by_id.exit_code == 0, by_id.output
    rows = json.loads(by_id.stdout)
    assert len(rows) == 5 and target.id not in [row["id"] for row in rows]
    assert all(set(row) >= REQUIRED_KEYS for row in rows)
    link = f"https://www.musinsa.com/products/{target.id}"
    by_link = runner.invoke(app, ["similar", link, "--json", "--limit", "5", "--config", str(config)])
    assert json.loads(by_link.stdout) == rows
    fetched = runner.invoke(app, ["similar", str(world.not_indexed[0]), "--config", str(config)])
    assert fetched.exit_code == 0, fetched.output
    assert "not indexed: fetched from Musinsa" in " ".join(fetched.stdout.split())


def test_search_and_similar_errors(config: Path, tmp_path: Path, world: World) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(case("truncated_jpeg").data)
    result = runner.invoke(app, ["search", str(broken), "--config", str(config)])
    assert result.exit_code == 1
    assert one_line(result).startswith("snapfit: not a usable image (truncated): ")
    missing = runner.invoke(app, ["search", str(tmp_path / "nope.jpg"), "--config", str(config)])
    assert missing.exit_code == 1
    assert one_line(missing) == f"snapfit: cannot read {tmp_path / 'nope.jpg'}: No such file or directory"
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(world.musinsa.image_bytes(world.products[0].id))
    category = runner.invoke(app, ["search", str(photo), "--category", "hodie", "--config", str(config)])
    assert category.exit_code == 2
    assert one_line(category).startswith("snapfit: unknown category 'hodie' (did you mean 001004 hoodie")
    unknown = runner.invoke(app, ["similar", "1234", "--config", str(config)])
    assert unknown.exit_code == 1
    assert one_line(unknown) == "snapfit: Musinsa has no product 1234"
    invalid = runner.invoke(app, ["similar", "https://example.com/x", "--config", str(config)])
    assert invalid.exit_code == 1
    assert one_line(invalid).startswith("snapfit: example.com is not Musinsa")


def test_search_on_an_empty_index(world: World, tmp_path: Path) -> None:
    config = write_config(tmp_path / "empty.toml", world, tmp_path / "no-index")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(case("webp").data)
    result = runner.invoke(app, ["search", str(photo), "--config", str(config)])
    assert result.exit_code == 1
    assert one_line(result) == "snapfit: nothing is indexed yet: build the index with `snapfit sync` first"


def test_an_empty_index_is_reported_before_any_model_loads(world: World, tmp_path: Path) -> None:
    """The model named here cannot load: the empty index must be said first, without trying."""
    config = write_config(
        tmp_path / "empty.toml", world, tmp_path / "no-index", model=f"local-dir:{tmp_path / 'no-model'}"
    )
    text = config.read_text(encoding="utf-8")
    config.write_text(text + f'[garments]\nmodel = "{tmp_path / "no-parser"}"\n', encoding="utf-8")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(case("webp").data)
    expected = "snapfit: nothing is indexed yet: build the index with `snapfit sync` first"
    # No store folder yet (none is created), then an empty store.
    for extra in (["--garment", "pants"], []):
        result = runner.invoke(app, ["search", str(photo), *extra, "--config", str(config)])
        assert result.exit_code == 1
        assert one_line(result) == expected, extra
    assert not (tmp_path / "no-index").exists()
    (tmp_path / "no-index").mkdir()
    for extra in (["--garment", "pants"], []):
        result = runner.invoke(app, ["search", str(photo), *extra, "--config", str(config)])
        assert result.exit_code == 1
        assert one_line(result) == expected, extra


def test_the_search_table_keeps_each_link_on_one_line(config: Path, world: World, tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(world.musinsa.image_bytes(world.products[9].id))
    rows = json.loads(
        runner.invoke(app, ["search", str(photo), "--json", "-n", "3", "-c", str(config)]).stdout
    )
    table = runner.invoke(app, ["search", str(photo), "-n", "3", "-c", str(config)], env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    assert all(row["url"] in table.stdout for row in rows)


def test_run_without_a_token(config: Path) -> None:
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert one_line(result) == (
        "snapfit: no Telegram bot token: set TELEGRAM_BOT_TOKEN (or [telegram] token in the config file)"
    )


def test_run_reads_comma_separated_admin_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The configuration loads (the run then stops for the missing token), no traceback.
    monkeypatch.setenv("SNAPFIT_TELEGRAM__ADMIN_IDS", "123,456")
    monkeypatch.setenv("SNAPFIT_MUSINSA__CATEGORIES", "001")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert one_line(result).startswith("snapfit: no Telegram bot token")


SECRET_TOKEN = "123456:NEVER-shown-in-an-error"


@pytest.mark.parametrize("where", ["file", "environment"])
def test_run_never_echoes_a_wrong_typed_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    path = tmp_path / "config.toml"
    if where == "file":
        path.write_text(f'[telegram]\ntoken = ["{SECRET_TOKEN}"]\n', encoding="utf-8")
    else:
        path.write_text("", encoding="utf-8")
        monkeypatch.setenv("SNAPFIT_TELEGRAM", json.dumps({"token": [SECRET_TOKEN]}))
    result = runner.invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 2
    line = one_line(result)
    assert "telegram.token: Input should be a valid string" in line
    assert "NEVER-shown" not in result.output + result.stderr


@contextmanager
def telegram_in_thread() -> Iterator[FakeTelegram]:
    """A fake Bot API on its own event loop, for a command that runs its own loop in this thread."""
    loop = asyncio.new_event_loop()
    fake = FakeTelegram(token=TEST_TOKEN)
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(fake.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(30), "the fake Telegram did not start"
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


def telegram_section(fake: FakeTelegram, token: str = TEST_TOKEN) -> dict[str, Any]:
    return {"token": token, "base_url": fake.base_url, "base_file_url": fake.base_file_url}


def test_run_startup_errors_are_one_line(
    world: World, store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    with telegram_in_thread() as fake:
        bad_model = write_config(
            tmp_path / "model.toml",
            world,
            store_dir,
            model=f"local-dir:{tmp_path / 'no-model'}",
            telegram=telegram_section(fake),
        )
        result = runner.invoke(app, ["run", "--config", str(bad_model)])
        assert result.exit_code == 1
        line = one_line(result)
        assert line.startswith("snapfit: ") and "no-model" in line

        wrong_token = write_config(
            tmp_path / "token.toml", world, store_dir, telegram=telegram_section(fake, "123456:WRONG-token")
        )
        result = runner.invoke(app, ["run", "--config", str(wrong_token)])
        assert result.exit_code == 1
        assert (
            one_line(result)
            == "snapfit: Telegram rejected the bot token (check TELEGRAM_BOT_TOKEN or [telegram] token)"
        )
        assert "WRONG-token" not in result.output

        locked = write_config(tmp_path / "locked.toml", world, store_dir, telegram=telegram_section(fake))
        loop = asyncio.new_event_loop()
        holder = loop.run_until_complete(open_catalog(StoreSettings(path=str(store_dir))))
        try:
            result = runner.invoke(app, ["run", "--config", str(locked)])
        finally:
            loop.run_until_complete(holder.close())
            loop.close()
        assert result.exit_code == 1
        line = one_line(result)
        assert line.startswith("snapfit: ") and str(store_dir) in line

    unreachable = write_config(
        tmp_path / "down.toml",
        world,
        store_dir,
        telegram={
            "token": TEST_TOKEN,
            "base_url": "http://127.0.0.1:9/bot",
            "base_file_url": "http://127.0.0.1:9/file/bot",
        },
    )
    result = runner.invoke(app, ["run", "--config", str(unreachable)])
    assert result.exit_code == 1
    line = one_line(result)
    assert line.startswith("snapfit: cannot reach the Telegram Bot API at http://127.0.0.1:9/bot")
    assert TEST_TOKEN not in result.output
