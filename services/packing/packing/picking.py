"""Picking on the floor: totes bound by scan, every unit scanned against its stop, short
picks that send an order back to inventory, and what a packer or a supervisor sees.

Every scan is checked and recorded here, not on the tablet. A scan is written with the
list's `version` read before it (one conditional write; a lost race reads and decides
again), and its answer is kept under the client's scan id so a retry counts nothing twice."""

from gudang_common.clock import iso, utcnow
from gudang_common.errors import Conflict, FloorRefusal, NotFound
from gudang_common.events import new_event

from . import catalog, pick_rules
from .pick_rules import EMPTY_PROGRESS, refuse
from .walk import DEFAULT_LAYOUT, walking_distance_m

SCAN_ROUNDS = 5


def own_list(repo, pick_list_id, packer_id, open_only=True):
    doc = repo.get_list(pick_list_id)
    if doc is None or doc["packer_id"] != packer_id:
        raise NotFound(
            f"pick list {pick_list_id} not found", {"pick_list_id": ["Not one of your pick lists."]}
        )
    if open_only and doc["status"] != "open":
        refuse("PICK_LIST_CLOSED", "pick_list_id", f"Pick list is {doc['status']}.")
    return doc


def active(tasks):
    """The orders still on the list (short-picked and released ones have left it)."""
    return [t for t in tasks if t["status"] in ("picking", "picked")]


def totes_of(tasks):
    return {t["_id"]: t["tote"] for t in tasks if t.get("tote")}


def list_state(repo, doc):
    tasks = sorted(active(repo.tasks_of_list(doc["_id"])), key=lambda t: t["allocated_at"])
    return tasks, pick_rules.walk_stops(tasks), doc.get("progress") or EMPTY_PROGRESS


def scan(repo, pick_list_id, packer_id, data):
    """One scan on the list: a tote label, a bin, or a unit. Returns the answer."""
    for _ in range(SCAN_ROUNDS):
        doc = own_list(repo, pick_list_id, packer_id)
        seen = next(
            (a for a in doc.get("recent_scans", []) if a["scan_id"] == data["scan_id"]), None
        )
        if seen is not None:
            return dict(seen, repeated=True)
        tasks, stops, progress = list_state(repo, doc)
        code = data["code"].strip()
        if code.upper().startswith("TOTE-"):
            return bind_tote(repo, doc, tasks, code.upper(), data["scan_id"])
        if pick_rules.next_tote_order([t["_id"] for t in tasks], totes_of(tasks)):
            refuse("TOTES_NOT_READY", "code", "Scan a tote label for every order first.")
        after, answer = _read_code(repo, tasks, stops, progress, code, data)
        answer = dict(answer, scan_id=data["scan_id"], code=code)
        if repo.save_progress(pick_list_id, doc.get("version", 0), after, answer):
            return answer
    raise Conflict("the pick list kept changing", {"code": ["Scan again."]})


def _read_code(repo, tasks, stops, progress, code, data):
    """(progress after, answer) for a bin or unit scan."""
    if code in {s["bin"] for s in stops}:
        after, stop = pick_rules.open_bin(stops, progress, code)
        return after, {"kind": "bin", "stop_id": stop["stop_id"], "bin": code, "placed": []}
    product = _identify(repo, tasks, code)
    if product is None:
        refuse("UNKNOWN_CODE", "code", f"{code} is no bin, tote or product on this list.")
    after, placed = pick_rules.count_units(
        stops, progress, product["sku"], data["qty"], data.get("lot")
    )
    totes = totes_of(tasks)
    return after, {
        "kind": "unit",
        "sku": product["sku"],
        "stop_id": progress.get("open_stop"),
        "units": data["qty"],
        "placed": [{"order_id": o, "tote": totes.get(o), "qty": n} for o, n in placed],
        "open_stop": after.get("open_stop"),
    }


def _identify(repo, tasks, code):
    """The product a code names, among the merchants whose orders are on the list."""
    for merchant_id in dict.fromkeys(t["merchant_id"] for t in tasks):
        product = catalog.identify(repo, merchant_id, code)
        if product is not None:
            return product
    return None


def bind_tote(repo, doc, tasks, tote, scan_id):
    """A tote label scanned while orders lack one: it takes the next order (oldest first)."""
    pick_rules.check_tote_code(tote)
    totes = totes_of(tasks)
    if tote in totes.values():
        order_id = next(o for o, t in totes.items() if t == tote)
        return {"kind": "tote", "tote": tote, "order_id": order_id, "scan_id": scan_id}
    order_id = pick_rules.next_tote_order([t["_id"] for t in tasks], totes)
    if order_id is None:
        refuse("TOTES_COMPLETE", "code", "Every order has its tote; scan a bin.")
    claim_tote(repo, tote, order_id, doc["_id"])
    repo.set_task_tote(order_id, doc["_id"], tote)
    return {"kind": "tote", "tote": tote, "order_id": order_id, "scan_id": scan_id}


def claim_tote(repo, tote, order_id, pick_list_id):
    """A tote holds one order at a time: free again once its order is packed, short-picked,
    cancelled or released (the order's status decides, so nothing needs to unbind it)."""
    if repo.take_tote(tote, order_id, pick_list_id):
        return
    holder = repo.tote_holder(tote)
    if holder is not None and holder["order_id"] == order_id:
        return
    busy = holder is not None and repo.task_in_tote(tote) is not None
    if busy or not repo.take_tote(tote, order_id, pick_list_id, free_from=holder["order_id"]):
        refuse("TOTE_BUSY", "code", f"{tote} still holds another order; take an empty tote.")


