"""Many Rasa instances, nothing lost: the fault and load suite with small numbers (``make test``).

Real processes: two Rasa instances, the action server and HAProxy
(``bot/production.py``), conversations in a throwaway PostgreSQL cluster, locks
in a throwaway Redis with a password. ``make soak`` runs the same scenarios with
large numbers (``python -m tests.scale.soak``). The table is printed at the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.scale import scenarios
from tests.scale.harness import ClusterUnavailable, ScaleCluster, portal_token, post_portal, post_sms, running_cluster
from tests.scale.report import ScenarioResult, table

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

RESULTS: list[ScenarioResult] = []


@pytest.fixture(scope="module")
def cluster() -> Iterator[ScaleCluster]:
    """One production-shaped cluster for the module (the table is printed at the end, tests/scale/conftest.py)."""
    try:
        with running_cluster() as running:
            yield running
    except ClusterUnavailable as missing:
        pytest.skip(str(missing))


def _record(result: ScenarioResult) -> ScenarioResult:
    RESULTS.append(result)
    return result


def _nothing_lost(result: ScenarioResult) -> None:
    """Every message answered, stored once, in order; no ``200 []``."""
    assert (result.sent, result.lost, result.doubled, result.out_of_order, result.empty_200) == (
        result.answered,
        0,
        0,
        0,
        0,
    ), table([result])
    assert result.stored == result.sent, table([result])


def test_health_reports_every_store_ok(cluster: ScaleCluster) -> None:
    assert cluster.health() == (200, {"status": "ok", "tracker_store": "ok", "lock_store": "ok"})


def test_parallel_messages_of_one_conversation_are_each_stored_once_in_order(cluster: ScaleCluster) -> None:
    result = _record(scenarios.parallel(cluster, scenarios.SMALL))
    _nothing_lost(result)
    assert result.failures_told == 0, table([result])


def test_redis_down_is_told_never_silent_and_nothing_is_lost_after(cluster: ScaleCluster) -> None:
    result = _record(scenarios.redis_outage(cluster, scenarios.SMALL))
    _nothing_lost(result)
    assert any(n.startswith("health while down: 503") and "lock_store unreachable" in n for n in result.notes), (
        result.notes
    )
    assert any(n.startswith("health after: 200") for n in result.notes), result.notes


def test_postgres_down_is_told_never_silent_and_no_turn_is_missing_after(cluster: ScaleCluster) -> None:
    result = _record(scenarios.postgres_outage(cluster, scenarios.SMALL))
    _nothing_lost(result)
    assert any(n.startswith("health while down: 503") and "tracker_store unreachable" in n for n in result.notes), (
        result.notes
    )
    assert any(n.startswith("health after: 200") for n in result.notes), result.notes


def test_with_redis_down_sms_and_portal_fail_explicitly_and_the_same_id_works_once_it_is_back(
    cluster: ScaleCluster,
) -> None:
    assert cluster.redis is not None
    number, subject = "+15550101234", "P-EXPLICIT"
    cluster.redis.stop()
    try:
        status, twiml = post_sms(cluster.url, number, "what are your hours", "SMexplicit1")
        assert status == 200 and "can't answer right now" in twiml and "(555) 010-2000" in twiml, twiml
        status, body = post_portal(cluster.url, portal_token(subject), "what are your hours", "explicit-1")
        assert status == 503 and body["error"] == "unavailable" and body["messages"][0]["text"], body
    finally:
        cluster.redis.start()
    # The same ids again: answered now (the failed delivery left no claim that blocks them), and only once.
    status, twiml = post_sms(cluster.url, number, "what are your hours", "SMexplicit1")
    assert status == 200 and "<Message>" in twiml and "can't answer right now" not in twiml, twiml
    assert post_sms(cluster.url, number, "what are your hours", "SMexplicit1") == (status, twiml)
    status, body = post_portal(cluster.url, portal_token(subject), "what are your hours", "explicit-1")
    assert status == 200 and body and "can't" not in body[0].get("text", ""), body
    assert post_portal(cluster.url, portal_token(subject), "what are your hours", "explicit-1") == (status, body)
    stored = [e.message_id for e in cluster.stored_events() if e.type_name == "user"]
    assert stored.count("SMexplicit1") == 1 and stored.count("explicit-1") == 1


def test_rolling_restart_under_load_loses_nothing(cluster: ScaleCluster) -> None:
    result = _record(scenarios.rolling_restart(cluster, scenarios.SMALL))
    _nothing_lost(result)


def test_killed_instance_its_conversations_go_on_within_the_lock_lifetime(cluster: ScaleCluster) -> None:
    result = _record(scenarios.killed_instance(cluster, scenarios.SMALL))
    _nothing_lost(result)
    assert scenarios.killed_instance_max_wait(result) <= scenarios.LOCK_LIFETIME_SECONDS + 15, result.notes
