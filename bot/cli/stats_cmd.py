"""``snapfit stats``: what the index holds (per category, model, dimension) and how the last sync went.

``--json`` prints one object: ``products``, ``by_category``, ``model``, ``dimension`` and
``last_sync`` (the saved summary of the last ``snapfit sync`` / nightly run, or null), plus
``model_name``, ``version``, ``backend`` and ``rebuild`` (an unfinished new index version, or null),
and ``users``: the user database's ``users_with_settings``, ``saved_products``,
``alerts_sent_last_sync`` and ``feedback`` ``{"up", "down"}`` (zeros before it exists; null, with
``users_error`` saying why, when it cannot be read).
It only reads: a store folder or data folder that does not exist yet is reported empty, not created.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer

from bot.cli import ConfigOption, JsonOption, app, load

EMPTY_INDEX: dict[str, Any] = {
    "products": 0,
    "by_category": {},
    "model": None,
    "dimension": None,
    "model_name": None,
    "version": None,
    "backend": "edge",
    "rebuild": None,
}


@app.command("stats")
def stats(json_output: JsonOption = False, config: ConfigOption = None) -> None:
    """Show the number of indexed products per category, the model, and the last sync's result."""
    from rich.console import Console

    from bot.cli.indexing import never_built, open_store
    from indexer.sync import load_last_summary
    from indexer.sync.readiness import sync_running

    settings = load(config)

    async def read() -> dict[str, Any]:
        if never_built(settings.store):  # stats only reads: it creates no folder
            return EMPTY_INDEX
        catalog = await open_store(settings.store)
        try:
            numbers = await catalog.stats()
            live = numbers.version
            building = [
                version
                for version in await catalog.versions()
                if version.state == "building" and version.name != live
            ]
        finally:
            await catalog.close()
        rebuild = building[-1] if building else None
        return {
            "products": numbers.total,
            "by_category": numbers.by_category,
            "model": numbers.model_id,
            "dimension": numbers.dimension,
            "model_name": numbers.model_name,
            "version": numbers.version,
            "backend": numbers.backend,
            "rebuild": {"version": rebuild.name, "model": rebuild.model_id} if rebuild else None,
        }

    report = dict(asyncio.run(read()))
    last = load_last_summary(settings.data.dir)
    report["last_sync"] = last.to_json() if last is not None else None
    report.update(users_report(settings.data.path))
    if json_output:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    print_stats(Console(), report, running=sync_running(settings.data.dir))


def users_report(data_dir: Any) -> dict[str, Any]:
    """``{"users": {...}}`` from the user database (read-only), or ``users`` null and ``users_error``."""
    from bot.cli.users_read import read_users
    from bot.userdata.store import UserCounts, UserStoreError, VoteCount

    try:
        counts = asyncio.run(read_users(data_dir, lambda store: store.counts()))
    except UserStoreError as exc:
        return {"users": None, "users_error": exc.reason}
    if counts is None:
        counts = UserCounts(0, 0, 0, VoteCount())
    return {
        "users": {
            "users_with_settings": counts.users_with_settings,
            "saved_products": counts.saved_products,
            "alerts_sent_last_sync": counts.alerts_sent_last_sync,
            "feedback": {"up": counts.feedback.up, "down": counts.feedback.down},
        }
    }


def print_users(say: Any, report: dict[str, Any]) -> None:
    users = report.get("users")
    if users is None:
        if "users_error" in report:
            say(f"users: unavailable ({report['users_error']})")
        return
    feedback = users["feedback"]
    say(
        f"users: {users['users_with_settings']} with settings, {users['saved_products']} saved products, "
        f"{users['alerts_sent_last_sync']} alerts sent by the last sync, "
        f"feedback {feedback['up']} up / {feedback['down']} down"
    )


def print_stats(console: Any, report: dict[str, Any], *, running: bool = False) -> None:
    """The report as tables and lines; ``running``: a sync of any process sharing the data folder runs."""
    from rich.table import Table

    from bot.cli.sync_view import category_label
    from indexer.sync import SyncSummary
    from indexer.sync.readiness import explain_empty_index

    def say(text: str) -> None:
        console.print(text, highlight=False, soft_wrap=True, markup=False)

    if report["version"] is None:
        # Why it is empty (a sync building it, no sync yet, the last sync's error) and what to do next.
        last = SyncSummary.from_json(report["last_sync"]) if report["last_sync"] is not None else None
        state = explain_empty_index(running=running, last=last)
        say(state.line()[:1].upper() + state.line()[1:])
    else:
        table = Table(title=f"{report['products']} products indexed", title_justify="left")
        table.add_column("category")
        table.add_column("products", justify="right")
        for code, count in report["by_category"].items():
            table.add_row(category_label(code), str(count))
        console.print(table)
        say(f"model: {report['model']} ({report['dimension']} dimensions)")
        say(f"index version: {report['version']} ({report['backend']})")
    if report["rebuild"]:
        say(
            f"new index version being built: {report['rebuild']['version']} "
            f"(model {report['rebuild']['model']}); the next sync goes on with it"
        )
    print_users(say, report)
    last = report["last_sync"]
    if last is None:
        say("last sync: none yet")
        return
    summary = SyncSummary.from_json(last)
    finished = summary.finished_at.isoformat(timespec="seconds") if summary.finished_at else "?"
    say(f"last sync (finished {finished}): {summary.headline()}")
    for note in summary.notes():
        say(f"  {note}")
