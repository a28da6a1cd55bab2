"""Pick walk benchmark: metres walked per order, batch picking against order by order.

Pure, in-process: packing's own pick walk (`packing.domain.pick_walk` and
`packing.walk`) on a generated warehouse, no broker and no store. The warehouse: one zone
of `--aisles` aisles with `--bins` bins each (codes A-AA-RR-1-BB: racks of 4 bins facing
in pairs, the default measures of packing/walk.py), the pack station in front of the
middle of the aisles, one SKU per bin, put away at random (no slotting by popularity).
Orders: `--orders` orders of 1-4 lines (40%, 30%, 20%, 10%), distinct SKUs drawn with
Zipf-like popularity (the SKU of rank r is ordered in proportion to 1 / r^s), seeded.

Order by order, each order is its own walk from the pack station and back; batch
picking walks the orders `--batch` at a time (PICK_LIST_SIZE in services/packing's
config, in arrival order, as packing hands them out) as one pick list. Each way is
measured with the stops in the hand-set pick sequence (numbered aisle by aisle, the
walk before routes), the S-shape, nearest neighbour, and the shorter of the two.

    .venv/bin/python -m scripts.bench_walk
    .venv/bin/python -m scripts.bench_walk --orders 5000 --batch 20 --zipf 0.8
"""

import argparse
import random
import time
from dataclasses import replace
from pathlib import Path

import yaml
from nameko.cli.main import setup_yaml_parser

from packing.domain import pick_walk
from packing.walk import ROUTES, Layout, walking_distance_m

BINS_PER_RACK = 4
LINES_PER_ORDER = {1: 0.4, 2: 0.3, 3: 0.2, 4: 0.1}
WAYS = ("pick_sequence",) + ROUTES
CONFIG = Path(__file__).resolve().parent.parent / "services" / "packing" / "config.yml"


def configured_pick_list_size():
    setup_yaml_parser()
    return int(yaml.safe_load(CONFIG.read_text())["PICK_LIST_SIZE"])


def warehouse(aisles, bins_per_aisle):
    """Bin codes with their hand-set pick sequence (aisle, then rack, then bin), and the
    layout: aisles as long as their racks, the pack station before the middle aisle."""
    bins = []
    for aisle in range(1, aisles + 1):
        for n in range(bins_per_aisle):
            rack, slot = divmod(n, BINS_PER_RACK)
            code = f"A-{aisle:02d}-{rack + 1:02d}-1-{slot + 1:02d}"
            bins.append((code, aisle * 10_000 + n))
    base = Layout()
    pairs = -(-bins_per_aisle // (2 * BINS_PER_RACK))  # racks face each other in pairs
    layout = replace(
        base,
        aisle_length_m=base.cross_aisle_m + pairs * base.rack_width_m,
        depot_x_m=(aisles - 1) * base.aisle_spacing_m / 2,
    )
    return bins, layout


def generate_orders(rng, bins, count, zipf_s):
    """Orders as packing receives them: lines with the bin allocation chose."""
    slots = bins[:]
    rng.shuffle(slots)  # SKU of popularity rank r lives in slots[r]: random put-away
    weights = [1 / (rank + 1) ** zipf_s for rank in range(len(slots))]
    sizes, size_weights = zip(*LINES_PER_ORDER.items(), strict=True)
    orders = []
    for n in range(count):
        ranks = set()
        want = rng.choices(sizes, size_weights)[0]
        while len(ranks) < want:
            ranks.add(rng.choices(range(len(slots)), weights)[0])
        lines = [
            {"sku": f"SKU-{r:04d}", "qty": rng.choice((1, 1, 1, 2)), "bin": slots[r][0]}
            | {"pick_sequence": slots[r][1]}
            for r in sorted(ranks)
        ]
        orders.append({"_id": f"ord_{n:05d}", "lines": lines})
    return orders


def walk_metres(tasks, layout, way):
    if way == "pick_sequence":  # the walk before routes: stops by the hand-set number
        stops = sorted(pick_walk(tasks, layout), key=lambda s: (s["pick_sequence"], s["sku"]))
        return walking_distance_m(stops, layout)
    return walking_distance_m(pick_walk(tasks, replace(layout, route=way)), layout)


def measure(orders, layout, batch):
    """Per way: metres per order, order by order and batched, and the seconds per batch."""
    results = {}
    batches = [orders[i : i + batch] for i in range(0, len(orders), batch)]
    for way in WAYS:
        single = sum(walk_metres([o], layout, way) for o in orders)
        started = time.perf_counter()
        batched = sum(walk_metres(b, layout, way) for b in batches)
        seconds = (time.perf_counter() - started) / len(batches)
        results[way] = {
            "order_by_order_m": single / len(orders),
            "batched_m": batched / len(orders),
            "ms_per_list": seconds * 1000,
        }
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aisles", type=int, default=20)
    parser.add_argument("--bins", type=int, default=40, help="bins per aisle")
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=None, help="orders per pick list")
    parser.add_argument("--zipf", type=float, default=1.0, help="popularity skew s")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    batch = args.batch or configured_pick_list_size()
    bins, layout = warehouse(args.aisles, args.bins)
    orders = generate_orders(random.Random(args.seed), bins, args.orders, args.zipf)
    lines = sum(len(o["lines"]) for o in orders)
    print(f"pick walk benchmark: {args.aisles} aisles x {args.bins} bins, {args.orders} orders")
    print(f"({lines / len(orders):.2f} lines each), Zipf s={args.zipf}, pick lists of {batch}")
    print(
        f"aisles {layout.aisle_spacing_m} m apart, {layout.aisle_length_m} m long; seed {args.seed}"
    )
    results = measure(orders, layout, batch)
    print(
        "| stops in order of | order by order, m/order | batched, m/order | less walking | ms per list |"
    )
    print("|---|---|---|---|---|")
    for way, r in results.items():
        saved = 1 - r["batched_m"] / r["order_by_order_m"]
        r["less_walking"] = saved
        print(
            f"| {way} | {r['order_by_order_m']:.1f} | {r['batched_m']:.1f} | {saved:.0%} "
            f"| {r['ms_per_list']:.2f} |"
        )
    return results


if __name__ == "__main__":
    main()
