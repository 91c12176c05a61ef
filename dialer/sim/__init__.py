"""Discrete-event simulator: the same pacers on a simulated clock and a seeded call population."""
