"""`dialer agent …`: register agents, log them into queues, pause and resume them (AMI), and the
preview/manual desk (`next`, `call`, `skip`, `screen`) through the agents' API of `dialer run`."""

from __future__ import annotations

import asyncio

import click
from sqlalchemy import select

from dialer.agents.client import AgentApiClient, ApiError
from dialer.commands.common import open_app, print_json, print_mapping, print_table, user_errors
from dialer.db.models import Agent, AuditEntry, Queue
from dialer.db.session import transaction
from dialer.telephony.ami import AmiSettings
from dialer.telephony.desk import AgentDesk
from dialer.telephony.interface import AsteriskError


@click.group("agent")
def agent() -> None:
    """Agents: add, login, logout, pause, resume, list (softphones can use *51-*54 instead);
    next, call, skip, screen for preview and manual calls (needs `dialer run` with agents.api_port)."""


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


# ---- preview and manual calls: thin clients of the agents' API served by `dialer run` -------------

def _api(ctx: click.Context) -> AgentApiClient:
    with open_app(ctx, require_schema=False) as app:
        s = app.settings
        if not s["agents.api_port"]:
            raise click.ClickException("agents.api_port is 0: set DIALER_AGENTS_API_PORT for `dialer run` and here")
        return AgentApiClient(host=s["agents.api_host"], port=s["agents.api_port"],
                              token=s.require("agents.api_token"))


def _ask(call):  # type: ignore[no-untyped-def]
    try:
        return call()
    except ApiError as exc:
        detail = ", ".join(f"{k}={v}" for k, v in exc.details.items() if v is not None)
        raise click.ClickException(f"{exc}{f' ({detail})' if detail else ''}") from None


@agent.command("next")
@click.argument("name")
@click.option("--campaign", help="Campaign (default: the running preview/manual campaign of the agent's queue).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def next_(ctx: click.Context, name: str, campaign: str | None, as_json: bool) -> None:
    """Preview: the next contact for the agent, held for them. Accept with `call --contact`, or `skip`.

    Example: dialer agent next ann --campaign preview-nov"""
    view = _ask(lambda: _api(ctx).next(name, campaign=campaign))
    if as_json:
        print_json(view)
        return
    account, debtor = view["account"], view["debtor"]
    print_mapping(f"{view['campaign']}: next for {name} (held until {view['held_until']})", {
        "debtor": f"{debtor['name']} ({debtor['ref']})", "account": f"{account['ref']} (id {account['id']})",
        "amount due": f"{account['amount_due']} {account['currency']}", "days past due": account["days_past_due"],
        "stage": account["stage"] or "", "open promise": view["open_promise"] or ""})
    print_table("numbers", ["contact", "number", "owner", "relation"],
                [(c["contact_id"], c["number"], c["owner"], c["relation"]) for c in view["contacts"]])
    print_table("recent calls", ["at", "number", "outcome", "conversation"],
                [(a["at"], a["number"], a["outcome"], a["conversation"]) for a in view["recent_attempts"]])


@agent.command("call")
@click.argument("name")
@click.option("--contact", "contact_id", type=int, help="Contact id (from `dialer agent next`).")
@click.option("--number", help="Manual: a number of an open account of the campaign.")
@click.option("--campaign")
@click.pass_context
@user_errors
def call(ctx: click.Context, name: str, contact_id: int | None, number: str | None, campaign: str | None) -> None:
    """Call through the compliance gate: the agent's softphone rings first, then the contact.

    Examples: dialer agent call ann --contact 1234   |   dialer agent call ann --number +8613800138000"""
    if (contact_id is None) == (number is None):
        raise click.UsageError("give --contact ID or --number N")
    started = _ask(lambda: _api(ctx).call(name, contact_id=contact_id, number=number, campaign=campaign))
    click.echo(f"attempt {started['attempt_id']}: ringing {name}'s phone, then contact {started['contact_id']} "
               f"({started['campaign']})")


@agent.command("skip")
@click.argument("name")
@click.option("--account", "account_id", type=int, required=True, help="Account id (from `dialer agent next`).")
@click.option("--why", default="")
@click.pass_context
@user_errors
def skip(ctx: click.Context, name: str, account_id: int, why: str) -> None:
    """Preview: pass on the held account (not proposed again for agents.skip_defer_minutes).

    Example: dialer agent skip ann --account 77 --why "in hospital, per notes"
    """
    _ask(lambda: _api(ctx).skip(name, account_id=account_id, why=why))
    click.echo(f"account {account_id} skipped")


@agent.command("screen")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def screen(ctx: click.Context, name: str, as_json: bool) -> None:
    """The screen-pop: the call the agent is on, the debtor, and the bot's hand-off context.

    Example: dialer agent screen ann"""
    view = _ask(lambda: _api(ctx).screen(name))
    if as_json:
        print_json(view)
        return
    if not view.get("on_call"):
        click.echo(f"{name} is not on a call")
        return
    call_, account, debtor = view["call"], view["account"], view["debtor"]
    print_mapping(f"{name}: attempt {call_['attempt_id']} ({call_['campaign']})", {
        "state": f"{call_['state']} for {call_['seconds_in_state']} s", "number": call_["number"],
        "debtor": f"{debtor['name']} ({debtor['ref']})",
        "amount due": f"{account['amount_due']} {account['currency']}", "days past due": account["days_past_due"],
        "open promise": view["open_promise"] or ""})
    handoff = view["handoff"]
    if handoff.get("from_bot"):
        print_mapping("from the bot", {k: v for k, v in handoff.items() if k != "from_bot"})
