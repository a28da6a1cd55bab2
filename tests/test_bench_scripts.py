"""The benchmark scripts still run: one tiny step of each, so they cannot rot unnoticed."""

import os

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_steady_benchmark_runs_one_small_step():
    from scripts import bench_steady

    # beside a test platform on the same offset, so shifted once more
    offset = int(os.environ.get("GUDANG_TEST_PORT_OFFSET", "0")) + 700
    result = bench_steady.main(
        [
            "--rates=4",
            "--step-seconds=3",
            "--events=100",
            "--packers=2",
            "--couriers=20",
            "--drain-seconds=20",
            "--idle-seconds=1",
            f"--port-offset={offset}",
        ]
    )
    run = result["run"]
    assert len(result["steps"]) == 1 and result["base_rate"] > 0
    assert run.sent == 12 and len(run.orders) == 12 and not run.errors
    assert run.delivered_seen == 12  # every order went all the way, seen by the webhook
    cod = [o.order_id for o in run.orders.values() if o.cod]
    assert cod and set(cod) <= set(result["fees"])


def test_store_benchmark_runs_every_store_at_a_tiny_size():
    from scripts import bench_store

    results = bench_store.main(["--sizes=200", "--ops=5", "--budget=0.5"])
    for name in bench_store.STORES:
        res = results[(name, 200)]
        assert "error" not in res, (name, res)
        assert all(res[op][1] >= 1 for op in ("find", "reserve", "insert"))


def test_ordered_index_benchmark_compares_both_stores_at_a_tiny_size():
    from scripts import bench_ordered

    results = bench_ordered.main(["--sizes=120", "--ops=5", "--budget=0.5"])
    for name in bench_ordered.STORES:
        for op in ("first page", "page half way", "insert_one", "update, new status"):
            assert results[(120, name, op)][0] > 0, (name, op)


def test_walk_benchmark_runs_on_a_small_floor():
    from scripts import bench_walk

    results = bench_walk.main(["--aisles=4", "--bins=8", "--orders=40", "--batch=5"])
    assert set(results) == set(bench_walk.WAYS)
    for way, r in results.items():
        assert 0 < r["batched_m"] < r["order_by_order_m"], way
    shortest = results["shortest"]["batched_m"]
    assert shortest <= min(results[w]["batched_m"] for w in ("s_shape", "nearest_neighbour"))


def test_list_benchmark_times_every_list_at_a_tiny_size():
    from scripts import bench_lists

    offset = int(os.environ.get("GUDANG_TEST_PORT_OFFSET", "0")) + 800
    results = bench_lists.main(["--sizes=60", "--requests=2", f"--port-offset={offset}"])
    timings = results[60]["timings"]
    assert {name for name, _ in timings} == set(bench_lists.routes("wh_x"))
    assert all("p50" in t for t in timings.values()), timings


def test_intake_benchmark_runs_with_concurrent_clients():
    from scripts import bench_intake

    offset = int(os.environ.get("GUDANG_TEST_PORT_OFFSET", "0")) + 900
    result = bench_intake.main(
        ["--clients=5", "--orders=20", "--merchants=2", f"--port-offset={offset}"]
    )
    assert result["failures"] == [] and result["orders_per_s"] > 0


def test_scan_benchmark_times_every_scan_of_a_small_flow():
    from scripts import bench_scan

    offset = int(os.environ.get("GUDANG_TEST_PORT_OFFSET", "0")) + 1100
    res = bench_scan.main(["--rate=2", "--seconds=3", "--packers=1", f"--port-offset={offset}"])
    assert res["orders"] >= 4 and res["packed"] == res["orders"]
    assert res["scans"] >= 2 * res["orders"] and res["refused"] == 0
    assert 0 < res["p50_ms"] <= res["p99_ms"]
