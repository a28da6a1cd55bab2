"""The floor model and the pick routes, on small layouts whose walks are counted by hand."""

import pytest

from packing.domain import pick_walk
from packing.walk import (
    DEFAULT_LAYOUT,
    Layout,
    bin_position,
    distance,
    nearest_neighbour,
    position,
    route,
    s_shape,
    tour_length,
    walking_distance_m,
    zone_rank,
)

# three aisles 4 m apart, 10 m long; the pack station 2 m in front of the first aisle
SMALL = Layout(aisle_spacing_m=4.0, aisle_length_m=10.0, depot_x_m=0.0, depot_y_m=-2.0)


def test_a_bins_position_comes_from_its_code():
    # aisle 3 of zone A; rack 05 is the third pair from the front, on the left; bin 02
    assert bin_position("A-03-05-4-02") == {
        "aisle": 3,
        "side": "left",
        "x_m": 6.0,  # (3 - 1) aisles x 3 m
        "y_m": 5.75,  # 1 m of cross-aisle + 2 racks x 2 m + 1.5 bins x 0.5 m
    }
    # rack 06 faces rack 05 across the aisle: the same spot, the other side
    assert bin_position("A-03-06-1-02") == dict(bin_position("A-03-05-4-02"), side="right")
    # the level is the shelf's height: no walking
    assert bin_position("A-03-05-1-02")["y_m"] == bin_position("A-03-05-4-02")["y_m"]


def test_zones_stand_side_by_side():
    assert [zone_rank(z) for z in ("A", "B", "Z", "AA")] == [0, 1, 25, 26]
    assert bin_position("B-01-01-1-01")["aisle"] == 21  # after zone A's 20 aisles
    assert bin_position("B-01-01-1-01")["x_m"] == 60.0
    narrow = Layout(aisles_per_zone=5, aisle_spacing_m=2.5)
    assert bin_position("B-02-01-1-01", narrow)["x_m"] == 15.0  # aisle 7


def test_a_code_out_of_format_has_no_position():
    assert bin_position("QUARANTINE") is None
    assert position("X", None, None) is None


def test_coordinates_ops_set_win_over_the_code():
    assert position("A-01-01-1-01", 42.0, 7.5) == (42.0, 7.5)
    assert position("A-01-01-1-01", None, None) == (0.0, 1.25)


def test_walking_between_aisles_goes_round_the_nearer_cross_aisle():
    assert distance((0, 3), (0, 8), back_y=10) == 5  # up the same aisle
    assert distance((0, 2), (4, 3), back_y=10) == 9  # front: 2 + 4 + 3
    assert distance((0, 8), (4, 9), back_y=10) == 7  # back: 2 + 4 + 1
    assert distance((0, -2), (0, 3), back_y=10) == 5  # from the pack station into aisle 1
    assert distance((0, -2), (4, -1), back_y=10) == 5  # open floor in front of the aisles
    assert distance((4, -1), (4, -1), back_y=10) == 0


def test_the_s_shape_walks_the_aisles_one_up_one_down():
    points = [(8.0, 2.0), (0.0, 8.0), (0.0, 3.0), (8.0, 9.0)]
    order = s_shape(points, SMALL)
    # aisle 1 up (3 then 8), aisle 3 down (9 then 2)
    assert order == [2, 1, 3, 0]
    # 2 + 3 to (0,3); 5 to (0,8); back cross-aisle 2 + 8 + 1 to (8,9); 7 down to (8,2);
    # 2 + 8 + 2 to the pack station
    assert tour_length(points, order, SMALL) == 5 + 5 + 11 + 7 + 12


def test_nearest_neighbour_takes_the_nearest_stop_each_time():
    points = [(8.0, 2.0), (0.0, 8.0), (0.0, 3.0), (4.0, 1.0)]
    order = nearest_neighbour(points, SMALL)
    # from the pack station (0,3) at 5; from there (0,8) at 5 before (4,1) at 3 + 4 + 1;
    # from (0,8) (4,1) at 8 + 4 + 1 = 13 before (8,2) at 18; then (8,2) at 1 + 4 + 2;
    # home 2 + 8 + 2
    assert order == [2, 1, 3, 0]
    assert tour_length(points, order, SMALL) == 5 + 5 + 13 + 7 + 12


