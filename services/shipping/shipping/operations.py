"""Shipping use cases: book a packed order, record a courier's tracking report, pickup manifests,
and their printed documents."""

import base64
import logging
import uuid

from gudang_common.clock import iso, parse_iso, utcnow
from gudang_common.couriers import COURIERS
from gudang_common.errors import Conflict, FloorRefusal, NotFound, Unprocessable
from gudang_common.events import new_event

from . import documents, domain
from .store import AwbTaken

log = logging.getLogger(__name__)

TRACKING_ATTEMPTS = 5
AWB_ATTEMPTS = 5


def _quote(courier, package, postal_code, origin, cod_amount=0):
    try:
        return domain.quote(courier, package, postal_code, origin, cod_amount)
    except domain.BookingRefused as refused:
        raise Unprocessable(refused.message, {refused.field: [refused.message]}) from None


class OrderNotReceivedYet(LookupError):
    """order_packed overtook order_received; raising makes the broker retry it."""


def accept_order(repo, event):
    """order_received: keep what booking and the label need (courier, recipient, COD, the
    merchant's own order number), once per order."""
    repo.insert_once(
        "orders",
        {
            "_id": event["order_id"],
            "merchant_id": event["merchant_id"],
            "external_id": event["external_id"],
            "courier": event["courier"],
            "recipient": event["recipient"],
            "cod_amount": event["cod_amount"],
        },
    )


def book_parcel(repo, packed, origin):
    """order_packed: price and book the parcel with an AWB, once per order."""
    order_id = packed["order_id"]
    if repo.get_parcel(order_id) is not None:
        return "duplicate"
    order = repo.get_order(order_id)
    if order is None:
        raise OrderNotReceivedYet(f"order {order_id} packed before shipping saw it received")
    courier, cod_amount = order["courier"], order["cod_amount"]
    # an impossible booking raises: retries, then the dead-letter queue where ops see it
    priced = _quote(
        courier, packed["package"], order["recipient"]["postal_code"], origin, cod_amount
    )
    awb = _book_under_free_awb(repo, packed, order, priced)
    if awb is None:
        return "duplicate"
    log.info("booked %s with %s as %s", order_id, courier, awb)
    return "booked"


def _book_under_free_awb(repo, packed, order, priced):
    """Store the parcel under a freshly drawn AWB, drawing again while another parcel has it.

    Returns the AWB, or None when the order was booked meanwhile."""
    for _ in range(AWB_ATTEMPTS):
        awb = repo.new_awb(order["courier"])
        doc, event = _booked_parcel(packed, order, priced, awb)
        try:
            return awb if repo.add_parcel(doc, event) else None
        except AwbTaken:
            log.warning("AWB %s already taken; drawing another for %s", awb, packed["order_id"])
    # a clash in a trillion, AWB_ATTEMPTS times running: the store is wrong, not luck
    raise RuntimeError(f"no free AWB for {packed['order_id']} after {AWB_ATTEMPTS} draws")


def _slip_lines(packed):
    """What the packing slip lists: the units packed, with their lots."""
    return [
        {"sku": line["sku"], "qty": line["qty"], "lot": line.get("lot")}
        for line in packed.get("lines", [])
    ]


def _booked_parcel(packed, order, priced, awb):
    """The parcel as booked under `awb`, and the parcel_booked event stored with it."""
    order_id, merchant_id = packed["order_id"], packed["merchant_id"]
    courier, cod_amount = order["courier"], order["cod_amount"]
    event = new_event(
        "parcel_booked",
        merchant_id=merchant_id,
        order_id=order_id,
        awb=awb,
        courier=courier,
        chargeable_weight_g=priced["chargeable_weight_g"],
        shipping_cost=priced["shipping_cost"],
        cod_amount=cod_amount,
    )
    doc = {
        "_id": order_id,
        "order_id": order_id,
        "merchant_id": merchant_id,
        "awb": awb,
        "courier": courier,
        "status": "booked",
        "status_at": event["occurred_at"],
        "zone": priced["zone"],
        "chargeable_weight_g": priced["chargeable_weight_g"],
        "shipping_cost": priced["shipping_cost"],
        "cod_amount": cod_amount,
        "recipient": order["recipient"],
        "external_id": order.get("external_id"),
        "package": packed["package"],
        "lines": _slip_lines(packed),
        "tracking": [],
        "version": 0,
        "booked_at": event["occurred_at"],
        "updated_at": event["occurred_at"],
    }
    return doc, event


