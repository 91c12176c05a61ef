#!/bin/sh
# Synthesizes the prompts the shipped dialplan plays (espeak-ng + sox, 8 kHz mono 16-bit as
# Asterisk wants), for the image build. Same texts as scripts/asterisk-harness install_sounds.
#   make-prompts.sh SOUNDS_DIR MOH_DIR
# The safe-harbour message names a company and a number: record your own (identification and an
# opt-out, TSR 310.4(b)(4)(iii)(B); Ofcom: name + free number) and mount it over
# /usr/share/asterisk/sounds/dialer/safe-harbour.wav.
set -eu
sounds="$1"; moh="$2"
mkdir -p "$sounds" "$moh"

say() {
  espeak-ng -v en-us -w "$sounds/$1.raw.wav" "$2"
  sox "$sounds/$1.raw.wav" -r 8000 -c 1 -b 16 "$sounds/$1.wav"
  rm -f "$sounds/$1.raw.wav"
}

say safe-harbour "This is Example Collections calling. To stop receiving these calls, press 9 or call 800 555 0100."
# The demo carrier's simulated callees (extensions.conf [callee-sim], [demo-carrier]).
say machine-greeting "Hi, you have reached the voicemail of Alex. I am not available right now. Please leave a message after the tone and I will call you back as soon as I can."
say callee-hello "Hello?"
say callee-promise "Hello, yes. I will pay two hundred tomorrow."
# Simulated callees must send audio frames even when "silent": AMD measures silence in frames.
sox -n -r 8000 -c 1 -b 16 "$sounds/silence-20.wav" trim 0 20
# app_queue wants the default music-on-hold class: a soft tone, so a caller on hold hears a live line.
sox -n -r 8000 -c 1 -b 16 "$moh/tone.wav" synth 4 sine 440 vol 0.1
