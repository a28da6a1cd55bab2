"""Packing's product catalog: what a scanned code names."""

from gudang_common.events import new_event
from packing import catalog


def _event(**extra):
    return new_event(
        "sku_registered",
        merchant_id="mer_1",
        sku="KAOS-02",
        name="Kaos",
        barcode="8991234567907",
        **extra,
    )


def test_a_scan_names_the_sku_by_its_barcode_or_its_code(repo):
    catalog.remember_sku(repo, _event(weight_g=200, length_cm=30, width_cm=20, height_cm=2))
    by_barcode = catalog.identify(repo, "mer_1", "8991234567907")
    assert by_barcode["sku"] == "KAOS-02" and by_barcode["weight_g"] == 200
    assert catalog.identify(repo, "mer_1", " KAOS-02 ")["sku"] == "KAOS-02"
    # another merchant's SKU with the same barcode is not this merchant's product
    assert catalog.identify(repo, "mer_2", "8991234567907") is None
    assert catalog.identify(repo, "mer_1", "8990000000000") is None


def test_a_redelivered_sku_registered_changes_nothing(repo):
    catalog.remember_sku(repo, _event())
    catalog.remember_sku(repo, _event())
    assert repo.db.products.count_documents({}) == 1
