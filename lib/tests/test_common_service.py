"""/health says ready only once the service consumes from every one of its queues."""

from types import SimpleNamespace

from nameko.messaging import QueueConsumer

from gudang_common.service import Topology


def test_ready_only_when_every_queue_consumer_consumes():
    requests, replies = QueueConsumer(), QueueConsumer()
    topology = Topology()
    topology.container = SimpleNamespace(
        shared_extensions={"rpc": requests, "replies": replies, "web": object()}
    )
    assert not topology.consumers_ready()
    requests._consumers_ready.send(None)
    assert not topology.consumers_ready()  # an answer to its first call would have no queue
    replies._consumers_ready.send(None)
    assert topology.consumers_ready()
