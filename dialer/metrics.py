"""Prometheus metrics of one dialer process, and an asyncio HTTP endpoint that exposes them.

`DialerMetrics` owns its own `CollectorRegistry` (no module-level registry: two daemons in one
test process, or a daemon and a bot, never share counters). The processes call one method per
hook, each taking plain values, so this module depends on no adapter:

    metrics = DialerMetrics(node="dialer-1")
    server = await metrics.serve("127.0.0.1", settings["metrics.port"])   # GET /metrics
    metrics.observe_tick("spring-m1", wanted=4, placed=3, denials={"outside_window": 1})
    metrics.observe_outcome("spring-m1", "abandoned")
    metrics.observe_agents([("collections", "free"), ("collections", "in_call")])
    metrics.observe_telephony("ari", healthy=True, reconnects=2)         # cumulative count
    metrics.observe_bot_turn(0.42)
    await server.close()

or straight from the daemon's own objects: `observe_tick_report(report)` (a `TickReport`),
`observe_health(telephony.health())`, `observe_agent_snapshot(snapshot)`.

Abandonment is exported as two counters (`dialer_live_answers_total`, `dialer_abandoned_calls_total`)
so Prometheus computes it over any window (`increase(abandoned[24h]) / increase(live[24h])`, the
Ofcom 24-hour measure; docs/deployment.md). The gate's own rolling figure, which follows the
campaign's profile, is exported as a gauge when the daemon sets it (`set_abandonment_ratio`).

The endpoint is bound to 127.0.0.1 by default: the figures name campaigns and queues, and the
port must not face a network an attacker reaches (put a scraping Prometheus on the same host, or
bind a private interface on purpose).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger(__name__)

# Outcomes that mean a person answered (dialer.domain.Outcome values): the denominator of the
# abandonment rate. An abandoned call was answered by a person who reached nobody in 2 s.
LIVE_OUTCOMES = frozenset({"human", "abandoned"})

# Agent states of dialer.telephony.agents.AgentState: every state is exported, zero included, so a
# dashboard's "free agents" panel shows 0 rather than "no data" when the last free agent takes a call.
AGENT_STATES = ("free", "ringing", "in_call", "wrap_up", "paused", "unavailable")

# A bot turn is "caller stops speaking → bot starts speaking": ASR end-pointing + NLU + TTS
# (cached or synthesized). Above ~1 s people start talking over the bot, hence the fine buckets.
BOT_TURN_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
PACER_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class TickFigures(Protocol):
    """What the daemon's `TickReport` carries (dialer/daemon/runner.py)."""

    campaign: str
    wanted: int
    placed: int
    in_flight: int
    pacer_ms: float
    denials: dict[str, int]


class HealthFigures(Protocol):
    """What a telephony adapter's `Health` carries (dialer/telephony/interface.py; frozen, hence properties)."""

    @property
    def component(self) -> str: ...
    @property
    def healthy(self) -> bool: ...
    @property
    def reconnects(self) -> int: ...


class AgentFigures(Protocol):
    @property
    def queue(self) -> str: ...
    @property
    def state(self) -> object: ...


class AgentsFigures(Protocol):
    """What an `AgentSnapshot` carries (dialer/telephony/agents.py)."""

    @property
    def agents(self) -> tuple[AgentFigures, ...]: ...


def _value(item: object) -> str:
    """Enum members (Outcome, AgentState, DenialReason) by value, anything else as text."""
    return str(getattr(item, "value", item))


