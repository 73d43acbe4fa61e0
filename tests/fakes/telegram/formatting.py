"""Text as Telegram stores it: parse modes turned into plain text plus entities, offsets in UTF-16 units.

The server parses ``parse_mode`` markup before it checks lengths and before it compares an edit with the
current message, and it returns the plain text with entities. The parsers follow TDLib's rules and wording
(``MessageEntity.cpp``) closely enough to refuse what Telegram refuses; byte offsets count UTF-8 bytes.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from . import errors


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of every entity offset and length."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class FormattedText:
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


class _ParseError(Exception):
    pass


def format_text(text: str, parse_mode: str | None, entities: Any = None) -> FormattedText:
    """Parse ``text`` in ``parse_mode`` (or take explicit ``entities``) and trim it as Telegram does."""
    mode = (parse_mode or "").strip().lower()
    try:
        if mode == "":
            parsed = FormattedText(text, list(entities) if isinstance(entities, list) else [])
        elif mode == "html":
            parsed = _parse_html(text)
        elif mode == "markdownv2":
            parsed = _parse_markdown_v2(text)
        elif mode == "markdown":
            parsed = _parse_markdown_legacy(text)
        else:
            raise errors.bad_request(errors.UNSUPPORTED_PARSE_MODE)
    except _ParseError as exc:
        raise errors.bad_request(errors.CANT_PARSE_ENTITIES.format(reason=exc)) from exc
    return _trim(parsed)


def _trim(formatted: FormattedText) -> FormattedText:
    """Drop leading and trailing whitespace, moving and clipping entities with it."""
    text = formatted.text
    stripped = text.strip()
    if stripped == text:
        return formatted
    if not stripped:
        return FormattedText("", [])
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    end = utf16_len(stripped)
    entities = []
    for entity in formatted.entities:
        start = max(entity["offset"] - shift, 0)
        stop = min(entity["offset"] + entity["length"] - shift, end)
        if stop > start:
            entities.append({**entity, "offset": start, "length": stop - start})
    return FormattedText(stripped, entities)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class _Builder:
    """Collects plain text and entities while a parser walks the markup."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.position = 0  # UTF-16 units
        self.entities: list[dict[str, Any]] = []

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.position += utf16_len(chunk)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.position > start:
            self.entities.append({"type": kind, "offset": start, "length": self.position - start, **extra})

    def result(self) -> FormattedText:
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return FormattedText("".join(self.parts), ordered)


# --- HTML ------------------------------------------------------------------------------------------------
_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
}
_HTML_CHAR_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHAR_REF = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);")


def _decode_char_ref(text: str, index: int) -> tuple[str, int] | None:
    """Telegram decodes only &lt; &gt; &amp; &quot; and numeric references; others stay literal."""
    match = _CHAR_REF.match(text, index)
    if not match:
        return None
    name = match.group(1)
    if name.startswith("#"):
        decoded = html.unescape(match.group(0))
        return (decoded, match.end()) if decoded != match.group(0) else None
    if name in _HTML_CHAR_REFS:
        return _HTML_CHAR_REFS[name], match.end()
    return None


