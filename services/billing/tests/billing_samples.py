"""An in-memory billing repository and the promoter and merchants billing's tests start from."""

from billing import operations
from billing.store import BillingRepository
from gudang_common.events import new_event
from tests import repositories

LONG_AGO = "2026-01-01T00:00:00.000Z"


def memory_repository():
    return repositories.memory_repository(BillingRepository)


def register_promoter(repo, promoter_id="pro_1"):
    event = new_event(
        "promoter_registered", promoter_id=promoter_id, name="Budi", referral_code="BUDI10"
    )
    operations.register_promoter(repo, event)


def register_merchant(repo, merchant_id="mer_1", promoter_id=None, at=LONG_AGO, **extra):
    """`at` the sign-up (None: now); `extra` name, and commission months as `months`."""
    name = extra.get("name", "Toko Siti")
    event = new_event(
        "merchant_registered", merchant_id=merchant_id, name=name, promoter_id=promoter_id
    )
    months = (extra["months"],) if "months" in extra else ()
    operations.register_merchant(repo, dict(event, occurred_at=at or event["occurred_at"]), *months)
