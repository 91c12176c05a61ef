"""Which database objects the models do not describe, for autogenerate and the drift test.

Tables whose layout a library defines (created by our migrations, not modelled): autogenerate
must not propose dropping them, and the drift test must not report them.
"""

from __future__ import annotations

EXTERNAL_TABLES = frozenset({"apscheduler_jobs"})


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return not (type_ == "table" and name in EXTERNAL_TABLES)
