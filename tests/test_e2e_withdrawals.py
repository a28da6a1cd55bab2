"""End to end: a merchant's settled COD withdrawn through the five real processes: the bank
account on file, the request, finance approving and paying, the wallet at each step."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from scripts.simulate import (
    Api,
    deliver,
    eventually,
    place_order,
    register_world,
    work_pick_lists,
)
from scripts.supervisor import Platform
from tests.conftest import ADMIN_KEY, COURIER_SECRET, platform_env, platform_ports

pytestmark = pytest.mark.e2e

COD = 400_000
BANK = {"bank": "MANDIRI", "account_number": "1370012345678", "account_name": "Sri Rahayu"}


@pytest.fixture(scope="module")
def platform(vhost, tmp_path_factory):
    """The platform with COD settled at once (the settlement period is tested in units)."""
    tmp = tmp_path_factory.mktemp("platform")
    env = dict(platform_env(vhost), COD_SETTLEMENT_DAYS="0")
    with Platform(
        data_dir=tmp / "data", env=env, log_dir=tmp / "log", ports=platform_ports()
    ) as plat:
        plat.start_all()
        plat.vhost = vhost
        yield plat


@pytest.fixture(scope="module")
def world(api):
    world = register_world(api, ADMIN_KEY, skus=1, units=5)
    order_id = place_order(api, world, 1, cod_amount=COD)
    merchant = world.merchant["api_key"]

    def order():
        return api.ok("GET", f"/orders/{order_id}", merchant)

    eventually(lambda: order()["status"] == "allocated", what="allocated")
    assert order_id in work_pick_lists(api, world.staff["api_key"])
    awb = eventually(lambda: order()["awb"], what="AWB")
    deliver(api, COURIER_SECRET, "jne", awb)
    eventually(
        lambda: wallet(api, world)["cod_pending"] == 0 and cod_credited(api, world, order_id)
    )
    return world


def wallet(api, world):
    return api.ok("GET", "/wallet?limit=500", world.merchant["api_key"])


def cod_credited(api, world, order_id):
    entries = wallet(api, world)["entries"]
    return any(e["kind"] == "cod_collected" and e["ref"] == order_id for e in entries)


def test_settled_cod_is_withdrawn_approved_and_paid(api, world):
    merchant = world.merchant["api_key"]
    finance = api.ok("POST", "/staff", ADMIN_KEY, {"name": "Budi", "role": "finance"})["api_key"]
    before = wallet(api, world)
    assert before["available"] == before["balance"] > 100_000

    status, body = api.request("POST", "/withdrawals", merchant, {"amount": 100_000})
    assert status == 409 and "bank_account" in body["error"]["fields"]
    shown = api.ok("PUT", "/merchants/me/bank-account", merchant, BANK)["bank_account"]
    assert shown["account_number"] == "*********5678" and shown["bank"] == "MANDIRI"

    status, body = api.request("POST", "/withdrawals", merchant, {"amount": 49_999})
    assert status == 422 and "amount" in body["error"]["fields"]
    too_much = before["available"] + 1
    status, body = api.request("POST", "/withdrawals", merchant, {"amount": too_much})
    assert status == 409 and "amount" in body["error"]["fields"]

    made = api.ok("POST", "/withdrawals", merchant, {"amount": 100_000})
    assert made["status"] == "requested"
    asked = wallet(api, world)
    assert asked["balance"] == before["balance"] - 100_000
    assert asked["withdrawals_pending"] == 100_000
    assert asked["entries"][0]["kind"] == "withdrawal" and asked["entries"][0]["amount"] == -100_000

    waiting = api.ok("GET", "/admin/withdrawals?status=requested", finance)["withdrawals"]
    assert made["id"] in [w["id"] for w in waiting]
    path = f"/admin/withdrawals/{made['id']}"
    status, _ = api.request("POST", f"{path}/approve", world.staff["api_key"])
    assert status == 403
    status, _ = api.request("POST", f"{path}/approve", merchant)
    assert status == 403
    status, body = api.request("POST", f"{path}/paid", finance, {"transfer_reference": "MDR-1"})
    assert status == 409 and "status" in body["error"]["fields"]

    assert api.ok("POST", f"{path}/approve", finance)["status"] == "approved"
    assert wallet(api, world)["withdrawals_pending"] == 100_000
    paid = api.ok("POST", f"{path}/paid", finance, {"transfer_reference": "MDR-1"})
    assert paid["status"] == "paid" and paid["transfer_reference"] == "MDR-1"
    assert api.ok("POST", f"{path}/paid", finance, {"transfer_reference": "MDR-1"}) == paid

    after = wallet(api, world)
    assert after["balance"] == before["balance"] - 100_000
    assert after["withdrawals_pending"] == 0
    mine = api.ok("GET", "/withdrawals", merchant)["withdrawals"]
    assert [(w["id"], w["status"]) for w in mine] == [(made["id"], "paid")]
    status, body = api.request("POST", f"{path}/reject", finance, {"reason": "too late"})
    assert status == 409


def test_a_rejected_withdrawal_returns_the_money(api, world):
    merchant = world.merchant["api_key"]
    api.ok("PUT", "/merchants/me/bank-account", merchant, BANK)
    before = wallet(api, world)
    made = api.ok("POST", "/withdrawals", merchant, {"amount": 50_000})
    rejected = api.ok(
        "POST", f"/admin/withdrawals/{made['id']}/reject", ADMIN_KEY, {"reason": "Wrong name"}
    )
    assert rejected["status"] == "rejected" and rejected["reason"] == "Wrong name"
    after = wallet(api, world)
    assert after["balance"] == before["balance"] and after["withdrawals_pending"] == 0
    assert [e["kind"] for e in after["entries"][:2]] == ["withdrawal_returned", "withdrawal"]


def test_concurrent_withdrawals_never_take_more_than_is_available(api, world):
    """Eight requests at once, each for 40% of what is available: at most two can win."""
    merchant = world.merchant["api_key"]
    api.ok("PUT", "/merchants/me/bank-account", merchant, BANK)
    before = wallet(api, world)
    share = max(before["available"] * 2 // 5, 50_000)

    def ask(_):
        return Api(api.base.removesuffix("/api/v1")).request(
            "POST", "/withdrawals", merchant, {"amount": share}
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, range(8)))
    won = [body for status, body in answers if status == 201]
    assert {status for status, _ in answers} <= {201, 409}, answers
    assert len(won) == before["available"] // share
    after = wallet(api, world)
    assert after["balance"] == before["balance"] - share * len(won)
    assert after["available"] == before["available"] - share * len(won)
