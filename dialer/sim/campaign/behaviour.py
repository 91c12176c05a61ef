"""How simulated debtors behave: a seeded, documented model (docs/campaign-simulation.md).

Every random draw is keyed by (seed, what, whose id, how many times before), never by the order
in which the simulation happens to ask. The same contact therefore has the same traits in every
run of a seed, and its n-th call resolves from the same uniform number whatever hour the strategy
chose for it: the orders in the lift study are compared on common random numbers, and the only
thing that differs between them is what the strategy did.

Traits per phone number: how reachable its owner is, a daily rhythm (the local hours they pick
up), how often a debtor's own number is answered by someone else, voicemail and busy shares, and
a small chance the number does not exist. Traits per account: a propensity to promise and a
reliability in keeping promises. Stage and amount move both: promises get rarer and less reliable
as days past due grow (seed 000: M1 debtors mostly pay, later stages far less), and large debts are
promised and kept less often than small ones.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time


class Rhythm(str, enum.Enum):
    """When in the local day a person picks up (multipliers by local hour, 08–21)."""

    HOME = "home"          # at home in the day: mornings and afternoons
    WORKER = "worker"      # busy 09–17: before work, lunch, evenings
    EVENING = "evening"    # only really free after 18:00
    FLAT = "flat"


RHYTHMS: Mapping[Rhythm, Mapping[int, float]] = {
    Rhythm.HOME: {8: 0.8, 9: 1.3, 10: 1.4, 11: 1.3, 12: 0.9, 13: 0.9, 14: 1.3, 15: 1.3, 16: 1.2,
                  17: 0.9, 18: 0.7, 19: 0.7, 20: 0.6, 21: 0.5},
    Rhythm.WORKER: {8: 1.4, 9: 0.4, 10: 0.3, 11: 0.4, 12: 1.5, 13: 0.9, 14: 0.3, 15: 0.3, 16: 0.4,
                    17: 0.7, 18: 1.6, 19: 1.8, 20: 1.6, 21: 1.0},
    Rhythm.EVENING: {8: 0.3, 9: 0.3, 10: 0.3, 11: 0.3, 12: 0.6, 13: 0.4, 14: 0.3, 15: 0.3, 16: 0.4,
                     17: 0.6, 18: 1.5, 19: 2.2, 20: 2.4, 21: 2.0},
    Rhythm.FLAT: {h: 1.0 for h in range(8, 22)},
}
# The hour a person of each rhythm names when they ask to be called back.
CALLBACK_HOUR: Mapping[Rhythm, time] = {Rhythm.HOME: time(10), Rhythm.WORKER: time(18, 30),
                                        Rhythm.EVENING: time(19, 30), Rhythm.FLAT: time(16)}


@dataclass(frozen=True)
class BehaviourModel:
    """The model's parameters; every default is documented in docs/campaign-simulation.md."""

    reach_mean: float = 0.30                 # mean live-answer chance of a debtor's number (Beta)
    reach_strength: float = 4.0              # Beta concentration: lower = more spread between people
    third_party_reach: float = 0.45          # a relative's or employer's number
    rhythm_shares: Mapping[Rhythm, float] = field(default_factory=lambda: {
        Rhythm.HOME: 0.25, Rhythm.WORKER: 0.40, Rhythm.EVENING: 0.20, Rhythm.FLAT: 0.15})
    machine_share: float = 0.25              # of unanswered calls, the voicemail's
    busy_share: float = 0.08                 # of unanswered calls, busy
    invalid_number: float = 0.02             # numbers that do not exist (Q.850 cause 1)
    someone_else_answers: float = 0.12       # a debtor's number answered by family
    wrong_number: float = 0.005              # the number is not the debtor's at all
    verified: float = 0.92                   # right party passes the identity check
    # P(promise | verified right-party conversation) by stage, before the person and amount factors
    promise_by_stage: Mapping[str, float] = field(default_factory=lambda: {
        "reminder": 0.45, "willingness": 0.35, "escalation": 0.25, "final": 0.15})
    keep_by_stage: Mapping[str, float] = field(default_factory=lambda: {
        "reminder": 0.80, "willingness": 0.65, "escalation": 0.50, "final": 0.35})
    default_promise: float = 0.25
    default_keep: float = 0.5
    amount_elasticity: float = 0.25          # (amount / median)^-e scales promise and keep chances
    propensity_strength: float = 3.0         # Beta spread of a debtor's willingness around 1
    # Of conversations without a promise: what the debtor says instead (the rest: "reminded")
    refuse: float = 0.25
    callback: float = 0.15                   # "call me at 18:30"
    hardship: float = 0.04
    dispute: float = 0.02
    opt_out: float = 0.01
    full_amount_promise: float = 0.6         # else the minimum payment (when the account has one)
    promise_days_max: int = 3                # promised date: today + 0..3 days
    self_cure_per_day: float = 0.01          # pays in full without being reached, per day
    ring_answer_s: tuple[float, float] = (4.0, 18.0)
    talk_rpc_s: tuple[float, float] = (60.0, 200.0)
    talk_other_s: tuple[float, float] = (15.0, 45.0)


