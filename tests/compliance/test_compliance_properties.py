"""Property tests: the gate never allows a dial that breaks a rule, its next instants are exact,
and the independent checker agrees with it in both directions."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance_sim import Contact, DialLoop, Step
from dialer.compliance.checker import check
from dialer.compliance.facts import WindowAgreement
from dialer.compliance.profiles import PolicyProfile, builtin_profile
from dialer.compliance.rules import DenyReason, evaluate, rule_denial
from dialer.domain import CampaignMode, ContactOwner, Outcome

ZONES = ("Asia/Shanghai", "America/Indiana/Indianapolis", "America/Phoenix", "Asia/Kolkata",
         "Asia/Kathmandu", "Australia/Lord_Howe", "Europe/London", "America/New_York",
         "America/Los_Angeles", "Pacific/Chatham", "America/St_Johns")
# Instants near DST switches of the zones above (US, EU, Lord Howe, Chatham, Newfoundland).
EDGES = tuple(datetime(*d, tzinfo=timezone.utc) for d in (
    (2026, 3, 8, 6), (2026, 3, 29, 0), (2026, 4, 5, 14), (2026, 10, 4, 15), (2026, 10, 25, 0),
    (2026, 11, 1, 6), (2026, 9, 27, 13), (2026, 7, 1, 0)))
WAITS = st.one_of(st.sampled_from([1, 59, 299, 300, 301, 1800, 3600, 4 * 3600, 43_200, 86_400, 3 * 86_400]),
                  st.integers(0, 2 * 86_400))
PROFILES = {name: builtin_profile(name) for name in ("cn", "us", "uk")}

clock_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def contacts(draw: st.DrawFn) -> list[Contact]:
    n = draw(st.integers(1, 3))
    out = []
    for i in range(n):
        zones = tuple(draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=2, unique=True)))
        agreements = ()
        if draw(st.booleans()) and i == 0:
            agreements = (WindowAgreement(draw(clock_times), draw(clock_times),
                                          valid_from=datetime(2026, 1, 1, tzinfo=timezone.utc)),)
        inconvenient = ((draw(clock_times), draw(clock_times)),) if draw(st.integers(0, 3)) == 0 else ()
        owner = ContactOwner.DEBTOR if i == 0 or draw(st.booleans()) else ContactOwner.THIRD_PARTY
        out.append(Contact(10 + i, f"+8613800000{i:03d}", owner, zones, agreements, inconvenient))
    return out


steps = st.builds(
    Step,
    wait_s=WAITS, contact=st.integers(0, 2), account=st.integers(0, 1),
    outcome=st.sampled_from([o for o in Outcome if o is not Outcome.CANCELLED] + [Outcome.HUMAN] * 4),
    duration_s=st.sampled_from([5, 30, 120, 600]),
    conversation=st.booleans(), jump_to_next_allowed=st.booleans(),
    mode=st.sampled_from([CampaignMode.PREDICTIVE, CampaignMode.PROGRESSIVE]),
    consent=st.booleans() | st.just(False),
)


small_caps = st.sampled_from([1, 2, 3, 5, 7, None])


@st.composite
def profiles(draw: st.DrawFn, near: datetime) -> PolicyProfile:
    """A built-in profile as is, or with random small caps and lockouts so that short histories
    reach every rule (a campaign override goes through the same validator)."""
    base = PROFILES[draw(st.sampled_from(sorted(PROFILES)))]
    if draw(st.integers(0, 2)) == 0:
        return base
    holiday = (near + timedelta(days=draw(st.integers(-1, 3)))).date().isoformat()
    overrides = {
        "caps": {field: draw(small_caps) for field in (
            "conversations_per_debtor_day", "attempts_per_number_day", "attempts_per_debt_7d",
            "conversation_quiet_days", "campaign_attempts", "lifetime_attempts")}
        | {"debt_window_days": draw(st.sampled_from([7, 2, 10]))}
        | {"unanswered_min_gap_s": draw(st.none() | st.sampled_from([60, 300])),
           "consent_exclusion_days": draw(st.none() | st.just(7))},
        "lockouts": {"abandoned_redial_h": draw(st.none() | st.sampled_from([2, 72])),
                     "machine_same_day": draw(st.booleans())},
        "third_party": {"locked_until_unreachable": draw(st.booleans())},
        "window": {"holidays": {holiday: draw(st.none() | st.just(["10:00", "12:00"]))}},
    }
    return base.with_overrides(overrides, label=f"{base.name}-random")


@st.composite
def loops(draw: st.DrawFn) -> DialLoop:
    start = draw(st.sampled_from(EDGES)) + timedelta(seconds=draw(st.integers(-3 * 86_400, 3 * 86_400)))
    profile = draw(profiles(start))
    unreachable = start - timedelta(days=draw(st.integers(0, 4))) if draw(st.booleans()) else None
    budget = start + timedelta(hours=draw(st.integers(1, 48))) if draw(st.integers(0, 4)) == 0 else None
    return DialLoop(profile, draw(contacts()), start, unreachable_since=unreachable, budget_restored_at=budget)


FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(loop=loops(), plan=st.lists(steps, min_size=5, max_size=40))
def test_given_random_histories_when_dialing_only_on_allow_then_the_checker_finds_no_violation(
        loop: DialLoop, plan: list[Step]) -> None:
    loop.run(plan)
    assert check(loop.attempts, loop.profile) == []


@FAST
@given(loop=loops(), plan=st.lists(steps, min_size=5, max_size=30))
def test_given_any_denial_then_each_rule_passes_at_its_next_instant_and_denies_one_second_before(
        loop: DialLoop, plan: list[Step]) -> None:
    loop.run(plan)
    for request, now, decision in loop.decisions:
        for denial in decision.denials:
            if denial.next_allowed_at is None or not denial.exact:
                continue
            assert denial.next_allowed_at > now
            assert rule_denial(denial.reason, request, loop.profile, denial.next_allowed_at) is None, denial
            before = denial.next_allowed_at - timedelta(seconds=1)
            if before >= now:
                assert rule_denial(denial.reason, request, loop.profile, before) is not None, denial


@FAST
@given(loop=loops(), plan=st.lists(steps, min_size=5, max_size=30))
def test_given_any_denial_when_asking_again_at_next_allowed_then_the_same_request_is_allowed(
        loop: DialLoop, plan: list[Step]) -> None:
    loop.run(plan)
    for request, now, decision in loop.decisions:
        if decision.allowed or decision.next_allowed_at is None:
            continue
        if any(not d.exact for d in decision.denials):
            continue    # a call in flight: the instant is a re-check hint, not a promise
        assert evaluate(request, loop.profile, decision.next_allowed_at).allowed
        before = decision.next_allowed_at - timedelta(seconds=1)
        if before >= now:
            assert not evaluate(request, loop.profile, before).allowed


# The checker names the window rule once; the gate says why the window was closed.
_SAME_RULE = {"outside_window": {"outside_window", "holiday", "inconvenient_time"}}


@FAST
@given(loop=loops(), plan=st.lists(steps, min_size=5, max_size=30))
def test_given_dials_that_ignore_the_gate_then_every_checker_violation_was_a_gate_denial(
        loop: DialLoop, plan: list[Step]) -> None:
    loop.run(plan, obey_gate=False)
    decisions = {i + 1: d for i, (_, _, d) in enumerate(loop.decisions)}
    for violation in check(loop.attempts, loop.profile):
        decision = decisions[violation.attempt_id]
        gate_reasons = {d.reason.value for d in decision.denials}
        expected = _SAME_RULE.get(violation.rule, {violation.rule}) | {DenyReason.CALL_IN_FLIGHT.value}
        assert not decision.allowed, violation
        assert gate_reasons & expected, (violation, gate_reasons)
