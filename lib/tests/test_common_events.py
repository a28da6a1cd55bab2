"""The event catalog: schemas, the topology built from it, and docs/events.md kept true."""

from pathlib import Path

import pytest

from gudang_common.errors import ValidationFailed, flatten_messages
from gudang_common.events import CATALOG, EVENTS, new_event, render_markdown, validate_event
from gudang_common.topology import SUBSCRIPTIONS, subscription
from tests.sample_events import parcel_booked

ROOT = Path(__file__).resolve().parents[2]


def test_docs_events_md_matches_the_catalog():
    text = (ROOT / "docs" / "events.md").read_text()
    assert text.strip() == render_markdown().strip(), (
        "run: python -m gudang_common.events > docs/events.md"
    )


def test_every_subscription_names_a_published_event_from_its_real_source():
    for consumer, source, event_type in SUBSCRIPTIONS:
        assert EVENTS[event_type][0] == source
        subscription(consumer, source, event_type)


def test_every_event_has_a_consumer():
    consumed = {e for _, _, e in SUBSCRIPTIONS}
    assert {name for name, *_ in CATALOG} <= consumed


def test_an_event_without_its_fields_is_refused_naming_them():
    with pytest.raises(ValidationFailed) as err:
        validate_event("order_packed", {"event_id": "x", "occurred_at": "yesterday"})
    assert {"event_id", "occurred_at", "merchant_id", "order_id", "package"} <= set(
        err.value.fields
    )


def test_new_event_stamps_id_and_utc_time():
    event = new_event("order_cancelled", merchant_id="mer_1", order_id="ord_1", reason="x")
    assert event["occurred_at"].endswith("Z") and len(event["event_id"]) == 36


def test_money_must_be_whole_rupiah():
    with pytest.raises(ValidationFailed):
        parcel_booked(cost=9000.5)


def test_nested_errors_flatten_to_dotted_field_names():
    assert flatten_messages({"lines": {0: {"qty": ["bad"]}}}) == {"lines.0.qty": ["bad"]}
