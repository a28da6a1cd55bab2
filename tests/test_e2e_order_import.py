"""End to end, over HTTP only: a merchant uploads a Shopee order export; bad rows come back by
line and column, good orders are created once and move on through the real services."""

import socket
import urllib.parse
from pathlib import Path

import pytest

from scripts.simulate import eventually, register_world
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parent.parent / "gateway" / "tests" / "fixtures" / "imports"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def world(api):
    return register_world(api, ADMIN_KEY, skus=2, units=20)


def upload(api, key, data, filename="orders.xlsx", mimetype=XLSX, **params):
    resp = api.http.post(
        api.base + "/orders/imports",
        params=params,
        files={"file": (filename, data, mimetype)},
        headers={"Authorization": f"Bearer {key}"} if key else {},
        timeout=60,
    )
    return resp.status_code, resp.json()


def test_a_shopee_export_is_previewed_imported_once_and_its_orders_move_on(api, world):
    key = world.merchant["api_key"]
    data = (FIXTURES / "shopee_orders.xlsx").read_bytes()

    status, preview = upload(api, key, data, dry_run="true")
    assert status == 200, preview
    assert preview["dry_run"] is True and preview["format"] == "shopee"
    assert [(e["line"], e["field"]) for e in preview["errors"]] == [
        (6, "Jumlah"),
        (7, "No. Telepon"),
    ]
    assert preview["summary"]["to_create"] == 3
    assert api.ok("GET", "/orders", key)["orders"] == []  # a preview creates nothing

    status, report = upload(api, key, data)
    assert status == 200, report
    assert report["summary"] == {
        "orders": 6,
        "created": 3,
        "duplicates": 0,
        "rejected": 2,
        "skipped": 1,
        "errors": 2,
    }
    assert [(e["line"], e["field"], e["key"]) for e in report["errors"]] == [
        (6, "Jumlah", "qty"),
        (7, "No. Telepon", "phone"),
    ]
    created = {o["order_number"]: o["order_id"] for o in report["orders"] if "order_id" in o}
    assert sorted(created) == ["2611240AAA0001", "2611240BBB0002", "2611240FFF0006"]

    # the same file again: nothing new
    status, again = upload(api, key, data)
    assert status == 200
    assert again["summary"]["created"] == 0 and again["summary"]["duplicates"] == 3
    assert {o["order_number"]: o.get("order_id") for o in again["orders"] if o.get("order_id")} == (
        created
    )
    assert len(api.ok("GET", "/orders", key)["orders"]) == 3

    # the orders are real orders: allocated by inventory, COD carried over
    for order_id in created.values():
        eventually(
            lambda oid=order_id: api.ok("GET", f"/orders/{oid}", key)["status"] == "allocated",
            what=f"{order_id} to be allocated",
        )
    cod = api.ok("GET", f"/orders/{created['2611240AAA0001']}", key)
    assert cod["channel"] == "shopee" and cod["courier"] == "jnt"
    assert cod["cod_amount"] == 275_000
    assert cod["lines"] == [{"sku": "BTK-000", "qty": 2}, {"sku": "BTK-001", "qty": 1}]


def test_the_csv_template_is_public_and_imports_its_own_example(api, world):
    resp = api.http.get(api.base + "/orders/imports/template.csv", timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert resp.text.splitlines()[0].startswith("order_number,channel,recipient_name,phone")
    # its example SKUs are not this merchant's: every order is rejected by name, none created
    status, report = upload(
        api, world.merchant["api_key"], resp.content, "template.csv", "text/csv", format="gudang"
    )
    assert status == 200, report
    assert report["summary"]["rejected"] == 2
    assert {e["key"] for e in report["errors"]} == {"sku"}


@pytest.mark.parametrize(
    "data, filename",
    [
        (b"", "empty.csv"),
        (b"\x00\xff garbage \x00" * 50, "garbage.bin"),
        (b"PK\x03\x04 a zip that is not one", "fake.xlsx"),
        (b"name,age\nAni,30\n", "people.csv"),
    ],
)
def test_files_that_are_not_order_exports_are_a_400_in_the_error_shape(api, world, data, filename):
    status, body = upload(
        api, world.merchant["api_key"], data, filename, "application/octet-stream"
    )
    assert status == 400, body
    assert body["error"]["code"] == "VALIDATION_ERROR" and body["error"]["fields"]


def test_an_upload_without_a_file_part_or_a_key(api, world):
    status, body = api.request(
        "POST", "/orders/imports", world.merchant["api_key"], {"file": "orders.csv"}
    )
    assert status == 400 and "file" in body["error"]["fields"]
    status, body = upload(api, None, b"x")
    assert status == 401
    status, body = upload(api, world.staff["api_key"], b"x")
    assert status == 403


def test_a_body_over_the_bound_is_refused_before_it_is_read(api, world):
    url = urllib.parse.urlsplit(api.base)
    request = (
        f"POST {url.path}/orders/imports HTTP/1.1\r\n"
        f"Host: {url.hostname}\r\n"
        f"Authorization: Bearer {world.merchant['api_key']}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {64 * 1024 * 1024}\r\n"
        "Connection: close\r\n\r\n"
        "--x\r\n"
    ).encode()
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n", 1)[0]
    assert b" 413 " in head, answer[:300]
    assert b'"PAYLOAD_TOO_LARGE"' in answer


def test_an_export_larger_than_the_parser_buffers_is_read_from_its_spooled_file(
    api, world, tmp_path
):
    from scripts.bench_import import csv_export

    path = tmp_path / "big.csv"
    csv_export(path, 4000, world.skus, "BIG")  # about 1 MiB: werkzeug spools it to disk
    with open(path, "rb") as data:
        status, report = upload(
            api, world.merchant["api_key"], data, "big.csv", "text/csv", dry_run="1"
        )
    assert status == 200, report
    assert report["rows"] == 4000 and report["summary"]["to_create"] == 2000
