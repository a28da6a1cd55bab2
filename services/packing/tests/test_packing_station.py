"""The pack station: an order opened by its tote or number, every unit checked by scanning
it again (kept on the task), packed in a catalog box."""

import pytest

from gudang_common.errors import FloorRefusal
from gudang_common.events import new_event
from packing import catalog, operations, station

LINES = [
    {"sku": "KAOS-02", "qty": 1, "bin": "A-01-01-1-01", "pick_sequence": 1},
    {"sku": "KAOS-02", "qty": 1, "bin": "A-01-01-1-02", "pick_sequence": 2},
    {"sku": "TOPI-01", "qty": 1, "bin": "A-01-01-1-03", "pick_sequence": 3},
]


def sku(repo, code, barcode, **size):
    event = new_event(
        "sku_registered",
        merchant_id="mer_a",
        sku=code,
        name=code.title(),
        barcode=barcode,
        weight_g=200,
        **size,
    )
    catalog.remember_sku(repo, event)


@pytest.fixture
def picked(repo):
    """ord_1 picked into TOTE-017: 2 x KAOS-02 (a barcode) and 1 x TOPI-01."""
    sku(repo, "KAOS-02", "8991234567907", length_cm=30, width_cm=20, height_cm=3)
    sku(repo, "TOPI-01", "TOPI01-C128", length_cm=20, width_cm=15, height_cm=10)
    event = new_event(
        "order_allocated", merchant_id="mer_a", order_id="ord_1", external_id="SHP-1", lines=LINES
    )
    operations.accept_allocation(repo, event)
    operations.next_pick_list(repo, "stf_1", size=5)
    repo.db.tasks.update_one({"_id": "ord_1"}, {"$set": {"status": "picked", "tote": "TOTE-017"}})
    return "ord_1"


def refusal(action, *args):
    with pytest.raises(FloorRefusal) as caught:
        action(*args)
    return caught.value


def test_a_tote_or_the_order_number_opens_the_order_with_its_items_and_box(repo, picked):
    view = station.open_order(repo, "tote-017")
    assert view["order_id"] == picked and view["tote"] == "TOTE-017"
    assert [(i["sku"], i["qty"], i["verified"]) for i in view["items"]] == [
        ("KAOS-02", 2, 0),
        ("TOPI-01", 1, 0),
    ]
    assert view["suggested_box"] == "BOX-M" and view["items_weight_g"] == 600
    assert [b["code"] for b in view["boxes"]] == ["BOX-S", "BOX-M", "BOX-L", "BOX-XL"]
    assert station.open_order(repo, "SHP-1")["order_id"] == picked
    assert station.open_order(repo, picked)["order_id"] == picked
    assert refusal(station.open_order, repo, "TOTE-999").code == "UNKNOWN_CODE"


def test_each_unit_is_checked_once_and_an_extra_or_foreign_one_is_refused(repo, picked):
    station.verify_unit(repo, picked, "8991234567907")
    view = station.verify_unit(repo, picked, "KAOS-02")
    assert view["scanned"] == {"sku": "KAOS-02", "qty": 1}
    assert refusal(station.verify_unit, repo, picked, "8991234567907", 1).code == "EXTRA_UNIT"
    sku(repo, "SEPATU-9", "SEPATU9", length_cm=30, width_cm=20, height_cm=12)
    assert refusal(station.verify_unit, repo, picked, "SEPATU9", 1).code == "NOT_IN_ORDER"
    wrong = refusal(station.verify_unit, repo, picked, "8990000000000", 1)
    assert (wrong.code, wrong.status, list(wrong.fields)) == ("UNKNOWN_PRODUCT", 422, ["code"])
    # the progress is on the task: another tablet opening the tote sees it
    items = station.open_order(repo, "TOTE-017")["items"]
    assert [(i["sku"], i["verified"]) for i in items] == [("KAOS-02", 2), ("TOPI-01", 0)]


def test_packing_waits_for_every_unit_then_takes_the_sizes_and_fee_from_the_box(repo, picked):
    station.verify_unit(repo, picked, "KAOS-02", 2)
    missing = refusal(station.pack_order, repo, picked, "stf_1", {"box": "BOX-M", "weight_g": 800})
    assert missing.code == "UNVERIFIED_UNITS" and missing.status == 409
    assert missing.fields == {"items.TOPI-01": ["0 of 1 units checked."]}
    station.verify_unit(repo, picked, "TOPI01-C128")
    assert (
        refusal(station.pack_order, repo, picked, "stf_1", {"box": "NOPE", "weight_g": 800}).code
        == "UNKNOWN_BOX"
    )
    light = refusal(station.pack_order, repo, picked, "stf_1", {"box": "BOX-M", "weight_g": 100})
    assert light.code == "WEIGHT_BELOW_BOX" and list(light.fields) == ["weight_g"]
    seen = []
    done = station.pack_order(
        repo, picked, "stf_1", {"box": "BOX-M", "weight_g": 800}, observe=lambda *a: seen.append(a)
    )
    assert done["status"] == "packed" and len(seen) == 1 and seen[0][0] == "stf_1"
    [event] = [e["body"] for e in repo.get_task(picked)["_outbox"] if e["type"] == "order_packed"]
    assert event["package"] == {
        "weight_g": 800,
        "length_cm": 30,
        "width_cm": 25,
        "height_cm": 15,
        "box": "BOX-M",
        "packaging_fee": 2500,
    }
    # a repeated tap answers the packed order; the tote no longer opens it
    assert (
        station.pack_order(repo, picked, "stf_1", {"box": "BOX-M", "weight_g": 800})["status"]
        == "packed"
    )
    assert refusal(station.verify_unit, repo, picked, "KAOS-02", 1).code == "ALREADY_PACKED"
    assert refusal(station.open_order, repo, "TOTE-017").code == "UNKNOWN_CODE"


def test_ops_add_change_and_retire_boxes(repo):
    box = {"code": "POLY-A4", "length_cm": 35, "width_cm": 25, "height_cm": 2, "weight_g": 10}
    added = station.add_box(repo, dict(box, packaging_fee=500, active=True))
    assert added["packaging_fee"] == 500
    assert (
        refusal(station.add_box, repo, dict(box, packaging_fee=1, active=True)).code == "BOX_EXISTS"
    )
    changed = station.change_box(repo, "BOX-S", {"packaging_fee": 1700, "active": False})
    assert changed["packaging_fee"] == 1700 and changed["active"] is False
    assert refusal(station.change_box, repo, "BOX-ZZ", {"weight_g": 1}).code == "UNKNOWN_BOX"
    codes = [b["code"] for b in station.list_boxes(repo)["boxes"]]
    assert "POLY-A4" in codes and "BOX-S" in codes


def test_the_answers_of_verify_and_pack_are_what_is_stored(repo, picked):
    """Neither answer is read back from the store: each must equal a fresh read."""
    answer = station.verify_unit(repo, picked, "8991234567907", 2)
    assert answer.pop("scanned") == {"sku": "KAOS-02", "qty": 2}
    assert answer == station.station_view(repo, repo.get_task(picked))
    station.verify_unit(repo, picked, "TOPI01-C128")
    package = {"box": "BOX-M", "weight_g": 900}
    packed = station.pack_order(repo, picked, "stf_1", package)
    assert packed == operations.task_view(repo.get_task(picked))
    assert packed["status"] == "packed" and packed["package"]["box"] == "BOX-M"
    assert [e["type"] for e in repo.get_task(picked)["_outbox"]] == ["order_packed"]
