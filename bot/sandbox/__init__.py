"""A local stand-in for the Telegram Bot API: the front in `core`, HTTP in `server`."""

from bot.sandbox.core import Sandbox
from bot.sandbox.errors import ApiError, Refused, UploadedFile
from bot.sandbox.flood import Limits
from bot.sandbox.html import TelegramHTMLError, parse_html
from bot.sandbox.server import SandboxServer

__all__ = [
    "ApiError",
    "Limits",
    "Refused",
    "Sandbox",
    "SandboxServer",
    "TelegramHTMLError",
    "UploadedFile",
    "parse_html",
]
