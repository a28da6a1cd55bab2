"""Events as the services publish them, for unit tests: each builder takes the fields a
test cares about and fills in the rest with one parcel of KAOS-M shipped by JNE."""

from gudang_common.events import new_event

AWB = "JN000000000001"


def stock_received(merchant_id="mer_1", units=10, receipt_id="rcp_1", damaged=1):
    return new_event(
        "stock_received",
        merchant_id=merchant_id,
        inbound_id="inb_1",
        receipt_id=receipt_id,
        lines=[{"sku": "KAOS-M", "qty_good": units, "qty_damaged": damaged, "bin": "A-01-01-1-01"}],
        units_good=units,
    )


def order_packed(merchant_id="mer_1", order_id="ord_1", qty=3):
    return new_event(
        "order_packed",
        merchant_id=merchant_id,
        order_id=order_id,
        packer_id="stf_1",
        package={"weight_g": 900, "length_cm": 20, "width_cm": 15, "height_cm": 10},
        lines=[{"sku": "KAOS-M", "qty": qty, "bin": "A-01-01-1-01", "pick_sequence": 1}],
    )


def parcel_event(event_type, merchant_id="mer_1", order_id="ord_1", **fields):
    """An event about the parcel: it names the order, the AWB and the courier."""
    parcel = {"merchant_id": merchant_id, "order_id": order_id, "awb": AWB, "courier": "jne"}
    return new_event(event_type, **(parcel | fields))


def parcel_booked(merchant_id="mer_1", order_id="ord_1", cost=33000, cod=0, weight_g=3000):
    booked = {"chargeable_weight_g": weight_g, "shipping_cost": cost, "cod_amount": cod}
    return parcel_event("parcel_booked", merchant_id, order_id, **booked)


def parcel_delivered(merchant_id="mer_1", order_id="ord_1", cod=123450):
    return parcel_event(
        "parcel_delivered", merchant_id, order_id, courier_status="delivered", cod_amount=cod
    )


def outcome_corrected(correction, outcome, cod=123000, merchant_id="mer_1", **parcel):
    """The courier's reports decided `outcome` ("delivered" or "returned") after all;
    `parcel` overrides order_id, awb, decided_at."""
    return parcel_event(
        "parcel_outcome_corrected",
        merchant_id,
        **({"decided_at": "2025-01-03T08:00:00.000Z"} | parcel),
        correction=correction,
        previous_outcome="returned" if outcome == "delivered" else "delivered",
        outcome=outcome,
        courier_status=outcome,
        cod_amount=cod,
    )
