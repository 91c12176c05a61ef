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

  [bot-e2e-classic] _X. : the same, but AGI(<checkout>/agi_scripts/collect,DIALER_BOT_...=...): the
                          classic AGI bot, run by Asterisk as its child inside the harness root (the
                          harness bind-mounts the checkout and its Python there)

A call is `channel originate Local/<behaviour>@bot-e2e-callee/n extension <attempt>@bot-e2e-bot`.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

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

# What each simulated debtor says, in order; "wait" = until the bot has spoken and fallen silent.
UTTERANCES = {
    "promise": "I will pay two hundred dollars next Friday",
    "wrong": "Sorry, you have the wrong number",
    "stop": "Stop calling me",
}
BEHAVIOURS: dict[str, list[str]] = {
    # the debtor: "1" = it's me, 1985 = birth year, the promise, "1" = confirms
    "promise": ["wait", "dtmf:1", "wait", "dtmf:1985", "wait", "say:promise", "wait", "dtmf:1", "hold:20"],
    "wrong": ["wait", "say:wrong", "hold:20"],
    "stop": ["wait", "say:stop", "hold:20"],
}


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
            if not target.exists():
                engine.synthesize(text, CALLEE_VOICE, target)
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
        for behaviour, steps in BEHAVIOURS.items():
            apps = ["Answer()"]
            for step in steps:
                kind, _, arg = step.partition(":")
                if kind == "wait":
                    # The bot starts a prompt (noise), then finishes it and listens (1.5 s of silence).
                    apps += ["WaitForNoise(300,1,20)", "WaitForSilence(1500,1,60)"]
                elif kind == "dtmf":
                    apps.append(f"SendDTMF({arg},250)")
                elif kind == "say":
                    apps.append(f"Playback({self.audio_asterisk_dir}/callee/{arg})")
                    apps.append(f"Playback({self.audio_asterisk_dir}/callee/silence-3)")
                elif kind == "hold":
                    apps.append(f"Playback({self.audio_asterisk_dir}/callee/silence-{arg})")
            apps.append("Hangup()")
            self._extension("bot-e2e-callee", behaviour, apps)

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

    def _extension(self, context: str, exten: str, apps: list[str]) -> None:
        for priority, app in enumerate(apps, start=1):
            self.cli(f"dialplan add extension {exten},{priority},{app} into {context} replace")

    def call(self, behaviour: str, attempt_id: str, bot: str = "bot-e2e-bot") -> None:
        self.cli(f"channel originate Local/{behaviour}@bot-e2e-callee/n extension {attempt_id}@{bot}")
