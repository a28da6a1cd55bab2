"""Billing benchmark: fee postings per second, and the invoice of a merchant with
100,000 orders in a month (seconds, peak memory).

In-process, at the operations/repository level (no broker, no HTTP), on the embedded
store (litemongo: SQLite files in a temporary directory), the store one billing
process runs on without MONGO_URI.

1. Fee postings: `charge_pick_pack` and `charge_label` for new orders of merchants
   with a promoter, each pricing by the rate card version in force (one lookup) and
   posting the fee and its commission: postings written per second.
2. The invoice: a merchant's month of `--orders` orders bulk-loaded (insert_many) as
   the postings the fees make (pick and pack, label, shipping at cost, and the two
   commissions: five postings per order, with the WIB day billing stores on each),
   next to another merchant's month; then
   `issue_invoice` once, timed, with the process's peak resident memory during it
   (the peak is reset just before, through /proc/self/clear_refs), after a first
   query has built the embedded store's in-memory query index, as a running
   service has.
3. The wallet balance: read (as `GET /wallet` and every hold review read it: the
   running balance on the merchant's latest posting) for a merchant with about 1,000
   wallet entries and for the one with 300,000, and, for comparison, summed over all
   its entries (`ledger_sum`, what every read cost before running balances).

    .venv/bin/python -m scripts.bench_billing                  # 100,000 orders
    .venv/bin/python -m scripts.bench_billing --orders 10000
"""

import argparse
import gc
import shutil
import tempfile
import time
import warnings
from datetime import UTC, datetime

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

from billing import domain, operations  # noqa: E402
from billing.store import BillingRepository, wib_day  # noqa: E402
from gudang_common.events import new_event  # noqa: E402
from gudang_common.store import open_database  # noqa: E402

BATCH = 20_000
MONTH_START = datetime(2026, 10, 1, tzinfo=UTC)
ISSUED = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
LONG_AGO = "2026-01-01T00:00:00.000Z"


def register(repo, merchant_id, promoter_id):
    event = new_event(
        "merchant_registered", merchant_id=merchant_id, name=merchant_id, promoter_id=promoter_id
    )
    operations.register_merchant(repo, dict(event, occurred_at=LONG_AGO))


def peak_rss_reset():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def fee_postings(repo, book, orders):
    packed = [
        new_event(
            "order_packed",
            merchant_id=f"mer_{i % 10}",
            order_id=f"fee_{i}",
            packer_id="stf_1",
            package={"weight_g": 900, "length_cm": 20, "width_cm": 15, "height_cm": 10},
            lines=[{"sku": "KAOS-M", "qty": 2, "bin": "A-01-01-1-01", "pick_sequence": 1}],
        )
        for i in range(orders)
    ]
    booked = [
        new_event(
            "parcel_booked",
            merchant_id=e["merchant_id"],
            order_id=e["order_id"],
            awb=f"JN{i:012d}",
            courier="jne",
            chargeable_weight_g=1000,
            shipping_cost=9000,
            cod_amount=0,
        )
        for i, e in enumerate(packed)
    ]
    before = repo.db.postings.count_documents({})
    started = time.perf_counter()
    for p, b in zip(packed, booked, strict=True):
        operations.charge_pick_pack(repo, book, p)
        operations.charge_label(repo, book, b)
    elapsed = time.perf_counter() - started
    return repo.db.postings.count_documents({}) - before, elapsed


def with_running(repo, postings, last):
    """Each posting with its owner's running balances, as add_posting writes them
    (`last`: the owners' latest, carried from one batch of postings to the next)."""
    for posting in postings:
        owner = domain.ledger_owner(posting)
        if owner not in last:
            last[owner] = repo.latest_running(owner)
        last[owner] = domain.running_after(last[owner], owner, posting["lines"])
        yield dict(posting, running=last[owner])


def month_of_postings(merchant_id, promoter_id, orders):
    """The postings `orders` packed and booked orders leave in October (WIB)."""
    span = 30 * 24 * 3600 - 3600
    for i in range(orders):
        when = datetime.fromtimestamp(MONTH_START.timestamp() - 7 * 3600 + i * span / orders, UTC)
        at = when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        day = wib_day(at)
        order_id = f"{merchant_id}_o{i}"
        for kind, lines in (
            ("pick_pack", domain.fee_lines(merchant_id, "pick_pack", 3500)),
            ("label", domain.fee_lines(merchant_id, "label", 1000)),
            ("shipping", domain.shipping_lines(merchant_id, 9000 + i % 7 * 1000)),
        ):
            fee_type = None if kind == "shipping" else kind
            yield {
                "_id": f"{kind}:{order_id}",
                "kind": kind,
                "fee_type": fee_type,
                "merchant_id": merchant_id,
                "promoter_id": None,
                "lines": lines,
                "occurred_at": at,
                "wib_day": day,
                "posted_at": at,
                "cause_event_id": None,
                "ref": order_id,
                "rate_card_version": None if fee_type is None else 1,
            }
            if fee_type:
                yield {
                    "_id": f"{kind}:{order_id}:commission",
                    "kind": "commission",
                    "fee_type": fee_type,
                    "merchant_id": merchant_id,
                    "promoter_id": promoter_id,
                    "lines": domain.commission_lines(
                        promoter_id, 350 if kind == "pick_pack" else 100
                    ),
                    "occurred_at": at,
                    "wib_day": day,
                    "posted_at": at,
                    "cause_event_id": None,
                    "ref": order_id,
                    "rate_card_version": 1,
                }


