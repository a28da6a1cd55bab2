"""The warehouse floor as a picker walks it: where a bin is, the route through a pick
list's stops from the pack station and back, and how many metres that is. Pure.

The floor is a block of parallel aisles joined by a front and a back cross-aisle. x runs
across the aisles; y runs along them, from the centre line of the front cross-aisle
(y = 0) to that of the back one (y = aisle_length_m, or the farthest bin if one stands
further back). The picker walks the aisles' centre lines and reaches both sides from
there, so a bin's position is the spot in the aisle in front of it, and walking from one
aisle to another goes round by the front or the back cross-aisle, whichever is shorter.

A bin's position comes from its code, zone-aisle-rack-level-bin (e.g. A-01-02-3-04):
- x, the aisle: zones stand side by side in the order of their letters (A, B, ... Z, AA,
  ...), `aisles_per_zone` aisles each, aisle centre lines `aisle_spacing_m` apart.
- y, along the aisle: racks face each other in pairs, odd numbers on the left, even on the
  right (racks 01 and 02 are the first pair from the front, 03 and 04 the next); each rack
  is `rack_width_m` long, starting `cross_aisle_m` / 2 behind the front cross-aisle's centre,
  and its bins are `bin_width_m` wide, numbered from the front.
- the level (shelf height) changes no walking.
Ops set a bin's own coordinates (x_m, y_m, the same axes) where the floor differs; those
win over the code. The pack station (the depot every walk starts and ends at) is a point of
its own, usually in front of the front cross-aisle (a negative y).
"""

from dataclasses import dataclass, fields, replace

from nameko.extensions import DependencyProvider

from gudang_common.bins import BIN_CODE

SAME_AISLE_M = 0.001  # two positions closer than this across the floor share an aisle
ROUTES = ("s_shape", "nearest_neighbour", "shortest", "improved")
IMPROVING_PASSES = 20  # 2-opt settles in a few passes on a pick list; this bounds a bad case


@dataclass(frozen=True)
class Layout:
    """The floor's measures in metres (defaults: a typical shelving warehouse)."""

    aisle_spacing_m: float = 3.0  # centre line to centre line: shelves both sides + walkway
    rack_width_m: float = 2.0
    bin_width_m: float = 0.5
    cross_aisle_m: float = 2.0
    aisle_length_m: float = 20.0  # front cross-aisle centre to back cross-aisle centre
    aisles_per_zone: int = 20
    depot_x_m: float = 0.0  # the pack station: in front of aisle 1 of the first zone
    depot_y_m: float = -3.0
    route: str = "improved"

    @classmethod
    def from_config(cls, config):
        """The layout from WALK_<FIELD> config keys (e.g. WALK_DEPOT_X_M); a key not set
        keeps its default."""
        changes = {}
        for field in fields(cls):
            value = config.get(f"WALK_{field.name.upper()}")
            if value not in (None, ""):
                changes[field.name] = type(field.default)(value)
        layout = replace(cls(), **changes)
        if layout.route not in ROUTES:
            raise ValueError(f"WALK_ROUTE must be one of {', '.join(ROUTES)}")
        return layout

    @property
    def depot(self):
        return (self.depot_x_m, self.depot_y_m)


DEFAULT_LAYOUT = Layout()


def zone_rank(zone):
    """A=0 ... Z=25, AA=26, ...: the zones' order across the floor."""
    rank = 0
    for letter in zone:
        rank = rank * 26 + ord(letter) - ord("A") + 1
    return rank - 1


def bin_position(code, layout=DEFAULT_LAYOUT):
    """Where the picker stands to reach bin `code`: {aisle (1 = the first aisle of the
    first zone), side (left/right), x_m, y_m}; None for a code not in the bin format."""
    match = BIN_CODE.match(code or "")
    if match is None:
        return None
    zone, aisle_no, rack_no, _level, bin_no = match.groups()
    aisle = zone_rank(zone) * layout.aisles_per_zone + int(aisle_no)
    rack = int(rack_no)
    along = (
        layout.cross_aisle_m / 2
        + (max(rack, 1) - 1) // 2 * layout.rack_width_m
        + (max(int(bin_no), 1) - 0.5) * layout.bin_width_m
    )
    return {
        "aisle": aisle,
        "side": "left" if rack % 2 else "right",
        "x_m": round((aisle - 1) * layout.aisle_spacing_m, 3),
        "y_m": round(along, 3),
    }


def position(code, x_m=None, y_m=None, layout=DEFAULT_LAYOUT):
    """(x, y) of a bin: the coordinates ops set, else from its code; None if neither."""
    if x_m is not None and y_m is not None:
        return (float(x_m), float(y_m))
    derived = bin_position(code, layout)
    return None if derived is None else (derived["x_m"], derived["y_m"])


