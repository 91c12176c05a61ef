"""Compliance: policy profiles, calling windows, caps, DNC, the one gate every dial passes."""
