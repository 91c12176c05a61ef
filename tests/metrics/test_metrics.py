"""DialerMetrics: what the processes report is what a Prometheus scrape of the real endpoint reads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
from prometheus_client.parser import text_string_to_metric_families

from dialer.daemon.runner import TickReport
from dialer.domain import Outcome
from dialer.metrics import AGENT_STATES, DialerMetrics
from dialer.telephony.agents import AgentSnapshot, AgentState, AgentView
from dialer.telephony.interface import Health


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, keyed by (sample name, labels)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(exposition) for s in family.samples}


def value(exposition: str, name: str, **labels: str) -> float:
    return samples(exposition)[(name, frozenset(labels.items()))]


async def scrape(metrics: DialerMetrics) -> str:
    async with await metrics.serve("127.0.0.1", 0) as server:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{server.port}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


async def test_given_ticks_with_gate_denials_when_scraped_then_dials_pacer_level_and_denials_by_reason_show() -> None:
    metrics = DialerMetrics(node="dialer-1")
    metrics.observe_tick("spring-m1", wanted=4, placed=3, denials={"outside_window": 1}, in_flight=7, pacer_ms=2.0)
    metrics.observe_tick("spring-m1", wanted=2, placed=2, denials={"outside_window": 2, "daily_attempt_cap": 1})

    text = await scrape(metrics)

    assert value(text, "dialer_dials_total", campaign="spring-m1") == 5
    assert value(text, "dialer_pacer_wanted_calls", campaign="spring-m1") == 2      # the last tick's level
    assert value(text, "dialer_pacer_placed_calls", campaign="spring-m1") == 2
    assert value(text, "dialer_calls_in_flight", campaign="spring-m1") == 7
    assert value(text, "dialer_gate_denials_total", campaign="spring-m1", reason="outside_window") == 3
    assert value(text, "dialer_gate_denials_total", campaign="spring-m1", reason="daily_attempt_cap") == 1
    assert value(text, "dialer_pacer_decision_seconds_count") == 1
    assert value(text, "dialer_pacer_decision_seconds_sum") == 0.002
    assert value(text, "dialer_node_info", node="dialer-1") == 1


async def test_given_outcomes_when_scraped_then_abandonment_is_computable_from_live_and_abandoned_counters() -> None:
    metrics = DialerMetrics()
    for outcome in (Outcome.HUMAN, Outcome.HUMAN, Outcome.HUMAN, Outcome.ABANDONED, Outcome.BUSY, Outcome.MACHINE):
        metrics.observe_outcome("m1", outcome)
    metrics.observe_outcome("m2", "no_answer")
    metrics.set_abandonment_ratio("m1", 0.25, window="24h")

    text = await scrape(metrics)

    assert value(text, "dialer_call_outcomes_total", campaign="m1", outcome="human") == 3
    assert value(text, "dialer_call_outcomes_total", campaign="m1", outcome="busy") == 1
    assert value(text, "dialer_call_outcomes_total", campaign="m2", outcome="no_answer") == 1
    live = value(text, "dialer_live_answers_total", campaign="m1")
    abandoned = value(text, "dialer_abandoned_calls_total", campaign="m1")
    assert (live, abandoned) == (4, 1)       # a machine or a busy line is not a live answer
    assert value(text, "dialer_abandonment_ratio", campaign="m1", window="24h") == 0.25


async def test_given_agents_change_state_when_scraped_then_counts_per_queue_include_zeros_and_drop_vanished_queues() -> None:
    metrics = DialerMetrics()
    metrics.observe_agents([("collections", AgentState.FREE), ("collections", AgentState.IN_CALL),
                            ("overflow", AgentState.PAUSED)])
    metrics.observe_agents([("collections", AgentState.IN_CALL), ("collections", AgentState.IN_CALL)])

    found = samples(await scrape(metrics))

    agents = {dict(labels)["state"]: v for (name, labels), v in found.items()
              if name == "dialer_agents" and dict(labels)["queue"] == "collections"}
    assert agents == {state: (2 if state == "in_call" else 0) for state in AGENT_STATES}
    assert not any(name == "dialer_agents" and dict(labels)["queue"] == "overflow" for name, labels in found)


async def test_given_cumulative_reconnect_counts_when_observed_every_tick_then_the_counter_counts_each_reconnect_once() -> None:
    metrics = DialerMetrics()
    for healthy, reconnects in ((True, 0), (False, 0), (True, 1), (True, 1), (True, 3)):
        metrics.observe_telephony("ari", healthy=healthy, reconnects=reconnects)
    metrics.observe_reconnect("ami")

    text = await scrape(metrics)

    assert value(text, "dialer_telephony_reconnects_total", component="ari") == 3
    assert value(text, "dialer_telephony_reconnects_total", component="ami") == 1
    assert value(text, "dialer_telephony_up", component="ari") == 1


async def test_given_bot_turns_when_scraped_then_the_latency_histogram_has_them_in_their_buckets() -> None:
    metrics = DialerMetrics()
    for seconds in (0.08, 0.4, 0.45, 1.2):
        metrics.observe_bot_turn(seconds)

    text = await scrape(metrics)

    assert value(text, "dialer_bot_turn_seconds_count") == 4
    assert value(text, "dialer_bot_turn_seconds_bucket", le="0.1") == 1
    assert value(text, "dialer_bot_turn_seconds_bucket", le="0.5") == 3
    assert value(text, "dialer_bot_turn_seconds_bucket", le="+Inf") == 4
    assert abs(value(text, "dialer_bot_turn_seconds_sum") - 2.13) < 1e-9


def test_given_two_processes_in_one_interpreter_then_their_metrics_are_independent() -> None:
    first, second = DialerMetrics(node="a"), DialerMetrics(node="b")
    first.observe_tick("m1", wanted=1, placed=1)

    assert b'dialer_dials_total{campaign="m1"} 1.0' in first.render()
    assert b"dialer_dials_total{" not in second.render()


async def test_given_the_endpoint_when_asked_for_other_paths_or_methods_then_it_refuses_plainly() -> None:
    metrics = DialerMetrics()
    async with await metrics.serve(port=0) as server:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            missing = await client.get("/admin")
            post = await client.post("/metrics", content=b"x")
            head = await client.head("/metrics")
            root = await client.get("/")

    assert missing.status_code == 404
    assert post.status_code == 405 and post.headers["allow"] == "GET, HEAD"
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0
    assert b"dialer_node_info" in root.content


async def test_given_default_host_when_serving_then_the_endpoint_listens_on_loopback_only() -> None:
    metrics = DialerMetrics()
    server = await metrics.serve(port=0)
    try:
        sockets = server._server.sockets if server._server else []  # noqa: SLF001 - the bound address is the point
        assert {s.getsockname()[0] for s in sockets} == {"127.0.0.1"}
    finally:
        await server.close()


async def test_given_a_garbage_request_and_an_idle_client_when_closing_then_both_end_without_hanging() -> None:
    metrics = DialerMetrics()
    server = await metrics.serve(port=0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"HELLO\r\n\r\n")
    answer = await reader.read()
    writer.close()
    idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", server.port)
    await asyncio.sleep(0.05)  # let the server accept the idle connection before closing

    await asyncio.wait_for(server.close(), timeout=2)

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert await asyncio.wait_for(idle_reader.read(), timeout=2) == b""
    idle_writer.close()


async def test_given_the_daemons_own_report_types_when_observed_directly_then_the_scrape_shows_them() -> None:
    metrics = DialerMetrics()
    metrics.observe_tick_report(TickReport(campaign="m1", state="running", wanted=5, placed=4, denied=1,
                                           in_flight=9, pacer_ms=1.5, denials={"dnc": 1}))
    metrics.observe_health(Health(component="ami", healthy=False, detail="reconnecting", reconnects=2))
    metrics.observe_agent_snapshot(AgentSnapshot(at=datetime(2026, 11, 22, tzinfo=UTC), agents=(
        AgentView("agent1", "collections", AgentState.WRAP_UP, 3.0),)))
    metrics.observe_agent_snapshot(None)     # ARI has no agent board: the last figures stay

    text = await scrape(metrics)

    assert value(text, "dialer_dials_total", campaign="m1") == 4
    assert value(text, "dialer_pacer_wanted_calls", campaign="m1") == 5
    assert value(text, "dialer_gate_denials_total", campaign="m1", reason="dnc") == 1
    assert value(text, "dialer_telephony_up", component="ami") == 0
    assert value(text, "dialer_telephony_reconnects_total", component="ami") == 2
    assert value(text, "dialer_agents", queue="collections", state="wrap_up") == 1
