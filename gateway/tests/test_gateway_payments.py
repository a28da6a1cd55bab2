"""Virtual accounts: one number per merchant, a clash drawn again, the callback token."""

import mongomock
import pytest

from gateway import payments
from gateway.store import GatewayRepository
from gudang_common.errors import Unauthorized


@pytest.fixture
def store():
    db = mongomock.MongoClient()["t"]
    GatewayRepository.ensure_indexes(db)
    repo = GatewayRepository(db, lambda: None)
    for merchant_id in ("mer_1", "mer_2"):
        repo.add_account("merchants", {"_id": merchant_id, "name": "Toko"})
    return repo


def test_a_merchant_keeps_one_number(store):
    number = store.virtual_account_of("mer_1", "8808")
    assert number == payments.va_number("8808", "mer_1") and len(number) == 14
    assert store.virtual_account_of("mer_1", "8808") == number
    assert store.merchant_of_virtual_account(number) == "mer_1"
    assert store.merchant_of_virtual_account("88080000000000") is None


def test_a_number_another_merchant_holds_is_drawn_again(store):
    taken = payments.va_number("8808", "mer_2")
    store.db.virtual_accounts.insert_one({"_id": taken, "merchant_id": "mer_1"})
    number = store.virtual_account_of("mer_2", "8808")
    assert number == payments.va_number("8808", "mer_2", 1) != taken
    assert store.merchant_of_virtual_account(number) == "mer_2"


@pytest.mark.parametrize("expected, sent", [("tok", None), ("tok", "tik"), ("", "")])
def test_the_callback_token_must_match(expected, sent):
    with pytest.raises(Unauthorized):
        payments.check_callback_token(expected, sent)
    payments.check_callback_token("tok", "tok")
