"""A campaign's strategy from YAML or a dict, validated once, with errors that name the key.

    broken_promise_script: broken_promise
    retry:                       # campaign-wide overrides of the default disposition rules
      no_answer: {retry_after_minutes: 90, max_attempts: 5}
    stages:
      - name: reminder
        dpd: [1, 3]              # inclusive; [9, null] means 9 and more
        amount_minor: [0, null]  # optional outstanding-amount band, minor units
        script: reminder
        handler: bot             # bot | agent
        voice: {voices: [female, male], alternate_on_redial: true}
        sms: [first_call_unpaid]
        retry:                   # this stage only, on top of the campaign rules
          max_attempts_in_stage: 8
          refused: {retry_after_minutes: 1440, max_attempts: 1, when_exhausted: next_stage}

Without `stages`, the default ladder of `dialer.strategy.stages.default_stage_plan` is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import yaml

from dialer.strategy.retry import Disposition, RetryRule, RetryRules, WhenExhausted
from dialer.strategy.stages import Handler, Stage, StagePlan, VoicePolicy, default_stage_plan


class StrategyConfigError(ValueError):
    """A bad campaign strategy; `key` is the dotted path of the offending setting."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


_RULE_FIELDS = {f.name for f in fields(RetryRule)}
_STAGE_KEYS = {"name", "dpd", "amount_minor", "script", "handler", "voice", "sms", "retry"}


def load_strategy_yaml(text: str, *, known_sms: frozenset[str] | None = None) -> StagePlan:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise StrategyConfigError("<yaml>", f"not valid YAML: {error}") from error
    return load_strategy(data if data is not None else {}, known_sms=known_sms)


def load_strategy(data: Any, *, known_sms: frozenset[str] | None = None) -> StagePlan:
    """Build a StagePlan; `known_sms` (trigger and template names) lets SMS references be checked.

    Stage-level `sms` lists triggers; a rule's `sms` names a template. The shipped catalogue uses
    the same names for both (`first_call_unpaid`, `suspension_notice`, `legal_reminder`).
    """
    root = _mapping(data, "<strategy>")
    _reject_unknown(root, {"stages", "retry", "broken_promise_script"}, "")
    base = default_stage_plan()
    campaign_retry = _retry_rules(root.get("retry", {}), "retry", base.stages[0].retry)
    broken = _text(root.get("broken_promise_script", base.broken_promise_script),
                   "broken_promise_script")
    if "stages" not in root:
        stages = tuple(Stage(s.name, s.min_dpd, s.max_dpd, s.script, s.handler, s.voice,
                             s.sms_triggers, campaign_retry) for s in base.stages)
    else:
        raw = root["stages"]
        if not isinstance(raw, list) or not raw:
            raise StrategyConfigError("stages", "expected a non-empty list of stages")
        stages = tuple(_stage(item, f"stages[{i}]", campaign_retry) for i, item in enumerate(raw))
    _check_references(stages, known_sms)
    try:
        return StagePlan(stages=stages, broken_promise_script=broken)
    except ValueError as error:
        raise StrategyConfigError("stages", str(error)) from error


def _stage(item: Any, key: str, campaign_retry: RetryRules) -> Stage:
    data = _mapping(item, key)
    _reject_unknown(data, _STAGE_KEYS, key)
    for required in ("name", "dpd", "script"):
        if required not in data:
            raise StrategyConfigError(f"{key}.{required}", "missing")
    min_dpd, max_dpd = _band(data["dpd"], f"{key}.dpd", lowest=1)
    min_amount, max_amount = _band(data.get("amount_minor", [0, None]), f"{key}.amount_minor",
                                   lowest=0)
    handler_value = data.get("handler", "bot")
    try:
        handler = Handler(handler_value)
    except ValueError as error:
        raise StrategyConfigError(f"{key}.handler", f"expected bot or agent, got {handler_value!r}"
                                  ) from error
    sms = data.get("sms", [])
    if not isinstance(sms, list) or not all(isinstance(s, str) and s for s in sms):
        raise StrategyConfigError(f"{key}.sms", "expected a list of trigger names")
    return Stage(name=_text(data["name"], f"{key}.name"), min_dpd=min_dpd, max_dpd=max_dpd,
                 script=_text(data["script"], f"{key}.script"), handler=handler,
                 voice=_voice(data.get("voice", {}), f"{key}.voice"), sms_triggers=tuple(sms),
                 retry=_retry_rules(data.get("retry", {}), f"{key}.retry", campaign_retry),
                 min_amount_minor=min_amount or 0, max_amount_minor=max_amount)


