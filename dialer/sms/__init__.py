"""SMS: seed 001 triggers, templates per language, sending windows and caps, gateways, outbox."""