def parcel_view(doc):
    return {
        "order_id": doc["order_id"],
        "merchant_id": doc["merchant_id"],
        "awb": doc["awb"],
        "courier": doc["courier"],
        "courier_name": COURIERS.get(doc["courier"], {}).get("name", doc["courier"]),
        "status": doc["status"],
        # delivered or returned once decided; `corrections` > 0 is an exception for ops
        "outcome": doc.get("outcome", domain.OUTCOME_OF.get(doc["status"])),
        "corrections": doc.get("corrections", 0),
        "zone": doc["zone"],
        "chargeable_weight_g": doc["chargeable_weight_g"],
        "shipping_cost": doc["shipping_cost"],
        "cod_amount": doc["cod_amount"],
        "package": doc["package"],
        "booked_at": doc["booked_at"],
        "updated_at": doc["updated_at"],
        "tracking": [
            {k: entry[k] for k in ("status", "occurred_at", "reason", "recorded_at") if k in entry}
            # a report that was late, stale or contradicting when it came is only history
            | {"announced": entry.get("announced", True)}
            for entry in sorted(doc["tracking"], key=lambda e: (e["occurred_at"], e["recorded_at"]))
        ],
    }


def _not_found_awb(awb):
    return NotFound(f"parcel {awb} not found", {"awb": ["Unknown AWB."]})


def announcement_event(parcel, announcement):
    """The event payload of one of the state machine's announcements."""
    report = announcement.report
    payload = {
        "order_id": parcel["order_id"],
        "awb": parcel["awb"],
        "courier": parcel["courier"],
        "courier_status": report["status"],
    }
    event_type = announcement.event_type
    if event_type == "parcel_outcome_corrected":
        # the correction is news now; the report deciding it is stamped `decided_at`
        payload.update(announcement.detail, decided_at=report["occurred_at"])
        payload["cod_amount"] = parcel["cod_amount"]
        return new_event(event_type, merchant_id=parcel["merchant_id"], **payload)
    # the fact happened when the courier says, not when the webhook reached us
    payload["occurred_at"] = report["occurred_at"]
    if event_type == "parcel_delivered":
        payload["cod_amount"] = parcel["cod_amount"]
    if event_type == "parcel_delivery_failed":
        payload["reason"] = report.get("reason")
    return new_event(event_type, merchant_id=parcel["merchant_id"], **payload)


def _tracking_entry(data, key, occurred_at, recorded_at):
    """A courier's report as the parcel's history keeps it."""
    entry = {
        "key": key,
        "status": data["status"],
        "parcel_status": domain.COURIER_STATUSES[data["status"]],
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
    }
    if data.get("reason"):
        entry["reason"] = data["reason"]
    return entry


def _record_report(repo, parcel, entry, now):
    """Record a new report with what the state machine decides it changes and publishes.

    Returns the updated parcel, or None when the parcel changed since it was read."""
    decision = domain.decide(parcel, entry)
    entry["announced"] = any(a.report["key"] == entry["key"] for a in decision.announcements)
    events = [(a.event_type, announcement_event(parcel, a)) for a in decision.announcements]
    fields = {
        "status": decision.status,
        "status_at": decision.status_at,
        "outcome": decision.outcome,
        "corrections": decision.corrections,
        "told": list(decision.told),
        "updated_at": now,
    }
    done = repo.add_tracking(parcel, entry, fields, events)
    if done is not None and decision.late:
        key, occurred_at = entry["key"], entry["occurred_at"]
        log.info("%s: %s at %s kept, announces nothing", parcel["awb"], key, occurred_at)
    return done


