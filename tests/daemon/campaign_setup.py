"""A campaign whose far ends are played by the `[demo-carrier]` dialplan: the last digit of each
number decides the callee's behaviour (see asterisk_conf/extensions.conf)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dialer.db.models import Campaign
from dialer.db.session import transaction
from dialer.domain import CampaignMode, CampaignState, Outcome
from tests.gate.helpers import make_debtor

# Last digit → what the dialler must record. No bot listens in these tests, so an answered call
# hears only the identification message: abandoned, by every profile's definition. A callee who
# answers and stays silent is a machine to Asterisk's AMD (INITIALSILENCE), as on a real line.
EXPECTED = {0: Outcome.ABANDONED, 1: Outcome.ABANDONED, 2: Outcome.ABANDONED, 3: Outcome.ABANDONED,
            4: Outcome.ABANDONED, 5: Outcome.BUSY, 6: Outcome.NO_ANSWER, 7: Outcome.MACHINE,
            8: Outcome.REJECTED, 9: Outcome.MACHINE}


def zone_at_local_hour(hours: range) -> str:
    """An IANA zone (Etc/GMT±N) whose local hour is inside `hours` right now."""
    now = datetime.now(timezone.utc)
    for offset in range(-12, 15):
        if (now.hour + offset) % 24 in hours and (now.hour + offset) % 24 + 1 in hours:
            # Etc/GMT signs are inverted: Etc/GMT-8 is UTC+8.
            return "Etc/GMT" + (f"{-offset:+d}" if offset else "")
    raise AssertionError("no zone found")


def add_running_campaign(sessions: sessionmaker[Session], *, name: str, channel_limit: int = 30,
                         calls_per_second: float = 10.0, ring_s: int = 15, **columns: Any) -> int:
    """A running bot-only campaign on the `cn` profile (other `columns`: language, ...); its id."""
    with transaction(sessions) as session:
        campaign = Campaign(name=name, profile="cn", mode=CampaignMode.BOT_ONLY, state=CampaignState.RUNNING,
                            channel_limit=channel_limit, calls_per_second=calls_per_second,
                            # The shortest ring the profile allows keeps the no-answer calls short.
                            profile_overrides={"ring": {"default_s": ring_s}}, strategy={}, **columns)
        session.add(campaign)
        session.flush()
        return campaign.id


def make_far_end_campaign(sessions: sessionmaker[Session], *, accounts: int, zone: str,
                          name: str = "e2e", digits: tuple[int, ...] | None = None) -> tuple[int, dict[str, int]]:
    """`accounts` debtors with one number each; returns the campaign id and {e164: last digit}.

    `digits`: only far ends with these last digits, in turn (e.g. (5, 6, 8): nobody answers, so
    no call is abandoned and the abandonment budget never stops a long run)."""
    campaign_id = add_running_campaign(sessions, name=name)
    numbers = {}
    for i in range(accounts):
        if digits is None:
            e164, digit = f"+86138{i:06d}", i % 10
        else:
            digit = digits[i % len(digits)]
            e164 = f"+86137{i:05d}{digit}"
        make_debtor(sessions, campaign_id, ref=f"{name}-{i}", zones=[zone], numbers=[e164])
        numbers[e164] = digit
    return campaign_id, numbers
