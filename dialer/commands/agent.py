"""`dialer agent …`: register agents, log them into queues, pause and resume them."""

from __future__ import annotations

import asyncio

import click
from sqlalchemy import select

from dialer.commands.common import open_app, print_json, print_table, user_errors
from dialer.db.models import Agent, AuditEntry, Queue
from dialer.db.session import transaction
from dialer.telephony.ami import AmiSettings
from dialer.telephony.desk import AgentDesk
from dialer.telephony.interface import AsteriskError


@click.group("agent")
def agent() -> None:
    """Agents: add, login, logout, pause, resume, list. Softphones can use *51-*54 instead."""


def _desk(app) -> AgentDesk:  # type: ignore[no-untyped-def]
    s = app.settings
    return AgentDesk(settings=AmiSettings(host=s["ami.host"], port=s["ami.port"], user=s["ami.user"],
                                          password=s.require("ami.password")))


def _agent(session, name: str) -> Agent:  # type: ignore[no-untyped-def]
    found = session.scalar(select(Agent).where(Agent.name == name))
    if found is None:
        raise click.ClickException(f"agent {name!r} unknown: dialer agent add {name} --endpoint PJSIP/... --queue ...")
    return found


@agent.command("add")
@click.argument("name")
@click.option("--endpoint", required=True, help="The agent's softphone, e.g. PJSIP/agent1.")
@click.option("--queue", "queue_name", required=True, help="The queue the agent works.")
@click.pass_context
@user_errors
def add(ctx: click.Context, name: str, endpoint: str, queue_name: str) -> None:
    """Register an agent. Example: dialer agent add alice --endpoint PJSIP/agent1 --queue collections"""
    with open_app(ctx) as app, transaction(app.sessions) as session:
        queue = session.scalar(select(Queue).where(Queue.name == queue_name))
        if queue is None:
            queue = Queue(name=queue_name)
            session.add(queue)
            session.flush()
        existing = session.scalar(select(Agent).where(Agent.name == name))
        if existing is None:
            session.add(Agent(name=name, endpoint=endpoint, queue_id=queue.id))
        else:
            existing.endpoint, existing.queue_id = endpoint, queue.id
    click.echo(f"agent {name} ({endpoint}) works queue {queue_name}")


def _desk_command(command_name: str, doc: str, operation: str) -> click.Command:
    @click.command(command_name, help=doc)
    @click.argument("name")
    @click.option("--reason", default="", help="Pause reason (shown in queue reports).")
    @click.pass_context
    @user_errors
    def command(ctx: click.Context, name: str, reason: str) -> None:
        with open_app(ctx) as app:
            with app.sessions() as session:
                member = _agent(session, name)
                queue = session.get(Queue, member.queue_id).name if member.queue_id else None
                endpoint = member.endpoint
            if queue is None:
                raise click.ClickException(f"agent {name} has no queue")

            async def act() -> None:
                async with _desk(app) as desk:
                    if operation == "login":
                        await desk.login(queue, endpoint, name)
                    elif operation == "logout":
                        await desk.logout(queue, endpoint)
                    else:
                        await desk.pause(endpoint, paused=operation == "pause", reason=reason)

            try:
                asyncio.run(act())
            except AsteriskError as exc:
                raise click.ClickException(str(exc)) from None
            with transaction(app.sessions) as session:
                session.add(AuditEntry(actor="cli", kind=f"agent_{operation}", detail={"agent": name, "queue": queue}))
        click.echo(f"agent {name}: {operation} done")

    return command


for _name, _doc, _op in (("login", "Log an agent into their queue.\n\nExample: dialer agent login alice", "login"),
                         ("logout", "Take an agent out of their queue.\n\nExample: dialer agent logout alice", "logout"),
                         ("pause", "Pause an agent (no calls offered).\n\nExample: dialer agent pause alice", "pause"),
                         ("resume", "Resume a paused agent.\n\nExample: dialer agent resume alice", "resume")):
    agent.add_command(_desk_command(_name, _doc, _op))


@agent.command("list")
@click.option("--queue", "queue_name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def list_(ctx: click.Context, queue_name: str | None, as_json: bool) -> None:
    """Queue members as Asterisk sees them now.

    Example: dialer agent list --queue collections --json
    """
    with open_app(ctx) as app:
        async def read():  # type: ignore[no-untyped-def]
            async with _desk(app) as desk:
                return await desk.members(queue_name)

        try:
            members = asyncio.run(read())
        except AsteriskError as exc:
            raise click.ClickException(str(exc)) from None
    rows = [{"queue": m.queue, "interface": m.interface, "name": m.name, "paused": m.paused, "status": m.status,
             "calls_taken": m.calls_taken} for m in members]
    if as_json:
        print_json(rows)
    else:
        print_table("queue members", ["queue", "agent", "interface", "paused", "device", "calls"],
                    [(r["queue"], r["name"], r["interface"], r["paused"], r["status"], r["calls_taken"]) for r in rows])
