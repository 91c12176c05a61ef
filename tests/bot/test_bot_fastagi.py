"""The FastAGI transport at socket level: a scripted Asterisk speaks AGI to `dialer agi-server`'s
service over TCP (the real Asterisk end-to-end test is test_bot_e2e_asterisk.py)."""

import asyncio
from dataclasses import replace
from datetime import date
from pathlib import Path


from dialer.bot.agi_dialog import AudioPaths
from dialer.bot.demo_store import InMemoryCallContexts, InMemoryOutcomes
from dialer.bot.fastagi import BotService, ScriptLibrary, serve
from dialer.bot.prompt_prep import PromptPreparer
from dialer.bot.record import Disposition
from dialer.bot.script_walk import example_context
from dialer.bot.tts import PromptCache, Voice
from dialer.domain import Party

TODAY = date(2026, 11, 22)


class SilentWavEngine:
    """TTS stand-in writing a short silent wav: this test is about the protocol, not the voice."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def synthesize(self, text: str, voice: Voice, out_wav: Path) -> None:
        self.texts.append(text)
        out_wav.write_bytes(b"RIFF" + text.encode())    # the text, so a test can tell what was played


class ScriptedAsr:
    """ASR stand-in: returns the next scripted utterance for each recording."""

    def __init__(self, utterances: list[str]) -> None:
        self.utterances = list(utterances)

    def supports(self, language: str) -> bool:
        return True

    def transcribe(self, wav_path: Path, grammar: str, language: str) -> str:
        return self.utterances.pop(0) if self.utterances else ""


class FakeAsterisk:
    """Plays Asterisk's side of one FastAGI session: headers, then one reply line per command."""

    def __init__(self, keys: list[str], attempt_id: str = "att-1", hang_up_after: int | None = None) -> None:
        self.keys = list(keys)            # "" = speak (ASR answers), "1985" = keys
        self.attempt_id = attempt_id
        self.commands: list[str] = []
        self.variables: dict[str, str] = {}
        self.hang_up_after = hang_up_after
        self._typed = ""
        self.played: list[str] = []       # texts of the prompt files streamed (see SilentWavEngine)
        self.sounds: tuple[str, Path] | None = None    # (Asterisk's sounds dir, the same on the host)
        self.barge_in = ""

    def reply(self, command: str) -> str:
        self.commands.append(command)
        verb = command.split()[:2]
        if verb == ["GET", "VARIABLE"]:
            name = command.split()[2]
            value = {"DIALER_ATTEMPT_ID": self.attempt_id, "DIALER_CAMPAIGN_ID": "camp-1"}.get(name)
            return f"200 result=1 ({value})" if value else "200 result=0"
        if verb == ["SET", "VARIABLE"]:
            _, _, name, value = command.split(" ", 3)
            self.variables[name] = value.strip('"')
            return "200 result=1"
        if verb == ["STREAM", "FILE"]:
            if self.barge_in and len([c for c in self.commands if c.startswith("STREAM FILE")]) == 1:
                return f"200 result={ord(self.barge_in)} endpos=4000"    # a key while the greeting plays
            if self.sounds is not None:
                relative = command.split()[2].removeprefix(self.sounds[0]).lstrip("/")
                self.played.append((self.sounds[1] / f"{relative}.wav").read_bytes()[4:].decode())
            return "200 result=0 endpos=8000"
        if verb == ["RECORD", "FILE"]:
            answer = self.keys.pop(0) if self.keys else ""
            if answer:
                self._typed = answer[1:]
                return f"200 result={ord(answer[0])} (dtmf) endpos=0"
            return "200 result=0 (timeout) endpos=16000"
        if verb == ["WAIT", "FOR"]:
            if self._typed:
                key, self._typed = self._typed[0], self._typed[1:]
                return f"200 result={ord(key)}"
            return "200 result=0"
        if command == "HANGUP":
            return "200 result=1"
        return "510 Invalid or unknown command"

    async def call(self, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"agi_network: yes\nagi_network_script: bot\nagi_channel: Local/debtor@test-0001;2\n\n")
        await writer.drain()
        while True:
            line = await reader.readline()
            if not line:
                break
            if self.hang_up_after is not None and len(self.commands) >= self.hang_up_after:
                writer.write(b"HANGUP\n")
                await writer.drain()
                self.commands.append(line.decode().strip())
                continue
            writer.write((self.reply(line.decode().strip()) + "\n").encode())
            await writer.drain()
        writer.close()
        await writer.wait_closed()


async def run_call(tmp_path: Path, asterisk: FakeAsterisk, utterances: list[str], **context_changes):
    contexts = InMemoryCallContexts()
    contexts.add(replace(example_context("en-US", TODAY), attempt_id="att-1", campaign_id="camp-1", **context_changes))
    outcomes = InMemoryOutcomes()
    tts = SilentWavEngine()
    asterisk.sounds = ("/var/lib/asterisk/sounds/dialer", tmp_path)
    preparer = PromptPreparer(workers=1)
    service = BotService(contexts=contexts, outcomes=outcomes, scripts=ScriptLibrary(),
                         prompts=PromptCache(tts, tmp_path / "tts"), asr=ScriptedAsr(utterances),
                         paths=AudioPaths(tmp_path, "/var/lib/asterisk/sounds/dialer"), preparer=preparer)
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    async with asyncio.TaskGroup() as group:
        group.create_task(serve(service, "127.0.0.1", 0, stop=stop, ready=ready))
        port = await ready
        await asyncio.wait_for(asterisk.call(port), timeout=10)
        await asyncio.wait_for(outcomes.arrived.wait(), timeout=10)
        stop.set()
    preparer.close()
    return outcomes, tts


