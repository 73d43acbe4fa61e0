"""Callback data back to a button, through every kind the bot registers a handler for."""

from __future__ import annotations

from bot.alerts.button import AlertsButton
from bot.render import (
    CategoryButton,
    CategoryMenuButton,
    ClearFiltersButton,
    FeedbackButton,
    FilterButton,
    ForgetButton,
    GarmentButton,
    PageButton,
    RemoveSavedButton,
    SaveButton,
    SavedPageButton,
    SettingsButton,
    SimilarButton,
    WidenButton,
)

Button = (
    PageButton
    | SimilarButton
    | CategoryButton
    | CategoryMenuButton
    | GarmentButton
    | FilterButton
    | ClearFiltersButton
    | SettingsButton
    | WidenButton
    | FeedbackButton
    | ForgetButton
    | SaveButton
    | SavedPageButton
    | RemoveSavedButton
    | AlertsButton
)
BUTTON_KINDS = (
    PageButton,
    SimilarButton,
    CategoryButton,
    CategoryMenuButton,
    GarmentButton,
    FilterButton,
    ClearFiltersButton,
    SettingsButton,
    WidenButton,
    FeedbackButton,
    ForgetButton,
    SaveButton,
    SavedPageButton,
    RemoveSavedButton,
    AlertsButton,
)


def parse_callback(data: object) -> Button | None:
    """The button behind ``data``, or None for anything this version of the bot did not make (stale)."""
    for kind in BUTTON_KINDS:
        button = kind.parse(data)
        if button is not None:
            return button
    return None
