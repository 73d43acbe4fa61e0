"""The documentation against the code: every configuration key documented with its real default."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from bot.config import Settings

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"
CONFIGURATION = DOCS / "configuration.md"
EXAMPLE = REPO / "config.example.toml"


def example() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def key_tables() -> dict[str, dict[str, str]]:
    """``### `[section]` `` headings of docs/configuration.md → {key: default cell} of their table."""
    tables: dict[str, dict[str, str]] = {}
    section = None
    for line in CONFIGURATION.read_text(encoding="utf-8").splitlines():
        heading = re.fullmatch(r"### `\[([a-z_]+)\]`", line)
        if heading:
            section = heading.group(1)
            tables[section] = {}
        elif line.startswith("## "):
            section = None
        elif section is not None:
            row = re.match(r"\| `([a-z0-9_]+)` \| ([^|]+) \|", line)
            if row:
                tables[section][row.group(1)] = row.group(2).strip()
    return tables


def test_every_section_and_key_is_documented_once() -> None:
    tables = key_tables()
    assert list(tables) == list(Settings.model_fields), "sections missing or out of order"
    for section, model in Settings.model_fields.items():
        keys = set(model.annotation.model_fields)  # type: ignore[union-attr]
        assert set(tables[section]) == keys, (section, set(tables[section]) ^ keys)
    # config.example.toml shows the same keys.
    assert {s: set(keys) for s, keys in example().items()} == {s: set(t) for s, t in tables.items()}


def test_documented_defaults_are_the_real_ones() -> None:
    defaults = Settings().model_dump()
    shown = example()
    for section, table in key_tables().items():
        for key, cell in table.items():
            value = defaults[section][key]
            assert shown[section][key] == value, f"config.example.toml: {section}.{key}"
            if isinstance(value, dict):
                assert cell == "(table)", f"{section}.{key}"
                continue
            literal = re.fullmatch(r"`(.*)`", cell)
            assert literal, f"{section}.{key}: default {cell!r} is not a `literal`"
            assert tomllib.loads(f"v = {literal.group(1)}")["v"] == value, f"{section}.{key}"
