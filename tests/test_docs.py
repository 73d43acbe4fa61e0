"""The documentation against the code: the README's commands, order and length; every configuration key
documented with its real default; every metric series named in the docs a real one; every relative link
in README.md, docs/ and BENCHMARKS.md pointing at a file (and heading) that exists."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.cli import app as cli
from bot.commands import COMMANDS
from bot.search_metrics import SEARCH_METRIC_NAMES
from indexer.config import Settings
from indexer.monitoring import METRIC_NAMES

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"
CONFIGURATION = DOCS / "configuration.md"
EXAMPLE = REPO / "config.example.toml"


# ----------------------------------------------------------------------------------------- README

# .ci/run and the project's hooks run these exactly as the README writes them.
INSTALL_AND_RUN = "```bash\npip install -e . && snapfit run\n```"
INSTALL_AND_TEST = "```bash\npip install -e '.[test]' && pytest\n```"


def test_the_readme_opens_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first_section = text.index("\n## ")
    assert text.index(INSTALL_AND_RUN) < text.index(INSTALL_AND_TEST) < first_section
    assert INSTALL_AND_TEST.splitlines()[1] in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_is_the_front_door() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    sections = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert sections == ["Quickstart", "Using the bot", "Commands", "Documentation"]
    documentation = text[text.index("\n## Documentation") :]
    for page in [*sorted(DOCS.glob("*.md")), REPO / "BENCHMARKS.md"]:
        assert f"]({page.relative_to(REPO)})" in documentation, f"the README does not link {page.name}"


def test_the_readme_lists_every_command() -> None:
    text = README.read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"| `/{command.name}" in text or f", `/{command.name}`" in text, command.name
    for registered in cli.registered_commands:
        assert f"| `snapfit {registered.name}" in text, registered.name
    for group in cli.registered_groups:
        for registered in group.typer_instance.registered_commands:  # type: ignore[union-attr]
            assert re.search(rf"\| `snapfit \w+ {registered.name}", text), registered.name


# ---------------------------------------------------------------------------------- configuration


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


# ------------------------------------------------------------------------------------------ links


def documents() -> list[Path]:
    return [README, REPO / "BENCHMARKS.md", *sorted(DOCS.glob("*.md"))]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[|\]|\(http[^)]*\)", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"#{1,6} (.+)", line)):
            found.add(slug(heading.group(1)))
    return found


def links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("document", documents(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(document: Path) -> None:
    for link in links(document):
        if re.match(r"[a-z]+:", link):
            continue  # https:, mailto:
        target, _, anchor = link.partition("#")
        resolved = (document.parent / target).resolve() if target else document
        assert resolved.is_relative_to(REPO), f"{document.name}: {link} leaves the repository"
        assert resolved.exists(), f"{document.name}: {link}: no such file"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{document.name}: {link}: no such heading"


def test_the_slug_follows_github() -> None:
    assert slug("End to end: photo → reply") == "end-to-end-photo--reply"
    assert slug("Encoder speed options (A/B against PyTorch fp32)") == (
        "encoder-speed-options-ab-against-pytorch-fp32"
    )
    assert slug("`snapfit crawl`") == "snapfit-crawl"


@pytest.mark.parametrize("document", documents(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_metric_series_named_exists(document: Path) -> None:
    named = set(re.findall(r"`(snapfit_[a-z_]*[a-z])`", document.read_text(encoding="utf-8")))
    series = set(METRIC_NAMES) | set(SEARCH_METRIC_NAMES)
    assert named <= series, named - series
