"""Every list's query has an index that serves its filter and its sort (a page is one index
range on MongoDB): checked against the indexes each repository declares."""

import mongomock
import pytest

from billing import store as billing_store
from billing.store import BillingRepository
from gateway import notify
from gateway import store as gateway_store
from gateway.store import GatewayRepository
from gudang_common.embedded import open_client
from gudang_common.pagination import serving_index
from inventory import store as inventory_store
from inventory.store import InventoryRepository

GW, INV, BIL = GatewayRepository, InventoryRepository, BillingRepository
ALL = ()  # a list with no filter: the whole collection in its order
# (repository, collection, its sort, each filter it is read with: equality fields)
TABLE = [
    (GW, "orders", gateway_store.ORDER_LIST, ["merchant_id", "status_key", "channel_key"]),
    (GW, "api_keys", gateway_store.KEY_LIST, ["principal_id"]),
    (GW, "webhooks", notify.WEBHOOK_LIST, ["merchant_id"]),
    (GW, "deliveries", notify.DELIVERY_LIST, ["webhook_id"]),
    (INV, "movements", inventory_store.MOVEMENT_LIST, ["merchant_id", "merchant_sku", "ref"]),
    (INV, "skus", inventory_store.SKU_LIST, ["merchant_id"]),
    (INV, "bins", inventory_store.BIN_LIST, [ALL]),
    (INV, "inbounds", inventory_store.INBOUND_LIST, ["merchant_id"]),
    (INV, "returns", inventory_store.RETURN_LIST, ["merchant_id", "status"]),
    (BIL, "postings", billing_store.ENTRY_LIST, [("merchant_id", "lines.account"), "promoter_id"]),
    (BIL, "invoices", billing_store.INVOICE_LIST, ["merchant_id"]),
    (BIL, "withdrawals", billing_store.REQUEST_LIST, ["merchant_id", "status", ALL]),
    (BIL, "payouts", billing_store.REQUEST_LIST, ["promoter_id", "status", ALL]),
]
LISTS = [
    (repo, collection, (f,) if isinstance(f, str) else f, order)
    for repo, collection, order, filters in TABLE
    for f in filters
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


@pytest.mark.parametrize(
    "repository, collection, equal, order",
    LISTS,
    ids=[f"{c}:{'+'.join(e) or 'all'}" for _, c, e, _ in LISTS],
)
def test_each_list_is_one_ordered_index_range_on_the_embedded_store(
    tmp_path, repository, collection, equal, order
):
    db = open_client(tmp_path)["t"]
    repository.ensure_indexes(db)
    query = {field: "x" for field in equal}
    assert db[collection]._store.serving(query, order), (collection, equal)
