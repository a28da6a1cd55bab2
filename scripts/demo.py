"""Seed a small demo world through the public HTTP API of a running gateway.

One promoter, one merchant referred by that promoter, one packer, three bins, three SKUs, and one
inbound shipment received into the bins. Progress is saved after every step in a JSON file
(demo.json in the data directory by default): a finished seed is never repeated, and an interrupted one resumes
where it stopped, so the printed credentials stay the same across runs.
"""

import json
import os
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

PROMOTER = {"name": "Rina Wulandari", "email": "rina@example.id", "phone": "+6281234567890"}
MERCHANT = {"name": "Batik Sekar Jagad", "email": "owner@sekarjagad.id", "phone": "+6281311112222"}
PACKER = {"name": "Dewi (packer)", "role": "packer"}
BINS = [
    {"code": "A-01-01-1-01", "pick_sequence": 1},
    {"code": "A-01-01-1-02", "pick_sequence": 2},
    {"code": "A-01-01-1-03", "pick_sequence": 3},
]


def ean13(first12: str) -> str:
    """Append the EAN-13 check digit to 12 digits."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError("EAN-13 needs 12 digits before the check digit")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


SKUS = [
    {
        "sku": "BTK-001",
        "name": "Batik tulis Pekalongan M",
        "barcode": ean13("899123456789"),
        "weight_g": 300,
        "length_cm": 30,
        "width_cm": 20,
        "height_cm": 3,
    },
    {
        "sku": "BTK-002",
        "name": "Kemeja batik cap lengan panjang L",
        "barcode": ean13("899123456790"),
        "weight_g": 350,
        "length_cm": 32,
        "width_cm": 24,
        "height_cm": 4,
    },
    {
        "sku": "BTK-003",
        "name": "Selendang sutra batik Cirebon",
        "barcode": ean13("899123456791"),
        "weight_g": 150,
        "length_cm": 25,
        "width_cm": 15,
        "height_cm": 2,
    },
]
STOCK = {"BTK-001": 50, "BTK-002": 40, "BTK-003": 30}
BIN_FOR = {"BTK-001": "A-01-01-1-01", "BTK-002": "A-01-01-1-02", "BTK-003": "A-01-01-1-03"}


class SeedError(RuntimeError):
    pass


class _Api:
    def __init__(self, base_url: str, run_id: str):
        self.base_url = base_url.rstrip("/")
        self.run_id = run_id

    def post(self, path: str, body: dict, key: str | None, step: str, ok_conflict=False) -> dict:
        url = f"{self.base_url}/api/v1{path}"
        req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
        req.add_header("Content-Type", "application/json")
        req.add_header("Accept", "application/json")
        # a retried step must not create a second copy where the gateway honours the key
        req.add_header("Idempotency-Key", f"demo-{self.run_id}-{step}")
        if key:
            req.add_header("Authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode(errors="replace")
            if ok_conflict and exc.code == 409:
                return {}
            raise SeedError(f"{step}: POST {path} answered {exc.code}: {text.strip()}") from None
        except OSError as exc:
            raise SeedError(f"{step}: POST {path} failed: {exc}") from None
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise SeedError(f"POST {path} answered with non-JSON: {raw[:500]!r}") from None
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            data = data["data"]
        return data


def _need(data: dict, fields: tuple[str, ...], what: str) -> dict:
    missing = [f for f in fields if not data.get(f)]
    if missing:
        raise SeedError(f"{what}: response lacks {', '.join(missing)}: {json.dumps(data)}")
    return {f: data[f] for f in fields}


DEPOSIT = 1_000_000  # rupiah: the demo merchant's first top-up


def seed_demo(
    gateway_url: str,
    admin_key: str,
    state_path: str | os.PathLike,
    log: Callable[[str], None] = print,
) -> dict:
    """Create the demo world unless ``state_path`` says it exists; return the saved state."""
    path = Path(state_path)
    state: dict = {}
    if path.exists():
        state = json.loads(path.read_text())
        if state.get("complete"):
            log(f"Demo world already seeded ({path.name}); keeping its data.")
            state["admin_key"] = admin_key
            return state
        log("Resuming an interrupted demo seed...")
    else:
        log("Seeding the demo world through the API...")
    state.setdefault("run_id", secrets.token_hex(6))
    api = _Api(gateway_url, state["run_id"])

    def save() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        os.chmod(tmp, 0o600)
        tmp.replace(path)

    def sign_up(role: str, route: str, body: dict, key: str | None, fields: tuple) -> None:
        """Sign `role` up once: its ids and key are kept in the state file."""
        if role not in state:
            data = api.post(route, body, key, role)
            state[role] = {"name": body["name"], **_need(data, fields, role)}
            save()
            log(f"  {role:<8} {body['name']}")

    sign_up("promoter", "/promoters", PROMOTER, None, ("promoter_id", "referral_code", "api_key"))
    referral = {"referral_code": state["promoter"]["referral_code"]}
    sign_up("merchant", "/merchants", MERCHANT | referral, None, ("merchant_id", "api_key"))
    sign_up("staff", "/staff", PACKER, admin_key, ("staff_id", "api_key"))

    if not state.get("deposit"):
        # a merchant deposits before its first fees: a wallet below its credit limit
        # (0 by default) holds its orders
        merchant_id = state["merchant"]["merchant_id"]
        body = {"amount": DEPOSIT, "reference": f"DEMO-{state['run_id']}"}
        for attempt in range(40):  # billing learns of the new merchant from an event
            try:
                api.post(f"/merchants/{merchant_id}/topups", body, admin_key, "deposit")
                break
            except SeedError as exc:
                if " 404:" not in str(exc) or attempt == 39:
                    raise
                time.sleep(0.5)
        state["deposit"] = True
        save()
        log(f"  deposit  Rp {DEPOSIT:,}")

    staff_key = state["staff"]["api_key"]
    merchant_key = state["merchant"]["api_key"]

    def create_each(kind: str, route: str, items: list, code: str, key: str) -> None:
        """POST each item once (a 409 means an earlier run made it); the codes are saved."""
        done = state.setdefault(kind, [])
        for item in items:
            if item[code] not in done:
                api.post(route, item, key, f"{kind[:-1]}-{item[code]}", ok_conflict=True)
                done.append(item[code])
                save()
        log(f"  {kind:<8} {', '.join(done)}")

    create_each("bins", "/bins", BINS, "code", staff_key)
    create_each("skus", "/skus", SKUS, "sku", merchant_key)

    if "inbound_id" not in state:
        lines = [{"sku": sku, "qty": qty} for sku, qty in STOCK.items()]
        data = api.post("/inbounds", {"lines": lines}, merchant_key, "inbound")
        state["inbound_id"] = _need(data, ("inbound_id",), "inbound")["inbound_id"]
        save()

    if not state.get("received"):
        lines = [
            {"sku": sku, "qty_good": qty, "qty_damaged": 0, "bin": BIN_FOR[sku]}
            for sku, qty in STOCK.items()
        ]
        api.post(
            f"/warehouse/inbounds/{state['inbound_id']}/receive",
            {"lines": lines},
            staff_key,
            "receive",
        )
        state["received"] = True
        save()
    log(f"  inbound  {state['inbound_id']} received ({sum(STOCK.values())} units)")

    state["complete"] = True
    save()
    state["admin_key"] = admin_key
    return state
