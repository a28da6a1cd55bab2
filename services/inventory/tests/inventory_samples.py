"""Sample data and an embedded-store repository shared by inventory's unit tests."""

from gudang_common.events import new_event
from inventory.store import InventoryRepository
from scripts.simulate import RECIPIENT  # noqa: F401  (the inventory tests' buyer)
from tests import repositories


def sample_sku(sku, **extra):
    """A SKU's registration as a merchant sends it: its code doubles as name and barcode."""
    return {
        "sku": sku,
        "name": sku,
        "barcode": sku,
        "weight_g": 1,
        "length_cm": 1,
        "width_cm": 1,
        "height_cm": 1,
        **extra,
    }


def embedded_repository(data_dir):
    """The repository on the embedded store the service runs on, in `data_dir`."""
    return repositories.embedded_repository(InventoryRepository, "inventory", data_dir)


def order_received(n, lines, merchant="mer_a"):
    return new_event(
        "order_received",
        merchant_id=merchant,
        order_id=f"ord_{n:04d}",
        external_id=f"X-{n}",
        channel="api",
        courier="jne",
        recipient=RECIPIENT,
        lines=lines,
        cod_amount=0,
    )


def ledger_matches(repo):
    """On-hand and reserved of every stock document equal the sum of its movements, and
    none is below zero."""
    repo.flush_pending_movements()
    for doc in repo.db.stock.find({}):
        moves = repo.movements_of_stock(doc["_id"])
        assert doc["on_hand"] == sum(m["qty"] for m in moves), doc["_id"]
        assert doc["reserved"] == sum(m["reserved"] for m in moves), doc["_id"]
        assert min(doc["on_hand"], doc["reserved"], doc["available"]) >= 0, doc
    return True
