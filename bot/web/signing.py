"""Request signatures: Newswire's own push signature and Ghost's webhook signature.

Newswire: `X-Newswire-Timestamp: <unix seconds>`, `X-Newswire-Signature: sha256=<hex>`, the
HMAC-SHA256 with PUSH_SECRET of `<timestamp>.<raw body>`.

Ghost (ghost/core/core/server/services/webhooks/webhook-trigger.js in TryGhost/Ghost):
`X-Ghost-Signature: sha256=<hex>, t=<ms>`, the HMAC-SHA256 with the webhook's secret of the
JSON body followed directly by the timestamp in milliseconds (`${body}${ts}`, no separator).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re

MAX_SKEW_SECONDS = 300.0
_HEX = re.compile(r"[0-9a-fA-F]{64}")


class Verdict(enum.Enum):
    """Why a request's signature was accepted or refused (the refusal is said to the caller)."""

    OK = "ok"
    MISSING = "missing signature or timestamp"
    MALFORMED = "malformed signature or timestamp"
    STALE = "timestamp more than 300 s away"
    WRONG = "wrong signature"


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def newswire_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The `X-Newswire-Signature` value for a body sent at `timestamp` (unix seconds)."""
    return "sha256=" + _hmac_hex(secret, str(timestamp).encode("ascii") + b"." + body)


def ghost_signature(secret: str, body: bytes, timestamp_ms: int) -> str:
    """The `X-Ghost-Signature` value Ghost sends for a body at `timestamp_ms`."""
    digest = _hmac_hex(secret, body + str(timestamp_ms).encode("ascii"))
    return f"sha256={digest}, t={timestamp_ms}"


def _matches(expected_hex: str, given: str) -> bool:
    given = given.strip()
    if not given.startswith("sha256=") or not _HEX.fullmatch(given[7:]):
        return False
    return hmac.compare_digest(expected_hex, given[7:].lower())


def _fresh(seconds: float, now: float) -> bool:
    return abs(now - seconds) <= MAX_SKEW_SECONDS


def verify_newswire(
    secret: str, *, timestamp: str | None, signature: str | None, body: bytes, now: float
) -> Verdict:
    """Check a push's headers against its raw body; `now` is unix seconds."""
    if not timestamp or not signature:
        return Verdict.MISSING
    stamp = timestamp.strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        return Verdict.MALFORMED
    # The signature first: an unsigned request learns nothing about the clock.
    expected = _hmac_hex(secret, stamp.encode("ascii") + b"." + body)
    if not _matches(expected, signature):
        return Verdict.WRONG
    if not _fresh(int(stamp), now):
        return Verdict.STALE
    return Verdict.OK


def verify_ghost(secret: str, *, header: str | None, body: bytes, now: float) -> Verdict:
    """Check Ghost's `X-Ghost-Signature` header (`sha256=<hex>, t=<ms>`) against the body."""
    if not header:
        return Verdict.MISSING
    parts = dict(part.strip().partition("=")[::2] for part in header.split(",") if "=" in part)
    digest, stamp = parts.get("sha256"), parts.get("t")
    if digest is None or stamp is None:
        return Verdict.MALFORMED
    stamp = stamp.strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 15:
        return Verdict.MALFORMED
    expected = _hmac_hex(secret, body + stamp.encode("ascii"))
    if not _matches(expected, "sha256=" + digest):
        return Verdict.WRONG
    if not _fresh(int(stamp) / 1000, now):
        return Verdict.STALE
    return Verdict.OK
