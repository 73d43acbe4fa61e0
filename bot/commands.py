"""The bot's commands, listed once: the command menus (setMyCommands) and /help are both built from here.

To add a command: append a ``CommandSpec`` (``admin=True`` for admin-only ones, which appear only in
the admins' own menus and must also be checked in the handler), add its ``cmd_<name>`` text (and
``arg_<name>`` when it takes an argument) to ``bot.messages`` and register its handler in
``bot.handlers``.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import BotCommand

from bot.messages import Lang, escape, plain, text


@dataclass(frozen=True)
class CommandSpec:
    name: str
    takes_argument: bool = False
    admin: bool = False

    def description(self, lang: Lang) -> str:
        return plain(lang, f"cmd_{self.name}")

    def usage(self, lang: Lang) -> str:
        """``/similar <id or link>`` as plain text."""
        if not self.takes_argument:
            return f"/{self.name}"
        return f"/{self.name} {plain(lang, f'arg_{self.name}')}"


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start"),
    CommandSpec("help"),
    CommandSpec("category", takes_argument=True),
    CommandSpec("similar", takes_argument=True),
    CommandSpec("filter", takes_argument=True),
    CommandSpec("settings"),
    CommandSpec("saved"),
    CommandSpec("alerts", takes_argument=True),
    CommandSpec("privacy"),
    CommandSpec("forget"),
    CommandSpec("stats", admin=True),
    CommandSpec("sync", admin=True),
)


def user_commands() -> list[CommandSpec]:
    return [command for command in COMMANDS if not command.admin]


def admin_commands() -> list[CommandSpec]:
    return [command for command in COMMANDS if command.admin]


def menu(lang: Lang, *, admin: bool) -> list[BotCommand]:
    """The command menu for a scope: everyone's commands, plus the admin ones for an admin's chat."""
    chosen = COMMANDS if admin else user_commands()
    return [BotCommand(command.name, command.description(lang)) for command in chosen]


def help_lines(lang: Lang, *, admin: bool) -> list[str]:
    """One HTML line per command for /help: usage and description."""
    lines = [f"{escape(c.usage(lang))} — {escape(c.description(lang))}" for c in user_commands()]
    if admin:
        lines.append("")
        lines.append(text(lang, "admin_commands_header"))
        lines += [f"{escape(c.usage(lang))} — {escape(c.description(lang))}" for c in admin_commands()]
    return lines
