"""Reader settings as values and pure rules: digests, quiet hours, time zones, exclusions.

No I/O. Storage keeps a `ReaderSettings` per chat (`repo.readers.settings_of` / `update_settings`);
the bot renders and edits them; planning asks these rules when and how a story reaches a reader.
"""

from __future__ import annotations

import enum
import re
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from content.topics import fold, keyword_pattern, normalise_topic

LANGUAGES = ("en", "zh", "ms", "ta")  # English, Chinese (Simplified), Malay, Tamil
DEFAULT_LANGUAGE = "en"
MAX_SUBSCRIPTIONS = 50
MAX_MUTES = 50
MAX_TERM_CHARS = 64
DEFAULT_DIGEST_AT = time(7, 0)  # a daily digest whose reader named no time
MAX_EXCLUDES = 10  # per subscription: more is a sign of a wrong subscription, not a need


class DigestMode(enum.Enum):
    OFF = "off"  # instant: each matching story as it is published
    HOURLY = "hourly"  # at the top of each hour
    DAILY = "daily"  # at `digest_at` in the reader's zone


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window (in the reader's zone) when instant messages are held; may span midnight."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class ReaderSettings:
    """Everything a reader chose; the defaults are what a new reader gets."""

    language: str = DEFAULT_LANGUAGE
    timezone: str | None = None  # a `zone_name()`: IANA or "UTC+08:00"; None: the outlet's
    digest: DigestMode = DigestMode.OFF
    digest_at: time | None = None  # for DAILY
    quiet: QuietHours | None = None
    breaking_in_quiet: bool = True  # stories tagged breaking go through quiet hours


class SettingError(ValueError):
    """What a reader typed is not a valid setting; `str()` is the reason, in English."""


# ---- Languages --------------------------------------------------------------------------------


def language_from_code(code: str | None) -> str | None:
    """One of LANGUAGES for a Telegram `language_code` ("zh-hans", "ms-MY"), or None."""
    if not code:
        return None
    base = code.strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else None


def parse_language(text: str) -> str:
    """A `/language` argument ("zh", "ZH", "zh-CN") as one of LANGUAGES."""
    language = language_from_code(text)
    if language is None:
        raise SettingError("unknown language")
    return language


# ---- Times of day -----------------------------------------------------------------------------

_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:.h]?([0-5]\d)$")