def short_pick(repo, pick_list_id, packer_id, data):
    """Units not in their bin: the orders that miss them leave the list (their totes are to
    be emptied back), each with an order_short_picked that sends it back to inventory."""
    doc = own_list(repo, pick_list_id, packer_id)
    tasks, stops, progress = list_state(repo, doc)
    stop = next((s for s in stops if s["stop_id"] == data["stop_id"]), None)
    if stop is None:
        refuse("UNKNOWN_STOP", "stop_id", "No such stop left on this list.")
    short = pick_rules.short_split(stop, progress, data["qty"])
    totes = totes_of(tasks)
    left = [
        {"order_id": t["_id"], "tote": totes.get(t["_id"]), "qty_missing": short[t["_id"]]}
        for t in tasks
        if t["_id"] in short and _leave_list(repo, t, stop, short[t["_id"]], data["reason"])
    ]
    repo.save_progress(
        pick_list_id, doc.get("version", 0), pick_rules.without_orders(progress, set(short))
    )
    view = view_of(repo, repo.get_list(pick_list_id))
    return {"pick_list": view, "left_the_list": left, "units_missing": data["qty"]}


def _leave_list(repo, task, stop, qty_missing, reason):
    event = new_event(
        "order_short_picked",
        merchant_id=task["merchant_id"],
        order_id=task["_id"],
        pick_list_id=task["pick_list_id"],
        packer_id=task["packer_id"],
        bin=stop["bin"],
        sku=stop["sku"],
        lot=stop.get("lot"),
        qty_missing=qty_missing,
        reason=reason,
    )
    fields = {"short_pick": {k: event[k] for k in ("bin", "sku", "lot", "qty_missing", "reason")}}
    return repo.move_task(
        task["_id"],
        ["picking"],
        "short_picked",
        fields,
        "order_short_picked",
        event,
        extra_filter={"pick_list_id": task["pick_list_id"]},
    )


def confirm_picked(repo, pick_list_id, packer_id, layout=DEFAULT_LAYOUT):
    """Every unit of the list scanned or short-picked: its orders are picked (once)."""
    doc = own_list(repo, pick_list_id, packer_id, open_only=False)
    if doc["status"] not in ("open", "picked"):  # released by a supervisor, or empty
        refuse("PICK_LIST_CLOSED", "pick_list_id", f"Pick list is {doc['status']}.")
    if doc["status"] == "open":
        _, stops, progress = list_state(repo, doc)
        missing = pick_rules.unfinished(stops, progress)
        if missing:
            raise_incomplete(missing)
    for task in repo.tasks_of_list(pick_list_id):
        if task["status"] == "picking":
            mark_picked(repo, task, pick_list_id, packer_id)
    if doc["status"] == "open":
        doc = repo.set_list(pick_list_id, {"status": "picked", "picked_at": iso(utcnow())})
    return view_of(repo, doc, layout)


def raise_incomplete(missing):
    fields = {
        f"stops.{m['stop_id']}": [
            f"{m['remaining']} x {m['sku']} in bin {m['bin']}"
            + (f" (lot {m['lot']})" if m.get("lot") else "")
            + " not scanned or short-picked."
        ]
        for m in missing
    }
    units = sum(m["remaining"] for m in missing)
    raise FloorRefusal(
        f"{units} units on {len(missing)} stops are not scanned yet", fields, "PICK_INCOMPLETE"
    )


def mark_picked(repo, task, pick_list_id, packer_id):
    event = new_event(
        "order_picked",
        merchant_id=task["merchant_id"],
        order_id=task["_id"],
        pick_list_id=pick_list_id,
        packer_id=packer_id,
    )
    repo.move_task(
        task["_id"],
        ["picking"],
        "picked",
        {"picked_at": event["occurred_at"]},
        "order_picked",
        event,
        extra_filter={"pick_list_id": pick_list_id},
    )


def order_view(task):
    keys = ("external_id", "status", "tote", "pick_list_id", "picked_at", "merchant_id")
    return {"order_id": task["_id"]} | {k: task.get(k) for k in keys}


def view_of(repo, doc, layout=DEFAULT_LAYOUT):
    """A pick list with its orders, totes, stops in walking order and what is scanned, as
    stored now, with the walk's metres."""
    tasks = repo.tasks_of_list(doc["_id"])
    on_list = sorted(active(tasks), key=lambda t: t["allocated_at"])
    stops = pick_rules.walk_stops(on_list, layout)
    progress = doc.get("progress") or EMPTY_PROGRESS
    view = {k: doc.get(k) for k in ("packer_id", "status", "created_at")}
    shown = [
        dict(stop, name=_product_name(repo, on_list, stop))
        for stop in pick_rules.stops_view(stops, progress, totes_of(on_list))
    ]
    return view | {
        "pick_list_id": doc["_id"],
        "orders": [order_view(t) for t in sorted(tasks, key=lambda t: t["allocated_at"])],
        "stops": shown,
        "open_stop": next((s["stop_id"] for s in shown if s["open"]), None),
        "next_tote_for": pick_rules.next_tote_order([t["_id"] for t in on_list], totes_of(on_list)),
        "units": sum(s["qty"] for s in stops),
        "units_scanned": sum(s["qty"] - pick_rules.remaining(progress, s) for s in stops),
        "walking_distance_m": walking_distance_m(stops, layout),
    }


def _product_name(repo, tasks, stop):
    """The SKU's name as the merchant registered it, for the packer to read at the bin."""
    merchant = next(t["merchant_id"] for t in tasks if t["_id"] == stop["orders"][0]["order_id"])
    product = repo.get_product(merchant, stop["sku"])
    return product.get("name") if product else None
