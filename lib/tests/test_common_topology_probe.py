"""The dead-letter gauge reads its queue's depth on one kept connection."""

import pytest
from kombu import Connection, Producer
from nameko.containers import ServiceContainer

from gudang_common.service import Topology
from gudang_common.topology import dead_letter_queue_name

pytestmark = pytest.mark.integration


class Quiet:
    name = "billing"
    topology = Topology()


def test_the_dead_letter_depth_is_read_on_one_kept_connection(amqp_uri):
    container = ServiceContainer(Quiet, {"AMQP_URI": amqp_uri})
    container.start()
    try:
        probe = next(ext for ext in container.extensions if isinstance(ext, Topology))
        assert probe.dead_letter_depth() == 0
        kept = probe._probe
        with Connection(amqp_uri) as conn:
            Producer(conn.channel()).publish(
                {"x": 1}, routing_key=dead_letter_queue_name("billing")
            )
        assert probe.dead_letter_depth() == 1
        assert probe._probe is kept  # no new connection per read
        kept.connection.sock.close()  # the connection is gone: the next read opens another
        assert probe.dead_letter_depth() == 1
        assert probe._probe is not kept
    finally:
        container.stop()
    assert probe._probe is None
