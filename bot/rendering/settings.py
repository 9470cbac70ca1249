"""The reader's settings: the /settings message and its buttons, command replies, onboarding."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import (
    OnboardingDone,
    SetBreaking,
    SetDigest,
    SetLanguage,
    SetQuiet,
    ToggleTopic,
)
from bot.rendering.i18n import _, ngettext
from bot.rendering.keyboards import keyboard
from bot.rendering.text import Rendered, escape, format_time, hashtag, notice
from content.preferences import (
    DEFAULT_DIGEST_AT,
    LANGUAGES,
    DigestMode,
    QuietHours,
    ReaderSettings,
    clock_text,
    next_digest,
)

# Each language in its own words: a reader who cannot read the current one still finds theirs.
LANGUAGE_NAMES = {"en": "English", "zh": "中文", "ms": "Bahasa Melayu", "ta": "தமிழ்"}

# Offered as buttons; any other time is a command away (/digest daily HH:MM, /quiet ...).
DIGEST_TIMES = (time(7, 0), time(12, 0), time(18, 0), time(21, 0))
QUIET_SPANS = (QuietHours(time(22, 0), time(7, 0)), QuietHours(time(23, 0), time(6, 0)))
ONBOARDING_TOPICS = 12  # the most-written topics offered at /start

CHECK = "✓ "


def _hhmm(moment: time) -> str:
    return f"{moment.hour:02d}{moment.minute:02d}"


def _checked(label: str, on: bool) -> str:
    return CHECK + label if on else label


def zone_label(settings: ReaderSettings, zone: tzinfo) -> str:
    """The zone's name as the reader chose it (or the outlet's)."""
    return settings.timezone or str(zone)


def digest_label(settings: ReaderSettings) -> str:
    if settings.digest is DigestMode.HOURLY:
        return _("an hourly digest")
    if settings.digest is DigestMode.DAILY:
        at = settings.digest_at or DEFAULT_DIGEST_AT
        return _("a daily digest at {time}").format(time=clock_text(at))
    return _("each story as it is published")


def quiet_label(quiet: QuietHours | None) -> str:
    if quiet is None:
        return _("off")
    return _("{start}–{end}").format(start=clock_text(quiet.start), end=clock_text(quiet.end))


def settings_view(
    settings: ReaderSettings,
    *,
    zone: tzinfo,
    now: datetime,
    subscriptions: int,
    mutes: int,
) -> Rendered:
    """/settings: everything in one message, and buttons that change it in place."""
    lines = [
        _("⚙️ <b>Your settings</b>"),
        "",
        _("📬 Delivery: {digest}").format(digest=digest_label(settings)),
    ]
    upcoming = next_digest(settings, now, zone)
    if upcoming is not None:
        lines.append(_("   next: {when}").format(when=format_time(upcoming, zone)))
    lines += [
        _("🌙 Quiet hours: {quiet}").format(quiet=quiet_label(settings.quiet)),
        _("🚨 Breaking news in quiet hours: {answer}").format(
            answer=_("yes") if settings.breaking_in_quiet else _("no")
        ),
        _("🕒 Time zone: {zone} (now {now})").format(
            zone=escape(zone_label(settings, zone)), now=format_time(now, zone)
        ),
        _("🌐 Language: {language}").format(language=LANGUAGE_NAMES[settings.language]),
        ngettext("🔔 {count} subscription", "🔔 {count} subscriptions", subscriptions).format(
            count=subscriptions
        )
        + " · "
        + ngettext("🔇 {count} mute", "🔇 {count} mutes", mutes).format(count=mutes),
        "",
        _(
            "Also: /digest daily <i>HH:MM</i>, /quiet <i>HH:MM-HH:MM</i>, "
            "/timezone <i>city</i>, /mute <i>word</i>, /subscriptions."
        ),
    ]
    return Rendered("\n".join(lines), settings_keyboard(settings))


def settings_keyboard(settings: ReaderSettings) -> InlineKeyboardMarkup | None:
    """One row per setting; the current choice carries a ✓."""
    mode = settings.digest
    delivery = [
        InlineKeyboardButton(
            _checked(_("Instant"), mode is DigestMode.OFF), callback_data=SetDigest("off").encode()
        ),
        InlineKeyboardButton(
            _checked(_("Hourly"), mode is DigestMode.HOURLY),
            callback_data=SetDigest("hourly").encode(),
        ),
    ]
    at = (settings.digest_at or DEFAULT_DIGEST_AT) if mode is DigestMode.DAILY else None
    daily = [
        InlineKeyboardButton(
            _checked(_("Daily {time}").format(time=clock_text(t)), at == t),
            callback_data=SetDigest("daily", _hhmm(t)).encode(),
        )
        for t in DIGEST_TIMES
    ]
    quiet = [
        InlineKeyboardButton(
            _checked(_("🌙 {span}").format(span=quiet_label(span)), settings.quiet == span),
            callback_data=SetQuiet(_hhmm(span.start), _hhmm(span.end)).encode(),
        )
        for span in QUIET_SPANS
    ]
    quiet.append(
        InlineKeyboardButton(
            _checked(_("No quiet hours"), settings.quiet is None),
            callback_data=SetQuiet().encode(),
        )
    )
    breaking = [
        InlineKeyboardButton(
            _("🚨 Breaking in quiet hours: on")
            if settings.breaking_in_quiet
            else _("🚨 Breaking in quiet hours: off"),
            callback_data=SetBreaking(not settings.breaking_in_quiet).encode(),
        )
    ]
    languages = [
        InlineKeyboardButton(
            _checked(LANGUAGE_NAMES[code], settings.language == code),
            callback_data=SetLanguage(code).encode(),
        )
        for code in LANGUAGES
    ]
    return keyboard([delivery, daily, quiet, breaking, languages[:2], languages[2:]])


# -- command replies -----------------------------------------------------------------


def digest_set(settings: ReaderSettings, *, zone: tzinfo, now: datetime) -> Rendered:
    if settings.digest is DigestMode.OFF:
        return Rendered(_("✅ Instant: each matching story as it is published."))
    upcoming = next_digest(settings, now, zone)
    text = _("✅ You'll get {digest}. The next one: {when}.").format(
        digest=digest_label(settings), when=format_time(upcoming, zone)
    )
    return Rendered(text)


def usage_digest(settings: ReaderSettings) -> Rendered:
    return notice(
        _("Now: {digest}. Usage: /digest off | hourly | daily HH:MM").format(
            digest=digest_label(settings)
        )
    )


def timezone_set(label: str, *, zone: tzinfo, now: datetime) -> Rendered:
    return Rendered(
        _("✅ Time zone: {zone}. Your time now: {now}.").format(
            zone=escape(label), now=format_time(now, zone)
        )
    )


def usage_timezone(label: str) -> Rendered:
    return notice(
        _(
            "Now: {zone}. Usage: /timezone <i>zone</i>: a city (Singapore, London, New York), "
            "a name like Asia/Singapore, or UTC+8."
        ).format(zone=escape(label))
    )


def quiet_set(quiet: QuietHours | None, *, breaking: bool) -> Rendered:
    if quiet is None:
        return Rendered(_("✅ No quiet hours: stories arrive whenever they are published."))
    text = _(
        "✅ Quiet hours {span}: stories wait and arrive together as one message when they end."
    ).format(span=quiet_label(quiet))
    if breaking:
        text += " " + _("Breaking news still comes through (change it in /settings).")
    return Rendered(text)


def usage_quiet(quiet: QuietHours | None) -> Rendered:
    return notice(
        _("Now: {quiet}. Usage: /quiet HH:MM-HH:MM (e.g. /quiet 22:00-07:00) or /quiet off").format(
            quiet=quiet_label(quiet)
        )
    )


def language_set(language: str) -> Rendered:
    return Rendered(_("✅ Language: {language}.").format(language=LANGUAGE_NAMES[language]))


def usage_language(language: str) -> Rendered:
    choices = ", ".join(f"{code} ({LANGUAGE_NAMES[code]})" for code in LANGUAGES)
    return notice(
        _("Now: {language}. Usage: /language <i>code</i>, one of {choices}.").format(
            language=LANGUAGE_NAMES[language], choices=choices
        )
    )


def muted(value: str, *, created: bool) -> Rendered:
    if created:
        return Rendered(
            _("🔇 Muted “{value}”: no story that mentions it reaches you. /unmute to undo.").format(
                value=escape(value)
            )
        )
    return Rendered(_("“{value}” is already muted.").format(value=escape(value)))


def unmuted(value: str, *, removed: bool) -> Rendered:
    if removed:
        return Rendered(_("🔈 Unmuted “{value}”.").format(value=escape(value)))
    return Rendered(_("“{value}” was not muted. See /mute.").format(value=escape(value)))


def mute_list(values: Sequence[str]) -> Rendered:
    usage = _("Usage: /mute <i>word, phrase or topic</i>; /unmute <i>it</i> to undo.")
    if not values:
        return Rendered(_("You mute nothing.") + "\n\n" + usage)
    lines = [_("🔇 <b>You mute</b>"), ""] + [f"• “{escape(v)}”" for v in values]
    return Rendered("\n".join([*lines, "", usage]))


def too_many_mutes(most: int) -> Rendered:
    return notice(
        _("You mute {most} words and topics, the most I can keep. /unmute one first.").format(
            most=most
        )
    )


def term_too_long(most: int) -> Rendered:
    return notice(_("That is too long: at most {most} characters.").format(most=most))


def usage_unmute() -> Rendered:
    return notice(_("Usage: /unmute <i>word, phrase or topic</i>. See /mute."))


def bad_setting(usage: Rendered) -> Rendered:
    """A value that did not parse: say so, then how to write it."""
    return notice(_("I could not read that.") + " " + usage.html.removeprefix("ℹ️ "))


def excluding(excludes: Sequence[str]) -> str:
    """The line under a subscription reply naming what it leaves out."""
    return _("Except stories about: {words}.").format(
        words=", ".join(f"“{escape(e)}”" for e in excludes)
    )


def too_many_excludes(most: int) -> Rendered:
    return notice(_("At most {most} exclusions per subscription.").format(most=most))


def answer_saved() -> str:
    return _("Saved")


# -- onboarding ----------------------------------------------------------------------


def onboarding_keyboard(
    topics: Sequence[str], followed: frozenset[str]
) -> InlineKeyboardMarkup | None:
    """Topic toggles (✓ when followed), two a row, and Done."""
    toggles = [
        InlineKeyboardButton(
            _checked(hashtag(topic), topic in followed), callback_data=ToggleTopic(topic).encode()
        )
        for topic in topics
        if ToggleTopic(topic).fits()
    ]
    rows = [toggles[i : i + 2] for i in range(0, len(toggles), 2)]
    done = [InlineKeyboardButton(_("Done"), callback_data=OnboardingDone().encode())]
    return keyboard([*rows, done])


def onboarding_prompt() -> str:
    """Under the welcome for a reader who follows nothing yet."""
    return _("Pick topics to follow, then tap Done:")


def onboarding_done(followed: Sequence[str]) -> Rendered:
    if followed:
        head = _("You follow {topics}.").format(topics=", ".join(hashtag(t) for t in followed))
    else:
        head = _("You follow nothing yet: /topics or /subscribe <i>keyword</i> when you like.")
    return Rendered(
        head
        + "\n"
        + _(
            "/settings chooses when news arrives (instant or a digest), quiet hours, "
            "language and time zone."
        )
    )


def deep_subscribed(topic: str, *, created: bool) -> Rendered:
    if created:
        text = _("✅ You now follow {topic}: new stories arrive here. /settings for when and how.")
    else:
        text = _("You already follow {topic}. /settings for when and how news arrives.")
    return Rendered(text.format(topic=hashtag(topic)))
