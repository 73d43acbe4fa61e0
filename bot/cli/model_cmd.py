"""``snapfit model download``: the configured ``hf-hub:`` model as a ``local-dir:`` folder.

Prints progress on stderr and, on stdout, only the ``[model] name`` value that loads the folder
(``local-dir:/abs/path``), so a script can capture it. Exit 2 when the model is not an ``hf-hub:``
name (nothing to download), 1 for every other failure (one line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli import EXIT_CONFIG, ConfigOption, app, fail, load

model_app = typer.Typer(
    name="model", help="The image model's files (for servers without internet access).", no_args_is_help=True
)
app.add_typer(model_app)


@model_app.command("download")
def download(
    config: ConfigOption = None,
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            help="Folder to put the files in (default: ./models/<repository name>).",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="An hf-hub: name to fetch instead of model.name.", show_default=False),
    ] = None,
    revision: Annotated[
        str | None,
        typer.Option("--revision", help="A branch, tag or commit (default: main).", show_default=False),
    ] = None,
) -> None:
    """Fetch the hf-hub: model's open_clip_config.json, weights and tokenizer files into a folder."""
    from indexer.model_download import ModelDownloadError, default_folder, download_model, repo_of

    settings = load(config)
    name = model or settings.model.name
    try:
        repo = repo_of(name)
    except ModelDownloadError as exc:
        raise fail(str(exc), EXIT_CONFIG) from None
    folder = to or default_folder(repo)
    try:
        result = download_model(
            name,
            folder,
            cache_dir=settings.model.cache_dir or None,
            revision=revision,
            on_file=lambda file: typer.echo(f"fetching {repo}/{file}", err=True),
        )
    except ModelDownloadError as exc:
        raise fail(str(exc)) from None
    source = "the Hugging Face Hub" if result.source == "hub" else "the local Hugging Face cache"
    files = ", ".join(result.files)
    typer.echo(f"{len(result.files)} files from {source} in {result.folder}: {files}", err=True)
    hint = f'to load it offline, set [model] name = "{result.model_name}" (or SNAPFIT_MODEL__NAME)'
    typer.echo(hint, err=True)
    typer.echo(result.model_name)
