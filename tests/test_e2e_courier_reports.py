"""End to end: courier reports at the edges (late, stale, contradicting, a buyer's return)
through the five real processes; the order, the parcel, the returns and the wallet agree."""

import pytest
import requests

from scripts.simulate import (
    courier_update,
    eventually,
    place_order,
    register_world,
    work_pick_lists,
)
from tests.conftest import ADMIN_KEY, COURIER_SECRET

pytestmark = pytest.mark.e2e

COD = 123_000
COD_FEE = 3_690  # 3% of 123,000
COD_KINDS = ("cod_collected", "cod_fee", "reversal")


@pytest.fixture(scope="module")
def world(api):
    return register_world(api, ADMIN_KEY, skus=1, units=10)


def shipped_order(api, world, n):
    """A COD order picked, packed and booked; returns (order_id, awb)."""
    order_id = place_order(api, world, n, cod_amount=COD)
    eventually(lambda: order(api, world, order_id)["status"] == "allocated", what="allocated")
    assert order_id in work_pick_lists(api, world.staff["api_key"])
    awb = eventually(lambda: order(api, world, order_id)["awb"], what="AWB")
    return order_id, awb


def order(api, world, order_id):
    return api.ok("GET", f"/orders/{order_id}", world.merchant["api_key"])


def report(api, awb, status, at, reason=None):
    code, parcel = courier_update(
        api, COURIER_SECRET, "jne", awb, status, reason=reason, occurred_at=at
    )
    assert code == 200, parcel
    return parcel


def cod_entries(api, world, order_id):
    wallet = api.ok("GET", "/wallet?limit=500", world.merchant["api_key"])
    return [
        e
        for e in wallet["entries"]
        if e["ref"] == order_id
        and e["kind"] in COD_KINDS
        and not e.get("reverses", "").startswith("rts:")  # the return's fee is its own
    ]


def rts_entries(api, world, order_id):
    wallet = api.ok("GET", "/wallet?limit=500", world.merchant["api_key"])
    return [
        e
        for e in wallet["entries"]
        if e["ref"] == order_id and (e["kind"] == "rts" or e.get("reverses", "").startswith("rts:"))
    ]


def wait_cod(api, world, order_id, kinds, net):
    def settled():
        entries = cod_entries(api, world, order_id)
        done = sorted(e["kind"] for e in entries) == sorted(kinds)
        return done and sum(e["amount"] for e in entries) == net and entries

    return eventually(settled, what=f"COD entries {kinds} netting {net} for {order_id}")


def open_return(api, world, order_id):
    found = api.ok("GET", "/warehouse/returns", world.staff["api_key"])["returns"]
    return next((r for r in found if r["order_id"] == order_id), None)


def test_a_late_delivery_stamped_before_the_return_corrects_the_outcome_everywhere(api, world):
    order_id, awb = shipped_order(api, world, 1)
    report(api, awb, "picked_up", "2026-11-20T01:00:00Z")
    report(api, awb, "failed", "2026-11-20T05:00:00Z", reason="Penerima tidak ada")
    report(api, awb, "returned", "2026-11-22T05:00:00Z")
    eventually(lambda: order(api, world, order_id)["status"] == "returned", what="returned")

    parcel = report(api, awb, "delivered", "2026-11-21T05:00:00Z")  # arrives last
    assert (parcel["status"], parcel["outcome"], parcel["corrections"]) == (
        "delivered",
        "delivered",
        1,
    )

    def corrected():
        o = order(api, world, order_id)
        return o["status"] == "delivered" and o["exception"] and o

    shown = eventually(corrected, what="the order to show the correction")
    assert (shown["exception"]["previous_outcome"], shown["exception"]["outcome"]) == (
        "returned",
        "delivered",
    )
    steps = [s["event"] for s in shown["timeline"]]
    assert steps[-1] == "parcel_outcome_corrected" and "parcel_delivered" not in steps
    # the earliest final report decided delivered: COD credited once, by the correction
    wait_cod(api, world, order_id, ["cod_collected", "cod_fee"], COD - COD_FEE)
    # and nothing is coming back: the return the first report opened is withdrawn
    eventually(lambda: open_return(api, world, order_id) is None, what="the return withdrawn")
    # and the return-to-sender fee the return cost is reversed by a new posting
    eventually(
        lambda: (
            sorted(e["kind"] for e in rts_entries(api, world, order_id)) == ["reversal", "rts"]
            and sum(e["amount"] for e in rts_entries(api, world, order_id)) == 0
        ),
        what="the return's fee reversed",
    )


