"""Packer productivity in Prometheus: units picked, scan errors by code and short picks per
packer (staff are few, so the packer label stays small)."""

from nameko.extensions import DependencyProvider

from gudang_common.metrics import for_container


class FloorMetrics(DependencyProvider):
    def setup(self):
        metrics = for_container(self.container)
        self.units_picked = metrics.counter(
            "gudang_packer_units_picked", "Units scanned into totes", ("packer",)
        )
        self.scan_errors = metrics.counter(
            "gudang_packer_scan_errors", "Scans refused, by error code", ("packer", "code")
        )
        self.short_picks = metrics.counter(
            "gudang_packer_short_picks", "Units short-picked (not in their bin)", ("packer",)
        )

    def get_dependency(self, worker_ctx):
        return self

    def scanned(self, packer_id, answer):
        if answer.get("kind") == "unit" and not answer.get("repeated"):
            self.units_picked.labels(packer_id).inc(answer["units"])

    def refused(self, packer_id, error):
        self.scan_errors.labels(packer_id, error.code).inc()
