"""Units held at the end of a WIB day, from the movement ledger, on the embedded store."""

from datetime import timedelta

import pytest
from inventory_samples import embedded_repository
from test_inventory_stock import BIN_A, add_sku, receive

from gudang_common.clock import iso, utcnow, yesterday_wib
from inventory import storage_days
from inventory.store import MOVEMENTS


@pytest.fixture
def repo(tmp_path):
    with embedded_repository(tmp_path) as repo:
        repo.add_bin({"code": BIN_A, "pick_sequence": 1})
        add_sku(repo, merchant="mer_a")
        add_sku(repo, merchant="mer_b")
        yield repo


def backdate_everything(repo, days):
    """Make every movement so far `days` old, as if the stock had come in then."""
    at = iso(utcnow() - timedelta(days=days))
    repo.db.movements.update_many({}, {"$set": {"at": at}})


def test_stock_received_today_is_not_held_yesterday(repo):
    receive(repo, [{"sku": "SKU-1", "qty": 10}], merchant="mer_a")
    backdate_everything(repo, 3)
    receive(
        repo,
        [{"sku": "SKU-1", "qty": 5}],
        merchant="mer_a",
        receive_lines=[{"sku": "SKU-1", "qty_good": 4, "qty_damaged": 1, "bin": BIN_A}],
    )
    receive(repo, [{"sku": "SKU-1", "qty": 7}], merchant="mer_b")  # mer_b: only today
    yesterday = yesterday_wib()
    assert storage_days.units_on(repo, yesterday) == {"mer_a": 10}
    # quarantined units take shelf space too
    assert storage_days.units_on(repo, yesterday + timedelta(days=1)) == {"mer_a": 15, "mer_b": 7}


def test_units_that_left_today_were_still_held_yesterday(repo):
    receive(repo, [{"sku": "SKU-1", "qty": 10}], merchant="mer_a")
    backdate_everything(repo, 2)
    stock = next(repo.db.stock.find({"merchant_id": "mer_a"}))
    repo.take_out(
        stock["_id"],
        stock["bin"],
        6,
        {
            "movement_id": "mv_out",
            "type": "adjust",
            "qty": -6,
            "reserved": 0,
            "ref": None,
            "reason": "lost",
            "by": "stf_1",
            "at": iso(utcnow()),
        },
    )
    assert storage_days.units_on(repo, yesterday_wib()) == {"mer_a": 10}
    assert storage_days.units_on(repo, yesterday_wib() + timedelta(days=1)) == {"mer_a": 4}


def test_unflushed_movements_are_counted_once():
    end = "2026-11-22T17:00:00.000Z"
    late = {"movement_id": "mv_2", "qty": 3, "at": "2026-11-23T01:00:00.000Z"}
    early = {"movement_id": "mv_1", "qty": 2, "at": "2026-11-22T01:00:00.000Z"}
    stock = [
        {"merchant_id": "mer_a", "on_hand": 12, MOVEMENTS: [early, late]},
        {"merchant_id": "mer_b", "on_hand": 4, MOVEMENTS: [late | {"movement_id": "mv_3"}]},
    ]
    # mv_2 not in the ledger yet: taken off here; mv_3 reached it during the read
    assert storage_days.units_at(end, stock, {"mer_b": 3}, {"mv_3"}) == {"mer_a": 9, "mer_b": 1}
    assert storage_days.units_at(end, [], {"mer_a": 5}, set()) == {}
