"""``python -m tests.scale.soak`` (``make soak``): the fault and load suite with large numbers, and its targets.

Starts the production shape (two Rasa instances behind HAProxy, the action
server, PostgreSQL and Redis of its own; ``tests/scale/harness.py``), runs every
scenario of ``tests/scale/scenarios.py`` with :data:`~tests.scale.scenarios.SOAK`
sizes, then the parallel scenario again on a second cluster whose instances use
Rasa's stock ``RedisLockStore`` (an endpoints override), for comparison. Prints
the table and each target as [MET] or [MISSED]; exits 1 when one is missed.
``--small`` runs ``make test``'s sizes (a quick look); ``--no-stock`` skips the comparison.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from tests.scale import scenarios
from tests.scale.harness import running_cluster
from tests.scale.report import ScenarioResult, table

THROUGHPUT_TARGET = 1.6
RECOVERY_SECONDS = 15.0
"""Longest a message may take, resends included, around a 5 s Redis outage."""
KILL_MARGIN_SECONDS = 5.0
"""Beyond the lock lifetime, for the waiter's poll and the resend after the load balancer's 502."""


def run(sizes: scenarios.Sizes, stock: bool) -> tuple[dict[str, ScenarioResult], list[ScenarioResult]]:
    """Every scenario on one cluster (and the stock comparison on another); results by key and in order."""
    results: dict[str, ScenarioResult] = {}
    order: list[ScenarioResult] = []

    def keep(key: str, result: ScenarioResult) -> None:
        results[key] = result
        order.append(result)
        print(table([result]), flush=True)

    print("Starting the production shape (2 Rasa instances, action server, HAProxy, PostgreSQL, Redis)...", flush=True)
    with running_cluster() as cluster:
        keep("parallel", scenarios.parallel(cluster, sizes))
        keep("one", scenarios.throughput(cluster, sizes, instances=1))
        keep("two", scenarios.throughput(cluster, sizes, instances=2))
        keep("redis", scenarios.redis_outage(cluster, sizes))
        keep("postgres", scenarios.postgres_outage(cluster, sizes))
        keep("rolling", scenarios.rolling_restart(cluster, sizes))
        keep("killed", scenarios.killed_instance(cluster, sizes))
    if stock:
        print("Starting it again with Rasa's stock RedisLockStore, for comparison...", flush=True)
        with running_cluster(stock_lock_store=True) as cluster:
            keep("stock", scenarios.parallel(cluster, sizes, name="parallel messages, stock RedisLockStore"))
    return results, order


def targets(results: dict[str, ScenarioResult], sizes: scenarios.Sizes) -> list[tuple[bool, str]]:
    """Each target of issue 12 with whether it was met."""
    checks: list[tuple[bool, str]] = []
    parallel = results["parallel"]
    checks.append(
        (
            parallel.lost == parallel.doubled == parallel.out_of_order == 0 and parallel.answered == parallel.sent,
            f"two instances, {sizes.parallel_messages} parallel messages x {sizes.parallel_trials} conversations: "
            f"{parallel.lost} lost, {parallel.doubled} doubled, {parallel.out_of_order} out of order, "
            f"{parallel.answered}/{parallel.sent} answered",
        )
    )
    if "stock" in results:
        stock = results["stock"]
        broken = stock.lost + stock.doubled + stock.out_of_order
        checks.append(
            (
                broken > 0,
                f"stock RedisLockStore, same load, for comparison, gets some wrong: {stock.lost} lost, "
                f"{stock.doubled} doubled, {stock.out_of_order} out of order",
            )
        )
    redis = results["redis"]
    checks.append(
        (
            redis.empty_200 == 0 and redis.lost == 0 and redis.answered == redis.sent,
            f"Redis down {sizes.outage_seconds:.0f} s under load: {redis.empty_200} '200 []', "
            f"{redis.failures_told} failures told (non-2xx or plain words), {redis.lost} lost after it returned",
        )
    )
    checks.append(
        (
            redis.slowest <= RECOVERY_SECONDS,
            f"after Redis returns the next messages are answered at once: slowest {redis.slowest:.1f} s "
            f"(target {RECOVERY_SECONDS:.0f} s; a ticket whose release failed lapses after the lock lifetime)",
        )
    )
    postgres = results["postgres"]
    checks.append(
        (
            postgres.lost == 0 and postgres.empty_200 == 0 and postgres.answered == postgres.sent,
            f"PostgreSQL restart under load: {postgres.lost} turns missing afterwards, {postgres.empty_200} '200 []'",
        )
    )
    killed = results["killed"]
    wait = scenarios.killed_instance_max_wait(killed)
    checks.append(
        (
            killed.lost == killed.doubled == killed.out_of_order == 0
            and killed.answered == killed.sent
            and wait <= scenarios.LOCK_LIFETIME_SECONDS + KILL_MARGIN_SECONDS,
            f"killed instance: its conversations went on on the other within {wait:.1f} s "
            f"(lock lifetime {scenarios.LOCK_LIFETIME_SECONDS:.0f} s + {KILL_MARGIN_SECONDS:.0f} s); "
            f"{killed.lost} lost, {killed.doubled} doubled, {killed.out_of_order} out of order",
        )
    )
    rolling = results["rolling"]
    checks.append(
        (
            rolling.lost == rolling.doubled == rolling.out_of_order == rolling.empty_200 == 0,
            f"rolling restart under load: {rolling.lost} lost, {rolling.failures_told} failures told",
        )
    )
    one, two = results["one"].throughput, results["two"].throughput
    ratio = two / one if one else 0.0
    cores = os.cpu_count() or 1
    checks.append(
        (
            ratio >= THROUGHPUT_TARGET,
            f"throughput two instances / one: {ratio:.2f}x ({two:.1f} vs {one:.1f} msg/s) on {cores} cores "
            f"(target {THROUGHPUT_TARGET}x where cores allow: each instance, the action server, PostgreSQL "
            "and this load share them)",
        )
    )
    return checks


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soak and print the table and the targets."""
    parser = argparse.ArgumentParser(prog="python -m tests.scale.soak", description=__doc__)
    parser.add_argument("--small", action="store_true", help="make test's sizes (a quick look)")
    parser.add_argument("--no-stock", action="store_true", help="skip the stock RedisLockStore comparison")
    args = parser.parse_args(argv)
    os.environ["CLINIC_DOTENV"] = "0"
    sizes = scenarios.SMALL if args.small else scenarios.SOAK
    started = time.monotonic()
    results, order = run(sizes, stock=not args.no_stock)
    checks = targets(results, sizes)
    print(f"\nFault and load suite ({'small' if args.small else 'soak'} numbers, {time.monotonic() - started:.0f} s):")
    print(table(order))
    print("\nTargets:")
    for met, text in checks:
        print(f"  [{'MET' if met else 'MISSED'}] {text}")
    return 0 if all(met for met, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
