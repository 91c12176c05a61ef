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

bench: bootstrap
	.venv/bin/python -m benchmarks