class DialerMetrics:
    """Every metric one dialer process exports, in a registry of its own."""

    def __init__(self, *, node: str = "", registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.node = node
        self._info = Gauge("dialer_node_info", "Constant 1, labelled with this process's node name.", ["node"],
                           registry=r)
        self._info.labels(node=node).set(1)
        self._dials = Counter("dialer_dials", "Calls originated (permits redeemed).", ["campaign"], registry=r)
        self._outcomes = Counter("dialer_call_outcomes", "Calls ended, by outcome.", ["campaign", "outcome"],
                                 registry=r)
        self._live = Counter("dialer_live_answers", "Calls answered by a person (human or abandoned).",
                             ["campaign"], registry=r)
        self._abandoned = Counter("dialer_abandoned_calls",
                                  "Live answers not connected to a person (or the bot) within 2 s.",
                                  ["campaign"], registry=r)
        self._abandon_ratio = Gauge("dialer_abandonment_ratio",
                                    "Abandonment rate as the compliance gate measures it for the campaign's "
                                    "profile.", ["campaign", "window"], registry=r)
        self._wanted = Gauge("dialer_pacer_wanted_calls", "Calls the pacer asked for at the last tick.",
                             ["campaign"], registry=r)
        self._placed = Gauge("dialer_pacer_placed_calls", "Calls placed at the last tick (after the gate).",
                             ["campaign"], registry=r)
        self._in_flight = Gauge("dialer_calls_in_flight", "Calls ringing, waiting or talking at the last tick.",
                                ["campaign"], registry=r)
        self._pacer_time = Histogram("dialer_pacer_decision_seconds", "Time the pacer took to decide one tick.",
                                     buckets=PACER_BUCKETS, registry=r)
        self._denials = Counter("dialer_gate_denials", "Dials the compliance gate refused, by reason.",
                                ["campaign", "reason"], registry=r)
        self._agents = Gauge("dialer_agents", "Queue members by state.", ["queue", "state"], registry=r)
        self._bot_turn = Histogram("dialer_bot_turn_seconds",
                                   "Bot response latency: end of the caller's speech to the bot's reply.",
                                   buckets=BOT_TURN_BUCKETS, registry=r)
        self._telephony_up = Gauge("dialer_telephony_up", "1 while the ARI/AMI connection is healthy.",
                                   ["component"], registry=r)
        self._reconnects = Counter("dialer_telephony_reconnects", "ARI/AMI reconnects after a lost connection.",
                                   ["component"], registry=r)
        self._reconnects_seen: dict[str, int] = {}

    # ---- hooks: one call each from the processes --------------------------------------------------

    def observe_tick(self, campaign: str, *, wanted: int, placed: int, denials: Mapping[str, int] | None = None,
                     in_flight: int | None = None, pacer_ms: float | None = None) -> None:
        """One campaign's pacing tick (the daemon's `TickReport` fields)."""
        self._wanted.labels(campaign=campaign).set(wanted)
        self._placed.labels(campaign=campaign).set(placed)
        if placed:
            self._dials.labels(campaign=campaign).inc(placed)
        if in_flight is not None:
            self._in_flight.labels(campaign=campaign).set(in_flight)
        if pacer_ms is not None:
            self._pacer_time.observe(pacer_ms / 1000)
        for reason, count in (denials or {}).items():
            if count:
                self._denials.labels(campaign=campaign, reason=_value(reason)).inc(count)

    def observe_tick_report(self, report: TickFigures) -> None:
        """`observe_tick` from a daemon `TickReport`: one line in the daemon's tick loop."""
        self.observe_tick(report.campaign, wanted=report.wanted, placed=report.placed, denials=report.denials,
                          in_flight=report.in_flight, pacer_ms=report.pacer_ms)

    def observe_outcome(self, campaign: str, outcome: object) -> None:
        """A call ended (`outcome`: a dialer.domain.Outcome or its value)."""
        name = _value(outcome)
        self._outcomes.labels(campaign=campaign, outcome=name).inc()
        if name in LIVE_OUTCOMES:
            self._live.labels(campaign=campaign).inc()
        if name == "abandoned":
            self._abandoned.labels(campaign=campaign).inc()

    def set_abandonment_ratio(self, campaign: str, ratio: float, *, window: str = "profile") -> None:
        self._abandon_ratio.labels(campaign=campaign, window=window).set(ratio)

    def observe_agents(self, agents: Iterable[tuple[str, object]]) -> None:
        """Replace the agent-state gauges with (queue, state) pairs, one per queue member.

        From an `AgentSnapshot`: `metrics.observe_agents((a.queue, a.state) for a in snapshot.agents)`.
        Queues that vanished are dropped; every state of a known queue is set, zeros included.
        """
        counts: dict[str, dict[str, int]] = {}
        for queue, state in agents:
            per_queue = counts.setdefault(queue, dict.fromkeys(AGENT_STATES, 0))
            name = _value(state)
            per_queue[name] = per_queue.get(name, 0) + 1
        self._agents.clear()
        for queue, per_state in counts.items():
            for state, count in per_state.items():
                self._agents.labels(queue=queue, state=state).set(count)

    def observe_agent_snapshot(self, snapshot: AgentsFigures | None) -> None:
        """`observe_agents` from an `AgentSnapshot` (None: no agent board, e.g. ARI only: no change)."""
        if snapshot is not None:
            self.observe_agents((agent.queue, agent.state) for agent in snapshot.agents)

    def observe_health(self, health: HealthFigures) -> None:
        """`observe_telephony` from an adapter's `Health`: one line where the daemon reads it."""
        self.observe_telephony(health.component, healthy=health.healthy, reconnects=health.reconnects)

    def observe_telephony(self, component: str, *, healthy: bool, reconnects: int) -> None:
        """The adapter's health (`Health.component/.healthy/.reconnects`, reconnects cumulative).

        Counts only the increase since the last call, so it can be called on every tick.
        """
        self._telephony_up.labels(component=component).set(1 if healthy else 0)
        seen = self._reconnects_seen.get(component)
        if seen is None:
            # Make the series exist at 0 from the first observation (rate() needs a start point).
            self._reconnects.labels(component=component).inc(reconnects)
        elif reconnects > seen:
            self._reconnects.labels(component=component).inc(reconnects - seen)
        self._reconnects_seen[component] = max(reconnects, seen or 0)

    def observe_reconnect(self, component: str) -> None:
        """One reconnect, for adapters that report events rather than a cumulative count."""
        self._reconnects.labels(component=component).inc()
        self._reconnects_seen[component] = self._reconnects_seen.get(component, 0) + 1

    def observe_bot_turn(self, seconds: float) -> None:
        self._bot_turn.observe(seconds)

    # ---- exposition -------------------------------------------------------------------------------

    def render(self) -> bytes:
        """The Prometheus text exposition format of every metric."""
        return generate_latest(self.registry)

    async def serve(self, host: str = "127.0.0.1", port: int = 9464) -> MetricsServer:
        """Start `GET /metrics` on host:port (port 0: any free port, see `MetricsServer.port`)."""
        server = MetricsServer(self)
        await server.start(host, port)
        return server


class MetricsServer:
    """A minimal HTTP server on asyncio streams: GET/HEAD /metrics, one response per connection.

    Prometheus' own `start_http_server` runs a thread; the daemon is one event loop and owns every
    task, so this serves from the loop and ends its open connections on `close()`.
    """

    # A scrape request is a few hundred bytes; anything slower or larger is not Prometheus.
    READ_TIMEOUT_S = 5.0
    MAX_HEADER_BYTES = 16 * 1024

    def __init__(self, metrics: DialerMetrics) -> None:
        self._metrics = metrics
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._accept, host, port, limit=self.MAX_HEADER_BYTES)
        log.info("metrics on http://%s:%d/metrics", host, self.port)

    @property
    def port(self) -> int:
        assert self._server is not None and self._server.sockets, "server not started"
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # Abort rather than cancel: asyncio's stream server reports a cancelled connection task
        # as an unhandled error; an aborted transport ends the handler's read cleanly.
        for writer in list(self._connections.values()):
            writer.transport.abort()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> MetricsServer:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # asyncio.start_server runs this callback as its own task: track it so close() can end it.
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            await self._respond(reader, writer)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # a client that went away or sent garbage: nothing to answer
        finally:
            self._connections.pop(task, None)
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def _respond(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=self.READ_TIMEOUT_S)
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            await self._send(writer, 400, b"bad request\n", "text/plain; charset=utf-8")
            return
        method, target = parts[0], parts[1].split("?", 1)[0]
        if method not in ("GET", "HEAD"):
            await self._send(writer, 405, b"method not allowed\n", "text/plain; charset=utf-8",
                             extra=("Allow: GET, HEAD",))
            return
        if target not in ("/metrics", "/"):
            await self._send(writer, 404, b"not found: try /metrics\n", "text/plain; charset=utf-8")
            return
        body = self._metrics.render()
        await self._send(writer, 200, body, CONTENT_TYPE_LATEST, head_only=method == "HEAD")

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, status: int, body: bytes, content_type: str, *,
                    head_only: bool = False, extra: tuple[str, ...] = ()) -> None:
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}[status]
        lines = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}",
                 "Connection: close", *extra]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if not head_only:
            writer.write(body)
        await writer.drain()
