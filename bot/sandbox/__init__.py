"""A local stand-in for the Telegram Bot API: rules in `core`, HTTP in `server`."""

from bot.sandbox.core import ApiError, Limits, Sandbox, UploadedFile
from bot.sandbox.html import TelegramHTMLError, parse_html
from bot.sandbox.server import SandboxServer

__all__ = [
    "ApiError",
    "Limits",
    "Sandbox",
    "SandboxServer",
    "TelegramHTMLError",
    "UploadedFile",
    "parse_html",
]
