"""The products the floor scans: packing's copy of the merchants' SKUs, fed by sku_registered.

A unit is recognised by the barcode printed on it (EAN-13 or Code 128, as the merchant
registered it) or by its SKU code; the SKU's size and weight let the pack station
suggest a box."""

PRODUCT_KEYS = ("name", "barcode", "weight_g", "length_cm", "width_cm", "height_cm")


def remember_sku(repo, event):
    """sku_registered: keep the SKU once (a redelivery changes nothing)."""
    doc = {k: event[k] for k in PRODUCT_KEYS if k in event}
    repo.add_product(
        dict(doc, _id=f"{event['merchant_id']}:{event['sku']}", merchant_id=event["merchant_id"])
        | {"sku": event["sku"]}
    )


def identify(repo, merchant_id, code):
    """The merchant's SKU a scanned `code` names (barcode first, then SKU code), or None."""
    code = code.strip()
    return repo.product_by_barcode(merchant_id, code) or repo.get_product(merchant_id, code)