def record_tracking(repo, courier, data):
    """A courier reports a parcel's progress; a repeated report changes nothing.

    Every report is kept in the parcel's history; the state machine (domain.decide)
    says what it changes and what, if anything, is published.
    """
    if courier not in COURIERS:
        raise NotFound(f"unknown courier {courier}", {"courier": ["Unknown courier."]})
    occurred_at = iso(parse_iso(data["occurred_at"]))
    key = f"{data['status']}|{occurred_at}"
    for _ in range(TRACKING_ATTEMPTS):
        parcel = repo.find_by_awb(data["awb"])
        if parcel is None or parcel["courier"] != courier:
            raise _not_found_awb(data["awb"])
        if any(entry["key"] == key for entry in parcel["tracking"]):
            return parcel_view(parcel)
        now = iso(utcnow())
        entry = _tracking_entry(data, key, occurred_at, now)
        done = _record_report(repo, parcel, entry, now)
        if done is not None:
            return parcel_view(done)
    raise Conflict(
        f"parcel {data['awb']} keeps changing; send the report again", {"awb": ["Retry."]}
    )


# --- pickup manifests --------------------------------------------------------------


def manifest_view(doc, parcels):
    rows = sorted(parcels, key=lambda p: p["awb"])
    return {
        "manifest_id": doc["_id"],
        "courier": doc["courier"],
        "courier_name": COURIERS[doc["courier"]]["name"],
        "status": doc["status"],
        "created_at": doc["created_at"],
        "created_by": doc["created_by"],
        "closed_at": doc.get("closed_at"),
        "parcel_count": len(rows),
        "cod_total": sum(p["cod_amount"] for p in rows),
        "scanned_count": sum(1 for p in rows if p.get("handover_scanned_at")),
        "not_scanned": [p["awb"] for p in rows if not p.get("handover_scanned_at")],
        "parcels": [
            {
                "awb": p["awb"],
                "order_id": p["_id"],
                "external_id": p.get("external_id"),
                "merchant_id": p["merchant_id"],
                "chargeable_weight_g": p["chargeable_weight_g"],
                "cod_amount": p["cod_amount"],
                "scanned": bool(p.get("handover_scanned_at")),
            }
            for p in rows
        ],
    }


def create_manifest(repo, courier, staff_id):
    """Hand-over list for a courier's pickup: every booked parcel on no manifest yet. While
    the courier's pickup is open (not closed), creating one answers that manifest."""
    if courier not in COURIERS:
        raise NotFound(f"unknown courier {courier}", {"courier": ["Unknown courier."]})
    waiting = repo.parcels_awaiting_pickup(courier)
    current = repo.open_manifest_of(courier)
    if current is not None:  # the pickup under way takes the parcels booked since it opened
        for parcel in waiting:
            repo.claim_for_manifest(parcel["_id"], current["_id"])
        return get_manifest(repo, current["_id"])
    if not waiting:
        raise Unprocessable(
            f"no {courier} parcels are waiting for pickup", {"courier": ["Nothing to hand over."]}
        )
    manifest_id = f"mf_{uuid.uuid4().hex[:20]}"
    # the manifest exists before a parcel points to it, so a crash leaves nothing orphaned
    repo.add_manifest(
        {
            "_id": manifest_id,
            "courier": courier,
            "status": "building",
            "created_at": iso(utcnow()),
            "created_by": staff_id,
        }
    )
    for parcel in waiting:
        repo.claim_for_manifest(parcel["_id"], manifest_id)
    parcels = repo.parcels_on_manifest(manifest_id)
    doc = repo.set_manifest(manifest_id, {"status": "open", "parcel_count": len(parcels)})
    return manifest_view(doc, parcels)


def _manifest(repo, manifest_id):
    doc = repo.get_manifest(manifest_id)
    if doc is None:
        raise NotFound(f"manifest {manifest_id} not found", {"manifest_id": ["Unknown manifest."]})
    return doc


def get_manifest(repo, manifest_id):
    return manifest_view(_manifest(repo, manifest_id), repo.parcels_on_manifest(manifest_id))


def _refused(code, status, message, text):
    return FloorRefusal(message, {"awb": [text]}, code, status)


