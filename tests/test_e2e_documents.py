"""The printed documents through the real processes: a packed order's label is a 100 x 150 mm
PDF whose barcode scans as the order's AWB, and the pickup manifest PDF lists every parcel.

With UPDATE_SCREENSHOTS=1 the rendered label replaces docs/screenshots/label.png (a random
AWB and the time make every run's picture differ, so an ordinary run leaves it alone)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.simulate import eventually, place_order, register_world, work_pick_lists
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
TOOLS = ("pdftoppm", "pdftotext", "pdfinfo", "zbarimg")


@pytest.fixture(scope="module", autouse=True)
def tools():
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (make test-tools)")


@pytest.fixture(scope="module")
def world(api):
    return register_world(api, ADMIN_KEY, skus=2, units=20)


@pytest.fixture(scope="module")
def packed(api, world):
    """Two orders packed and booked: one COD, one not. Returns [(order_id, order), ...]."""
    key = world.merchant["api_key"]
    ids = [place_order(api, world, 0, cod_amount=125_000), place_order(api, world, 1)]
    for order_id in ids:
        eventually(lambda o=order_id: api.ok("GET", f"/orders/{o}", key)["status"] == "allocated")
    work_pick_lists(api, world.staff["api_key"])
    for order_id in ids:
        eventually(lambda o=order_id: api.ok("GET", f"/orders/{o}", key)["awb"], what="AWB")
    return [(order_id, api.ok("GET", f"/orders/{order_id}", key)) for order_id in ids]


def download(api, path, key):
    return api.http.get(api.base + path, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def run(*args, cwd):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_the_label_scans_as_the_awb_and_shows_city_cod_and_order_number(
    api, world, packed, tmp_path
):
    order_id, order = packed[0]
    resp = download(api, f"/warehouse/orders/{order_id}/label.pdf", world.staff["api_key"])
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["Cache-Control"] == "no-store"
    (tmp_path / "label.pdf").write_bytes(resp.content)

    info = run("pdfinfo", "label.pdf", cwd=tmp_path)
    assert "283.465 x 425.197 pts" in info  # 100 x 150 mm
    run("pdftoppm", "-r", "300", "-png", "-f", "1", "-l", "1", "label.pdf", "label", cwd=tmp_path)
    [png] = tmp_path.glob("label*.png")
    assert run("zbarimg", "--raw", "-q", png.name, cwd=tmp_path).split() == [order["awb"]]
    text = run("pdftotext", "label.pdf", "-", cwd=tmp_path)
    assert order["recipient"]["city"].upper() in text
    assert f"{order['recipient']['city'].upper()} {order['recipient']['postal_code']}" in text
    assert "JNE" in text and "BERAT" in text and " kg" in text  # courier and weight
    assert "COD Rp 125.000" in text
    assert order["external_id"] in text
    assert api.ok("GET", "/merchants/me", world.merchant["api_key"])["name"] in text  # sender
    assert order["lines"][0]["sku"] in text  # the packing slip

    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        run("pdftoppm", "-r", "150", "-png", "-singlefile", "label.pdf", "shot", cwd=tmp_path)
        shutil.copyfile(tmp_path / "shot.png", SCREENSHOTS / "label.png")

    # a reprint is the same URL; the merchant may print its own order's label
    again = download(api, f"/warehouse/orders/{order_id}/label.pdf", world.staff["api_key"])
    assert again.status_code == 200 and again.content.startswith(b"%PDF")
    own = download(api, f"/orders/{order_id}/label.pdf", world.merchant["api_key"])
    assert own.status_code == 200 and own.headers["Content-Type"] == "application/pdf"


def test_no_label_for_an_unknown_order_one_without_awb_or_another_merchants(api, world, packed):
    staff = world.staff["api_key"]
    resp = download(api, "/warehouse/orders/ord_nope/label.pdf", staff)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "NOT_FOUND"

    waiting = place_order(api, world, 0, qty=10_000)  # more than is on hand: never packed
    resp = download(api, f"/warehouse/orders/{waiting}/label.pdf", staff)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "NOT_FOUND"

    other = register_world(api, ADMIN_KEY, skus=1, units=0)
    resp = download(api, f"/orders/{packed[0][0]}/label.pdf", other.merchant["api_key"])
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "NOT_FOUND"
    resp = download(api, f"/warehouse/orders/{packed[0][0]}/label.pdf", world.merchant["api_key"])
    assert resp.status_code == 403


def test_the_manifest_pdf_lists_every_awb_and_the_cod_total(api, world, packed, tmp_path):
    staff = world.staff["api_key"]
    manifest = api.ok("POST", "/warehouse/manifests", staff, {"courier": "jne"})
    resp = download(api, f"/warehouse/manifests/{manifest['manifest_id']}.pdf", staff)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/pdf"
    (tmp_path / "manifest.pdf").write_bytes(resp.content)
    assert "595.276 x 841.89 pts" in run("pdfinfo", "manifest.pdf", cwd=tmp_path)  # A4
    run("pdftoppm", "-r", "72", "-png", "manifest.pdf", "manifest", cwd=tmp_path)
    assert list(tmp_path.glob("manifest*.png"))
    text = run("pdftotext", "-layout", "manifest.pdf", "-", cwd=tmp_path)
    for _, order in packed:
        assert order["awb"] in text and order["external_id"] in text
    assert f"Jumlah paket: {manifest['parcel_count']}" in text
    assert "Total COD: Rp 125.000" in text

    resp = download(api, "/warehouse/manifests/mf_nope.pdf", staff)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "NOT_FOUND"
