"""Every list's query has an index that serves its filter and its sort (a page is one index
range on MongoDB): checked against the indexes each repository declares."""

import mongomock
import pytest

from billing import store as billing_store
from billing.store import BillingRepository
from gateway import notify
from gateway import store as gateway_store
from gateway.store import GatewayRepository
from gudang_common.pagination import serving_index
from inventory import store as inventory_store
from inventory.store import InventoryRepository

LISTS = [
    # (repository, collection, equality fields, sort)
    (GatewayRepository, "orders", ("merchant_id",), gateway_store.ORDER_LIST),
    (GatewayRepository, "orders", ("status_key",), gateway_store.ORDER_LIST),
    (GatewayRepository, "orders", ("channel_key",), gateway_store.ORDER_LIST),
    (GatewayRepository, "api_keys", ("principal_id",), gateway_store.KEY_LIST),
    (GatewayRepository, "webhooks", ("merchant_id",), notify.WEBHOOK_LIST),
    (GatewayRepository, "deliveries", ("webhook_id",), notify.DELIVERY_LIST),
    (InventoryRepository, "movements", ("merchant_id",), inventory_store.MOVEMENT_LIST),
    (InventoryRepository, "movements", ("merchant_sku",), inventory_store.MOVEMENT_LIST),
    (InventoryRepository, "movements", ("ref",), inventory_store.MOVEMENT_LIST),
    (InventoryRepository, "skus", ("merchant_id",), inventory_store.SKU_LIST),
    (InventoryRepository, "bins", (), inventory_store.BIN_LIST),
    (InventoryRepository, "inbounds", ("merchant_id",), inventory_store.INBOUND_LIST),
    (InventoryRepository, "returns", ("merchant_id",), inventory_store.RETURN_LIST),
    (InventoryRepository, "returns", ("status",), inventory_store.RETURN_LIST),
    (BillingRepository, "postings", ("merchant_id", "lines.account"), billing_store.ENTRY_LIST),
    (BillingRepository, "invoices", ("merchant_id",), billing_store.INVOICE_LIST),
    (BillingRepository, "withdrawals", ("merchant_id",), billing_store.REQUEST_LIST),
    (BillingRepository, "withdrawals", ("status",), billing_store.REQUEST_LIST),
    (BillingRepository, "withdrawals", (), billing_store.REQUEST_LIST),
    (BillingRepository, "payouts", ("promoter_id",), billing_store.REQUEST_LIST),
    (BillingRepository, "payouts", ("status",), billing_store.REQUEST_LIST),
    (BillingRepository, "payouts", (), billing_store.REQUEST_LIST),
]


@pytest.mark.parametrize(
    "repository, collection, equal, order",
    LISTS,
    ids=[f"{c}:{'+'.join(e) or 'all'}" for _, c, e, _ in LISTS],
)
def test_each_list_has_an_index_for_its_filter_and_sort(repository, collection, equal, order):
    db = mongomock.MongoClient()["t"]
    repository.ensure_indexes(db)
    assert serving_index(db[collection].index_information(), equal, order), (collection, equal)