async def test_given_a_debtor_answering_by_voice_and_keys_when_he_promises_then_the_sink_gets_the_promise(tmp_path):
    asterisk = FakeAsterisk(keys=["1", "1985", "", "1"])
    outcomes, tts = await run_call(tmp_path, asterisk, ["I will pay two hundred dollars next Friday"])
    (context, record), = outcomes.records
    assert context.attempt_id == "att-1"
    assert record.promise.amount == 200 and record.promise.due == date(2026, 11, 27) and record.promise.confirmed
    assert asterisk.variables["DIALER_BOT_RESULT"] == "promise_to_pay"
    streamed = [c for c in asterisk.commands if c.startswith("STREAM FILE")]
    assert all("/var/lib/asterisk/sounds/dialer/tts/" in c for c in streamed)   # paths as Asterisk sees them
    assert asterisk.commands[-1] == "HANGUP" or "HANGUP" in asterisk.commands


async def test_given_a_wrong_number_then_no_prompt_played_mentions_the_amount(tmp_path):
    asterisk = FakeAsterisk(keys=[""])
    outcomes, tts = await run_call(tmp_path, asterisk, ["sorry you have the wrong number"])
    (_, record), = outcomes.records
    assert record.party == Party.WRONG_NUMBER and record.suppress_contact
    # The call's prompts are synthesised at its start (dialer/bot/prompt_prep.py), the amount too:
    # what matters is that none of them is played before verification.
    assert asterisk.played and not any("dollars" in text or "November" in text for text in asterisk.played)
    assert not record.disclosed


async def test_given_a_verified_debtor_in_hardship_then_the_hand_off_context_is_set_on_the_channel(tmp_path):
    asterisk = FakeAsterisk(keys=["1", "1985", ""])
    outcomes, _ = await run_call(tmp_path, asterisk, ["I lost my job"])
    (_, record), = outcomes.records
    assert record.disposition == Disposition.HARDSHIP and record.transferred_to == "collections"
    v = asterisk.variables
    # The names and formats documented in docs/bot.md ("Hand-off") and read by the agent screen.
    assert (v["DIALER_BOT_RESULT"], v["DIALER_QUEUE"]) == ("transfer", "collections")
    assert (v["DIALER_CTX_ATTEMPT_ID"], v["DIALER_CTX_DEBTOR"], v["DIALER_CTX_STAGE"], v["DIALER_CTX_DPD"]) == (
        "att-1", "John Smith", "willingness", "4")
    assert (v["DIALER_CTX_VERIFIED"], v["DIALER_CTX_PARTY"], v["DIALER_CTX_HANDOFF_REASON"]) == ("yes", "debtor", "hardship")
    assert "hardship" in v["DIALER_CTX_INTENTS"].split(",") and v["DIALER_CTX_LANGUAGE"] == "en-US"
    assert v["DIALER_CTX_PROMISE"] == v["DIALER_CTX_PROMISE_AMOUNT"] == v["DIALER_CTX_PROMISE_DUE"] == ""
    assert v["DIALER_CTX_WILLINGNESS"] == "" or len(v["DIALER_CTX_WILLINGNESS"].split(".")[1]) == 2


async def test_given_key_9_pressed_during_the_greeting_then_the_greeting_stops_and_the_key_answers_it(tmp_path):
    asterisk = FakeAsterisk(keys=[])
    asterisk.barge_in = "9"
    outcomes, _ = await run_call(tmp_path, asterisk, [])
    (_, record), = outcomes.records
    assert record.opt_out and record.disposition == Disposition.OPTED_OUT
    # The key cut the greeting and answered its question: no recording was started for it.
    assert not any(c.startswith("RECORD FILE") for c in asterisk.commands)
    assert any("will not call this number again" in text for text in asterisk.played)


async def test_given_key_9_then_opt_out_is_recorded_and_the_confirmation_played(tmp_path):
    asterisk = FakeAsterisk(keys=["9"])
    outcomes, tts = await run_call(tmp_path, asterisk, [])
    (_, record), = outcomes.records
    assert record.opt_out and record.disposition == Disposition.OPTED_OUT
    assert any("will not call this number again" in text for text in asterisk.played)


async def test_given_the_caller_hangs_up_mid_call_then_the_record_still_reaches_the_sink(tmp_path):
    asterisk = FakeAsterisk(keys=["1"], hang_up_after=4)
    outcomes, _ = await run_call(tmp_path, asterisk, [])
    (_, record), = outcomes.records
    assert record.disposition == Disposition.HUNG_UP


async def test_given_an_unknown_attempt_then_nothing_is_said(tmp_path):
    asterisk = FakeAsterisk(keys=[], attempt_id="nobody")
    contexts = InMemoryCallContexts()
    service = BotService(contexts=contexts, outcomes=InMemoryOutcomes(), scripts=ScriptLibrary(),
                         prompts=PromptCache(SilentWavEngine(), tmp_path / "tts"), asr=ScriptedAsr([]),
                         paths=AudioPaths(tmp_path, str(tmp_path)))
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    async with asyncio.TaskGroup() as group:
        group.create_task(serve(service, "127.0.0.1", 0, stop=stop, ready=ready))
        await asyncio.wait_for(asterisk.call(await ready), timeout=10)
        stop.set()
    assert not any(c.startswith("STREAM FILE") for c in asterisk.commands)
    assert asterisk.variables["DIALER_BOT_RESULT"] == "no_context"