def load(repo, docs, last):
    db, batch = repo.db, []
    docs = with_running(repo, docs, last)
    for doc in docs:
        batch.append(doc)
        if len(batch) == BATCH:
            db.postings.insert_many(batch)
            batch = []
    if batch:
        db.postings.insert_many(batch)
    for owner, running in last.items():
        db.ledger_heads.update_one({"_id": owner}, {"$max": {"seq": running["seq"]}}, upsert=True)


def balance_reads(repo, merchant_id, reads=200):
    """(ms per running-balance read, ms of one sum over every entry, wallet entries)."""
    wallet, match = domain.wallet_account(merchant_id), {"merchant_id": merchant_id}
    started = time.perf_counter()
    for _ in range(reads):
        balance = repo.account_balance(wallet, match)
    running_ms = (time.perf_counter() - started) * 1000 / reads
    started = time.perf_counter()
    assert repo.ledger_sum(wallet, match) == balance
    summed_ms = (time.perf_counter() - started) * 1000
    entries = repo.latest_running(f"merchant:{merchant_id}")["seq"]
    return running_ms, summed_ms, entries


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000, help="orders in the month")
    parser.add_argument("--fee-orders", type=int, default=2_000, help="orders for fee postings")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="bench-billing-")
    client, db = open_database({"DATA_DIR": data_dir}, "billing")
    try:
        BillingRepository.ensure_indexes(db)
        repo = BillingRepository(db, lambda: None)
        operations.register_promoter(
            repo,
            new_event("promoter_registered", promoter_id="pro_1", name="P", referral_code="P1"),
        )
        for i in range(10):
            register(repo, f"mer_{i}", "pro_1")
        book = operations.RateBook(repo, domain.RateCard())

        posted, elapsed = fee_postings(repo, book, args.fee_orders)
        print(
            f"fee postings: {posted} in {elapsed:.1f} s = {posted / elapsed:,.0f} postings/s "
            f"({args.fee_orders / elapsed:,.0f} orders/s: pick & pack and label, each with "
            "its commission)"
        )

        register(repo, "mer_big", "pro_1")
        register(repo, "mer_other", "pro_1")
        register(repo, "mer_small", "pro_1")
        started, last = time.perf_counter(), {}
        load(repo, month_of_postings("mer_big", "pro_1", args.orders), last)
        load(repo, month_of_postings("mer_other", "pro_1", args.orders // 10), last)
        load(repo, month_of_postings("mer_small", "pro_1", 334), last)  # 1,002 wallet entries
        print(
            f"loaded {db.postings.count_documents({}):,} postings "
            f"in {time.perf_counter() - started:.0f} s"
        )
        # the embedded store builds its in-memory query index over the whole collection
        # on a process's first query (a service pays that once after it starts): built
        # here, outside the timed invoice, by the first wallet read of another merchant
        started = time.perf_counter()
        operations.wallet(repo, "mer_other", limit=1)
        warmup = time.perf_counter() - started
        gc.collect()
        baseline = peak_rss_mib()
        peak_rss_reset()
        started = time.perf_counter()
        invoice = operations.issue_invoice(
            repo, repo.get_merchant("mer_big"), 2026, 10, "Gudang", ISSUED
        )
        elapsed = time.perf_counter() - started
        peak = peak_rss_mib()
        lines = {line["fee_type"]: line["count"] for line in invoice["lines"]}
        assert lines == {"pick_pack": args.orders, "label": args.orders}, lines
        assert invoice["shipping"]["count"] == args.orders
        print(
            f"invoice of {args.orders:,} orders ({3 * args.orders:,} wallet postings): "
            f"{elapsed:.1f} s, peak RSS {peak:.0f} MiB during it (process before: "
            f"{baseline:.0f} MiB); total due Rp {invoice['total_due']:,} ({invoice['number']}); "
            f"first query after loading (the store's index build): {warmup:.1f} s"
        )
        for merchant_id in ("mer_small", "mer_big"):
            running_ms, summed_ms, entries = balance_reads(repo, merchant_id)
            print(
                f"wallet balance of a merchant with {entries:,} entries: "
                f"{running_ms:.2f} ms per read (running balance); "
                f"summing every entry instead: {summed_ms:,.0f} ms"
            )
    finally:
        client.close()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