def test_shortest_keeps_the_better_of_the_two_routes_and_2opt_improves_it():
    # the back of the outer aisles, the front of the middle one: the S-shape sweeps
    # left to right (or right to left) and crosses the floor twice; nearest neighbour
    # takes the middle aisle first and crosses once by the back
    points = [(0.0, 9.0), (4.0, 1.0), (8.0, 9.0)]
    assert tour_length(points, s_shape(points, SMALL), SMALL) == 11 + 14 + 14 + 19
    assert nearest_neighbour(points, SMALL) == [1, 0, 2]
    assert tour_length(points, [1, 0, 2], SMALL) == 7 + 14 + 10 + 19
    assert route(points, SMALL, name="shortest") == [1, 0, 2]
    # 2-opt walks the stretch (0,9), (8,9) backwards: out to the right, home from the left
    assert route(points, SMALL) == [1, 2, 0]
    assert tour_length(points, [1, 2, 0], SMALL) == 7 + 14 + 10 + 11
    # both ends of aisle 1 and the front of aisle 2: nearest neighbour leaves aisle 1
    # half done and comes back; the S-shape finishes it first
    points = [(0.0, 1.0), (0.0, 9.0), (4.0, 1.0)]
    assert tour_length(points, nearest_neighbour(points, SMALL), SMALL) == 3 + 6 + 14 + 11
    assert tour_length(points, s_shape(points, SMALL), SMALL) == 3 + 8 + 14 + 7
    assert route(points, SMALL, name="shortest") == s_shape(points, SMALL)
    assert route(points, SMALL, name="nearest_neighbour") == nearest_neighbour(points, SMALL)


def test_a_layout_reads_its_config_and_refuses_an_unknown_route():
    layout = Layout.from_config({"WALK_DEPOT_X_M": "12.5", "WALK_AISLES_PER_ZONE": 8})
    assert (layout.depot, layout.aisles_per_zone) == ((12.5, -3.0), 8)
    assert Layout.from_config({}) == DEFAULT_LAYOUT
    with pytest.raises(ValueError):
        Layout.from_config({"WALK_ROUTE": "zigzag"})


def line(code, sku, sequence, **extra):
    return dict({"sku": sku, "qty": 1, "bin": code, "pick_sequence": sequence}, **extra)


def test_the_pick_walk_follows_the_route_not_the_hand_set_sequence():
    tasks = [
        # hand-set sequences that would send the picker to the far aisle first
        {"_id": "o1", "lines": [line("A-03-01-1-01", "FAR", 1), line("A-01-01-1-01", "NEAR", 2)]},
        {"_id": "o2", "lines": [line("A-02-01-1-01", "MID", 3)]},
    ]
    walk = pick_walk(tasks, SMALL)
    assert [s["sku"] for s in walk] == ["NEAR", "MID", "FAR"]
    assert [(s["x_m"], s["y_m"]) for s in walk] == [(0.0, 1.25), (4.0, 1.25), (8.0, 1.25)]
    # in and along the front: 2 + 1.25, 2.5 + 4, 2.5 + 4, and home 1.25 + 8 + 2
    assert walking_distance_m(walk, SMALL) == 3.25 + 6.5 + 6.5 + 11.25 == 27.5


def test_a_bin_ops_placed_is_walked_where_they_put_it():
    tasks = [
        {
            "_id": "o1",
            "lines": [
                line("A-01-01-1-01", "NEAR", 1, x_m=8.0, y_m=1.25),  # moved to aisle 3
                line("A-02-01-1-01", "MID", 2),
            ],
        }
    ]
    walk = pick_walk(tasks, SMALL)
    assert [s["sku"] for s in walk] == ["MID", "NEAR"]
    assert walk[1]["x_m"] == 8.0


def test_stops_at_one_spot_follow_the_pick_sequence_and_unplaced_ones_come_last():
    tasks = [
        {
            "_id": "o1",
            "lines": [
                line("OLD-BIN", "UNPLACED", 0),
                line("A-01-01-2-01", "UPPER", 5),
                line("A-01-01-1-01", "LOWER", 4),
            ],
        }
    ]
    walk = pick_walk(tasks, SMALL)
    assert [s["sku"] for s in walk] == ["LOWER", "UPPER", "UNPLACED"]
    assert walk[2]["x_m"] is None
    assert walking_distance_m(walk, SMALL) == 2 * 3.25  # the unplaced stop is not counted


def test_an_empty_walk_is_no_metres():
    assert walking_distance_m([], SMALL) == 0


def test_a_bad_floor_plan_setting_stops_the_service_at_start():
    from types import SimpleNamespace

    import pytest

    from packing.walk import FloorPlan

    good = FloorPlan()
    good.container = SimpleNamespace(config={"WALK_AISLE_SPACING_M": "2.5", "WALK_ROUTE": ""})
    good.setup()
    assert good.get_dependency(None).aisle_spacing_m == 2.5
    for bad in ({"WALK_AISLE_SPACING_M": "three"}, {"WALK_ROUTE": "zigzag"}):
        plan = FloorPlan()
        plan.container = SimpleNamespace(config=bad)
        with pytest.raises(ValueError, match="WALK_"):
            plan.setup()
