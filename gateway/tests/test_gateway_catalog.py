"""The SKU catalog orders are checked against: fed by sku_registered, inventory asked on a miss."""

from types import SimpleNamespace

import pytest

from gateway.service import GatewayService
from gudang_common.errors import ServiceUnavailable, Unprocessable, UpstreamTimeout


@pytest.fixture
def repo(repo):
    repo.add_to_catalog("mer_1", "BTK-001")
    return repo


def gateway(repo, known_skus):
    """What the intake check uses of the service; inventory's known_skus answered by a function."""
    calls = []

    def rpc(proxy, method, *args, timeout=None):
        calls.append((method, *args))
        return known_skus(*args)

    return SimpleNamespace(store=repo, config={}, inventory=None, _rpc=rpc, calls=calls)


def check(gw, merchant_id, order_lines):
    """The intake check: the SKUs known (catalog, then inventory once), then the 422."""
    known = GatewayService._known_skus(gw, merchant_id, order_lines)
    GatewayService._check_skus(order_lines, known)


def lines(*skus):
    return [{"sku": sku, "qty": 1} for sku in skus]


def test_a_redelivered_sku_registered_changes_nothing(repo):
    assert repo.add_to_catalog("mer_1", "BTK-001") is False
    assert repo.db.catalog.count_documents({}) == 1
    assert repo.known_skus("mer_1", {"BTK-001", "BTK-002"}) == {"BTK-001"}
    assert repo.known_skus("mer_2", {"BTK-001"}) == set()  # another merchant's code


def test_skus_in_the_catalog_need_no_call(repo):
    gw = gateway(repo, lambda merchant_id, skus: pytest.fail("inventory asked"))
    check(gw, "mer_1", lines("BTK-001", "BTK-001"))
    assert gw.calls == []


def test_a_sku_the_catalog_has_not_heard_of_yet_is_asked_of_inventory_once(repo):
    gw = gateway(repo, lambda merchant_id, skus: ["BTK-002"])
    check(gw, "mer_1", lines("BTK-001", "BTK-002", "BTK-002"))
    assert gw.calls == [("known_skus", "mer_1", ["BTK-002"])]


def test_a_sku_inventory_does_not_know_is_a_422_naming_its_lines(repo):
    gw = gateway(repo, lambda merchant_id, skus: [])
    with pytest.raises(Unprocessable) as refused:
        check(gw, "mer_1", lines("BTK-001", "NOPE", "NOPE"))
    assert refused.value.fields == {
        "lines.1.sku": ["Unknown SKU."],
        "lines.2.sku": ["Unknown SKU."],
    }


@pytest.mark.parametrize("failure", [ServiceUnavailable, UpstreamTimeout])
def test_when_inventory_cannot_answer_the_order_is_taken_and_left_to_inventory(repo, failure):
    def down(merchant_id, skus):
        raise failure("inventory is away")

    check(gateway(repo, down), "mer_1", lines("NOPE"))