class Draws:
    """Uniform numbers keyed by what they decide; independent of the order they are asked for."""

    def __init__(self, seed: int) -> None:
        self._seed = seed

    def rng(self, *key: object) -> random.Random:
        return random.Random(f"{self._seed}|" + "|".join(str(k) for k in key))


@dataclass(frozen=True)
class NumberTraits:
    reach: float                  # base live-answer chance
    rhythm: Rhythm
    invalid: bool
    someone_else: float           # chance a live answer is not the debtor (own numbers)
    wrong_number: bool            # the number is someone else's entirely

    def answer_chance(self, local_hour: int) -> float:
        return min(0.95, self.reach * RHYTHMS[self.rhythm].get(local_hour, 0.2))


@dataclass(frozen=True)
class AccountTraits:
    propensity: float             # multiplies P(promise); mean 1
    reliability: float            # multiplies P(keep); mean 1


class Population:
    """Traits drawn lazily and cached; the same seed gives the same people."""

    def __init__(self, model: BehaviourModel, seed: int, *, median_amount_minor: int) -> None:
        self.model = model
        self.draws = Draws(seed)
        self._median = max(1, median_amount_minor)
        self._numbers: dict[int, NumberTraits] = {}
        self._accounts: dict[int, AccountTraits] = {}

    def number(self, contact_id: int, *, third_party: bool) -> NumberTraits:
        if contact_id not in self._numbers:
            m, r = self.model, self.draws.rng("number", contact_id)
            mean = m.third_party_reach if third_party else m.reach_mean
            reach = r.betavariate(mean * m.reach_strength, (1 - mean) * m.reach_strength)
            rhythms, weights = zip(*m.rhythm_shares.items())
            self._numbers[contact_id] = NumberTraits(
                reach=reach, rhythm=r.choices(rhythms, weights)[0], invalid=r.random() < m.invalid_number,
                someone_else=0.0 if third_party else m.someone_else_answers,
                wrong_number=not third_party and r.random() < m.wrong_number)
        return self._numbers[contact_id]

    def account(self, account_id: int) -> AccountTraits:
        if account_id not in self._accounts:
            m, r = self.model, self.draws.rng("account", account_id)
            s = m.propensity_strength
            # Beta(s, s) has mean 0.5: doubled, a factor with mean 1 in (0, 2)
            self._accounts[account_id] = AccountTraits(2 * r.betavariate(s, s), 2 * r.betavariate(s, s))
        return self._accounts[account_id]

    def amount_factor(self, outstanding_minor: int) -> float:
        ratio = max(outstanding_minor, 1) / self._median
        return min(1.5, max(0.5, ratio ** -self.model.amount_elasticity))

    def promise_chance(self, account_id: int, stage: str, outstanding_minor: int) -> float:
        base = self.model.promise_by_stage.get(stage, self.model.default_promise)
        return min(0.95, base * self.account(account_id).propensity * self.amount_factor(outstanding_minor))

    def keep_chance(self, account_id: int, stage: str, outstanding_minor: int) -> float:
        base = self.model.keep_by_stage.get(stage, self.model.default_keep)
        return min(0.98, base * self.account(account_id).reliability * self.amount_factor(outstanding_minor))
