"""Property: whatever the billing events (duplicated, out of order), top-ups, withdrawals and
payouts, in whatever sequence, the ledger on the embedded store stays exact.

Billing's own operations run against the embedded store (litemongo, as a service with no
MONGO_URI runs), a fresh one per example. After every sequence: every posting balances,
every running balance equals the sum of its owner's entries, each fee is charged once per
cause and for exactly what the rate card says, and no commission exceeds its share.
"""

import tempfile
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_billing_ledger import order_packed, parcel_booked, parcel_delivered, stock_received

from billing import domain, operations, payouts, withdrawals
from billing.store import BillingRepository
from gudang_common.errors import Conflict, Unprocessable
from gudang_common.events import iso, new_event
from gudang_common.store import open_database

CARD = domain.RateCard()
START = datetime(2026, 3, 2, 3, tzinfo=UTC)  # long enough ago that COD has settled
MERCHANTS = {"mer_1": "pro_1", "mer_2": None}  # one referred, one that came on its own
BANK = {"bank": "BCA", "account_number": "1234567890", "account_name": "Siti"}
MINIMUM = 1_000  # low, so that small commissions are paid out too


def at(event, hour):
    return dict(event, occurred_at=iso(START + timedelta(hours=hour)))


def fee_event(kind, merchant_id, n, hour):
    """A billing event of `kind` for cause `n`: the same n is the same cause (a redelivery)."""
    # order and receipt ids are unique across merchants, as the services make them
    order_id, cod = f"ord_{merchant_id}_{n}", 40_000 + 1_000 * n
    make = {
        "stock_received": lambda: stock_received(merchant_id, n + 1, f"rcp_{merchant_id}_{n}"),
        "order_packed": lambda: order_packed(merchant_id, order_id, 1 + n % 3),
        "parcel_booked": lambda: parcel_booked(merchant_id, order_id, 9_000 + n, cod),
        # even orders are delivered (with COD), odd ones come back: one outcome per parcel
        "parcel_final": lambda: parcel_delivered(merchant_id, order_id, cod),
    }
    return at(dict(make[kind](), event_id=f"{kind}:{merchant_id}:{n}"), hour)


def apply_fee(repo, kind, merchant_id, n, hour):
    event = fee_event(kind, merchant_id, n, hour)
    if kind == "stock_received":
        operations.charge_inbound(repo, CARD, event)
    elif kind == "order_packed":
        operations.charge_pick_pack(repo, CARD, event)
    elif kind == "parcel_booked":
        operations.pass_through_shipping(repo, event)
        operations.charge_label(repo, CARD, event)
    elif n % 2 == 0:
        operations.settle_cod(repo, CARD, event)
    else:
        operations.charge_return_to_sender(repo, CARD, event)
    operations.review_hold(repo, merchant_id)


def apply_storage(repo, merchant_id, day, units):
    operations.charge_storage(
        repo, CARD, date(2026, 2, 1) + timedelta(days=day), {merchant_id: units}
    )


def apply_topup(repo, merchant_id, ref, amount):
    try:
        operations.record_topup(repo, merchant_id, {"amount": amount, "reference": f"VA-{ref}"})
    except Conflict:
        pass  # the same reference with another amount: refused, nothing posted
    operations.review_hold(repo, merchant_id)


def apply_money_out(repo, who, amount):
    """A withdrawal (merchant) or payout (promoter) asked for; a refusal (not enough,
    below the minimum) is fine."""
    try:
        if who == "pro_1":
            payouts.request_payout(repo, who, amount, MINIMUM)
        else:
            withdrawals.request_withdrawal(repo, who, amount, MINIMUM, 3)
    except (Conflict, Unprocessable):
        pass


def apply_step(repo, who, which, step):
    """Finance's step on one of the requests so far; one out of turn is refused."""
    module, found = (
        (payouts, repo.requests("payouts", {"promoter_id": who}, 50)[0])
        if who == "pro_1"
        else (withdrawals, repo.requests("withdrawals", {"merchant_id": who}, 50)[0])
    )
    if not found:
        return
    request_id = found[which % len(found)]["_id"]
    steps = ["approve", "pay"] if step == "pay" else [step]  # paying: approved, then paid
    for name in steps:
        data = {"pay": {"transfer_reference": "TRF-1"}, "reject": {"reason": "no"}}.get(name, {})
        try:
            module.take_step(repo, request_id, name, data, "fin_1")
        except Conflict:
            pass


