"""The dialog engine: runs one call through a `Script`, emitting actions and consuming results.

No I/O: a transport calls `start()`, performs the returned action, and feeds what happened back with
`feed()` until it returns None (after a transfer or a hang-up). The call record is kept as it goes.
Right-party verification is enforced twice: the loader proves by graph analysis that no disclosure
state is reachable before verification, and the engine refuses at run time to play one unverified.
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from dialer.bot.actions import (Action, CallerHungUp, CollectDigits, Done, Hangup, Heard, Keyed, Listen,
                                Result, Say, SendSms, Silence, SpokeOver, Transfer, Understood)
from dialer.bot.context import CallContext
from dialer.bot.intents import PROMISES, Intent, Recognition
from dialer.bot.money import speak_amount
from dialer.bot.nlu import recognise
from dialer.bot.nlu_times import DEFAULT_DELAY, TIME_QUESTION, after, callback_answer, speak_callback
from dialer.bot.record import CallRecord, Disposition, PromiseToPay, Turn, collection_score
from dialer.bot.script import Node, Rule, Script
from dialer.bot.speech_text import speak_date
from dialer.domain import Party


class DialogSession:
    def __init__(self, script: Script, context: CallContext) -> None:
        self.script = script
        self.context = context
        self.record = CallRecord(attempt_id=context.attempt_id, script=script.name, language=script.language)
        self._queue: list[Action] = []
        self._node: Node | None = None
        self._waiting: Action | None = None
        self._misses = {"not_understood": 0, "silence": 0}
        self._last: Recognition | None = None
        self.finished = False

    # ---- public API ------------------------------------------------------------------------
    def start(self) -> Action | None:
        self._enter(self.script.start)
        return self._next()

    def feed(self, result: Result) -> Action | None:
        if self.finished:
            return None
        if isinstance(result, CallerHungUp):
            self._finish(Disposition.HUNG_UP)
            return None
        waiting = self._waiting
        self._waiting = None
        if isinstance(waiting, (Listen, CollectDigits)):
            self._on_answer(result)
        elif isinstance(waiting, (Transfer, Hangup)):
            self.finished = True
            return None
        elif isinstance(waiting, Say) and waiting.barge_in and isinstance(result, SpokeOver):
            self._spoken_over()
        return self._next()

    # ---- internals -------------------------------------------------------------------------
    def _next(self) -> Action | None:
        if not self._queue:
            return None
        action = self._queue.pop(0)
        self._waiting = action
        if isinstance(action, Say):
            # On the transcript when handed to the transport, not when queued: a prompt skipped
            # because the caller talked over the one before it was never said.
            self.record.transcript.append(Turn("bot", action.text, action.node))
        if isinstance(action, (Transfer, Hangup)):
            self._queue.clear()
        return action

    def _enter(self, name: str) -> None:
        node = self.script.nodes[name]
        self._node = node
        self.record.path.append(name)
        if self.script.discloses(node):
            if not self.record.verified:
                # Defence in depth: the loader already proved this unreachable for checked scripts.
                self.record.transcript.append(Turn("bot", f"[blocked: state '{name}' would disclose before "
                                                          "verification]", name))
                self._finish(Disposition.VERIFICATION_FAILED, keep_running=True)
                self._queue.append(Hangup("disclosure_blocked"))
                return
            self.record.disclosed = True
        self._apply_marks(node)
        if node.transfer == "{queue}" and not self.context.agents_available:
            self._close_without_agents(node)
            return
        for prompt_id in node.say:
            self._queue.append(self._say(prompt_id, node))
        if node.sms:
            self.record.sms.append(node.sms)
            self._queue.append(SendSms(node.sms, self.context.printed_variables()))
        if node.listen is not None:
            keys = {self.script.opt_out_key: Intent.STOP_CALLING, **node.listen.keys}
            self._queue.append(Listen(node.listen.grammar, node.listen.timeout_s, node.listen.max_digits, keys))
        elif node.collect is not None:
            self._queue.append(CollectDigits(int(node.collect.get("max_digits", 1)),
                                             float(node.collect.get("timeout", 5))))
        elif node.branch is not None:
            self._enter(node.cases[self._branch_value(node.branch)])
        elif node.goto is not None:
            self._enter(node.goto)
        elif node.transfer is not None:
            queue = self.context.agent_queue if node.transfer == "{queue}" else node.transfer
            self.record.transferred_to = queue
            if self.record.disposition is None:
                self.record.disposition = Disposition.HANDED_OFF
            self._finish(self.record.disposition, keep_running=True)
            self._queue.append(Transfer(queue, self._agent_context()))
        elif node.hangup is not None:
            disposition = self.record.disposition or Disposition(node.hangup)
            self._finish(disposition, keep_running=True)
            self._queue.append(Hangup(disposition.value))

    def _close_without_agents(self, node: Node) -> None:
        """Nobody to hand the call to: say a person will call back (the script's `handoff_callback`
        prompt), keep the hand-off on the record so the strategy routes the account to agents, hang up."""
        if "handoff_callback" in self.script.prompts:
            self._queue.append(self._say("handoff_callback", node))
        disposition = self.record.disposition or Disposition.HANDED_OFF
        self._finish(disposition, keep_running=True)
        self._queue.append(Hangup(disposition.value))

    def _branch_value(self, subject: str) -> str:
        if subject == "stage":
            return self.context.stage
        if subject == "reward_offer":
            return "yes" if self.context.reward_offer else "no"
        if subject == "verified":
            return "yes" if self.record.verified else "no"
        if subject == "callback_asked":   # the caller was already asked "what time?" (a second no ends it)
            asked = any((listen := self.script.nodes[n].listen) is not None and listen.grammar == TIME_QUESTION
                        for n in self.record.path)
            return "yes" if asked else "no"
        return "yes" if self.record.promise else "no"

    def _apply_marks(self, node: Node) -> None:
        mark = node.mark
        if mark.get("verified"):
            self.record.verified = True
            self.record.party = Party.DEBTOR
        if "party" in mark:
            self.record.party = Party(mark["party"])
        if "disposition" in mark:
            self.record.disposition = Disposition(mark["disposition"])
        if mark.get("opt_out"):
            self.record.opt_out = True
        if mark.get("suppress_contact"):
            self.record.suppress_contact = True
        if "handoff_reason" in mark:
            self.record.handoff_reason = str(mark["handoff_reason"])
        if mark.get("promise_confirmed") and self.record.promise:
            self.record.promise.confirmed = True
        if mark.get("callback") == "default":
            # No time the caller confirmed: the documented default, never the unconfirmed guess.
            self.record.callback_at = after(self._local_now(), DEFAULT_DELAY).astimezone(timezone.utc)
        if "tag" in mark and mark["tag"] not in self.record.intents:
            self.record.intents.append(str(mark["tag"]))

    def _variables(self) -> dict[str, str]:
        values = self.context.spoken_variables()
        values["check_name"] = self.script.checks.get(self.context.verification_kind, "")
        promise = self.record.promise
        if promise:
            values["promise_amount"] = speak_amount(promise.amount, promise.currency, self.script.language)
            values["promise_date"] = speak_date(promise.due, self.script.language)
        else:
            values["promise_amount"] = values["amount"]
            values["promise_date"] = ""
        callback = self.record.callback_at
        now = self._local_now()
        values["callback_time"] = (speak_callback(callback.astimezone(now.tzinfo), now, self.script.language)
                                   if callback else "")
        return values

    def _local_now(self) -> datetime:
        """The debtor's wall clock at the call: callback times are heard and said in it. Without an
        answer time (tests, the script walker) 10:00 on the context's `today` stands in."""
        zone = ZoneInfo(self.context.time_zone)
        if self.context.answered_at is not None:
            return self.context.answered_at.astimezone(zone)
        return datetime.combine(self.context.today, time(10), tzinfo=zone)

    def _say(self, prompt_id: str, node: Node) -> Say:
        variables = self._variables()
        used = self.script.prompt_variables(prompt_id)
        text = self.script.prompts[prompt_id].format(**{k: variables.get(k, "") for k in used})
        return Say(prompt_id, text, {k: variables.get(k, "") for k in used},
                   discloses=bool(used & {"amount", "minimum_payment", "interest", "due_date", "dpd",
                                          "promise_amount", "promise_date"}),
                   barge_in=node.listen is not None and node.listen.barge_in, node=node.name)

    def _spoken_over(self) -> None:
        """The caller answered over a prompt: it was stopped, and the node's other prompts before its
        question are not played (the caller is already answering it)."""
        self.record.transcript.append(Turn("bot", "[stopped: the caller spoke over this prompt]",
                                           self._node.name if self._node else ""))
        while self._queue and isinstance(self._queue[0], Say) and self._queue[0].barge_in:
            self._queue.pop(0)

    def _on_answer(self, result: Result) -> None:
        node = self._node
        assert node is not None
        recognition = self._interpret(result, node)
        if node.listen is not None:   # at a callback question "six thirty" or keys 1800 is the time (nlu_times)
            recognition = callback_answer(recognition, node.listen.grammar, self.script.language,
                                          self._local_now(), keyed=isinstance(result, Keyed))
        self._last = recognition
        self.record.transcript.append(Turn("caller", recognition.text, node.name, recognition.intent.value))
        if recognition.intent not in (Intent.SILENCE, Intent.NOT_UNDERSTOOD, Intent.AFFIRM, Intent.DENY):
            self.record.intents.append(recognition.intent.value)
        if recognition.willingness is not None:
            self.record.willingness = recognition.willingness
        if recognition.hardship_kind:
            self.record.hardship_kind = recognition.hardship_kind
        self._capture_promise(recognition)
        self._capture_callback(recognition)
        if node.collect is not None:
            self._enter(node.collect["goto"])
            return
        target = self._match(self.script.global_rules, recognition)
        if target is None and node.verify and recognition.digits and recognition.intent not in (
                Intent.WRONG_NUMBER, Intent.THIRD_PARTY):
            target = node.verify["pass" if self._verification_passes(recognition.digits) else "fail"]
        if target is None:
            target = self._match(node.rules, recognition)
        if target is None and node.otherwise and recognition.intent not in (Intent.SILENCE, Intent.NOT_UNDERSTOOD):
            target = node.otherwise
        if target is None:
            target = self._miss(node, recognition)
        if target is not None:
            self._misses = {"not_understood": 0, "silence": 0}
            self._enter(target)

    def _interpret(self, result: Result, node: Node) -> Recognition:
        keys = {self.script.opt_out_key: Intent.STOP_CALLING, **(node.listen.keys if node.listen else {})}
        if isinstance(result, Understood):
            return result.recognition
        if isinstance(result, Keyed):
            return recognise(None, self.script.language, self.context.today, digits=result.digits, keys=keys,
                             amount_due=self.context.amount_due)
        if isinstance(result, Heard):
            return recognise(result.text, self.script.language, self.context.today,
                             amount_due=self.context.amount_due, now=self._local_now())
        if isinstance(result, (Silence, Done)):
            return Recognition(Intent.SILENCE)
        raise TypeError(f"unexpected result {result!r} while listening")

    def _verification_passes(self, digits: str) -> bool:
        expected = "".join(c for c in self.context.verification_answer if c.isdigit())
        return bool(expected) and digits[-len(expected):] == expected and len(digits) <= len(expected) + 2

    @staticmethod
    def _match(rules: tuple[Rule, ...], recognition: Recognition) -> str | None:
        for rule in rules:
            if recognition.intent not in rule.intents:
                continue
            w = recognition.willingness if recognition.willingness is not None else 0.5
            if rule.min_willingness is not None and w < rule.min_willingness:
                continue
            if rule.max_willingness is not None and w >= rule.max_willingness:
                continue
            if rule.has_date is not None and (recognition.promised_date is not None) != rule.has_date:
                continue
            if rule.has_amount is not None and (recognition.amount is not None) != rule.has_amount:
                continue
            return rule.goto
        return None

    def _miss(self, node: Node, recognition: Recognition) -> str | None:
        kind = "silence" if recognition.intent == Intent.SILENCE else "not_understood"
        self._misses[kind] += 1
        if self._misses[kind] >= self.script.limits[kind] and kind in self.script.fallbacks:
            if kind == "not_understood" and self.record.handoff_reason is None:
                self.record.handoff_reason = "not_understood"
            return self.script.fallbacks[kind]
        # Ask again: the reprompt if the node has one, else the node's own prompts.
        for prompt_id in ((node.reprompt,) if node.reprompt else node.say):
            self._queue.append(self._say(prompt_id, node))
        assert node.listen is not None
        keys = {self.script.opt_out_key: Intent.STOP_CALLING, **node.listen.keys}
        self._queue.append(Listen(node.listen.grammar, node.listen.timeout_s, node.listen.max_digits, keys))
        return None

    def _capture_promise(self, recognition: Recognition) -> None:
        if recognition.intent not in PROMISES or not self.record.verified:
            return
        due = recognition.promised_date
        if due is None and recognition.intent == Intent.PROMISE_NOW:
            due = self.context.today
        if due is None:
            if self.record.promise and recognition.amount is not None:
                self.record.promise.amount = recognition.amount
            return
        amount = recognition.amount
        if amount is None:
            amount = self.record.promise.amount if self.record.promise else self._default_promise_amount(recognition)
        self.record.promise = PromiseToPay(amount=Decimal(amount), currency=self.context.currency, due=due)
        self.record.disposition = Disposition.PROMISE_TO_PAY

    def _capture_callback(self, recognition: Recognition) -> None:
        """"Call me at 6 pm" at any point, verified or not: when (UTC) goes on the record; the after-call
        rules make it next_eligible_at and the gate still judges that dial. A promise already made wins
        the disposition (the promise review follows it up), the time is kept either way."""
        if recognition.intent is not Intent.CALLBACK:
            return
        at = recognition.callback_at or after(self._local_now(), DEFAULT_DELAY)
        self.record.callback_at = at.astimezone(timezone.utc)
        if "third_party" in recognition.tags and not self.record.verified:
            self.record.party = Party.THIRD_PARTY
        if self.record.promise is None:
            self.record.disposition = Disposition.CALLBACK_REQUESTED

    def _default_promise_amount(self, recognition: Recognition) -> Decimal:
        if recognition.intent == Intent.PARTIAL_PAYMENT and self.context.minimum_payment is not None:
            return self.context.minimum_payment
        return self.context.amount_due

    def _agent_context(self) -> dict[str, object]:
        promise = self.record.promise
        return {
            "attempt_id": self.context.attempt_id, "debtor": self.context.debtor_name, "stage": self.context.stage,
            "dpd": self.context.dpd, "verified": self.record.verified, "party": self.record.party.value,
            "intents": ",".join(self.record.intents), "willingness": self.record.willingness,
            "handoff_reason": self.record.handoff_reason or "",
            "promise": f"{promise.amount} {promise.currency} {promise.due.isoformat()}" if promise else "",
            "promise_amount": str(promise.amount) if promise else "",
            "promise_currency": promise.currency if promise else "",
            "promise_due": promise.due.isoformat() if promise else "",
            "language": self.script.language,
        }

    def _finish(self, disposition: Disposition, keep_running: bool = False) -> None:
        if self.record.disposition is None:
            self.record.disposition = disposition
        self.record.collection_score = collection_score(self.record)
        if not keep_running:
            self.finished = True
            self._queue.clear()