def distance(a, b, back_y):
    """Metres from a to b along the aisles: up or down the same aisle, else round by the
    front cross-aisle or, when both stand in aisles, the back one at `back_y`. In front of
    the aisles (y <= 0) the floor is open."""
    across = abs(a[0] - b[0])
    if a[1] <= 0 and b[1] <= 0:  # both on the open floor in front of the aisles
        return across + abs(a[1] - b[1])
    in_aisles = a[1] >= 0 and b[1] >= 0
    if across < SAME_AISLE_M and in_aisles:
        return abs(a[1] - b[1])
    front = abs(a[1]) + abs(b[1]) + across
    if not in_aisles:
        return front
    return min(front, (back_y - a[1]) + (back_y - b[1]) + across)


def back_aisle(points, layout):
    return max([layout.aisle_length_m] + [p[1] for p in points])


def tour_length(points, order, layout):
    """Metres of the walk: pack station, the points in `order`, pack station."""
    back_y = back_aisle(points, layout)
    path = [layout.depot] + [points[i] for i in order] + [layout.depot]
    return sum(distance(a, b, back_y) for a, b in zip(path, path[1:]))


def s_shape(points, layout):
    """The traversal (S-shape) order: the aisles with a stop one after the other, one
    walked up and the next down, from the leftmost such aisle or the rightmost, whichever
    walk is shorter. Measured, like every route, by the shortest way between stops: the
    picker leaves an aisle by the nearer cross-aisle instead of always walking it out."""
    aisles = {}
    for i, (x, _) in enumerate(points):
        aisles.setdefault(round(x / SAME_AISLE_M), []).append(i)

    def sweep(xs):
        order = []
        for n, x in enumerate(xs):
            # stable sorts: stops at one spot keep the order they came in
            order += sorted(aisles[x], key=lambda i: points[i][1], reverse=n % 2 == 1)
        return order

    xs = sorted(aisles)
    return min(sweep(xs), sweep(xs[::-1]), key=lambda o: tour_length(points, o, layout))


def nearest_neighbour(points, layout):
    """From the pack station, always the nearest stop not yet visited (the first one in
    the given order on a tie)."""
    back_y = back_aisle(points, layout)
    left, here, order = list(range(len(points))), layout.depot, []
    while left:
        nearest = min(left, key=lambda i: distance(here, points[i], back_y))
        left.remove(nearest)
        order.append(nearest)
        here = points[nearest]
    return order


def improve(points, order, layout):
    """2-opt: walk a stretch of the route backwards wherever that makes the walk shorter,
    until no such stretch is left (or IMPROVING_PASSES passes)."""
    back_y = back_aisle(points, layout)
    path = [layout.depot] + [points[i] for i in order] + [layout.depot]
    ids = [None, *order, None]

    def d(a, b):
        return distance(path[a], path[b], back_y)

    for _ in range(IMPROVING_PASSES):
        shorter = False
        for i in range(1, len(path) - 2):
            for j in range(i + 1, len(path) - 1):
                if d(i - 1, j) + d(i, j + 1) < d(i - 1, i) + d(j, j + 1) - 1e-9:
                    path[i : j + 1], ids[i : j + 1] = path[i : j + 1][::-1], ids[i : j + 1][::-1]
                    shorter = True
        if not shorter:
            break
    return ids[1:-1]


def route(points, layout=DEFAULT_LAYOUT, name=None):
    """The order to visit `points` in, by the layout's route (or `name`): s_shape,
    nearest_neighbour, shortest (both computed, the shorter walk kept), or improved (the
    shortest, then shortened further by 2-opt)."""
    name = name or layout.route
    if name == "s_shape":
        return s_shape(points, layout)
    if name == "nearest_neighbour":
        return nearest_neighbour(points, layout)
    candidates = (s_shape(points, layout), nearest_neighbour(points, layout))
    shortest = min(candidates, key=lambda o: tour_length(points, o, layout))
    return improve(points, shortest, layout) if name == "improved" else shortest


def walk_in_route_order(stops, layout=DEFAULT_LAYOUT):
    """`stops` (each with x_m, y_m, or None where the bin's position is unknown) in route
    order. The route runs over the spots; stops at one spot keep the order given, one
    after the other. A stop with no known position is walked last, in the order given."""
    at_spot = {}
    for stop in stops:
        if stop.get("x_m") is not None:
            at_spot.setdefault((stop["x_m"], stop["y_m"]), []).append(stop)
    spots = list(at_spot)
    walked = [s for i in route(spots, layout) for s in at_spot[spots[i]]]
    return walked + [s for s in stops if s.get("x_m") is None]


def walking_distance_m(stops, layout=DEFAULT_LAYOUT):
    """Metres (one decimal) from the pack station through the stops with a known position,
    in the order given, and back."""
    points = [(s["x_m"], s["y_m"]) for s in stops if s.get("x_m") is not None]
    return round(tour_length(points, range(len(points)), layout), 1)


class FloorPlan(DependencyProvider):
    """The packing service's floor plan, read from its WALK_* config once at start: a bad
    setting stops the service from starting, naming the key, instead of failing every pick
    list later."""

    def setup(self):
        try:
            self.layout = Layout.from_config(self.container.config)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"packing's floor plan (WALK_* settings): {exc}") from exc

    def get_dependency(self, worker_ctx):
        return self.layout
