"""What one 👍 / 👎 on a result page records: the search's flow, scope and model, and the ids it showed.

Built only from the search session (``bot.sessions``): never the user's photo, never the query
vector. A page takes one vote per user: the session remembers it (``SearchSession.votes``), and a
second press changes nothing (the toast says the first one counts). Sessions live in memory, so after
a restart or once the search expired the buttons ask for a new search and no page can be voted twice.
"""

from __future__ import annotations

from bot.sessions import SearchSession
from bot.userdata.store import Feedback, Flow


def flow_of(session: SearchSession) -> Flow:
    """The flow a search came from: a whole photo, one garment of a photo, words, or similar products."""
    if session.kind == "photo":
        return "garment" if session.garment is not None else "photo"
    return session.kind


def category_of(session: SearchSession) -> str | None:
    """The searched category code; a garment's several codes joined with commas (None: all)."""
    if isinstance(session.category, tuple):
        return ",".join(session.category) or None
    return session.category


def page_product_ids(session: SearchSession, page: int) -> tuple[int, ...] | None:
    """The product ids page ``page`` (1-based) showed; None for a page the session never sent."""
    if not 1 <= page <= len(session.pages):
        return None
    return session.pages[page - 1]


def feedback_of(
    session: SearchSession, page: int, vote: int, *, catalog_model_id: str | None
) -> Feedback | None:
    """The row to store for ``vote`` on ``page``; None when that page was never shown.

    The model is the one that embedded the query (photo, text, an unindexed product), else
    ``catalog_model_id``: the live index's (a similar search of an indexed product uses its stored
    vector)."""
    shown = page_product_ids(session, page)
    if shown is None:
        return None
    model_id = session.query.model_id if session.query is not None else catalog_model_id
    return Feedback(
        user_id=session.user_id,
        flow=flow_of(session),
        category=category_of(session),
        filters=session.filters.to_dict(),
        model_id=model_id,
        product_ids=shown,
        vote=1 if vote > 0 else -1,
    )
