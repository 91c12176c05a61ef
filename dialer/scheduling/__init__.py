"""The scheduler: daily stage advance, promise review, priorities, SMS and nightly reports.

`scheduler.build_scheduler` wires APScheduler 3 (jobs persisted in the dialer's own database);
`jobs` holds the importable job entry points; the other modules are their transaction-sized units
of work, each taking a sessionmaker and an explicit `now` so tests run on a fixed time.
"""