def parse_clock(text: str) -> time:
    """ "07:30", "7:30", "0730" or "7.30" as a time of day."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise SettingError("not a time of day (HH:MM)")
    return time(int(match.group(1)), int(match.group(2)))


def clock_text(moment: time) -> str:
    """A time of day as stored and shown: "07:30"."""
    return f"{moment.hour:02d}:{moment.minute:02d}"


# ---- Time zones -------------------------------------------------------------------------------

# Common ways readers name a place, to its IANA zone. Small on purpose: anything else is an
# IANA name or a UTC offset.
CITIES: dict[str, str] = {
    "singapore": "Asia/Singapore",
    "kuala lumpur": "Asia/Kuala_Lumpur",
    "kl": "Asia/Kuala_Lumpur",
    "malaysia": "Asia/Kuala_Lumpur",
    "jakarta": "Asia/Jakarta",
    "bangkok": "Asia/Bangkok",
    "manila": "Asia/Manila",
    "hong kong": "Asia/Hong_Kong",
    "beijing": "Asia/Shanghai",
    "shanghai": "Asia/Shanghai",
    "china": "Asia/Shanghai",
    "taipei": "Asia/Taipei",
    "tokyo": "Asia/Tokyo",
    "seoul": "Asia/Seoul",
    "chennai": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "kolkata": "Asia/Kolkata",
    "india": "Asia/Kolkata",
    "colombo": "Asia/Colombo",
    "dubai": "Asia/Dubai",
    "sydney": "Australia/Sydney",
    "melbourne": "Australia/Melbourne",
    "perth": "Australia/Perth",
    "auckland": "Pacific/Auckland",
    "london": "Europe/London",
    "paris": "Europe/Paris",
    "berlin": "Europe/Berlin",
    "amsterdam": "Europe/Amsterdam",
    "new york": "America/New_York",
    "nyc": "America/New_York",
    "washington": "America/New_York",
    "toronto": "America/Toronto",
    "chicago": "America/Chicago",
    "los angeles": "America/Los_Angeles",
    "la": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "utc": "UTC",
    "gmt": "UTC",
}

_OFFSET = re.compile(r"^(?:utc|gmt)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_STORED_OFFSET = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$")


def parse_zone(text: str) -> str:
    """A `/timezone` argument as a `zone_name`: IANA name, common city, or "UTC+8"/"UTC-5:30"."""
    words = " ".join(text.split())
    if not words:
        raise SettingError("no time zone")
    if (city := CITIES.get(words.lower())) is not None:
        return city
    if (match := _OFFSET.match(words)) is not None:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes >= 60 or (hours == 14 and minutes):
            raise SettingError("a UTC offset is between -14:00 and +14:00")
        return f"UTC{sign}{hours:02d}:{minutes:02d}"
    # IANA names are case-sensitive on disk; accept "asia/singapore" and "America/New York".
    candidate = "/".join(
        "_".join(w[:1].upper() + w[1:] for w in part.split(" ")) for part in words.split("/")
    )
    for name in dict.fromkeys((words, words.replace(" ", "_"), candidate)):
        if "/" in name and _iana(name) is not None:
            return name
    raise SettingError("unknown time zone")


def _iana(name: str) -> ZoneInfo | None:
    if ".." in name or name.startswith("/"):
        return None  # ZoneInfo reads files: keep names inside the tz database
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_of(name: str | None, default: tzinfo) -> tzinfo:
    """The tzinfo of a stored zone name (IANA or "UTC+08:00"); `default` for None or unknown."""
    if not name:
        return default
    if (match := _STORED_OFFSET.match(name)) is not None:
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        return timezone(delta if match.group(1) == "+" else -delta, name)
    return _iana(name) or default


# ---- Digests ----------------------------------------------------------------------------------


def parse_digest(text: str) -> tuple[DigestMode, time | None]:
    """A `/digest` argument: "off", "hourly", "daily 07:30" ("daily" alone: no time, None)."""
    words = text.lower().split()
    if words == ["off"] or words == ["instant"]:
        return DigestMode.OFF, None
    if words == ["hourly"]:
        return DigestMode.HOURLY, None
    if words and words[0] == "daily" and len(words) <= 2:
        return DigestMode.DAILY, parse_clock(words[1]) if len(words) == 2 else None
    raise SettingError("use off, hourly or daily HH:MM")


def _local_at(day: datetime, at: time, zone: tzinfo) -> datetime:
    """`at` on `day`'s date in `zone`, as an aware datetime (a time skipped by DST moves on)."""
    local = datetime.combine(day.date(), at, tzinfo=zone)
    # A wall time inside a spring-forward gap does not exist; the round trip through UTC
    # lands it just after the gap, which is when the reader's clock shows it next.
    return local.astimezone(UTC).astimezone(zone)


def next_digest(settings: ReaderSettings, after: datetime, zone: tzinfo) -> datetime | None:
    """The first digest after `after` (aware, in `zone`); None when digests are off."""
    if settings.digest is DigestMode.OFF:
        return None
    if settings.digest is DigestMode.HOURLY:
        # Top of the reader's hour (not UTC's: some zones are offset by 30 or 45 minutes).
        # Every zone's offset is a multiple of 15 minutes, so stepping in absolute quarter
        # hours finds it, and is right across DST changes.
        step = after.astimezone(UTC).replace(second=0, microsecond=0)
        step -= timedelta(minutes=step.minute % 15)
        while True:
            step += timedelta(minutes=15)
            if step > after and step.astimezone(zone).minute == 0:
                return step.astimezone(zone)
    at = settings.digest_at or DEFAULT_DIGEST_AT
    local = after.astimezone(zone)
    for days in range(0, 3):
        candidate = _local_at(local + timedelta(days=days), at, zone)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a daily time recurs within two days")