def _decode_attribute(value: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(value):
        ref = _decode_char_ref(value, index) if value[index] == "&" else None
        if ref:
            out.append(ref[0])
            index = ref[1]
        else:
            out.append(value[index])
            index += 1
    return "".join(out)


def _parse_html(text: str) -> FormattedText:
    out = _Builder()
    stack: list[tuple[str, int, dict[str, str]]] = []
    size = len(text)
    i = 0
    while i < size:
        char = text[i]
        if char == "&":
            ref = _decode_char_ref(text, i)
            if ref:
                out.add(ref[0])
                i = ref[1]
                continue
        if char != "<":
            out.add(char)
            i += 1
            continue
        begin = i
        i += 1
        if i >= size:
            raise _ParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[i] != "/":
            j = i
            while j < size and not text[j].isspace() and text[j] != ">":
                j += 1
            if j >= size:
                raise _ParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
            name = text[i:j].lower()
            if name not in _HTML_ENTITY_TYPES:
                raise _ParseError(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
                )
            i, attributes = _read_attributes(text, j, name, begin)
            if name == "span" and attributes.get("class") != "tg-spoiler":
                raise _ParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, begin)}'
                )
            stack.append((name, out.position, attributes))
            continue
        if not stack:
            raise _ParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
        j = i + 1
        while j < size and not text[j].isspace() and text[j] != ">":
            j += 1
        end_name = text[i + 1 : j].lower()
        while j < size and text[j].isspace():
            j += 1
        if j >= size or text[j] != ">":
            raise _ParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        i = j + 1
        open_name, start, attributes = stack[-1]
        if end_name != open_name:
            raise _ParseError(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{open_name}>", found "</{end_name}>"'
            )
        stack.pop()
        _close_html_entity(out, stack, open_name, start, attributes)
    if stack:
        raise _ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _read_attributes(text: str, index: int, tag: str, begin: int) -> tuple[int, dict[str, str]]:
    size = len(text)
    attributes: dict[str, str] = {}
    unclosed = f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
    while True:
        while index < size and text[index].isspace():
            index += 1
        if index >= size:
            raise _ParseError(unclosed)
        if text[index] == ">":
            return index + 1, attributes
        j = index
        while j < size and (text[j].isascii() and (text[j].isalnum() or text[j] in "-_")):
            j += 1
        if j == index:
            raise _ParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        name = text[index:j].lower()
        index = j
        while index < size and text[index].isspace():
            index += 1
        if index >= size:
            raise _ParseError(unclosed)
        if text[index] != "=":
            attributes[name] = ""
            continue
        index += 1
        while index < size and text[index].isspace():
            index += 1
        if index >= size:
            raise _ParseError(unclosed)
        if text[index] in "'\"":
            quote = text[index]
            end = text.find(quote, index + 1)
            if end < 0:
                raise _ParseError(unclosed)
            value = text[index + 1 : end]
            index = end + 1
        else:
            end = index
            while end < size and not text[end].isspace() and text[end] != ">":
                end += 1
            value = text[index:end]
            index = end
        attributes[name] = _decode_attribute(value)


def _close_html_entity(
    out: _Builder,
    stack: list[tuple[str, int, dict[str, str]]],
    tag: str,
    start: int,
    attributes: dict[str, str],
) -> None:
    kind = _HTML_ENTITY_TYPES[tag]
    if kind == "text_link":
        url = attributes.get("href", "")
        if url:
            out.entity("text_link", start, url=url)
    elif kind == "custom_emoji":
        out.entity("custom_emoji", start, custom_emoji_id=attributes.get("emoji-id", ""))
    elif kind == "code" and stack and stack[-1][0] == "pre":
        language = attributes.get("class", "")
        if language.startswith("language-"):
            stack[-1][2]["language"] = language.removeprefix("language-")
    elif kind == "pre":
        language = attributes.get("language")
        out.entity("pre", start, **({"language": language} if language else {}))
    elif kind == "blockquote" and "expandable" in attributes:
        out.entity("expandable_blockquote", start)
    else:
        out.entity(kind, start)


# --- MarkdownV2 ------------------------------------------------------------------------------------------
_MARKDOWN_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MARKDOWN_V2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


