"""The pack station: open a picked order by its tote or its number, check every unit by
scanning it again, put it in a box from the catalog, weigh it, pack it.

The checks live here, on the server: what was scanned is kept on the order's pack task,
so a reload or another tablet shows the same progress, and packing is refused until
every unit is checked. Refusals carry a stable `code` the tablet says in the packer's
language (FloorRefusal)."""

from gudang_common.clock import parse_iso, utcnow
from gudang_common.errors import Conflict, FloorRefusal

from . import boxes, catalog, operations

VERIFY_ATTEMPTS = 5
TOTE_PREFIX = "TOTE-"


def refused(code, status, field, message, text):
    return FloorRefusal(message, {field: [text]}, code, status)


# --- the box catalog ------------------------------------------------------------------


def list_boxes(repo):
    return {"boxes": [boxes.box_view(doc) for doc in repo.all_boxes()]}


def add_box(repo, data):
    if not repo.add_box(dict(data, _id=data["code"])):
        raise refused(
            "BOX_EXISTS", 409, "code", f"box {data['code']} exists", "This box code exists."
        )
    return boxes.box_view(repo.get_box(data["code"]))


def change_box(repo, code, changes):
    doc = repo.change_box(code, changes)
    if doc is None:
        raise _unknown_box(code)
    return boxes.box_view(doc)


def _unknown_box(code):
    return refused("UNKNOWN_BOX", 404, "box", f"box {code} not found", "Unknown box.")


# --- opening an order at the station --------------------------------------------------


def ordered_units(task):
    """SKU -> units the order holds (lines split over bins or lots add up)."""
    units = {}
    for line in task["lines"]:
        units[line["sku"]] = units.get(line["sku"], 0) + line["qty"]
    return units


def checked_units(task):
    return {row["sku"]: row["qty"] for row in task.get("verified", [])}


def _unit_sizes(products, task):
    sizes = []
    for sku, qty in ordered_units(task).items():
        sizes.extend([products[sku]] * qty)
    return sizes


def station_view(repo, task):
    """What the station shows: the items with their progress, the suggested box, the boxes."""
    checked, products = checked_units(task), {}
    items = []
    for sku, qty in ordered_units(task).items():
        products[sku] = repo.get_product(task["merchant_id"], sku) or {}  # once per SKU
        items.append(
            {
                "sku": sku,
                "name": products[sku].get("name"),
                "barcode": products[sku].get("barcode"),
                "qty": qty,
                "verified": checked.get(sku, 0),
            }
        )
    catalog_boxes = repo.all_boxes()
    return {
        "order_id": task["_id"],
        "external_id": task.get("external_id"),
        "merchant_id": task["merchant_id"],
        "tote": task.get("tote"),
        "status": task["status"],
        "items": items,
        "all_verified": all(i["verified"] >= i["qty"] for i in items),
        "items_weight_g": sum(p.get("weight_g") or 0 for p in _unit_sizes(products, task)),
        "suggested_box": boxes.smallest_fitting(catalog_boxes, _unit_sizes(products, task)),
        # smallest first, as they stand on the shelf by the station
        "boxes": [
            boxes.box_view(b)
            for b in sorted(catalog_boxes, key=lambda b: (boxes.volume(b), b["code"]))
            if b.get("active", True)
        ],
    }


def find_order(repo, code):
    """The picked order a scanned code names: a tote, an order id, or an order number."""
    code = code.strip()
    if code.upper().startswith(TOTE_PREFIX):
        task = repo.picked_task_in_tote(code.upper())
    else:
        task = repo.get_task(code)
        if task is None:
            found = repo.picked_tasks_by_external_id(code)
            if len(found) > 1:
                raise refused(
                    "AMBIGUOUS_ORDER",
                    409,
                    "code",
                    f"{code} names several orders",
                    "Several orders have this number: scan the tote or the order id.",
                )
            task = found[0] if found else None
    if task is None:
        raise refused(
            "UNKNOWN_CODE", 404, "code", f"no picked order for {code}", "No picked order."
        )
    return task


def open_order(repo, code):
    return station_view(repo, _task_to_pack(find_order(repo, code)))


