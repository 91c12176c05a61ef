"""Telephony: the `Telephony` interface, its ARI and AMI adapters, and the pure call lifecycle.

Start with `interface.py` (the contract the daemon codes against), then `lifecycle.py`.
"""
