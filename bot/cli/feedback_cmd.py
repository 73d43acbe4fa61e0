"""``snapfit feedback``: the share of 👍 per flow and per category, from the users' votes.

It reads the bot's user database (``[data] dir``/users.sqlite3) read-only, without starting the bot
(it may run at the same time). ``--since DAYS`` counts only the votes of the last DAYS days.
``--json`` prints ``{"since": iso|null, "total": {...}, "by_flow": {flow: {...}},
"by_category": {code|"all": {...}}}``, each count ``{"up", "down", "votes", "share_up"}``
(``share_up`` 0..1, null without votes). No database yet: "no feedback yet", exit 0; a corrupt or
locked one: one line, exit 1.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from bot.cli import EXIT_FAILED, ConfigOption, JsonOption, app, fail, load

ALL_CATEGORIES = "all"  # the JSON key of votes on searches over every category


def count_json(votes: Any) -> dict[str, Any]:
    share = votes.share_up
    return {
        "up": votes.up,
        "down": votes.down,
        "votes": votes.total,
        "share_up": round(share, 4) if share is not None else None,
    }


def summary_json(summary: Any, since: datetime | None) -> dict[str, Any]:
    return {
        "since": since.isoformat(timespec="seconds") if since is not None else None,
        "total": count_json(summary.total),
        "by_flow": {flow: count_json(v) for flow, v in sorted(summary.by_flow.items())},
        "by_category": {
            (code or ALL_CATEGORIES): count_json(v)
            for code, v in sorted(summary.by_category.items(), key=lambda item: item[0] or "")
        },
    }


@app.command("feedback")
def feedback(
    since_days: Annotated[
        float | None,
        typer.Option(
            "--since", min=0, help="Only the votes of the last DAYS days (default: all).", metavar="DAYS"
        ),
    ] = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Show the share of 👍 per flow (photo, garment, text, similar) and per category, with counts."""
    from bot.cli.users_read import read_users
    from bot.userdata.store import FeedbackSummary, UserStoreError, VoteCount

    settings = load(config)
    since = datetime.now(UTC) - timedelta(days=since_days) if since_days is not None else None
    try:
        summary = asyncio.run(read_users(settings.data.path, lambda store: store.feedback_summary(since)))
    except UserStoreError as exc:
        raise fail(f"cannot read the feedback: {exc.reason}", EXIT_FAILED) from None
    if summary is None:
        summary = FeedbackSummary(total=VoteCount(), by_flow={}, by_category={})
    if json_output:
        typer.echo(json.dumps(summary_json(summary, since), ensure_ascii=False))
        return
    if summary.total.total == 0:
        typer.echo(
            "no feedback yet" if since_days is None else f"no feedback in the last {since_days:g} days"
        )
        return
    print_feedback(summary_json(summary, since), since_days)


def category_text(key: str) -> str:
    """'all categories', '001 tops', or a garment's several ('002 bottoms, 003 shoes')."""
    from bot.cli.sync_view import category_label

    if key == ALL_CATEGORIES:
        return "all categories"
    return ", ".join(category_label(code) for code in key.split(","))


def print_feedback(report: dict[str, Any], since_days: float | None) -> None:
    from rich.console import Console
    from rich.table import Table

    def share(count: dict[str, Any]) -> str:
        return f"{count['share_up'] * 100:.0f} %" if count["share_up"] is not None else "-"

    console = Console()
    total = report["total"]
    scope = "all time" if since_days is None else f"the last {since_days:g} days"
    console.print(
        f"{total['votes']} votes ({scope}): {share(total)} 👍 ({total['up']} 👍, {total['down']} 👎)",
        highlight=False,
        markup=False,
    )
    for title, rows, label in (
        ("per flow", report["by_flow"], str),
        ("per category", report["by_category"], category_text),
    ):
        table = Table(title=title, title_justify="left")
        for column, justify in (
            ("", "left"),
            ("👍 share", "right"),
            ("👍", "right"),
            ("👎", "right"),
            ("votes", "right"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for key, count in rows.items():
            table.add_row(label(key), share(count), str(count["up"]), str(count["down"]), str(count["votes"]))
        console.print(table)