def _band(value: Any, key: str, *, lowest: int) -> tuple[int, int | None]:
    if not isinstance(value, list) or len(value) != 2:
        raise StrategyConfigError(key, f"expected [min, max] (max may be null), got {value!r}")
    low, high = value
    if not _is_int(low) or low < lowest:
        raise StrategyConfigError(key, f"min must be an integer >= {lowest}, got {low!r}")
    if high is not None and (not _is_int(high) or high < low):
        raise StrategyConfigError(key, f"max must be null or an integer >= {low}, got {high!r}")
    return low, high


def _voice(value: Any, key: str) -> VoicePolicy:
    data = _mapping(value, key)
    _reject_unknown(data, {"voices", "alternate_on_redial"}, key)
    voices = data.get("voices", ["female"])
    if not isinstance(voices, list) or not voices or not all(isinstance(v, str) for v in voices):
        raise StrategyConfigError(f"{key}.voices", "expected a non-empty list of voice names")
    alternate = data.get("alternate_on_redial", False)
    if not isinstance(alternate, bool):
        raise StrategyConfigError(f"{key}.alternate_on_redial", "expected true or false")
    return VoicePolicy(voices=tuple(voices), alternate_on_redial=alternate)


def _retry_rules(value: Any, key: str, base: RetryRules) -> RetryRules:
    data = _mapping(value, key)
    limit = data.get("max_attempts_in_stage")
    if limit is not None and (not _is_int(limit) or limit < 1):
        raise StrategyConfigError(f"{key}.max_attempts_in_stage", "expected an integer >= 1")
    changes: dict[Disposition, RetryRule] = {}
    for name, rule in data.items():
        if name == "max_attempts_in_stage":
            continue
        try:
            disposition = Disposition(name)
        except ValueError as error:
            known = ", ".join(d.value for d in Disposition)
            raise StrategyConfigError(f"{key}.{name}", f"unknown disposition (known: {known})"
                                      ) from error
        changes[disposition] = _rule(rule, f"{key}.{name}")
    return base.overridden(changes, max_attempts_in_stage=limit)


def _rule(value: Any, key: str) -> RetryRule:
    data = _mapping(value, key)
    _reject_unknown(data, _RULE_FIELDS, key)
    for name, lowest in (("retry_after_minutes", 0), ("max_attempts", 1)):
        number = data.get(name)
        if number is not None and (not _is_int(number) or number < lowest):
            raise StrategyConfigError(f"{key}.{name}",
                                      f"expected null or an integer >= {lowest}, got {number!r}")
    for name in ("handoff", "close"):
        if not isinstance(data.get(name, False), bool):
            raise StrategyConfigError(f"{key}.{name}", "expected true or false")
    for name in ("move_to_stage", "move_to_campaign", "sms"):
        if data.get(name) is not None:
            _text(data[name], f"{key}.{name}")
    when = data.get("when_exhausted", "close")
    try:
        exhausted = WhenExhausted(when)
    except ValueError as error:
        raise StrategyConfigError(f"{key}.when_exhausted",
                                  f"expected close, next_stage or handoff, got {when!r}") from error
    return RetryRule(**{**data, "when_exhausted": exhausted})


def _check_references(stages: tuple[Stage, ...], known_sms: frozenset[str] | None) -> None:
    names = {stage.name for stage in stages}
    for i, stage in enumerate(stages):
        for disposition, rule in stage.retry.by_disposition.items():
            if rule.move_to_stage is not None and rule.move_to_stage not in names:
                raise StrategyConfigError(f"stages[{i}].retry.{disposition.value}.move_to_stage",
                                          f"no stage named {rule.move_to_stage!r}")
            if known_sms is not None and rule.sms is not None and rule.sms not in known_sms:
                raise StrategyConfigError(f"stages[{i}].retry.{disposition.value}.sms",
                                          f"unknown SMS template {rule.sms!r}")
        if known_sms is not None:
            for trigger in stage.sms_triggers:
                if trigger not in known_sms:
                    raise StrategyConfigError(f"stages[{i}].sms",
                                              f"unknown SMS trigger {trigger!r}")


def _mapping(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise StrategyConfigError(key, f"expected a mapping, got {type(value).__name__}")
    return value


def _reject_unknown(data: Mapping[str, Any], allowed: set[str], key: str) -> None:
    # a typo such as `max_atempts` must fail loudly, not fall back to a default silently
    for name in data:
        if name not in allowed:
            where = f"{key}.{name}" if key else str(name)
            allowed_list = ", ".join(sorted(allowed))
            raise StrategyConfigError(where, f"unknown setting (allowed: {allowed_list})")


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise StrategyConfigError(key, "expected a non-empty string")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
