"""The feedback and /forget buttons' callback data, and what a vote records from a search session."""

from __future__ import annotations

import numpy as np
import pytest

from bot.feedback import feedback_of
from bot.render import FeedbackButton, ForgetButton, feedback_data, forget_data, results_keyboard
from bot.search import QueryVector
from bot.sessions import SearchSessions
from indexer.store import SearchFilters
from tests.bot.buttons import parse_callback


def test_feedback_and_forget_data_round_trip_within_the_limit() -> None:
    assert feedback_data("AbC-_123", 2, 1) == "v1:fb:AbC-_123:2:u"
    assert FeedbackButton.parse("v1:fb:AbC-_123:2:u") == FeedbackButton("AbC-_123", 2, 1)
    assert FeedbackButton.parse(feedback_data("AbC-_123", 9999, -1)) == FeedbackButton("AbC-_123", 9999, -1)
    assert ForgetButton.parse(forget_data(True, 123_456_789_012)) == ForgetButton(True, 123_456_789_012)
    assert ForgetButton.parse(forget_data(False, 5)) == ForgetButton(False, 5)
    longest = [feedback_data("A" * 16, 9999, -1), forget_data(True, 10**15)]
    assert all(len(data.encode()) <= 64 for data in longest)
    for forged in (
        "v1:fb:AbC-_123:2:x",
        "v1:fb:AbC-_123:0:u",
        "v1:fb:a:1:u",
        "v1:fb:AbC-_123:2",
        "v0:fb:AbC-_123:2:u",
    ):
        assert FeedbackButton.parse(forged) is None and parse_callback(forged) is None
    for forged in ("v1:fg:y", "v1:fg:maybe:5", "v1:fg:y:-5", "v1:fg:y:05"):
        assert ForgetButton.parse(forged) is None and parse_callback(forged) is None
    # Each kind parses only its own data: /filter's v1:f:… is not feedback, and the reverse.
    assert FeedbackButton.parse("v1:f:p:u30k") is None
    assert parse_callback("v1:fb:AbC-_123:2:u") == FeedbackButton("AbC-_123", 2, 1)


def test_the_feedback_row_sits_above_the_category_button() -> None:
    markup = results_keyboard(
        "ko", search_id="AbC-_123", first_rank=7, count=2, next_page=3, category=None, feedback_page=2
    )
    labels = [[button.text for button in row] for row in markup.inline_keyboard]
    assert labels[-2] == ["👍", "👎"] and labels[-1][0].startswith("카테고리")
    assert [b.callback_data for b in markup.inline_keyboard[-2]] == [
        "v1:fb:AbC-_123:2:u",
        "v1:fb:AbC-_123:2:d",
    ]
    without = results_keyboard(
        "en", search_id="AbC-_123", first_rank=1, count=1, next_page=None, category=None
    )
    assert all("👍" not in [b.text for b in row] for row in without.inline_keyboard)


@pytest.mark.parametrize(
    ("kind", "garment", "flow"),
    [
        ("photo", None, "photo"),
        ("photo", "pants", "garment"),
        ("text", None, "text"),
        ("similar", None, "similar"),
    ],
)
def test_a_vote_records_the_flow_scope_model_and_that_pages_products(kind, garment, flow) -> None:  # type: ignore[no-untyped-def]
    sessions = SearchSessions()
    query = QueryVector(np.zeros(4, dtype=np.float32), "query-model") if kind != "similar" else None
    category = ("002", "003") if garment else "001"
    session = sessions.create(
        kind, user_id=7, category=category, page_size=2, query=query, filters=SearchFilters(max_price=50_000),
        garment=garment,
    )  # fmt: skip
    session.pages += [(1, 2), (3, 4)]
    recorded = feedback_of(session, 2, -1, catalog_model_id="catalog-model")
    assert recorded is not None
    assert recorded.flow == flow and recorded.vote == -1 and recorded.product_ids == (3, 4)
    assert recorded.category == ("002,003" if garment else "001")
    assert recorded.filters is not None and recorded.filters["max_price"] == 50_000
    assert recorded.model_id == ("catalog-model" if kind == "similar" else "query-model")
    assert feedback_of(session, 3, 1, catalog_model_id=None) is None  # never shown
    assert not hasattr(recorded, "vector") and "query" not in vars(recorded)
