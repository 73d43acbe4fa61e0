"""``snapfit eval``: Recall@k and MRR of the configured encoder on a gallery and a query set.

Exit status: 0 when at least one query was scored (input problems are reported on stderr and
in the JSON); 1 when the model cannot be loaded or no query could be scored; 2 for a
configuration or input-layout mistake (missing folder, unreadable manifest or pairs file).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, ConfigOption, JsonOption, app, fail, load

if TYPE_CHECKING:
    from indexer.evaluation import EvaluationReport


@app.command("eval")
def evaluate(
    gallery: Annotated[
        Path,
        typer.Option(
            "--gallery",
            help="Gallery folder (images, or a manifest.jsonl/.csv or LookBench .parquet inside) "
            "or a manifest file.",
            show_default=False,
        ),
    ],
    queries: Annotated[
        Path,
        typer.Option(
            "--queries", help="Query folder or manifest file, same layouts as --gallery.", show_default=False
        ),
    ],
    pairs: Annotated[
        Path | None,
        typer.Option(
            "--pairs",
            help="Query id → matching gallery ids (.jsonl, .json, .csv, .tsv). Without it, each query row's "
            "item_ID/label names its matches (LookBench style).",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    k: Annotated[
        list[int] | None,
        typer.Option(
            "--k", min=1, help="A Recall@k cut-off; repeatable. (default: 1 5 10 20)", show_default=False
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            help="Score only the first N queries that have a match (quick runs).",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Embed a gallery and a query set and report Recall@k and MRR, overall and per category."""
    from bot.cli.indexing import load_encoder
    from indexer.evaluation import DEFAULT_KS, DatasetError, read_image_set, read_pairs, run_evaluation

    settings = load(config)
    try:
        gallery_set = read_image_set(gallery, role="gallery")
        query_set = read_image_set(queries, role="queries")
        pair_map = read_pairs(pairs) if pairs is not None else None
    except DatasetError as exc:
        raise fail(str(exc), EXIT_USAGE) from None

    from indexer.images import ImageDecoder

    encoder = load_encoder(settings.model)
    decoder = ImageDecoder(settings.images, encoder.image_size)
    typer.echo(
        f"gallery: {len(gallery_set)} images ({gallery_set.layout}: {gallery_set.origin}); "
        f"queries: {len(query_set)} ({query_set.layout}: {query_set.origin}); model {encoder.model_id}",
        err=True,
    )
    try:
        report = run_evaluation(
            encoder,
            gallery_set,
            query_set,
            pair_map,
            decode=decoder.decode,
            ks=k or DEFAULT_KS,
            limit=limit,
            progress=ProgressLines(),
        )
    except DatasetError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except KeyboardInterrupt:
        raise fail("interrupted", EXIT_INTERRUPTED) from None

    for line in report.problems():
        typer.echo(f"snapfit: warning: {line}", err=True)
    if json_output:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print_report(report)
    if report.evaluated == 0:
        raise fail("no query could be scored: see the warnings above", EXIT_FAILED)


class ProgressLines:
    """Embedding progress on stderr: one rewritten line on a terminal, a line per ~10 % elsewhere."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._shown: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        label = "gallery" if stage == "gallery" else "queries"
        text = f"embedding {label}: {done}/{total} images"
        if self._tty:
            sys.stderr.write("\r" + text + ("\n" if done >= total else ""))
            sys.stderr.flush()
            return
        decile = 10 * done // max(total, 1)
        if decile > self._shown.get(stage, -1) or done >= total:
            self._shown[stage] = decile
            typer.echo(text, err=True)


def print_report(report: EvaluationReport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"Recall ({report.pairs_source}; exact cosine search over {report.gallery_readable} images)"
    )
    table.add_column("category")
    table.add_column("queries", justify="right")
    for k in report.ks:
        table.add_column(f"R@{k}", justify="right")
    table.add_column("MRR", justify="right")

    def row(name: str, summary: object) -> list[str]:
        from indexer.evaluation import MetricSummary

        assert isinstance(summary, MetricSummary)
        return [
            name,
            str(summary.queries),
            *(f"{100 * summary.recall[k]:.2f}" for k in report.ks),
            f"{100 * summary.mrr:.2f}",
        ]

    for name, summary in report.by_category.items():
        table.add_row(*row(name, summary))
    if report.by_category:
        table.add_section()
    table.add_row(*row("all", report.overall), style="bold")
    console = Console(width=max(100, Console().width))
    console.print(table)
    console.print(f"model {report.model_id}; figures in percent")
