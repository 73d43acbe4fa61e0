"""The /alerts buttons' callback data: ``v1:a:on`` and ``v1:a:off``."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.messages import Lang, plain
from bot.render import CALLBACK_VERSION

KIND = "a"


@dataclass(frozen=True)
class AlertsButton:
    """Turn alerts on (``enabled``) or off."""

    enabled: bool

    @property
    def data(self) -> str:
        return f"{CALLBACK_VERSION}:{KIND}:{'on' if self.enabled else 'off'}"

    @classmethod
    def parse(cls, data: object) -> AlertsButton | None:
        parts = data.split(":") if isinstance(data, str) else []
        if (
            len(parts) != 3
            or parts[0] != CALLBACK_VERSION
            or parts[1] != KIND
            or parts[2] not in ("on", "off")
        ):
            return None
        return cls(parts[2] == "on")


def alerts_keyboard(lang: Lang, enabled: bool) -> InlineKeyboardMarkup:
    """One button: the opposite of the current state."""
    key = "alerts_button_off" if enabled else "alerts_button_on"
    button = AlertsButton(not enabled)
    return InlineKeyboardMarkup([[InlineKeyboardButton(plain(lang, key), callback_data=button.data)]])