def _parcel_to_hand_over(repo, manifest, awb):
    """The parcel an AWB names, if it may go with this pickup; refused with the reason."""
    parcel = repo.find_by_awb(awb)
    if parcel is None:
        raise _refused("UNKNOWN_AWB", 404, f"parcel {awb} not found", "Unknown AWB.")
    if parcel["courier"] != manifest["courier"]:
        courier = COURIERS[parcel["courier"]]["name"]
        raise _refused("WRONG_COURIER", 409, f"{awb} goes with {courier}", f"For {courier}.")
    if parcel["status"] != "booked":
        raise _refused("HANDED_OVER", 409, f"{awb} is {parcel['status']}", "Already handed over.")
    if parcel.get("manifest_id") not in (None, manifest["_id"]):
        raise _refused(
            "ON_OTHER_MANIFEST", 409, f"{awb} is on {parcel['manifest_id']}", "On another pickup."
        )
    return parcel


def scan_parcel(repo, manifest_id, awb):
    """The courier takes this parcel: its AWB label scanned at hand-over (a second scan of
    the same label changes nothing)."""
    manifest = _manifest(repo, manifest_id)
    if manifest["status"] not in ("open", "building"):
        raise _refused("MANIFEST_CLOSED", 409, f"manifest {manifest_id} is closed", "Closed.")
    awb = awb.strip().upper()
    parcel = _parcel_to_hand_over(repo, manifest, awb)
    if parcel.get("handover_scanned_at") is None:
        if repo.scan_for_manifest(parcel["_id"], manifest_id, iso(utcnow())) is None:
            parcel = _parcel_to_hand_over(repo, manifest, awb)  # changed meanwhile: say why
    return dict(get_manifest(repo, manifest_id), scanned=awb)


def close_manifest(repo, manifest_id, staff_id):
    """The courier leaves: the scanned parcels are handed over (parcel_dispatched, at the
    closing time), the others wait for the next pickup. Closing again answers the same."""
    manifest = _manifest(repo, manifest_id)
    if manifest["status"] == "closed":
        return get_manifest(repo, manifest_id)
    parcels = repo.parcels_on_manifest(manifest_id)
    scanned = [p for p in parcels if p.get("handover_scanned_at")]
    if not scanned:
        raise _refused("NOTHING_SCANNED", 422, "no parcel was scanned", "Scan the parcels first.")
    if manifest["status"] != "closing":  # a crash mid-close resumes with the same time
        fields = {"status": "closing", "closed_at": iso(utcnow()), "closed_by": staff_id}
        manifest = repo.set_manifest(manifest_id, fields)
    for parcel in parcels:
        if parcel.get("handover_scanned_at"):
            report = {"awb": parcel["awb"], "status": "picked_up"}
            record_tracking(
                repo, manifest["courier"], report | {"occurred_at": manifest["closed_at"]}
            )
        else:
            repo.release_from_manifest(parcel["_id"], manifest_id)
    repo.set_manifest(manifest_id, {"status": "closed", "parcel_count": len(scanned)})
    return get_manifest(repo, manifest_id)


# --- printed documents -------------------------------------------------------------
# PDF bytes cannot cross a JSON RPC: they travel base64-encoded, and each is small (a label
# is a few kilobytes, a manifest about a kilobyte per 20 parcels), so one reply carries it.


def _document(filename, pdf):
    return {
        "filename": filename,
        "content_type": "application/pdf",
        "content_base64": base64.b64encode(pdf).decode("ascii"),
    }


def label_document(repo, order_id, sender):
    """The parcel's label and packing slip; NotFound until the parcel has its AWB.

    `sender` (the merchant's name and phone) comes from the gateway, which owns accounts."""
    doc = repo.get_parcel(order_id)
    if doc is None:
        raise NotFound(
            f"order {order_id} has no AWB yet", {"order_id": ["No label: not booked yet."]}
        )
    parcel = parcel_view(doc) | {
        "recipient": doc["recipient"],
        "external_id": doc.get("external_id"),
        "lines": doc.get("lines", []),
    }
    return _document(f"resi-{doc['awb']}.pdf", documents.label_pdf(parcel, sender))


def manifest_document(repo, manifest_id):
    manifest = get_manifest(repo, manifest_id)
    return _document(f"manifest-{manifest_id}.pdf", documents.manifest_pdf(manifest))