def _parse_markdown_v2(text: str) -> FormattedText:
    out = _Builder()
    stack: list[tuple[str, int, int]] = []  # (kind, utf16 start, index in text)
    size = len(text)
    i = 0
    while i < size:
        char = text[i]
        top = stack[-1][0] if stack else None
        if char == "\\" and i + 1 < size and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        if top in ("code", "pre"):
            closing = "```" if top == "pre" else "`"
            if text.startswith(closing, i):
                _, start, _ = stack.pop()
                out.entity(top, start)
                i += len(closing)
            else:
                out.add(char)
                i += 1
            continue
        if char not in _MARKDOWN_V2_RESERVED:
            out.add(char)
            i += 1
            continue
        if char == "`":
            if text.startswith("```", i):
                i += 3
                newline = text.find("\n", i)
                if newline >= 0 and re.fullmatch(r"[A-Za-z0-9_+#-]*", text[i:newline]):
                    i = newline + 1
                stack.append(("pre", out.position, i))
            else:
                stack.append(("code", out.position, i))
                i += 1
            continue
        kind, width = _markdown_v2_delimiter(text, i)
        if kind is None:
            if char == "]" and top == "text_link":
                i = _close_markdown_v2_link(text, i, out, stack)
                continue
            if char == "[":
                stack.append(("text_link", out.position, i))
                i += 1
                continue
            if char == ">" and (i == 0 or text[i - 1] == "\n"):
                i += 1  # a blockquote line marker; the quote entity itself is not modelled
                continue
            raise _ParseError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        if top == kind:
            _, start, _ = stack.pop()
            out.entity(kind, start)
        else:
            stack.append((kind, out.position, i))
        i += width
    if stack:
        kind, _, index = stack[-1]
        raise _ParseError(
            f"Can't find end of {_MARKDOWN_V2_NAMES[kind]} entity at byte offset {_byte_offset(text, index)}"
        )
    return out.result()


def _markdown_v2_delimiter(text: str, index: int) -> tuple[str | None, int]:
    if text.startswith("__", index):
        return "underline", 2
    if text.startswith("||", index):
        return "spoiler", 2
    return {"*": "bold", "_": "italic", "~": "strikethrough"}.get(text[index]), 1


def _close_markdown_v2_link(text: str, index: int, out: _Builder, stack: list[tuple[str, int, int]]) -> int:
    _, start, _ = stack.pop()
    index += 1
    if index < len(text) and text[index] == "(":
        url_chars: list[str] = []
        index += 1
        while index < len(text) and text[index] != ")":
            if text[index] == "\\" and index + 1 < len(text):
                index += 1
            url_chars.append(text[index])
            index += 1
        if index >= len(text):
            raise _ParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, index)}")
        index += 1
        url = "".join(url_chars)
        if url:
            out.entity("text_link", start, url=url)
    return index


# --- Markdown (legacy) -----------------------------------------------------------------------------------
def _parse_markdown_legacy(text: str) -> FormattedText:
    out = _Builder()
    size = len(text)
    i = 0
    while i < size:
        char = text[i]
        if char == "\\" and i + 1 < size and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if char not in "_*`[":
            out.add(char)
            i += 1
            continue
        begin = i
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            kind, body, after = "pre", text[i + 3 : end], end + 3
        elif char == "[":
            close = text.find("]", i + 1)
            if close < 0 or not text.startswith("(", close + 1) or text.find(")", close + 2) < 0:
                out.add(char)
                i += 1
                continue
            end = text.find(")", close + 2)
            start = out.position
            out.add(text[i + 1 : close])
            out.entity("text_link", start, url=text[close + 2 : end])
            i = end + 1
            continue
        else:
            end = text.find(char, i + 1)
            kind = {"_": "italic", "*": "bold", "`": "code"}[char]
            body, after = text[i + 1 : end], end + 1
        if end < 0:
            raise _ParseError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        start = out.position
        out.add(body)
        out.entity(kind, start)
        i = after
    return out.result()


# --- entities of messages users send ---------------------------------------------------------------------
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")
_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'\"]")


def user_entities(text: str) -> list[dict[str, Any]]:
    """What Telegram's clients attach to a typed message: a leading /command, and links."""
    entities: list[dict[str, Any]] = []
    command = _COMMAND.match(text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))})
    for match in _URL.finditer(text):
        entities.append(
            {"type": "url", "offset": utf16_len(text[: match.start()]), "length": utf16_len(match.group(0))}
        )
    return entities