def _task_to_pack(task, order_id=None):
    """The task, if it waits at the station; refused with the reason otherwise."""
    if task is None:
        raise refused(
            "UNKNOWN_ORDER",
            404,
            "order_id",
            f"order {order_id} is not in packing",
            "Unknown order.",
        )
    if task["status"] != "picked":
        code = {"packed": "ALREADY_PACKED", "cancelled": "ORDER_CANCELLED"}
        raise refused(
            code.get(task["status"], "NOT_PICKED"),
            409,
            "order_id",
            f"order {task['_id']} is {task['status']}, not picked",
            f"Order is {task['status']}.",
        )
    return task


# --- scan to verify -------------------------------------------------------------------


def _scanned_sku(repo, task, code):
    """The order's SKU a scanned code names; refused when it names none of the order's."""
    product = catalog.identify(repo, task["merchant_id"], code)
    sku = product["sku"] if product else code.strip()
    if sku in ordered_units(task):
        return sku
    if product is None:
        raise refused("UNKNOWN_PRODUCT", 422, "code", f"{code} is no known product", "Unknown.")
    raise refused(
        "NOT_IN_ORDER", 409, "code", f"{sku} is not in order {task['_id']}", "Not in this order."
    )


def verify_unit(repo, order_id, code, qty=1):
    """Count `qty` units of the scanned product as checked; one too many is refused."""
    for _ in range(VERIFY_ATTEMPTS):
        task = _task_to_pack(repo.get_task(order_id), order_id)
        sku = _scanned_sku(repo, task, code)
        checked, ordered = checked_units(task), ordered_units(task)[sku]
        if checked.get(sku, 0) + qty > ordered:
            raise refused(
                "EXTRA_UNIT",
                409,
                "code",
                f"order {order_id} holds {ordered} of {sku}, {checked.get(sku, 0)} checked",
                f"Only {ordered} in this order; {checked.get(sku, 0)} already checked.",
            )
        checked[sku] = checked.get(sku, 0) + qty
        rows = [{"sku": s, "qty": n} for s, n in sorted(checked.items())]
        seq = task.get("verify_seq", 0)
        if repo.set_verified(order_id, seq, rows):
            done = dict(task, verified=rows, verify_seq=(seq or 0) + 1)
            return dict(station_view(repo, done), scanned={"sku": sku, "qty": qty})
    raise Conflict(f"order {order_id} keeps changing; scan again", {"code": ["Scan again."]})


def unverified(task):
    """SKU -> (checked, ordered) for every SKU not fully checked."""
    checked = checked_units(task)
    return {
        sku: (checked.get(sku, 0), qty)
        for sku, qty in ordered_units(task).items()
        if checked.get(sku, 0) < qty
    }


# --- packing --------------------------------------------------------------------------


def _package(repo, data):
    """The parcel's sizes and fee: from the catalog box, or typed for an own carton."""
    if not data.get("box"):
        sides = {side: data[side] for side in boxes.SIDES}
        return dict(sides, weight_g=data["weight_g"], box=None, packaging_fee=0)
    box = repo.get_box(data["box"])
    if box is None or not box.get("active", True):
        raise _unknown_box(data["box"])
    if data["weight_g"] < box["weight_g"]:
        raise refused(
            "WEIGHT_BELOW_BOX",
            422,
            "weight_g",
            f"{data['weight_g']} g is less than the empty box ({box['weight_g']} g)",
            "Lighter than the empty box.",
        )
    sides = {side: box[side] for side in boxes.SIDES}
    return dict(
        sides, weight_g=data["weight_g"], box=box["code"], packaging_fee=box["packaging_fee"]
    )


def pack_order(repo, order_id, packer_id, data, observe=None):
    """Pack a fully checked order; `observe(packer_id, seconds since allocated)` is told
    when this call packed it (a repeated tap answers the packed order again)."""
    task = repo.get_task(order_id)
    if task is not None and task["status"] == "packed":
        return operations.task_view(task)
    task = _task_to_pack(task, order_id)
    missing = unverified(task)
    if missing:
        names = ", ".join(f"{sku} ({c} of {q})" for sku, (c, q) in sorted(missing.items()))
        raise FloorRefusal(
            f"units not checked: {names}",
            {f"items.{sku}": [f"{c} of {q} units checked."] for sku, (c, q) in missing.items()},
            "UNVERIFIED_UNITS",
            409,
        )
    view = operations.pack(repo, order_id, packer_id, _package(repo, data), task)
    if observe is not None:
        waited = (utcnow() - parse_iso(task["allocated_at"])).total_seconds()
        observe(packer_id, max(waited, 0.0))
    return view
