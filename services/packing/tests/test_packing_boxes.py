"""The box catalog's fit rule, pure: the smallest box every unit fits in, turned any way."""

from packing import boxes

CATALOG = boxes.default_boxes()


def unit(length, width, height):
    return {"length_cm": length, "width_cm": width, "height_cm": height}


def test_one_small_unit_goes_in_the_smallest_box():
    assert boxes.smallest_fitting(CATALOG, [unit(10, 5, 5)]) == "BOX-S"


def test_a_unit_may_be_turned_to_fit():
    # 30 x 3 x 20 lies flat in a 30 x 25 x 15 box, whatever order its sides were given in
    assert boxes.fits(CATALOG[1], [unit(3, 20, 30)])
    assert not boxes.fits(CATALOG[0], [unit(3, 20, 30)])  # 30 cm is longer than BOX-S
    assert boxes.smallest_fitting(CATALOG, [unit(3, 20, 30)]) == "BOX-M"


def test_many_units_need_the_room_of_their_volumes_together():
    shirts = [unit(30, 20, 3)] * 4  # 7,200 cm3: a BOX-M holds 11,250
    assert boxes.smallest_fitting(CATALOG, shirts) == "BOX-M"
    assert boxes.smallest_fitting(CATALOG, [unit(30, 20, 3)] * 10) == "BOX-L"


def test_nothing_fits_a_unit_longer_than_every_box():
    assert boxes.smallest_fitting(CATALOG, [unit(90, 10, 10)]) is None


def test_retired_boxes_are_not_suggested_and_unknown_sizes_take_no_room():
    retired = [dict(b, active=b["code"] != "BOX-S") for b in CATALOG]
    assert boxes.smallest_fitting(retired, [unit(10, 5, 5)]) == "BOX-M"
    assert boxes.smallest_fitting(CATALOG, [{}, {"length_cm": None}]) == "BOX-S"


def test_of_two_boxes_of_one_volume_the_lighter_wins():
    twins = [
        dict(CATALOG[0], code="HEAVY", weight_g=200),
        dict(CATALOG[0], code="LIGHT", weight_g=50),
    ]
    assert boxes.smallest_fitting(twins, [unit(5, 5, 5)]) == "LIGHT"
