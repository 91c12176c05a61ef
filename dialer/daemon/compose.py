"""The composition root of `dialer run`: settings → database, gate, telephony, daemon.

One `PermitAuthority` is created here and handed to both the gate (which signs permits) and the
telephony adapter (which redeems them): no other code can mint a permit.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

from dialer.agents.api import AgentApi
from dialer.agents.console import AgentConsole
from dialer.app import App
from dialer.compliance.book import ProfileBook
from dialer.compliance.budget import AbandonmentBudget
from dialer.compliance.gate import CallGate
from dialer.compliance.permit import PermitAuthority
from dialer.compliance.profiles import load_profiles
from dialer.daemon.cluster import Cluster
from dialer.daemon.service import Daemon
from dialer.metrics import DialerMetrics
from dialer.scheduling.scheduler import build_scheduler
from dialer.telephony.agent_feed import AmiAgentFeed
from dialer.telephony.ami import AmiSettings, AmiTelephony
from dialer.telephony.ari import AriSettings, AriTelephony
from dialer.telephony.interface import Telephony


def build_telephony(app: App, authority: PermitAuthority, backend: str) -> Telephony:
    s = app.settings
    ami = AmiSettings(host=s["ami.host"], port=s["ami.port"], user=s["ami.user"], password=s.require("ami.password"))
    if backend == "ami":
        return AmiTelephony(settings=ami, authority=authority, clock=app.clock)
    # ARI has no queue member events: agent states come from a side AMI login (agent_feed.py).
    return AriTelephony(settings=AriSettings(url=s["ari.url"], user=s["ari.user"], password=s.require("ari.password"),
                                             app=s["ari.app"]),
                        authority=authority, clock=app.clock,
                        agent_feed=AmiAgentFeed(settings=ami, clock=app.clock))


def build_daemon(app: App, *, backend: str | None = None, campaigns: tuple[str, ...] = (),
                 exit_when_idle_s: float | None = None) -> Daemon:
    s = app.settings
    node = s["daemon.node"] or socket.gethostname()
    authority = PermitAuthority()
    book = ProfileBook(load_profiles(s["profile.custom_file"] or None))
    budget = AbandonmentBudget(sessions=app.sessions, profile_for=book.for_campaign)
    gate = CallGate(sessions=app.sessions, profile_for=book.for_campaign, authority=authority, clock=app.clock,
                    node=node, abandonment_budget=budget, asterisk_server=s["telephony.server_name"])
    telephony = build_telephony(app, authority, backend or s["telephony.backend"])
    agents = getattr(telephony, "agents", None)
    daemon = Daemon(sessions=app.sessions, gate=gate, telephony=telephony, clock=app.clock, node=node,
                  dial_template=s["telephony.dial"], tick_seconds=s["pacer.tick_seconds"],
                  grace_seconds=s["daemon.grace_seconds"], status_file=status_path(app),
                  campaigns=campaigns, exit_when_idle_s=exit_when_idle_s, agents=agents,
                  abandonment_budget=budget,
                  scheduler=build_scheduler(db_url=s.database_url, settings=s) if s["scheduler.enabled"] else None,
                  metrics=DialerMetrics(node=node), recordings_dir=Path(s["recordings.dir"]),
                  metrics_address=(s["metrics.host"], s["metrics.port"]) if s["metrics.port"] else None,
                  cluster=Cluster(sessions=app.sessions, clock=app.clock, node=node,
                                  asterisk_server=s["telephony.server_name"],
                                  channel_limit=s["telephony.channel_limit"],
                                  lease_seconds=s["daemon.lease_seconds"], tick_seconds=s["pacer.tick_seconds"]))
    if s["agents.api_port"]:
        # Preview/manual calls share the pacer's gate, adapter and call tracker (docs/agents.md).
        console = AgentConsole(sessions=app.sessions, gate=gate, telephony=telephony, tracker=daemon.tracker,
                               clock=app.clock, dial_template=s["telephony.dial"],
                               hold=timedelta(seconds=s["agents.preview_hold_seconds"]),
                               skip_defer=timedelta(minutes=s["agents.skip_defer_minutes"]))
        daemon.add_service(AgentApi(console=console, host=s["agents.api_host"], port=s["agents.api_port"],
                                    token=s.require("agents.api_token")))
    return daemon


def status_path(app: App) -> Path:
    return app.settings.data_dir / "daemon-status.json"
