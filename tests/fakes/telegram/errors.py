"""Telegram's refusals, worded as api.telegram.org words them.

Every description the fake sends lives here, so a wording that turns out wrong is changed in one place.
Strings marked UNCONFIRMED are the best known wording, not verified against the live server.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refusal: becomes ``{"ok": false, "error_code": status, "description": ...}`` with HTTP ``status``."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    """A 400; ``description`` is one of the constants below."""
    return ApiError(400, description)


# --- routing and authorisation -------------------------------------------------------------------------
NOT_FOUND = "Not Found"
METHOD_NOT_FOUND = "Not Found: method not found"
UNAUTHORIZED = "Unauthorized"
ENTITY_TOO_LARGE = "Request Entity Too Large"  # HTTP 413, before any parameter is read

# --- common parameters ---------------------------------------------------------------------------------
CHAT_ID_EMPTY = "Bad Request: chat_id is empty"
CHAT_NOT_FOUND = "Bad Request: chat not found"
BOT_BLOCKED = "Forbidden: bot was blocked by the user"
MESSAGE_TEXT_EMPTY = "Bad Request: message text is empty"
MESSAGE_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
CANT_PARSE_ENTITIES_JSON = "Bad Request: can't parse entities JSON object"  # UNCONFIRMED
CANT_PARSE_JSON_REQUEST = "Bad Request: can't parse JSON encoded request"  # UNCONFIRMED
UNSUPPORTED_PARSE_MODE = "Bad Request: unsupported parse_mode"
CANT_PARSE_ENTITIES = "Bad Request: can't parse entities: {reason}"
REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
MESSAGE_ID_NOT_SPECIFIED = "Bad Request: message identifier is not specified"
CANT_PARSE_REPLY_PARAMETERS = "Bad Request: can't parse reply parameters JSON object"  # UNCONFIRMED

# --- reply markup (run on every send and edit that carries one) ----------------------------------------
CANT_PARSE_REPLY_MARKUP = "Bad Request: can't parse reply keyboard markup JSON object"
# Wording as the real Bot API answers.
INLINE_KEYBOARD_NOT_ARRAY = 'Bad Request: Field "inline_keyboard" must be of type Array'
TEXT_BUTTONS_UNALLOWED = "Bad Request: Text buttons are not allowed in the inline keyboard"
INLINE_BUTTON_NOT_OBJECT = (
    "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object"  # UNCONFIRMED
)
BUTTON_TEXT_NOT_STRING = (
    'Bad Request: can\'t parse inline keyboard button: Field "text" must be of type String'
)
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
BUTTON_URL_INVALID = "Bad Request: BUTTON_URL_INVALID"
# Telegram uses the first action of a button with several; the fake refuses on purpose.
BUTTON_TYPE_INVALID = "Bad Request: BUTTON_TYPE_INVALID"
REPLY_MARKUP_TOO_LONG = "Bad Request: reply markup is too long"

# --- files and photos ----------------------------------------------------------------------------------
NO_FILE_IN_REQUEST = "Bad Request: there is no {kind} in the request"
FILE_EMPTY = "Bad Request: file must be non-empty"
IMAGE_PROCESS_FAILED = "Bad Request: IMAGE_PROCESS_FAILED"
PHOTO_INVALID_DIMENSIONS = "Bad Request: PHOTO_INVALID_DIMENSIONS"
FILE_TOO_BIG = "Bad Request: file is too big"
WRONG_FILE_ID_OR_URL = "Bad Request: wrong file identifier/HTTP URL specified"
WRONG_FILE_TYPE = "Bad Request: can't use file of type {actual} as {wanted}"
URL_CONTENT_FAILED = "Bad Request: failed to get HTTP URL content"
URL_WRONG_CONTENT_TYPE = "Bad Request: wrong type of the web page content"
GET_FILE_FAILED = "Bad Request: wrong file_id or the file is temporarily unavailable"
FILE_ID_EMPTY = "Bad Request: file_id is empty"  # UNCONFIRMED

# --- albums --------------------------------------------------------------------------------------------
MEDIA_REQUIRED = 'Bad Request: parameter "media" is required'
CANT_PARSE_MEDIA = "Bad Request: can't parse media JSON object"  # UNCONFIRMED
MEDIA_NOT_FOUND = "Bad Request: can't parse InputMedia: media not found"
MEDIA_TYPE_UNSUPPORTED = 'Bad Request: can\'t parse InputMedia: type "{type}" is unsupported'
ALBUM_EMPTY = "Bad Request: there are no messages to send"  # UNCONFIRMED
# go-telegram-bot-api #245; newer servers reportedly say "too many messages" (UNCONFIRMED).
ALBUM_TOO_MANY = "Bad Request: too much messages to send as an album"
# Telegram itself sends a one-item "album" as a plain message; the fake refuses it on purpose, because the
# bot must use sendPhoto for a single result. Worded so that code matching "messages to send as an album"
# sees it.
ALBUM_TOO_FEW = "Bad Request: too few messages to send as an album (the fake requires 2-10 items)"
ALBUM_MIXED_DOCUMENT = "Bad Request: document can't be mixed with other media types"
# A photo Telegram's servers refuse inside an album is reported with its 1-based position. UNCONFIRMED.
ALBUM_ITEM_FAILED = 'Bad Request: failed to send message #{position} with the error message "{error}"'
ALBUM_REPLY_MARKUP = (
    "Bad Request: sendMediaGroup has no reply_markup parameter "
    "(the fake refuses it and records a violation; put the keyboard on a follow-up message)"
)

# --- edits and deletes ---------------------------------------------------------------------------------
MESSAGE_TO_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
MESSAGE_CANT_BE_EDITED = "Bad Request: message can't be edited"
MESSAGE_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
NO_CAPTION_TO_EDIT = "Bad Request: there is no caption in the message to edit"  # UNCONFIRMED
NO_MEDIA_TO_EDIT = "Bad Request: there is no media in the message to edit"  # UNCONFIRMED
INLINE_MESSAGE_ID_INVALID = "Bad Request: MESSAGE_ID_INVALID"
MESSAGE_TO_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
MESSAGE_CANT_BE_DELETED = "Bad Request: message can't be deleted"

# --- callback queries ----------------------------------------------------------------------------------
CALLBACK_QUERY_ID_EMPTY = "Bad Request: callback_query_id is empty"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CALLBACK_ANSWER_TOO_LONG = "Bad Request: MESSAGE_TOO_LONG"  # UNCONFIRMED

# --- updates, commands, descriptions, chat actions -----------------------------------------------------
CANT_PARSE_ALLOWED_UPDATES = "Bad Request: can't parse allowed_updates JSON array"
CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
WEBHOOK_HTTPS_REQUIRED = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
WEBHOOK_BAD_PORT = "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
SECRET_TOKEN_INVALID = "Bad Request: secret token contains unallowed characters"  # UNCONFIRMED
COMMANDS_REQUIRED = 'Bad Request: parameter "commands" is required'
CANT_PARSE_COMMANDS = "Bad Request: can't parse commands JSON object"
BOT_COMMAND_INVALID = "Bad Request: BOT_COMMAND_INVALID"  # UNCONFIRMED
BOT_COMMAND_DESCRIPTION_INVALID = "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"  # UNCONFIRMED
BOT_COMMANDS_TOO_MUCH = "Bad Request: BOT_COMMANDS_TOO_MUCH"  # UNCONFIRMED
CANT_PARSE_SCOPE = "Bad Request: can't parse BotCommandScope JSON object"  # UNCONFIRMED
LANGUAGE_CODE_INVALID = "Bad Request: invalid language code specified"  # UNCONFIRMED
DESCRIPTION_TOO_LONG = "Bad Request: description is too long"  # UNCONFIRMED
SHORT_DESCRIPTION_TOO_LONG = "Bad Request: short description is too long"  # UNCONFIRMED
WRONG_CHAT_ACTION = "Bad Request: wrong parameter action in request"


def too_many_requests(retry_after: int) -> ApiError:
    """Flood control: PTB raises RetryAfter only for a truthy ``parameters.retry_after``."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


DEFAULT_FAULT_DESCRIPTIONS = {
    400: "Bad Request: injected fault",
    401: UNAUTHORIZED,
    403: BOT_BLOCKED,
    404: NOT_FOUND,
    409: CONFLICT_POLLING,
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
