"""Time, defined once: stored in UTC (ISO 8601 with a Z), shown and billed in WIB (UTC+7)."""

from datetime import UTC, date, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")


def utcnow():
    return datetime.now(UTC)


def iso(dt):
    """UTC ISO 8601 with a Z, millisecond precision."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_iso(value):
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError("timestamp needs a timezone")
    return dt.astimezone(UTC)


def today_wib(now=None):
    """Today's date in WIB, as YYYY-MM-DD."""
    return (now or utcnow()).astimezone(WIB).date().isoformat()


def yesterday_wib(now=None):
    """The last WIB day that has ended."""
    return (now or utcnow()).astimezone(WIB).date() - timedelta(days=1)


def wib_text(iso_text):
    """A stored UTC time as people in Indonesia read it."""
    return parse_iso(iso_text).astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S WIB")


def wib_day_start_utc(day: date):
    """The UTC instant a WIB calendar day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=WIB).astimezone(UTC)
