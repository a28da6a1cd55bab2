"""The one table of visible strings, Bahasa Indonesia and English, for the pages and the tablet.

The table is static/strings.json: Python reads it here, the tablet fetches it from
/static/strings.json, so a string is translated once for both.
"""

import functools
import json
import re
from pathlib import Path

from gudang_common.clock import WIB, parse_iso

LANGS = ("id", "en")
DEFAULT_LANG = "id"
STRINGS_FILE = Path(__file__).parent / "static" / "strings.json"


@functools.cache
def strings():
    table = json.loads(STRINGS_FILE.read_text(encoding="utf-8"))
    missing = [key for key, texts in table.items() if set(texts) != set(LANGS)]
    if missing:
        raise ValueError(f"strings.json: not in exactly {LANGS}: {missing}")
    return table


def lang_of(value):
    """The language a `?lang=` value asks for; Bahasa Indonesia unless it is English."""
    return "en" if value == "en" else DEFAULT_LANG


def text(key, lang):
    return strings()[key][lang]


@functools.cache
def table(lang):
    """Every string in one language, for a template: t["track.title"]."""
    return {key: texts[lang] for key, texts in strings().items()}


def event_label(event_type, lang):
    texts = strings().get(f"event.{event_type}")
    return texts[lang] if texts else event_type.replace("_", " ")


@functools.cache
def _message_patterns():
    """(regex, texts) of the messages that name a value in braces: "msg.Missing {column}."."""
    patterns = []
    for key, texts in strings().items():
        if key.startswith("msg.") and "{" in key:
            parts = re.split(r"\{(\w+)\}", key.removeprefix("msg."))
            regex = "".join(
                re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                for i, part in enumerate(parts)
            )
            patterns.append((re.compile(regex), texts))
    return patterns


def message(text, lang):
    """A schema's or a rule's English message in `lang`, where the table has it (with the
    values it names carried over: "Missing Kode Pos." -> "Kode Pos kosong.")."""
    texts = strings().get(f"msg.{text}")
    if texts:
        return texts[lang]
    for pattern, texts in _message_patterns():
        found = pattern.fullmatch(text)
        if found:
            return texts[lang].format(**found.groupdict())
    return text


def when(iso_text, lang):
    """A stored UTC time as a buyer reads it: `24 Nov 2026, 17.00 WIB` (English `17:00`)."""
    local = parse_iso(iso_text).astimezone(WIB)
    month = text("months", lang).split()[local.month - 1]
    sep = "." if lang == "id" else ":"
    return f"{local.day} {month} {local.year}, {local.hour:02d}{sep}{local.minute:02d} WIB"
