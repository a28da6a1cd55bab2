"""Benchmark: order import from files, 10,000 order rows through POST /api/v1/orders/imports.

    make bench            (or: .venv/bin/python -m scripts.bench_import --rows 10000)

Five services as real processes on the embedded store, RabbitMQ on localhost (a private vhost).
A Shopee-shaped export of `--rows` rows (two product rows per order) is uploaded as CSV for a
preview and then a commit, and a second export as XLSX for a commit. For each: rows/s over the
whole request, and the gateway process's memory (VmRSS sampled every 10 ms, peak over its
baseline; VmHWM at the end).
"""

import argparse
import csv
import tempfile
import threading
import time
import uuid
from pathlib import Path

import openpyxl
import requests

from scripts.bench import ADMIN_KEY, platform_env
from scripts.simulate import Api, register_world
from scripts.supervisor import private_platform

HEADER = [
    "No. Pesanan",
    "Status Pesanan",
    "No. Resi",
    "Opsi Pengiriman",
    "Waktu Pesanan Dibuat",
    "Metode Pembayaran",
    "SKU Induk",
    "Nama Produk",
    "Nomor Referensi SKU",
    "Nama Variasi",
    "Harga Awal",
    "Jumlah",
    "Total Pembayaran",
    "Username (Pembeli)",
    "Nama Penerima",
    "No. Telepon",
    "Alamat Pengiriman",
    "Kota/Kabupaten",
    "Provinsi",
]
COURIERS = ("J&T Express", "SiCepat REG", "JNE Reguler", "AnterAja")


def export_rows(n_rows, skus, tag):
    """A Shopee-shaped export: two product rows per order, every fourth order COD."""
    for i in range(n_rows):
        order = i // 2
        cod = order % 4 == 0
        yield [
            f"{tag}{order:07d}",
            "Perlu Dikirim",
            "",
            COURIERS[order % len(COURIERS)],
            "24-11-2026 08:05",
            "COD (Bayar di Tempat)" if cod else "ShopeePay",
            skus[i % len(skus)].split("-")[0],
            "Batik tulis Pekalongan",
            skus[i % len(skus)],
            "Biru,L",
            "Rp 150.000",
            "1",
            "Rp 300.000",
            "pembeli",
            "Ani Suryani",
            "6281299998888",
            "Jl. Merdeka No. 1, Sukajadi, KOTA BANDUNG, JAWA BARAT, ID, 40162",
            "KOTA BANDUNG",
            "JAWA BARAT",
        ]


def csv_export(path, n_rows, skus, tag):
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(export_rows(n_rows, skus, tag))


def xlsx_export(path, n_rows, skus, tag):
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("orders")
    sheet.append(HEADER)
    for row in export_rows(n_rows, skus, tag):
        sheet.append(row)
    book.save(path)


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class MemorySampler:
    """Peak VmRSS of one process while a block runs."""

    def __init__(self, pid, every=0.01):
        self.pid, self.every = pid, every
        self.peak = self.baseline = rss_kib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def upload(api, key, path, mimetype, **params):
    with open(path, "rb") as data:
        resp = requests.post(
            api.base + "/orders/imports",
            params=params,
            files={"file": (path.name, data, mimetype)},
            headers={"Authorization": f"Bearer {key}"},
            timeout=900,
        )
    if resp.status_code != 200:
        raise RuntimeError(f"import -> {resp.status_code} {resp.text[:500]}")
    return resp.json()


def run(n_rows):
    tmp = Path(tempfile.mkdtemp(prefix="gudang-bench-import-files-"))
    results = []
    # ports shifted away from `make run`, the tests and the order-flow bench
    with private_platform("gudang-bench-import", platform_env, 31000) as (plat, _):
        api = Api(plat.url("gateway"))
        world = register_world(api, ADMIN_KEY, skus=10, units=0)
        key = world.merchant["api_key"]
        tag = uuid.uuid4().hex[:4].upper()
        first, second = tmp / "shopee_orders.csv", tmp / "shopee_orders.xlsx"
        csv_export(first, n_rows, world.skus, f"{tag}A")
        xlsx_export(second, n_rows, world.skus, f"{tag}B")
        pid = plat.pid("gateway")
        runs = (
            ("CSV preview (dry_run)", first, "text/csv", {"dry_run": "true"}),
            ("CSV commit", first, "text/csv", {}),
            ("XLSX commit", second, "application/octet-stream", {}),
        )
        for name, path, mimetype, params in runs:
            with MemorySampler(pid) as memory:
                started = time.perf_counter()
                report = upload(api, key, path, mimetype, **params)
                seconds = time.perf_counter() - started
            assert report["rows"] == n_rows and not report["errors"], report["summary"]
            results.append(
                {
                    "name": name,
                    "size_kib": path.stat().st_size // 1024,
                    "seconds": seconds,
                    "rows_per_s": n_rows / seconds,
                    "summary": report["summary"],
                    "rss_baseline_mib": memory.baseline / 1024,
                    "rss_peak_mib": memory.peak / 1024,
                }
            )
            print(f"  {name}: {seconds:.1f} s, {report['summary']}", flush=True)
        hwm = rss_kib(pid, "VmHWM") / 1024
    return results, hwm


def main():
    parser = argparse.ArgumentParser(description="Gudang order-import benchmark")
    parser.add_argument("--rows", type=int, default=10_000, help="order rows per file")
    args = parser.parse_args()
    print(f"order import: {args.rows} rows per file ...", flush=True)
    results, hwm = run(args.rows)
    print()
    print("| import | file | rows/s | time | gateway RSS before -> peak |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['name']} | {r['size_kib']:,} KiB | {r['rows_per_s']:,.0f} rows/s "
            f"| {r['seconds']:.1f} s | {r['rss_baseline_mib']:.0f} -> {r['rss_peak_mib']:.0f} MiB "
            f"(+{r['rss_peak_mib'] - r['rss_baseline_mib']:.0f}) |"
        )
    print(f"\ngateway VmHWM at the end: {hwm:.0f} MiB")
    print(f"command: python -m scripts.bench_import --rows {args.rows}")


if __name__ == "__main__":
    main()
