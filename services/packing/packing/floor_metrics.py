"""Packer productivity in Prometheus, on the service's own registry (gudang_common.metrics):
orders packed per packer, the time from allocation to packing, and refused scans by reason."""

from nameko.extensions import DependencyProvider

from gudang_common.metrics import for_container

# allocation to packing: minutes on a good day, hours when the floor is behind
WAIT_BUCKETS = (60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600)


class FloorMetrics(DependencyProvider):
    def setup(self):
        metrics = for_container(self.container)
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
            "gudang_scan_errors", "Scans the pack station refused, per reason", ("station", "code")
        )

    def get_dependency(self, worker_ctx):
        return self

    def order_packed(self, packer_id, seconds_since_allocated):
        self.packed.labels(packer_id).inc()
        self.allocated_to_packed.observe(seconds_since_allocated)

    def scan_refused(self, station, code):
        self.scan_errors.labels(station, code).inc()
