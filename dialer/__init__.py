"""Compliance-first predictive dialer and debt-collection voice robot for Asterisk."""

__version__ = "0.1.0"
