"""The tracking read model's rules: forward-only status, WIB display, courier cut-offs."""

from datetime import UTC, datetime

import pytest

from gateway.tracking import last_cutoff_utc, next_status, timeline_view
from gateway.webhooks import sign, verify
from gudang_common.clock import wib_text
from gudang_common.errors import Unauthorized


def test_status_moves_forward_only():
    assert next_status(0, "order_allocated") == ("allocated", 20)
    assert next_status(90, "parcel_in_transit") is None  # a late in-transit after delivery
    assert next_status(10, "order_allocated") == ("allocated", 20)  # backordered, then allocated


def test_times_are_shown_in_wib():
    assert wib_text("2026-11-23T10:00:00.000Z") == "2026-11-23 17:00:00 WIB"
    assert wib_text("2026-11-23T20:30:00Z") == "2026-11-24 03:30:00 WIB"


def test_timeline_sorted_by_time_and_labelled_in_bahasa():
    entries = [
        {
            "event": "order_allocated",
            "event_id": "2",
            "at": "2026-11-23T10:00:01.000Z",
            "detail": {},
        },
        {
            "event": "order_received",
            "event_id": "1",
            "at": "2026-11-23T10:00:00.000Z",
            "detail": {},
        },
    ]
    view = timeline_view(entries)
    assert [v["event"] for v in view] == ["order_received", "order_allocated"]
    assert view[0]["label"] == "Pesanan diterima"
    assert timeline_view(entries, "en")[0]["label"] == "Order received"


def test_cutoff_is_15_wib():
    # 09:00 UTC = 16:00 WIB: today's 15:00 WIB cut-off (08:00 UTC) has passed
    assert last_cutoff_utc(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), 15) == datetime(
        2026, 11, 23, 8, 0, tzinfo=UTC
    )
    # 07:00 UTC = 14:00 WIB: the last cut-off was yesterday's
    assert last_cutoff_utc(datetime(2026, 11, 23, 7, 0, tzinfo=UTC), 15) == datetime(
        2026, 11, 22, 8, 0, tzinfo=UTC
    )


def test_webhook_signature():
    body = b'{"awb":"JN1"}'
    verify("s3cret", body, sign("s3cret", body))
    with pytest.raises(Unauthorized):
        verify("s3cret", body, sign("other", body))
    with pytest.raises(Unauthorized):
        verify("s3cret", body, None)


def test_a_held_order_moves_on_when_released():
    assert next_status(0, "order_held") == ("on_hold", 5)
    assert next_status(5, "order_allocated") == ("allocated", 20)
    assert next_status(5, "order_backordered") == ("backordered", 10)
    assert next_status(20, "order_held") is None  # a late hold never pulls an order back


def test_the_timeline_says_why_an_order_waits_in_both_languages():
    entry = {"event": "order_held", "event_id": "1", "at": "2026-11-23T10:00:00.000Z"}
    entry["detail"] = {"reason": "merchant_on_hold"}
    assert "kredit" in timeline_view([entry], "id")[0]["label"]
    assert "credit limit" in timeline_view([entry], "en")[0]["label"]
