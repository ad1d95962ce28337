"""The string formats of xAPI values (Data 4.2-4.6), with properties where they pay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.xapi.formats import (
    is_iri,
    is_language_tag,
    is_mailto,
    is_media_type,
    is_statement_version,
    negotiate_version,
    parse_duration_seconds,
    parse_timestamp,
)


@pytest.mark.parametrize(
    "tag", ["de", "de-DE", "zh-Hant", "sr-Latn-RS", "cmn", "es-419", "ase", "zh-Hans-CN",
            "en-US-x-twain", "i-klingon", "de-CH-1901", "x-private"],
)  # fmt: skip
def test_language_tags_accepted(tag: str) -> None:
    """XAPI-00121 Data 2.2.s4.b2: RFC 5646 token-length sequences are accepted."""
    assert is_language_tag(tag)


@pytest.mark.parametrize(
    "tag",
    ["a12345", "a12345678", "", "en_US", "zh-z-aaa-z-bbb-c-ccc", "de-1901-1901", "e", "en-"],
)
def test_language_tags_refused(tag: str) -> None:
    """XAPI-00121 Data 2.2.s4.b2: malformed tags, repeated singletons and variants refused."""
    assert not is_language_tag(tag)


@pytest.mark.parametrize(
    ("iri", "valid"),
    [
        ("http://example.com/a?b=c#d", True),
        ("urn:uuid:fd41c918-b88b-4b20-a0a5-a4c32391aaa0", True),
        ("https://例え.jp/パス", True),
        ("ab=c://should.fail.com", False),
        ("should fail", False),
        ("abc", False),
        ("http://a b", False),
        ("http://a/%zz", False),
        ("http:", False),
    ],
)
def test_iris(iri: str, valid: bool) -> None:
    """Data 2.2.s4.b1.b8, 4.3: IRIs need a scheme; best-effort syntax (Data 2.2.s4.b6)."""
    assert is_iri(iri) is valid


def test_mailto() -> None:
    """Data 2.4.2.3: mbox is "mailto:" followed by one address."""
    assert is_mailto("mailto:ana.b+x@mail.example.com")
    assert not is_mailto("ana@example.com")
    assert not is_mailto("mailto:should.fail.com")
    assert not is_mailto("MAILTO:ana@example.com")


def test_media_types() -> None:
    """Data 2.4.11: contentType is an Internet media type."""
    assert is_media_type("application/pdf")
    assert is_media_type('text/plain; charset="utf-8"')
    assert not is_media_type("pdf")


def test_versions() -> None:
    """Data 2.4.10.s3: statement versions per API version."""
    assert is_statement_version("1.0", "1.0.3")
    assert is_statement_version("1.0.9", "1.0.3")
    assert not is_statement_version("2.0.0", "1.0.3")
    assert is_statement_version("2.0.0", "2.0.0")
    assert not is_statement_version("1.1.0", "2.0.0")


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(min_value=-14 * 60, max_value=14 * 60).filter(lambda m: m != 0),
)
def test_timestamps_round_trip(instant: datetime, offset_minutes: int) -> None:
    """Data 4.5: any ISO 8601 rendering with an offset reads back as the same instant."""
    shown = instant.astimezone(timezone(timedelta(minutes=offset_minutes)))
    assert parse_timestamp(shown.isoformat()) == instant
    assert parse_timestamp(instant.strftime("%Y%m%dT%H%M%S.%fZ")) == instant


def test_timestamps_refused() -> None:
    """XAPI-00123 Data 4.5: non-ISO 8601 and unknown-offset timestamps are refused."""
    for text in ["01/011/2015", "should fail", "2026-02-30T00:00:00Z", "2026-01-01",
                 "2008-09-15T15:53:00.601-00:00", "2008-09-15T15:53:00-0000"]:  # fmt: skip
        assert parse_timestamp(text) is None, text


def test_timestamp_without_zone_is_utc() -> None:
    """Data 4.5.s1.b4: a zone SHOULD be given; without one, UTC is assumed."""
    assert parse_timestamp("2026-01-28T15:00:00") == datetime(2026, 1, 28, 15, tzinfo=UTC)


@given(
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 9999),
)
def test_durations_parse(
    days: int, hours: int, minutes: int, seconds: int, hundredths: int
) -> None:
    """XAPI-00124 Data 4.6: ISO 8601 4.4.3.2 durations parse to the seconds they state."""
    text = f"P{days}DT{hours}H{minutes}M{seconds}.{hundredths:04d}S"
    expected = days * 86400 + hours * 3600 + minutes * 60 + seconds + hundredths / 10000
    parsed = parse_duration_seconds(text)
    assert parsed is not None
    assert parsed == pytest.approx(expected)


@pytest.mark.parametrize(
    "text", ["P", "PT", "PA1H0M0S", "P4W1D", "PT1.5H2M", "P0001-02-03T04:05:06", "1H", "PT-1S"]
)
def test_durations_refused(text: str) -> None:
    """Data 4.6.s1.b1: the alternative format and malformed durations are refused."""
    assert parse_duration_seconds(text) is None


@pytest.mark.parametrize(
    ("header", "rules"),
    [("1.0.3", "1.0.3"), ("1.0", "1.0.3"), ("1.0.0", "1.0.3"), ("2.0.0", "2.0.0"), ("2.0", "2.0.0"),
     ("0.95", None), ("1.1.0", None), ("", None), (None, None), ("2.0.0.1", None)],
)  # fmt: skip
def test_version_header_selects_rules(header: str | None, rules: str | None) -> None:
    """Communication 3.3: the version header picks the rules; others are refused."""
    assert negotiate_version(header) == rules
