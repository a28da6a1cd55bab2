"""The gateway's startup heap is kept out of the garbage collector's full collections."""

import gc

from gateway.service import GatewayService, StartupHeapFrozen


def test_starting_the_gateway_freezes_what_it_built_to_start():
    assert isinstance(GatewayService.startup_heap, StartupHeapFrozen)
    gc.unfreeze()
    try:
        StartupHeapFrozen().start()
        assert gc.get_freeze_count() > 1000  # the modules, routes and schemas loaded so far
    finally:
        gc.unfreeze()
