"""Running several `dialer run` processes against one PostgreSQL and several real Asterisk servers,
and reading back what they did. Shared by tests/scaleout and benchmarks/scaleout.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.db.models import Attempt
from tests.fixtures.asterisk import AsteriskInstance

REPO = Path(__file__).resolve().parents[2]
DIAL = "Local/{number}@demo-carrier"


@dataclass(frozen=True)
class NodeSpec:
    name: str
    asterisk: AsteriskInstance
    server: str             # telephony.server_name
    channel_limit: int      # telephony.channel_limit: the server's, shared by its nodes


@dataclass
class Node:
    spec: NodeSpec
    proc: subprocess.Popen[str]
    log: Path

    def kill(self) -> None:
        """kill -9: no drain, no lease given back, calls left up on Asterisk."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@dataclass
class Cluster:
    db_url: str
    workdir: Path
    tick_s: float = 0.25
    lease_s: float = 2.0
    exit_when_idle_s: float = 20.0
    nodes: dict[str, Node] = field(default_factory=dict)

    def start(self, spec: NodeSpec) -> Node:
        data = self.workdir / spec.name
        data.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **spec.asterisk.exports,
               "DIALER_DATABASE_URL": self.db_url, "DIALER_DATA_DIR": str(data),
               "DIALER_DAEMON_NODE": spec.name, "DIALER_TELEPHONY_SERVER_NAME": spec.server,
               "DIALER_TELEPHONY_CHANNEL_LIMIT": str(spec.channel_limit), "DIALER_TELEPHONY_DIAL": DIAL,
               # One Stasis application per process: Asterisk gives an application's event socket
               # to its latest connection only (subscribeAll still shows each node every channel).
               "DIALER_ARI_APP": f"dialer-{spec.name}",
               "DIALER_PACER_TICK_SECONDS": str(self.tick_s), "DIALER_DAEMON_LEASE_SECONDS": str(self.lease_s),
               "DIALER_METRICS_PORT": "0", "DIALER_SCHEDULER_ENABLED": "false", "DIALER_LOG_FORMAT": "text"}
        log = data / "daemon.log"
        with open(log, "w") as out:
            proc = subprocess.Popen([sys.executable, "-c", "from cli import main; main()", "run",
                                     "--exit-when-idle", str(self.exit_when_idle_s)],
                                    env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, text=True)
        node = self.nodes[spec.name] = Node(spec, proc, log)
        return node

    def wait(self, timeout_s: float) -> None:
        for node in self.nodes.values():
            if node.proc.poll() is None:
                node.proc.wait(timeout_s)

    def stop_all(self) -> None:
        for node in self.nodes.values():
            node.stop()


@dataclass(frozen=True)
class CallSpan:
    attempt_id: int
    debtor_id: int
    e164: str
    server: str | None
    node: str | None
    placed_at: datetime
    ended_at: datetime | None
    outcome: str | None


def spans(session: Session) -> list[CallSpan]:
    return [CallSpan(r.id, r.debtor_id, r.e164, r.asterisk_server, r.dialer_node, r.placed_at, r.ended_at,
                     r.outcome.value if r.outcome else None)
            for r in session.execute(select(Attempt.id, Attempt.debtor_id, Attempt.e164, Attempt.asterisk_server,
                                            Attempt.dialer_node, Attempt.placed_at, Attempt.ended_at,
                                            Attempt.outcome).order_by(Attempt.placed_at))]


def peak_concurrency(calls: list[CallSpan]) -> int:
    """Most calls holding a channel at one instant, from the gate's decision to the call's end."""
    edges = sorted([(c.placed_at, 1) for c in calls] + [(c.ended_at, -1) for c in calls if c.ended_at],
                   key=lambda e: (e[0], e[1]))   # an end and a start at the same instant: end first
    peak = now = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


def overlapping_debtors(calls: list[CallSpan]) -> set[int]:
    """Debtors with two calls up at the same time (a double dial)."""
    by_debtor: dict[int, list[CallSpan]] = defaultdict(list)
    for call in calls:
        by_debtor[call.debtor_id].append(call)
    bad = set()
    for debtor, theirs in by_debtor.items():
        theirs.sort(key=lambda c: c.placed_at)
        for before, after in zip(theirs, theirs[1:]):
            if before.ended_at is None or after.placed_at < before.ended_at:
                bad.add(debtor)
    return bad
