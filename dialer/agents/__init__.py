"""Agents' side of the dialer: preview and manual calls, the screen-pop, and their local HTTP API."""
