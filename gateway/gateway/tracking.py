"""The order's tracking read model and the buyer's public view of a parcel, pure (no I/O)."""

import re
from datetime import UTC, timedelta

from gudang_common.clock import WIB, wib_text
from gudang_common.couriers import COURIERS

from . import i18n

# event -> (status it moves the order to, rank); an older event never moves status back
STATUS_OF = {
    "order_received": ("received", 0),
    # waits for the merchant's release; moves on to backordered or allocated afterwards
    "order_held": ("on_hold", 5),
    "order_backordered": ("backordered", 10),
    "order_allocated": ("allocated", 20),
    "order_picked": ("picked", 30),
    # on the timeline only: the order is backordered or allocated again by inventory's events
    "order_short_picked": (None, 25),
    "order_packed": ("packed", 40),
    "parcel_booked": ("booked", 50),
    "parcel_dispatched": ("dispatched", 60),
    "parcel_in_transit": ("in_transit", 70),
    "parcel_delivery_failed": ("delivery_failed", 80),
    "parcel_delivered": ("delivered", 90),
    "parcel_returned": ("returned", 95),
    "parcel_returned_by_buyer": ("returned_by_buyer", 97),
    # an exception: sets the status to the corrected outcome (see order_move), however ranked
    "parcel_outcome_corrected": (None, 99),
    "order_rejected": ("rejected", 100),
    "order_cancelled": ("cancelled", 100),
}

# a status's place in the order's life, derived from the table above
RANK = {status: rank for status, rank in STATUS_OF.values() if status}
OUTCOME_EVENTS = ("parcel_delivered", "parcel_returned")
EVENT_OF_STATUS = {status: event for event, (status, _) in STATUS_OF.items() if status}

IN_FLIGHT = ("received", "on_hold", "backordered", "allocated", "picked", "packed", "booked")
# the courier cut-off alerts count these; a held order waits for its merchant, not the floor
NOT_PACKED = ("received", "backordered", "allocated", "picked")

_DETAIL_FIELDS = {
    "order_held": ("reason",),
    "order_backordered": ("short",),
    "order_allocated": (),
    "order_picked": ("pick_list_id",),
    "order_short_picked": ("bin", "sku", "lot", "qty_missing", "reason"),
    "order_packed": ("package",),
    "parcel_booked": ("awb", "courier", "chargeable_weight_g", "shipping_cost"),
    "parcel_dispatched": ("awb",),
    "parcel_in_transit": ("awb",),
    "parcel_delivery_failed": ("awb", "reason"),
    "parcel_delivered": ("awb", "cod_amount"),
    "parcel_returned": ("awb",),
    "parcel_returned_by_buyer": ("awb",),
    "parcel_outcome_corrected": (
        "awb",
        "previous_outcome",
        "outcome",
        "courier_status",
        "decided_at",
        "correction",
    ),
    "order_rejected": ("reason", "skus"),
    "order_cancelled": ("reason",),
}


def timeline_entry(event_type, event):
    return {
        "event": event_type,
        "event_id": event["event_id"],
        "at": event["occurred_at"],
        "detail": {k: event[k] for k in _DETAIL_FIELDS.get(event_type, ()) if k in event},
    }


def next_status(current_rank, event_type):
    """(status, rank) after the event, or None if the order is already further along."""
    status, rank = STATUS_OF[event_type]
    if status is None or rank <= current_rank:
        return None
    return status, rank


def order_move(order, event_type, event):
    """The fields an event sets on an order (`status`, and for a correction the exception).

    Forward only, except a parcel's outcome: shipping's corrections are numbered, the
    newest one sets the status whatever its rank, and once one has, the outcome events
    (which may reach us after it, from their own queues) no longer move it.
    """
    corrected = order.get("outcome_correction", 0)
    if event_type == "parcel_outcome_corrected":
        if event["correction"] <= corrected:
            return {}
        fields = {
            "outcome_correction": event["correction"],
            "exception": {
                "kind": event_type,
                "at": event["occurred_at"],
                **timeline_entry(event_type, event)["detail"],
            },
        }
        # a buyer's return (which may have reached us first) follows the delivery brought back
        if event["outcome"] == "delivered" and order.get("buyer_returned"):
            fields["status"] = "returned_by_buyer"
        else:
            fields["status"] = event["outcome"]
        return fields
    if event_type in OUTCOME_EVENTS and corrected:
        return {}
    if event_type == "parcel_returned_by_buyer":
        # remembered even while a return to sender shows: a correction may bring the delivery back
        fields = {"buyer_returned": True}
        if order["status"] != "returned" and RANK[order["status"]] < RANK["returned_by_buyer"]:
            fields["status"] = "returned_by_buyer"
        return fields
    moved = next_status(RANK[order["status"]], event_type)
    return {"status": moved[0]} if moved else {}


def timeline_view(entries, lang="id"):
    out = []
    for entry in sorted(entries, key=lambda e: (e["at"], STATUS_OF[e["event"]][1])):
        item = dict(entry, at_wib=wib_text(entry["at"]))
        item["label"] = i18n.event_label(entry["event"], lang)
        out.append(item)
    return out


# what a buyer may see of a step: no event ids, no details (cost, COD, package, pick list)
PUBLIC_STEP_FIELDS = ("event", "label", "at", "at_wib")

# an AWB as people type it: letters and digits; anything else is no parcel of ours
_AWB = re.compile(r"[A-Z0-9]{4,32}")


def normalise_awb(text):
    """The AWB a buyer meant (`jn 5839-2017-4460` -> `JN583920174460`), or None if malformed."""
    awb = re.sub(r"[\s-]", "", str(text or "")).upper()
    return awb if _AWB.fullmatch(awb) else None


def public_view(doc, lang="id"):
    """A parcel as anyone holding its AWB sees it: the steps with their times, the courier
    and the destination city. No name, phone, address, money, package or internal ids."""
    return {
        "awb": doc["awb"],
        "courier": doc["courier"],
        "courier_name": COURIERS.get(doc["courier"], {}).get("name", doc["courier"]),
        "status": doc["status"],
        "status_label": i18n.event_label(EVENT_OF_STATUS[doc["status"]], lang),
        "destination_city": (doc.get("recipient") or {}).get("city"),
        "timeline": [
            {k: step[k] for k in PUBLIC_STEP_FIELDS}
            for step in timeline_view(doc.get("timeline", []), lang)
        ],
    }


def last_cutoff_utc(now_utc, cutoff_hour_wib):
    """The most recent courier cut-off (today's in WIB if passed, else yesterday's), in UTC."""
    local = now_utc.astimezone(WIB)
    cutoff = local.replace(hour=cutoff_hour_wib, minute=0, second=0, microsecond=0)
    if cutoff > local:
        cutoff -= timedelta(days=1)
    return cutoff.astimezone(UTC)


def next_cutoff_utc(now_utc, cutoff_hour_wib):
    return last_cutoff_utc(now_utc, cutoff_hour_wib) + timedelta(days=1)
