"""Real calls to the bot through the project's Asterisk harness (scripts/asterisk-harness): shared by
tests/bot/test_bot_e2e_asterisk.py and benchmarks/bot_latency.py.

A harness instance of its own ("bot-e2e", its own ports; DIALER_BOT_E2E_INSTANCE and
DIALER_BOT_E2E_PORT_OFFSET override both, so two runs can share the machine) runs Asterisk; the
dialplan for the calls is added at run time through the Asterisk CLI (asterisk_conf/ is not touched):

  [bot-e2e-bot]     _X. : Set(DIALER_ATTEMPT_ID=${EXTEN}), Set(DIALER_CAMPAIGN_ID=e2e), Answer,
                          AGI(agi://127.0.0.1:<port>/bot)         -- our side, the FastAGI bot
  [bot-e2e-callee]  <behaviour> : the debtor's phone, played by the dialplan: it waits for the bot to
                          speak and fall silent (WaitForNoise + WaitForSilence), then answers with keys
                          (SendDTMF) or recorded speech (Playback of espeak-ng audio at 8 kHz)

  [bot-e2e-eagi]    _X. : the classic bot as EAGI(...,DIALER_BOT_LISTEN=stream): speech heard live on fd 3
  [bot-e2e-classic] _X. : the same, but AGI(<checkout>/agi_scripts/collect,DIALER_BOT_...=...): the
                          classic AGI bot, run by Asterisk as its child inside the harness root (the
                          harness bind-mounts the checkout and its Python there)

A call is `channel originate Local/<behaviour>@bot-e2e-callee/n extension <attempt>@bot-e2e-bot`.

Wire calls (benchmarks/bot_latency.py's on-the-wire latency, analysed by benchmarks/wire_latency.py)
use the same debtors from `bot-e2e-wire-<behaviour>`, extension = attempt id, which also:
  - record the callee's leg with MixMonitor, r = what the callee hears (the bot), t = what it says,
    one audiohook, so one clock: wire/<attempt>-heard.wav and wire/<attempt>-said.wav;
  - send audio from their turn until the bot's reply, as a phone does (PlayTones(0): a generator of
    zero samples, restarted after every Playback, which replaces it). MixMonitor writes nothing
    while neither direction has frames, so without it the bot's thinking time after a key would
    vanish from the recording;
  - mark the end of their keys in their own audio (wire_latency.KEY_MARK: inaudible, bit-exact).
`bot-e2e-calibrate` is the far end of the calibration call (CALIBRATION): it answers a key at once
with a tone (Read, then Playback) and then echoes the callee (Echo), so both delays are known (~0).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from benchmarks.wire_latency import key_mark, write_wav
from dialer.bot.tts import EspeakEngine, Voice

REPO = Path(__file__).resolve().parents[1]
HARNESS = REPO / "scripts" / "asterisk-harness"


def _port_offset() -> int:
    raw = os.environ.get("DIALER_BOT_E2E_PORT_OFFSET", "0")
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"DIALER_BOT_E2E_PORT_OFFSET={raw!r}: expected a whole number of ports "
                         "(added to every bot-call harness port)") from None


# Two people can run bot calls at once (tests, benchmarks) when each sets its own instance name and
# port offset: DIALER_BOT_E2E_INSTANCE=bot-wire DIALER_BOT_E2E_PORT_OFFSET=100. Defaults unchanged.
INSTANCE = os.environ.get("DIALER_BOT_E2E_INSTANCE", "bot-e2e")
PORT_OFFSET = _port_offset()
_BASE_PORTS = {"DIALER_ARI_PORT": 28088, "DIALER_AMI_PORT": 25038, "DIALER_SIP_PORT": 25060,
               "DIALER_CARRIER_PORT": 25070, "DIALER_AGI_PORT": 24573}
PORTS = {key: str(port + PORT_OFFSET) for key, port in _BASE_PORTS.items()}
AGI_PORT = int(PORTS["DIALER_AGI_PORT"])
CALLEE_VOICE = Voice("callee", "en-us", 160, 50)

# What each simulated debtor says, in order; "wait" = until the bot has spoken and fallen silent,
# "noise" = until the bot has begun to speak.
UTTERANCES = {
    # Not "next Friday": this voice's "next Friday" is heard "this Friday" by pocketsphinx through
    # 8 kHz (both listening modes), which is the same date only when the call is on a Sunday; the
    # e2e tests assert the date, so they passed on Sundays and failed on other days.
    "promise": "I will pay two hundred dollars tomorrow",
    "wrong": "Sorry, you have the wrong number",
    "stop": "Stop calling me",
}
BEHAVIOURS: dict[str, list[str]] = {
    # the debtor: "1" = it's me, 1985 = birth year, the promise, "1" = confirms
    "promise": ["wait", "dtmf:1", "wait", "dtmf:1985", "wait", "say:promise", "wait", "dtmf:1", "hold:20"],
    "wrong": ["wait", "say:wrong", "hold:20"],
    "stop": ["wait", "say:stop", "hold:20"],
    # the debtor who answers over the question: 1 s after the stage prompt is heard (~2 s into it), the promise
    "barge": ["wait", "dtmf:1", "wait", "dtmf:1985", "noise", "pause:1", "say:promise", "wait", "dtmf:1", "hold:20"],
}
# The calibration callee (against bot-e2e-calibrate, not the bot): a key, then speech to be echoed.
CALIBRATION = ["pause:1", "dtmf:1", "pause:1.5", "say:promise", "hold:3"]
# SendDTMF's pause between keys; dtmf_stream (Asterisk main/app.c) sleeps it after the last key too,
# so a wire callee's key mark comes this long after its keys ended.
KEY_GAP_MS = 250


@dataclass
class BotHarness:
    env: dict[str, str]
    exports: dict[str, str]

    @classmethod
    def start(cls) -> "BotHarness":
        env = {**os.environ, "DIALER_ASTERISK_INSTANCE": INSTANCE, **PORTS}
        subprocess.run([str(HARNESS), "start"], env=env, check=True, timeout=300, capture_output=True)
        out = subprocess.run([str(HARNESS), "env"], env=env, check=True, text=True, capture_output=True).stdout
        exports = {}
        for line in out.splitlines():
            if line.startswith("export "):
                key, _, value = line[len("export "):].partition("=")
                exports[key] = value
        return cls(env, exports)

    def stop(self) -> None:
        subprocess.run([str(HARNESS), "stop"], env=self.env, check=False, timeout=60, capture_output=True)

    def cli(self, command: str) -> str:
        return subprocess.run([str(HARNESS), "cli", command], env=self.env, check=True, text=True,
                              capture_output=True, timeout=60).stdout

    @property
    def instance_host_dir(self) -> Path:
        # DIALER_RECORDING_DIR is ROOT/srv/dialer/<instance>/spool/monitor on the host.
        return Path(self.exports["DIALER_RECORDING_DIR"]).parents[1]

    @property
    def audio_host_dir(self) -> Path:
        return self.instance_host_dir / "bot-audio"

    @property
    def audio_asterisk_dir(self) -> str:
        return f"/srv/dialer/{INSTANCE}/bot-audio"

    def install(self) -> None:
        """Synthesize the callees' speech and add the two contexts (replacing earlier versions)."""
        callee_dir = self.audio_host_dir / "callee"
        callee_dir.mkdir(parents=True, exist_ok=True)
        engine = EspeakEngine()
        for name, text in UTTERANCES.items():
            target = callee_dir / f"{name}.wav"
            said = target.with_suffix(".txt")     # an instance kept from before may say older words
            if not target.exists() or not said.exists() or said.read_text(encoding="utf-8") != text:
                engine.synthesize(text, CALLEE_VOICE, target)
                said.write_text(text, encoding="utf-8")
        for seconds in (3, 20):
            # A phone sends audio all the time; a Local channel in Wait() sends nothing, and then
            # RECORD FILE's silence detection never fires. The callee plays real silence instead.
            target = callee_dir / f"silence-{seconds}.wav"
            if not target.exists():
                subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(target), "trim", "0",
                                str(seconds)], check=True, capture_output=True)
        self._extension("bot-e2e-bot", "_X.", [
            "Set(DIALER_ATTEMPT_ID=${EXTEN})", "Set(DIALER_CAMPAIGN_ID=e2e)", "Answer()",
            f"AGI(agi://127.0.0.1:{AGI_PORT}/bot)", "Hangup()"])
        write_wav(callee_dir / "key-mark.wav", key_mark())
        tone = callee_dir / "tone.wav"
        if not tone.exists():
            subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(tone), "synth", "0.5", "sine",
                            "1000", "vol", "0.3"], check=True, capture_output=True)
        self.wire_host_dir.mkdir(parents=True, exist_ok=True)
        for behaviour, steps in BEHAVIOURS.items():
            self._extension("bot-e2e-callee", behaviour, ["Answer()", *self._callee_apps(steps, wire=False)])
            self._extension(f"bot-e2e-wire-{behaviour}", "_X.",
                            self._wire_start() + self._callee_apps(steps, wire=True))
        self._extension("bot-e2e-wire-calibrate", "_X.", self._wire_start() + self._callee_apps(CALIBRATION, wire=True))
        self._extension("bot-e2e-calibrate", "_X.", [
            "Answer()", "Read(KEY,,1,,,30)", f"Playback({self.audio_asterisk_dir}/callee/tone)", "Echo()"])

    def _wire_start(self) -> list[str]:
        where = f"{self.wire_asterisk_dir}/${{EXTEN}}"
        return ["Answer()", f"MixMonitor({where}.wav,r({where}-heard.wav)t({where}-said.wav))", "PlayTones(0)"]

    def _callee_apps(self, steps: list[str], *, wire: bool) -> list[str]:
        audio = f"{self.audio_asterisk_dir}/callee"
        # Playback replaces the wire callee's silence generator: start it again after each one.
        again = ["PlayTones(0)"] if wire else []
        apps = []
        for step in steps:
            kind, _, arg = step.partition(":")
            if kind == "wait":
                # The bot starts a prompt (noise), then finishes it and listens (1.5 s of silence).
                # WaitForSilence counts a wait with no frame at all as silence, and the generator's
                # timer wakes it every 20 ms: stop the generator once the bot speaks (the bot's
                # frames keep the recording's clock; the callee's own thinking time is not measured).
                apps += ["WaitForNoise(300,1,20)", *(["StopPlayTones()"] if wire else []),
                         "WaitForSilence(1500,1,60)"]
            elif kind == "noise":
                apps += ["WaitForNoise(300,1,20)", *(["StopPlayTones()"] if wire else [])]  # the bot began
            elif kind == "pause":
                apps.append(f"Wait({arg})")
            elif kind == "dtmf":
                apps += [*again, f"SendDTMF({arg},{KEY_GAP_MS})"]
                if wire:
                    apps += [f"Playback({audio}/key-mark)", *again]
            elif kind == "say":
                apps += [f"Playback({audio}/{arg})", f"Playback({audio}/silence-3)", *again]
            elif kind == "hold":
                apps += [f"Playback({audio}/silence-{arg})", *again]
        return apps + ["Hangup()"]

    @property
    def wire_host_dir(self) -> Path:
        return self.audio_host_dir / "wire"

    @property
    def wire_asterisk_dir(self) -> str:
        return f"{self.audio_asterisk_dir}/wire"

    def wire_files(self, attempt_id: str) -> tuple[Path, Path]:
        """The two directions of a wire call: (what the callee heard, what it said)."""
        return (self.wire_host_dir / f"{attempt_id}-heard.wav", self.wire_host_dir / f"{attempt_id}-said.wav")

    def active_channels(self) -> int:
        """Channels up in this Asterisk: a wire call's files are complete once its channels are gone
        (MixMonitor finishes the WAV header when the channel hangs up)."""
        out = self.cli("core show channels count")
        for line in out.splitlines():
            if "active channel" in line:
                return int(line.split()[0])
        raise RuntimeError(f"'core show channels count' printed no channel count: {out!r}")

    @property
    def classic_host_dir(self) -> Path:
        """Contexts, outcomes and audio of the classic AGI bot, as the host sees them."""
        return self.audio_host_dir / "classic"

    @property
    def classic_asterisk_dir(self) -> str:
        return f"{self.audio_asterisk_dir}/classic"

    def install_classic(self) -> None:
        """The dialplan for calls to the classic AGI bot; its settings are AGI() arguments."""
        subprocess.run([str(HARNESS), "agi-tools"], env=self.env, check=True, timeout=600, capture_output=True)
        self.classic_host_dir.mkdir(parents=True, exist_ok=True)
        where = self.classic_asterisk_dir
        settings = [f"DIALER_BOT_CONTEXTS={where}/contexts.json", f"DIALER_BOT_OUTCOMES={where}/outcomes.jsonl",
                    f"DIALER_BOT_AUDIO_DIR={where}/audio"]
        self._extension("bot-e2e-classic", "_X.", [
            "Set(DIALER_ATTEMPT_ID=${EXTEN})", "Set(DIALER_CAMPAIGN_ID=e2e)", "Answer()",
            f"AGI({REPO}/agi_scripts/collect,{','.join(settings)})", "Hangup()"])
        # The same script as EAGI (the caller's audio on fd 3), hearing speech live.
        self._extension("bot-e2e-eagi", "_X.", [
            "Set(DIALER_ATTEMPT_ID=${EXTEN})", "Set(DIALER_CAMPAIGN_ID=e2e)", "Answer()",
            f"EAGI({REPO}/agi_scripts/collect,{','.join(settings + ['DIALER_BOT_LISTEN=stream'])})", "Hangup()"])

    def _extension(self, context: str, exten: str, apps: list[str]) -> None:
        for priority, app in enumerate(apps, start=1):
            self.cli(f"dialplan add extension {exten},{priority},{app} into {context} replace")

    def call(self, behaviour: str, attempt_id: str, bot: str = "bot-e2e-bot", *, wire: bool = False) -> None:
        callee = f"{attempt_id}@bot-e2e-wire-{behaviour}" if wire else f"{behaviour}@bot-e2e-callee"
        self.cli(f"channel originate Local/{callee}/n extension {attempt_id}@{bot}")

    def calibrate(self, attempt_id: str) -> None:
        """The calibration call: the wire callee against a far end whose delays are known (~0)."""
        self.call("calibrate", attempt_id, bot="bot-e2e-calibrate", wire=True)
