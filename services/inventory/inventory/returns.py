"""Returns: a returned parcel waits for inspection; staff inspect every unit good (back to a
bin) or damaged (quarantine); the inspection restocks once."""

from gudang_common.clock import iso, utcnow
from gudang_common.errors import Conflict, NotFound, ValidationFailed
from gudang_common.events import new_event

from .allocation import allocate_backorders
from .domain import check_inspection, line_key, returned_lines
from .low_stock import check_low_stock
from .receiving import land_line


def return_view(doc):
    keys = ("order_id", "merchant_id", "awb", "courier", "status", "lines", "opened_at")
    view = {"return_id": doc["_id"]} | {k: doc.get(k) for k in keys}
    if doc.get("inspection"):
        view["inspection"] = doc["inspection"]
    return view


def open_return(repo, event):
    """parcel_returned: the parcel's units wait for inspection (once per order)."""
    allocation = repo.get_allocation(event["order_id"])
    if allocation is None:
        raise LookupError(f"order {event['order_id']} returned but never allocated here")
    return repo.open_return(
        {
            "_id": f"ret_{event['order_id']}",
            "order_id": event["order_id"],
            "merchant_id": event["merchant_id"],
            "awb": event["awb"],
            "courier": event["courier"],
            "status": "awaiting_inspection",
            "lines": returned_lines(allocation.get("lines", [])),
            "opened_at": event["occurred_at"],
            "event_id": event["event_id"],
        }
    )


def follow_correction(repo, event):
    """parcel_outcome_corrected: the courier's reports, put in time order, changed the
    parcel's outcome. A return still awaiting inspection is withdrawn when the parcel was
    in fact delivered (nothing is coming back), and reopened when a later correction
    says it came back after all; an inspected return stays as inspected (its units were
    seen). The newest correction wins, whatever order they arrive in."""
    return_id = f"ret_{event['order_id']}"
    correction = event["correction"]
    if event["outcome"] == "returned" and repo.get_return(return_id) is None:
        open_return(repo, event)
    to, frm = (
        ("withdrawn", "awaiting_inspection")
        if event["outcome"] == "delivered"
        else ("awaiting_inspection", "withdrawn")
    )
    return repo.follow_correction(return_id, correction, frm, to)


def inspect_return(repo, return_id, data, staff_id):
    """Staff inspect a returned parcel: every unit good (to a bin) or damaged (quarantine)."""
    ret = repo.get_return(return_id)
    if ret is None:
        raise NotFound(f"return {return_id} not found", {"return_id": ["Unknown return."]})
    picked_from = {line_key(line): line["bin"] for line in ret["lines"]}
    named = {line.get("bin") or picked_from.get(line_key(line)) for line in data["lines"]}
    unknown_bins = {code for code in named if code and repo.get_bin(code) is None}
    lines, errors = check_inspection(ret["lines"], data["lines"], unknown_bins)
    if errors:
        raise ValidationFailed("inspection does not match the return", errors)
    if ret["status"] == "inspected":
        if ret["inspection"]["lines"] == lines:
            return return_view(ret)  # the same inspection sent again
        raise Conflict("return already inspected", {"return_id": ["Already inspected."]})
    inspection = {"lines": lines, "staff_id": staff_id, "inspected_at": iso(utcnow())}
    event = new_event(
        "return_inspected",
        merchant_id=ret["merchant_id"],
        return_id=return_id,
        order_id=ret["order_id"],
        units_good=sum(line["qty_good"] for line in lines),
        units_damaged=sum(line["qty_damaged"] for line in lines),
    )
    done = repo.record_inspection(return_id, inspection, event)
    if done is None:  # inspected concurrently: same answer as a resend
        return inspect_return(repo, return_id, data, staff_id)
    return return_view(done)


def restock_return(repo, event):
    """return_inspected: good units back to their bin, damaged to quarantine (once)."""
    ret = repo.get_return(event["return_id"])
    merchant_id = ret["merchant_id"]
    good = set()
    for i, line in enumerate(ret["inspection"]["lines"]):
        keys = (f"{ret['_id']}:{i}:good", f"{ret['_id']}:{i}:damaged")
        if land_line(repo, merchant_id, line, keys, "return", ret["order_id"], "damaged in return"):
            good.add(line["sku"])
    if good:
        allocate_backorders(repo, merchant_id, good)
        check_low_stock(repo, merchant_id, good)
    return good