merchant = st.sampled_from(sorted(MERCHANTS))
who = st.sampled_from(["mer_1", "mer_2", "pro_1"])
fee_actions = st.one_of(
    st.tuples(
        st.just("fee"),
        st.sampled_from(["stock_received", "order_packed", "parcel_booked", "parcel_final"]),
        merchant,
        st.integers(0, 5),
        st.integers(0, 500),
    ),
    st.tuples(st.just("storage"), merchant, st.integers(0, 3), st.integers(0, 4_000)),
)
# money in and out drawn as often as fees: payouts need paid fees, a paid one needs steps
actions = st.one_of(
    fee_actions,
    st.tuples(st.just("topup"), merchant, st.integers(0, 3), st.sampled_from([20_000, 90_000])),
    st.tuples(st.just("out"), who, st.sampled_from([500, 1_000, 3_000, 60_000])),
    st.tuples(
        st.just("step"), who, st.integers(0, 3), st.sampled_from(["approve", "pay", "reject"])
    ),
)


def run(repo, action):
    kind, *args = action
    {
        "fee": apply_fee,
        "storage": apply_storage,
        "topup": apply_topup,
        "out": apply_money_out,
        "step": apply_step,
    }[kind](repo, *args)


def world(directory):
    client, db = open_database({"DATA_DIR": directory}, "billing")
    BillingRepository.ensure_indexes(db)
    repo = BillingRepository(db, lambda: None)
    operations.register_promoter(
        repo,
        new_event("promoter_registered", promoter_id="pro_1", name="Budi", referral_code="BUDI"),
    )
    for merchant_id, promoter_id in MERCHANTS.items():
        event = new_event(
            "merchant_registered", merchant_id=merchant_id, name="Toko", promoter_id=promoter_id
        )
        operations.register_merchant(repo, dict(event, occurred_at="2026-01-01T00:00:00.000Z"))
        withdrawals.set_bank_account(repo, merchant_id, BANK)
    payouts.set_bank_account(repo, "pro_1", BANK)
    return client, repo


def assert_balanced_and_running(postings):
    """Every posting sums to zero; every owner's running balances, in sequence, are the
    sums of its entries up to there."""
    sums = defaultdict(lambda: defaultdict(int))
    for posting in sorted(postings, key=lambda p: (p["running"]["owner"], p["running"]["seq"])):
        domain.check_balanced(posting["lines"])
        owner = domain.ledger_owner(posting)
        for line in posting["lines"]:
            sums[owner][line["account"]] += line["amount"]
        running = posting["running"]
        assert running["owner"] == owner
        own = {a: sums[owner][a] for a in domain.owner_accounts(owner) if a in sums[owner]}
        assert {b["account"]: b["balance"] for b in running["balances"]} == own
    assert sum(sum(a.values()) for a in sums.values()) == 0


def assert_fees_once_and_commission_within_share(postings, repo):
    by_id = {p["_id"]: p for p in postings}
    causes = defaultdict(int)
    for posting in postings:
        if posting["kind"] in domain.FEE_TYPES:
            causes[(posting["kind"], posting["ref"])] += 1
    assert all(count == 1 for count in causes.values()), causes
    for posting in postings:
        if posting["kind"] != "commission":
            continue
        fee = by_id[domain.commission_fee_id(posting)]
        fee_amount = -domain.amount_on(fee["lines"], domain.wallet_account(fee["merchant_id"]))
        earned = domain.amount_on(posting["lines"], domain.promoter_account("pro_1"))
        assert MERCHANTS[fee["merchant_id"]] == posting["promoter_id"] == "pro_1"
        assert earned == domain.commission(CARD, fee_amount)
        assert earned * domain.BPS <= fee_amount * CARD.commission_bps
    for merchant_id in MERCHANTS:
        account = domain.wallet_account(merchant_id)
        assert repo.account_balance(account, {"merchant_id": merchant_id}) == repo.ledger_sum(
            account, {"merchant_id": merchant_id}
        )


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(actions, min_size=1, max_size=40))
def test_any_sequence_keeps_the_ledger_exact(sequence):
    with tempfile.TemporaryDirectory() as directory:
        client, repo = world(directory)
        try:
            for action in sequence + sequence[: len(sequence) // 3]:  # some arrive again
                run(repo, action)
            postings = list(repo.db.postings.find())
            assert_balanced_and_running(postings)
            assert_fees_once_and_commission_within_share(postings, repo)
            assert operations.trial_balance(repo)["total"] == 0
            for kind in sorted({p["kind"] for p in postings}):
                event(kind)  # which postings the sequences reached (--hypothesis-show-statistics)
        finally:
            client.close()
