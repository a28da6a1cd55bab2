"""A floor refusal crosses an RPC as itself: its reason code and HTTP status survive."""

from nameko.exceptions import deserialize, serialize

from gudang_common.errors import FloorRefusal


def test_a_floor_refusal_keeps_its_code_status_and_field_across_rpc():
    sent = FloorRefusal("ord_1 holds 2 of KAOS-02", {"code": ["Only 2."]}, "EXTRA_UNIT", 409)
    got = deserialize(serialize(sent))
    assert isinstance(got, FloorRefusal)
    assert (got.code, got.status, got.fields) == ("EXTRA_UNIT", 409, {"code": ["Only 2."]})
    assert got.to_json() == {
        "error": {
            "code": "EXTRA_UNIT",
            "message": "ord_1 holds 2 of KAOS-02",
            "fields": {"code": ["Only 2."]},
        }
    }