def test_a_return_stamped_before_a_credited_delivery_reverses_the_cod(platform, api, world):
    order_id, awb = shipped_order(api, world, 2)
    report(api, awb, "picked_up", "2026-11-20T01:00:00Z")
    report(api, awb, "delivered", "2026-11-22T05:00:00Z")
    wait_cod(api, world, order_id, ["cod_collected", "cod_fee"], COD - COD_FEE)

    parcel = report(api, awb, "returned", "2026-11-21T05:00:00Z")
    assert (parcel["status"], parcel["corrections"]) == ("returned", 1)
    entries = wait_cod(
        api,
        world,
        order_id,
        ["cod_collected", "cod_fee", "reversal", "reversal"],
        0,
    )
    reversed_ = {e["reverses"] for e in entries if e["kind"] == "reversal"}
    assert reversed_ == {f"cod_collected:{order_id}", f"cod_fee:{order_id}"}
    shown = eventually(
        lambda: (o := order(api, world, order_id))["status"] == "returned" and o,
        what="the order to show returned",
    )
    assert shown["exception"]["outcome"] == "returned"
    assert eventually(lambda: open_return(api, world, order_id), what="a return to inspect")

    # ops see it: shipping counts the corrected parcels (this one and the one before)
    def corrected_gauge():
        text = requests.get(platform.url("shipping") + "/metrics", timeout=10).text
        line = 'gudang_parcels_outcome_corrected{service="shipping"}'
        return [float(row.split()[-1]) for row in text.splitlines() if row.startswith(line)]

    assert corrected_gauge() == [2.0]


def test_stale_and_contradicting_reports_are_history_a_buyers_return_is_its_own_step(api, world):
    order_id, awb = shipped_order(api, world, 3)
    report(api, awb, "picked_up", "2026-11-20T01:00:00Z")
    report(api, awb, "delivered", "2026-11-21T05:00:00Z")
    stale = report(api, awb, "in_transit", "2026-11-21T06:00:00Z")
    late_return = report(api, awb, "returned", "2026-11-21T07:00:00Z")
    for parcel in (stale, late_return):
        assert parcel["status"] == "delivered" and parcel["corrections"] == 0
        assert parcel["tracking"][-1]["announced"] is False
    wait_cod(api, world, order_id, ["cod_collected", "cod_fee"], COD - COD_FEE)

    back = report(api, awb, "returned_by_buyer", "2026-11-24T01:00:00Z")
    assert back["status"] == "returned_by_buyer" and back["tracking"][-1]["announced"] is True
    steps = ["parcel_dispatched", "parcel_delivered", "parcel_returned_by_buyer"]

    def buyer_return_shown():
        o = order(api, world, order_id)
        parcel_steps = [
            s["event"]
            for s in o["timeline"]
            if s["event"].startswith("parcel_") and s["event"] != "parcel_booked"
        ]
        return o["status"] == "returned_by_buyer" and parcel_steps == steps and o

    # neither the stale in_transit nor the late return is a step
    shown = eventually(buyer_return_shown, what="the buyer's return on the order")
    assert shown["exception"] is None
    assert eventually(lambda: open_return(api, world, order_id), what="a return to inspect")
    # the delivery stands: its COD stays credited, nothing reversed
    assert sum(e["amount"] for e in cod_entries(api, world, order_id)) == COD - COD_FEE
