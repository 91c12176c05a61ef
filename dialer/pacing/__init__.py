"""Pacing: queueing math, estimators from observable events, and the pacers of every dialing mode."""
