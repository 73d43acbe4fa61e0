"""A small robots.txt parser (RFC 9309) that can say *which* rule decided.

urllib.robotparser answers only yes/no and uses first-match instead of the RFC's longest
match, so a refusal could not name its rule. Here: groups by product token (case-insensitive)
else ``*``; the longest matching Allow/Disallow path wins, Allow on a tie; ``*`` and ``$``
wildcards; /robots.txt itself is always allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import quote, unquote, urlsplit


@dataclass(frozen=True)
class RobotsRule:
    """One Allow/Disallow line, with where it came from (for messages)."""

    allow: bool
    path: str
    line: int
    agents: tuple[str, ...]

    def describe(self) -> str:
        verb = "Allow" if self.allow else "Disallow"
        group = ", ".join(self.agents) if self.agents else "?"
        where = f"line {self.line}, " if self.line else ""
        return f"'{verb}: {self.path}' ({where}group User-agent: {group})"

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        path = _normalise(self.path)
        anchored = path.endswith("$")
        body = path[:-1] if anchored else path
        regex = ".*".join(re.escape(part) for part in body.split("*"))
        return re.compile(regex + ("$" if anchored else ""))

    def matches(self, path: str) -> bool:
        return bool(self.path) and self._pattern.match(path) is not None


@dataclass(frozen=True)
class RobotsDecision:
    allowed: bool
    rule: RobotsRule | None  # the rule that decided; None when no rule matched (allowed)


@dataclass
class _Group:
    agents: list[str]
    rules: list[RobotsRule]


def _normalise(path: str) -> str:
    """Percent-encode the same way on both sides so '/%ED%9B%84' and '/후' compare equal."""
    return quote(unquote(path), safe="/*$?=&;:@!,'()+~%-._")


def product_token(user_agent: str) -> str:
    """The name a robots.txt group uses for us: 'snapfit/0.1 (+https://…)' -> 'snapfit'."""
    token = user_agent.strip().split("/", 1)[0].split(" ", 1)[0]
    return token.lower()


class RobotsTxt:
    """A parsed robots.txt; ``check(url, user_agent)`` gives a decision and its rule."""

    def __init__(self, groups: list[_Group], *, blanket: RobotsRule | None = None) -> None:
        self._groups = groups
        self._blanket = blanket

    @classmethod
    def parse(cls, text: str) -> RobotsTxt:
        groups: list[_Group] = []
        current: _Group | None = None
        in_rules = False
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if ":" not in line:
                continue
            key, value = (part.strip() for part in line.split(":", 1))
            key = key.lower()
            if key == "user-agent":
                if current is None or in_rules:
                    current = _Group(agents=[], rules=[])
                    groups.append(current)
                    in_rules = False
                current.agents.append(value)
            elif key in ("allow", "disallow") and current is not None:
                in_rules = True
                current.rules.append(RobotsRule(key == "allow", value, number, ()))
        frozen = [
            _Group(g.agents, [RobotsRule(r.allow, r.path, r.line, tuple(g.agents)) for r in g.rules])
            for g in groups
        ]
        return cls(frozen)

    @classmethod
    def allow_all(cls) -> RobotsTxt:
        return cls([])

    @classmethod
    def disallow_all(cls, reason: str) -> RobotsTxt:
        """Used when robots.txt cannot be read (RFC 9309: an unreachable file means disallow all)."""
        return cls([], blanket=RobotsRule(False, f"/ ({reason})", 0, ("*",)))

    def _rules_for(self, user_agent: str) -> list[RobotsRule]:
        token = product_token(user_agent)
        named = [g for g in self._groups if any(a.lower() == token for a in g.agents)]
        chosen = named or [g for g in self._groups if "*" in g.agents]
        return [rule for group in chosen for rule in group.rules]

    def check(self, url: str, user_agent: str) -> RobotsDecision:
        parts = urlsplit(url)
        path = _normalise((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        if parts.path == "/robots.txt":
            return RobotsDecision(True, None)
        if self._blanket is not None:
            return RobotsDecision(False, self._blanket)
        best: RobotsRule | None = None
        for rule in self._rules_for(user_agent):
            if not rule.matches(path):
                continue
            if (
                best is None
                or len(rule.path) > len(best.path)
                or (len(rule.path) == len(best.path) and rule.allow and not best.allow)
            ):
                best = rule
        return RobotsDecision(best is None or best.allow, best)
