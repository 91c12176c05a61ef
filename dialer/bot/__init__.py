"""The collection voice bot.

The dialog engine (`engine`, `script`, `record`), intent recognition (`nlu`) and spoken-text helpers
(`money`, `speech_text`) are pure; `tts`, `asr`, `fastagi` and `agi_dialog` are the adapters that run
the same engine on a real call.
"""
