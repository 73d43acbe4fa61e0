"""``snapfit config``: show the effective configuration, to check what a deployment will use."""

from __future__ import annotations

import json

import typer

from bot.cli import ConfigOption, app, load


@app.command("config")
def show_config(config: ConfigOption = None) -> None:
    """Print the effective configuration (file + environment + defaults) as JSON, secrets masked."""
    settings = load(config)
    data = settings.model_dump(mode="json")
    for section, key in (("telegram", "token"), ("telegram", "secret_token"), ("store", "api_key")):
        if data[section][key]:
            data[section][key] = "<set>"
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
