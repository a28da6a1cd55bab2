"""Running balances: each posting carries its owner's balances, which always equal the sum
of the entries, on the in-memory store and the embedded one, under concurrent postings."""

import eventlet
import pytest
from test_billing_invoices import embedded  # noqa: F401
from test_billing_ledger import order_packed, parcel_booked, parcel_delivered, repo, world  # noqa: F401

from billing import domain, operations
from billing.store import HEAD_EVERY, BillingRepository
from gudang_common.events import new_event

CARD = domain.RateCard()
WALLET = domain.wallet_account("mer_1")
PAYABLE = domain.promoter_account("pro_1")


def populate(ledger):
    for merchant_id, promoter_id in (("mer_1", "pro_1"), ("mer_2", None)):
        event = new_event(
            "merchant_registered", merchant_id=merchant_id, name="Toko", promoter_id=promoter_id
        )
        operations.register_merchant(
            ledger, dict(event, occurred_at="2026-01-01T00:00:00.000Z"), 1200
        )
    return ledger


def one_order(ledger, n, merchant_id="mer_1"):
    order_id = f"ord_{merchant_id}_{n}"
    operations.charge_pick_pack(ledger, CARD, order_packed(merchant_id, order_id, qty=1 + n % 3))
    operations.pass_through_shipping(ledger, parcel_booked(merchant_id, order_id, cost=9000 + n))
    if n % 4 == 0:
        operations.settle_cod(ledger, CARD, parcel_delivered(merchant_id, order_id, cod=50_000 + n))


def assert_running_equals_the_ledger(ledger):
    for owner, account, match in (
        ("merchant:mer_1", WALLET, {"merchant_id": "mer_1"}),
        ("merchant:mer_2", domain.wallet_account("mer_2"), {"merchant_id": "mer_2"}),
        ("promoter:pro_1", PAYABLE, {"promoter_id": "pro_1"}),
    ):
        assert ledger.balance(owner, account) == ledger.ledger_sum(account, match)
        assert ledger.account_balance(account, match) == ledger.ledger_sum(account, match)
    seqs = sorted(
        p["running"]["seq"] for p in ledger.db.postings.find({"running.owner": "merchant:mer_1"})
    )
    assert seqs == list(range(1, len(seqs) + 1))  # one number per posting, no gap


def test_the_wallet_balance_is_read_from_the_latest_posting(world):  # noqa: F811
    for n in range(40):
        one_order(world, n)
        one_order(world, n, "mer_2")
    assert_running_equals_the_ledger(world)
    assert operations.wallet(world, "mer_1")["balance"] == world.ledger_sum(
        WALLET, {"merchant_id": "mer_1"}
    )


def test_a_repeated_cause_moves_no_running_balance(world):  # noqa: F811
    one_order(world, 0)
    before = world.latest_running("merchant:mer_1")
    one_order(world, 0)
    assert world.latest_running("merchant:mer_1") == before


@pytest.mark.parametrize("hint", [None, {}], ids=["head", "hint"])
def test_concurrent_postings_on_the_embedded_store(embedded, hint):  # noqa: F811
    """Twenty green threads post for the same merchant at once, each yielding between
    reading the latest running balances and inserting: every lost race re-reads (with
    the service's hint of the latest posting, or from the head)."""
    embedded.known_running = hint
    populate(embedded)
    latest = embedded.latest_running

    def slow_latest(owner):
        found = latest(owner)
        eventlet.sleep(0)
        return found

    embedded.latest_running = slow_latest
    pool = eventlet.GreenPool(20)
    list(pool.imap(lambda n: one_order(embedded, n), range(60)))
    list(pool.imap(lambda n: one_order(embedded, n), range(60)))  # every cause again
    assert embedded.db.postings.count_documents({"merchant_id": "mer_1", "kind": "pick_pack"}) == 60
    assert_running_equals_the_ledger(embedded)


def test_postings_stored_before_running_balances_get_them_once(repo):  # noqa: F811
    populate(repo)
    for n in range(6):
        one_order(repo, n)
    repo.db.postings.update_many({}, {"$unset": {"running": ""}})
    repo.db.ledger_heads.delete_many({})
    repo.db.migrations.delete_one({"_id": "postings.running"})
    repo.db.postings.drop_indexes()
    BillingRepository.ensure_indexes(repo.db)
    assert_running_equals_the_ledger(repo)
    one_order(repo, 99)
    assert_running_equals_the_ledger(repo)


def test_a_head_left_behind_by_a_crash_is_caught_up(world):  # noqa: F811
    """The head is only a hint: a crash after the posting and before the head moved
    leaves it behind, and the next numbers are found by key."""
    for n in range(5):
        one_order(world, n)
    world.db.ledger_heads.update_one({"_id": "merchant:mer_1"}, {"$set": {"seq": 2}})
    owned = {"running.owner": "merchant:mer_1"}
    assert world.latest_running("merchant:mer_1")["seq"] == world.db.postings.count_documents(owned)
    one_order(world, 7)
    assert_running_equals_the_ledger(world)
    world.db.ledger_heads.delete_many({})
    assert world.latest_running("merchant:mer_1")["seq"] == world.db.postings.count_documents(owned)


def test_each_instance_s_hint_of_the_latest_posting_is_checked_like_the_head(world):  # noqa: F811
    """Two instances on one ledger, each remembering the latest posting it saw: the one
    that did not see the other's postings still numbers and sums right."""
    world.known_running = {}
    other = BillingRepository(world.db, lambda: None)
    other.known_running = {}
    for n in range(12):
        one_order(world if n % 3 else other, n)
    assert_running_equals_the_ledger(world)
    assert_running_equals_the_ledger(other)
    assert world.known_running["merchant:mer_1"] == world.latest_running("merchant:mer_1")
    world.db.ledger_heads.delete_many({})  # the hint alone, then no hint: the same answer
    assert world.latest_running("merchant:mer_1") == other.latest_running("merchant:mer_1")


def test_with_the_hint_the_head_moves_every_sixteenth_posting_and_a_restart_walks_on(world):  # noqa: F811
    world.known_running = {}
    for n in range(12):
        one_order(world, n)
    owned = {"running.owner": "merchant:mer_1"}
    posted = world.db.postings.count_documents(owned)
    head = world.db.ledger_heads.find_one({"_id": "merchant:mer_1"})["seq"]
    assert head % HEAD_EVERY == 1 and posted - HEAD_EVERY < head < posted
    restarted = BillingRepository(world.db, lambda: None)  # no hint: from the head, by key
    assert restarted.latest_running("merchant:mer_1")["seq"] == posted
    restarted.known_running = {}
    one_order(restarted, 99)
    assert_running_equals_the_ledger(restarted)
