"""The string formats xAPI statements use: IRIs, mailto IRIs, UUIDs, times, durations, tags.

Each check is a best-effort syntax check, as the specification allows (Data 2.2.s4.b6, b7):
strict enough to refuse what the LRS conformance suite sends as invalid, lenient on anything
a real content package might send that the specification permits.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

__all__ = [
    "XapiVersion",
    "is_iri",
    "is_language_tag",
    "is_mailto",
    "is_media_type",
    "is_sha1",
    "is_sha2",
    "is_statement_version",
    "is_uuid",
    "iso_ms",
    "negotiate_version",
    "parse_duration_seconds",
    "parse_timestamp",
    "to_milliseconds",
]

XapiVersion = Literal["1.0.3", "2.0.0"]
"""The two specification versions served: xAPI 1.0.3 and IEEE 9274.1.1 (xAPI 2.0.0)."""

_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_MAILTO = re.compile(r"mailto:[^\s@:/<>\"]+@[^\s@<>\"]+\.[^\s@<>\".]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SHA1 = re.compile(r"[0-9a-fA-F]{40}")
_SHA2_LENGTHS = frozenset({56, 64, 96, 128})
_HEX = re.compile(r"[0-9a-fA-F]+")
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # noqa: S105 (an RFC 9110 token)
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(\s*;\s*{_TOKEN}=(\"[^\"]*\"|{_TOKEN}))*")

# RFC 5646 section 2.1 (ABNF), case-insensitive; duplicate singletons are checked separately.
_ALNUM = "[a-z0-9]"
_LANGTAG = re.compile(
    rf"""
    (?:
      (?P<language>[a-z]{{2,3}}(?:-[a-z]{{3}}){{0,3}}|[a-z]{{4}}|[a-z]{{5,8}})
      (?:-[a-z]{{4}})?                                   # script
      (?:-(?:[a-z]{{2}}|[0-9]{{3}}))?                    # region
      (?P<variants>(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*)
      (?P<extensions>(?:-[0-9a-wyz](?:-{_ALNUM}{{2,8}})+)*)
      (?:-x(?:-{_ALNUM}{{1,8}})+)?                       # private use
    | x(?:-{_ALNUM}{{1,8}})+                             # private use only
    | en-gb-oed | i-(?:ami|bnn|default|enochian|hak|klingon|lux|mingo|navajo|pwn|tao|tay|tsu)
    | sgn-(?:be-fr|be-nl|ch-de)
    | art-lojban | cel-gaulish | no-bok | no-nyn | zh-(?:guoyu|hakka|min|min-nan|xiang)
    )""",
    re.IGNORECASE | re.VERBOSE | re.ASCII,
)
_SINGLETON = re.compile(r"(?:^|-)([0-9a-wyz])(?=-)", re.IGNORECASE)

_TIMESTAMP = re.compile(
    r"""
    (?P<date>\d{4}-\d{2}-\d{2}|\d{8})
    [Tt]
    (?P<time>\d{2}:\d{2}(?::\d{2})?|\d{4}(?:\d{2})?)
    (?:[.,](?P<fraction>\d+))?
    (?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?
    """,
    re.VERBOSE | re.ASCII,
)
_UNKNOWN_OFFSETS = frozenset({"-00", "-0000", "-00:00"})

_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+(?:[.,]\d+)?)W"
    r"|(?=\d|T\d)(?:(?P<years>\d+(?:[.,]\d+)?)Y)?(?:(?P<months>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?)",
    re.ASCII,
)
# Nominal lengths for converting calendar units to seconds (mapping only, never comparison).
_UNIT_SECONDS = {
    "years": 365 * 86400,
    "months": 30 * 86400,
    "weeks": 7 * 86400,
    "days": 86400,
    "hours": 3600,
    "minutes": 60,
    "seconds": 1,
}


def is_iri(value: str) -> bool:
    r"""Tell whether `value` is an absolute IRI: a scheme, a colon and no forbidden characters.

    RFC 3987 is checked on a best-effort basis (Data 2.2.s4.b6): the scheme must follow RFC 3986
    (so `ab=c://x` is refused), whitespace and `<>"{}|\^` are refused, `%` must start an escape.
    """
    return bool(_IRI.fullmatch(value)) and not _BAD_PERCENT.search(value)


def is_mailto(value: str) -> bool:
    """Tell whether `value` is a `mailto:` IRI holding one e-mail address (Data 2.4.2.3)."""
    return bool(_MAILTO.fullmatch(value))


def is_uuid(value: str) -> bool:
    """Tell whether `value` is a UUID in the standard string form, either hex case (Data 4.4)."""
    return bool(_UUID.fullmatch(value))


def is_sha1(value: str) -> bool:
    """Tell whether `value` is a hex SHA-1 digest (an `mbox_sha1sum`)."""
    return bool(_SHA1.fullmatch(value))


def is_sha2(value: str) -> bool:
    """Tell whether `value` is a hex SHA-224, -256, -384 or -512 digest (attachment `sha2`)."""
    return len(value) in _SHA2_LENGTHS and bool(_HEX.fullmatch(value))


def is_media_type(value: str) -> bool:
    """Tell whether `value` is an Internet media type such as `text/plain; charset=utf-8`."""
    return bool(_MEDIA_TYPE.fullmatch(value))


def is_language_tag(value: str) -> bool:
    """Tell whether `value` is a well-formed RFC 5646 language tag (Data 2.2.s4.b2).

    A tag that repeats an extension singleton (`zh-z-aaa-z-bbb`) or a variant is refused, as
    RFC 5646 section 2.2.6 and 2.2.5 require of a valid tag.
    """
    match = _LANGTAG.fullmatch(value)
    if match is None:
        return False
    extensions = (match.group("extensions") or "").lower()
    singletons = _SINGLETON.findall(extensions)
    variants = [v for v in (match.group("variants") or "").lower().split("-") if v]
    return len(set(singletons)) == len(singletons) and len(set(variants)) == len(variants)


def negotiate_version(header: str | None) -> XapiVersion | None:
    """The rules a request's `X-Experience-API-Version` header selects; None for unsupported.

    `1.0` and `1.0.x` select 1.0.3, `2.0` and `2.0.x` select 2.0.0 (Communication 3.3); a
    missing or other value is answered 400 by the service.
    """
    if header is None:
        return None
    if re.fullmatch(r"1\.0(\.\d+)?", header.strip(), re.ASCII):
        return "1.0.3"
    if re.fullmatch(r"2\.0(\.\d+)?", header.strip(), re.ASCII):
        return "2.0.0"
    return None


def is_statement_version(value: str, version: XapiVersion) -> bool:
    """Tell whether a statement's `version` is accepted under the given API version.

    1.0.3 accepts `1.0` and `1.0.x` (Data 2.4.10.s3); 2.0.0 also accepts `2.0` and `2.0.x`.
    """
    pattern = r"1\.0(\.\d+)?" if version == "1.0.3" else r"[12]\.0(\.\d+)?"
    return re.fullmatch(pattern, value, re.ASCII) is not None


def iso_ms(when: datetime) -> str:
    """An xAPI timestamp in UTC with milliseconds (`2026-03-02T09:16:00.000Z`).

    The one format the LRS writes: `stored`, derived events' `occurredAt`, and
    `X-Experience-API-Consistent-Through`.
    """
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_milliseconds(when: datetime) -> datetime:
    """`when` cut to the millisecond, as `iso_ms` writes it: the time of derived events."""
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def parse_timestamp(value: str) -> datetime | None:
    """Parse an ISO 8601 combined date and time (Data 4.5); None when it is not one.

    Extended and basic forms are accepted, with a fraction of any length (kept to the
    microsecond). A missing zone is read as UTC. The offsets `-00`, `-0000` and `-00:00`
    ("unknown local offset" in RFC 3339) are refused. The result is timezone-aware.
    """
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    date_part = match.group("date").replace("-", "")
    time_part = match.group("time").replace(":", "").ljust(6, "0")
    zone = match.group("zone")
    if zone in _UNKNOWN_OFFSETS:
        return None
    fraction = (match.group("fraction") or "0")[:6].ljust(6, "0")
    try:
        tzinfo = _zone(zone)
        return datetime(
            int(date_part[:4]),
            int(date_part[4:6]),
            int(date_part[6:8]),
            int(time_part[:2]),
            int(time_part[2:4]),
            int(time_part[4:6]),
            int(fraction),
            tzinfo=tzinfo,
        )
    except ValueError:
        return None


def _zone(zone: str | None) -> timezone:
    if zone is None or zone in {"Z", "z"}:
        return UTC
    digits = zone[1:].replace(":", "").ljust(4, "0")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-offset if zone[0] == "-" else offset)


def parse_duration_seconds(value: str) -> float | None:
    """Parse an ISO 8601 duration (Data 4.6: section 4.4.3.2 form) into seconds.

    Returns None when `value` is not such a duration: the alternative format (`P0001-02`),
    weeks combined with other units (`P4W1D`), an empty `P` or `PT`, and a fraction anywhere
    but on the last component are refused. Years and months count as 365 and 30 days.
    """
    match = _DURATION.fullmatch(value)
    if match is None:
        return None
    parts = {name: text for name, text in match.groupdict().items() if text is not None}
    if not parts:
        return None
    ordered = [match.group(name) for name in _UNIT_SECONDS if name in parts]
    if any(("." in text or "," in text) for text in ordered[:-1]):
        return None
    return sum(float(text.replace(",", ".")) * _UNIT_SECONDS[name] for name, text in parts.items())
