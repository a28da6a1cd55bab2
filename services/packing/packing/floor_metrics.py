"""Packer productivity in Prometheus, on the service's own registry (gudang_common.metrics):
units picked, orders packed, short picks and refused scans per packer (staff are few, so the
packer label stays small), the time from allocation to packing, and each pick list's walk."""

from nameko.extensions import DependencyProvider

from gudang_common.metrics import for_container

# allocation to packing: minutes on a good day, hours when the floor is behind
WAIT_BUCKETS = (60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600)
# a pick list's walk in metres: a few aisles to the whole floor
WALK_BUCKETS = (10, 25, 50, 100, 200, 400, 800, 1600)


class FloorMetrics(DependencyProvider):
    def setup(self):
        metrics = for_container(self.container)
        self.units_picked = metrics.counter(
            "gudang_packer_units_picked", "Units scanned into totes", ("packer",)
        )
        self.short_picks = metrics.counter(
            "gudang_packer_short_picks", "Units short-picked (not in their bin)", ("packer",)
        )
        self.packed = metrics.counter(
            "gudang_orders_packed", "Orders packed, per packer", ("packer_id",)
        )
        self.allocated_to_packed = metrics.histogram(
            "gudang_allocated_to_packed_seconds",
            "Time from an order's allocation to its packing",
            (),
            WAIT_BUCKETS,
        )
        self.scan_errors = metrics.counter(
            "gudang_scan_errors",
            "Scans refused at the pick walk or the pack station, per packer and reason",
            ("station", "packer", "code"),
        )
        self.walk = metrics.histogram(
            "gudang_pick_list_walk_metres",
            "The walking distance of each pick list handed out, per packer",
            ("packer",),
            WALK_BUCKETS,
        )

    def get_dependency(self, worker_ctx):
        return self

    def scanned(self, packer_id, answer):
        if answer.get("kind") == "unit" and not answer.get("repeated"):
            self.units_picked.labels(packer_id).inc(answer["units"])

    def order_packed(self, packer_id, seconds_since_allocated):
        self.packed.labels(packer_id).inc()
        self.allocated_to_packed.observe(seconds_since_allocated)

    def scan_refused(self, station, packer_id, code):
        self.scan_errors.labels(station, packer_id, code).inc()

    def walked(self, packer_id, pick_list):
        """A pick list handed out for the first time: its metres."""
        if pick_list and pick_list.get("walking_distance_m") is not None:
            self.walk.labels(packer_id).observe(pick_list["walking_distance_m"])
