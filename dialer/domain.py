"""Words of the trade shared by every layer: enumerations stored by value in the database."""

from __future__ import annotations

import enum


class CampaignMode(str, enum.Enum):
    PREDICTIVE = "predictive"
    PROGRESSIVE = "progressive"
    POWER = "power"
    PREVIEW = "preview"
    MANUAL = "manual"
    BOT_ONLY = "bot_only"
    BLENDED = "blended"

    @property
    def live_agent_guaranteed(self) -> bool:
        """Modes in which an agent is free before the dial, so no answered call can be abandoned."""
        return self in (CampaignMode.PROGRESSIVE, CampaignMode.PREVIEW, CampaignMode.MANUAL)


class CampaignState(str, enum.Enum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"


class ContactOwner(str, enum.Enum):
    DEBTOR = "debtor"
    THIRD_PARTY = "third_party"


class AttemptState(str, enum.Enum):
    """Call lifecycle (see dialer/telephony/lifecycle.py); stored on the attempt row."""

    DECIDED = "decided"          # gate allowed, row written, not yet sent to Asterisk
    ORIGINATING = "originating"
    RINGING = "ringing"
    ANSWERED = "answered"
    ROUTED = "routed"
    CONNECTED = "connected"
    ENDED = "ended"


class Outcome(str, enum.Enum):
    HUMAN = "human"              # answered by a person
    MACHINE = "machine"          # answering machine / voicemail (AMD)
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    FAILED = "failed"            # invalid number, network failure, originate error
    CONGESTION = "congestion"
    ABANDONED = "abandoned"      # live answer not connected to a live person within 2 s
    CANCELLED = "cancelled"      # never left the dialer (shutdown before originate)

    @property
    def unanswered(self) -> bool:
        return self in (Outcome.BUSY, Outcome.NO_ANSWER, Outcome.REJECTED, Outcome.FAILED,
                        Outcome.CONGESTION)


class Route(str, enum.Enum):
    BOT = "bot"
    QUEUE = "queue"
    SAFE_HARBOUR = "safe_harbour"   # identification + opt-out message (2-second rule)
    NONE = "none"


class Party(str, enum.Enum):
    """Who the conversation was with."""

    DEBTOR = "debtor"            # right-party contact (RPC), identity verified
    THIRD_PARTY = "third_party"
    WRONG_NUMBER = "wrong_number"
    UNKNOWN = "unknown"


class PromiseStatus(str, enum.Enum):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"


class SmsStatus(str, enum.Enum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class ConsentKind(str, enum.Enum):
    WIDEN_WINDOW = "widen_window"    # debtor agreed to be called outside the quiet hours
    DIRECT_CALL = "direct_call"      # prior consent to a call (us 1006.14(b)(3) exclusion)
    AUTODIALER = "autodialer"        # consent to automated / artificial-voice calls
    INCONVENIENT_TIME = "inconvenient_time"  # consumer-named time not to call (Reg F 1006.6(b))
    REVOKED = "revoked"
