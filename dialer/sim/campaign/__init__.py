"""Campaign simulation: a real campaign's accounts, contacts, profile and strategy, run for N days
on a simulated clock through the real hopper, gate, after-call rules and scheduler units of work,
against a seeded model of how debtors behave. Everything is written to a scratch SQLite copy, so
`dialer --db-url sqlite:///… report NAME` reads the simulated history like a real one.

Modules: `scratch` (the copy), `behaviour` (the debtor model), `calls` (one simulated call's
database writes), `simulation` (the event loop), `results` (the figures), `synthetic` (a generated
campaign for tests and the lift study). See docs/campaign-simulation.md.
"""
