"""The ``snapfit`` command line.

Each command lives in its own module under ``bot.cli`` and registers itself on ``app``;
this module holds the root command, the shared ``--config`` option and the rule that a
configuration problem prints one line and exits with status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from indexer import __version__
from indexer.config import ConfigError, Settings, load_settings
from indexer.logs import configure_logging

# Exit statuses the commands share: a run that failed, a configuration or argument mistake, a sync
# that finished but left categories incomplete, Ctrl-C.
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="snapfit",
    help="Find Musinsa products that look like the outfit in a photo.",
    no_args_is_help=True,
    add_completion=False,
    # Never print local variables in a traceback: they can hold the bot token.
    pretty_exceptions_show_locals=False,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="TOML configuration file (default: $SNAPFIT_CONFIG, else ./config.toml, else built-in defaults)",
        show_default=False,
        dir_okay=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line to stderr and return the Exit to raise."""
    typer.echo(f"snapfit: {message}", err=True)
    return typer.Exit(code)


def load(config: Path | None) -> Settings:
    """Load the settings and set up logging, or exit 2 with one clear line."""
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        raise fail(str(exc), EXIT_CONFIG) from None
    configure_logging(
        settings.logging,
        secrets=[settings.telegram.token, settings.telegram.secret_token, settings.store.api_key],
    )
    return settings


def _version(value: bool) -> None:
    if value:
        typer.echo(f"snapfit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Find Musinsa products that look like the outfit in a photo."""


def main() -> None:
    """Console-script entry point."""
    app()


# Each command module registers itself on ``app``; they import heavy libraries lazily so
# that ``snapfit --help`` stays fast.
from bot.cli import config_cmd, crawl, eval, run, schedule_cmd, search, stats_cmd, sync_cmd  # noqa: E402,F401

# Operations (health check, model files): their own line, so that other additions merge cleanly.
from bot.cli import health_cmd, model_cmd  # noqa: E402,F401  # isort: skip

# Users' feedback (read-only reports on the user database).
from bot.cli import feedback_cmd  # noqa: E402,F401  # isort: skip
