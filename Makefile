# The two commands of the README:
#   make demo   set up everything on a fresh machine and run a demo campaign against a real Asterisk
#   make test   set up everything and run the whole test suite (real PostgreSQL, real Asterisk)
.PHONY: demo test bootstrap asterisk bench

bootstrap:
	scripts/bootstrap

asterisk: bootstrap
	scripts/asterisk-harness build

test: bootstrap asterisk
	docker/ci-tools install
	.venv/bin/python -m pytest -q

demo: bootstrap asterisk
	scripts/demo

# Benchmarks are not tests: they take minutes to an hour and write benchmarks/results/.
bench: bootstrap asterisk
	.venv/bin/python -m benchmarks.pacing
	.venv/bin/python -m benchmarks.pacing_tick
	.venv/bin/python -m benchmarks.intents
	.venv/bin/python -m benchmarks.import_accounts
	.venv/bin/python -m benchmarks.gate_throughput --db postgresql
	.venv/bin/python -m benchmarks.originate
	.venv/bin/python -m benchmarks.bot_latency
	.venv/bin/python -m benchmarks.bot_turn_parts
	.venv/bin/python -m benchmarks.scaleout
	.venv/bin/python -m benchmarks.priority_lift