# ---- Quiet hours ------------------------------------------------------------------------------


def parse_quiet(text: str) -> QuietHours | None:
    """A `/quiet` argument: "22:00-07:00" (may span midnight) or "off" (None)."""
    words = text.strip().lower()
    if words == "off":
        return None
    parts = [p for p in re.split(r"\s*[-–—]\s*|\s+to\s+|\s+", words) if p]
    if len(parts) != 2:
        raise SettingError("use HH:MM-HH:MM or off")
    start, end = parse_clock(parts[0]), parse_clock(parts[1])
    if start == end:
        raise SettingError("quiet hours start and end at the same time")
    return QuietHours(start, end)


def in_quiet_hours(quiet: QuietHours | None, moment: datetime, zone: tzinfo) -> bool:
    """Whether the reader's clock at `moment` is inside quiet hours (start inclusive, end not)."""
    if quiet is None:
        return False
    now = moment.astimezone(zone).time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        return quiet.start <= now < quiet.end
    return now >= quiet.start or now < quiet.end  # spans midnight


def quiet_ends(quiet: QuietHours, moment: datetime, zone: tzinfo) -> datetime:
    """The next end of quiet hours strictly after `moment` (aware, in `zone`, DST-correct)."""
    local = moment.astimezone(zone)
    for days in range(0, 3):
        candidate = _local_at(local + timedelta(days=days), quiet.end, zone)
        if candidate > moment:
            return candidate
    raise AssertionError("unreachable: a daily time recurs within two days")


def held(settings: ReaderSettings, moment: datetime, zone: tzinfo, *, breaking: bool) -> bool:
    """Whether an instant message at `moment` waits for the end of quiet hours."""
    if breaking and settings.breaking_in_quiet:
        return False
    return in_quiet_hours(settings.quiet, moment, zone)


# ---- Subscriptions, exclusions, mutes ---------------------------------------------------------


def normalize_term(text: str) -> str:
    """A word, phrase or topic as stored: lower case, single spaces."""
    return " ".join(text.split()).lower()


def check_term(term: str) -> str:
    """`term` normalized, or SettingError when empty or longer than MAX_TERM_CHARS."""
    value = normalize_term(term)
    if not value:
        raise SettingError("empty")
    if len(value) > MAX_TERM_CHARS:
        raise SettingError("too long")
    return value


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    """`/subscribe ukraine -sports -"world cup"`: what to follow and what to leave out."""

    term: str
    excludes: tuple[str, ...] = ()


def parse_subscribe(text: str) -> SubscribeRequest:
    """Split a `/subscribe` argument into the followed term and its `-exclusions` (quoted ok)."""
    text = text.replace("“", '"').replace("”", '"')
    try:
        tokens = shlex.split(text, posix=True)
    except ValueError:  # an unbalanced quote: read it as plain words
        tokens = text.replace('"', "").split()
    follow: list[str] = []
    excludes: list[str] = []
    for token in tokens:
        if token.startswith("-") and len(token) > 1:
            excludes.append(check_term(token[1:]))
        elif token != "-":
            follow.append(token)
    term = check_term(" ".join(follow))
    unique = tuple(dict.fromkeys(e for e in excludes if e != term))
    if len(unique) > MAX_EXCLUDES:
        raise SettingError("too many exclusions")
    return SubscribeRequest(term, unique)


def mentions(text: str, term: str, topics: frozenset[str] = frozenset()) -> bool:
    """Whether a story (its text and topic slugs) matches an exclusion or mute `term`.

    The same rule as keyword subscriptions (content/topics.py): whole words, any case, no
    regular expressions from readers; a term that names one of the story's topics matches too.
    """
    value = normalize_term(term)
    if value in topics or normalise_topic(value) in topics:
        return True
    matcher = keyword_pattern(value)
    return matcher is not None and matcher.search(fold(text)) is not None
