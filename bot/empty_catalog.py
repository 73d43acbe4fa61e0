"""What the bot says when a search meets an empty index: "being built" only while a sync runs.

Otherwise search is unavailable for now; an admin also gets the reason (the last sync's error)
and the next step, as ``/stats`` shows them (``indexer.sync.readiness``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.messages import Lang, escape, text
from indexer.sync.readiness import EmptyIndex, explain_empty_index, sync_running
from indexer.sync.summary import latest_summary

if TYPE_CHECKING:
    from bot.services import BotServices


def empty_index_state(services: BotServices) -> EmptyIndex:
    """Why the index is empty: a sync (of this or another process) building it, or the last sync's outcome."""
    nightly = services.nightly
    data_dir = services.settings.data.dir
    running = (nightly is not None and nightly.running) or sync_running(data_dir)
    known = nightly.last_summary if nightly is not None else None
    last = latest_summary(data_dir, known)
    return explain_empty_index(running=running, last=last, sync_command="/sync")


def empty_catalog_text(services: BotServices, lang: Lang, *, admin: bool) -> str:
    """The answer to a search of an empty index; with the reason and the next step for an admin."""
    state = empty_index_state(services)
    if state.building:
        return text(lang, "catalog_empty")
    message = text(lang, "catalog_unavailable")
    if admin:
        message += "\n\n" + empty_state_text(lang, state)
    return message


def empty_state_text(lang: Lang, state: EmptyIndex) -> str:
    return text(lang, "catalog_state_admin", reason=escape(state.reason), next_step=escape(state.next_step))
