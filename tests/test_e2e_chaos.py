"""A short fault run (scripts/chaos.py, what `make chaos` measures for docs/reliability.md).

Thirty orders while every service is killed with SIGKILL, the AMQP connections are cut, courier
reports are replayed, reordered and contradicted, and slow clients hold the gateway's connections.
"""

import pytest

from scripts.chaos import Chaos
from tests.conftest import ADMIN_KEY, COURIER_SECRET

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def result(platform, api):
    chaos = Chaos(
        platform,
        api,
        ADMIN_KEY,
        COURIER_SECRET,
        platform.vhost,
        orders=30,
        slow_connections=20,
        slow_seconds=3,
        settle_seconds=60,
        log=lambda line: None,
    )
    return chaos.execute()


def test_faults_lose_duplicate_and_double_charge_nothing(result):
    assert result["accepted"] == result["orders"], result
    assert result["lost"] == 0, result["lost ids"]
    assert result["duplicated"] == 0, result
    assert result["double charges"] == 0, result
    assert result["stuck"] == 0, result["stuck ids"]
    assert result["stock drift vs expected"] == 0, result
    assert result["stock drift vs ledger"] == 0, result
    assert result["reserved left"] == 0, result
    assert result["COD missing, delivered"] == 0, result
    assert len(result["kills"]) == 6 and result["connections cut"] > 0, result


def test_faults_leave_the_gateway_answering_while_slow_clients_wait(result):
    assert result["slow connections"] == 20, result
    assert result["slow /health failed"] == 0, result
    assert result["slow /health worst s"] < 2, result


def test_faults_credit_cod_only_for_delivered_parcels(result):
    assert result["COD credited, not delivered"] == 0, result["wrong COD ids"]
