"""Bad input fuzzing: the importer and the settings loader never crash, never write part of a bad
file, and always answer with their own typed, located error."""

from __future__ import annotations

import string
from datetime import datetime, timezone
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dialer.campaigns import CampaignSpec, create_campaign
from dialer.clock import FixedClock
from dialer.config import ConfigError, load_settings
from dialer.db import migrate
from dialer.db.models import Account, Debtor, PhoneContact
from dialer.db.session import make_engine, make_sessionmaker, transaction
from dialer.domain import CampaignMode
from dialer.importing.errors import FileProblem, ImportRejected
from dialer.importing.mapping import MappingError
from dialer.importing.service import ImportOptions, import_accounts

HEADER = ["account_id", "name", "phone", "amount_due", "due_date", "currency", "timezone", "days_past_due"]
CLOCK = FixedClock(datetime(2026, 11, 22, 4, tzinfo=timezone.utc))
cell = st.one_of(
    st.text(alphabet=string.printable + "¥$£，。张王李", max_size=14),
    st.sampled_from(["13800138001", "+8613800138001", "abc", "", "2026-11-20", "1,234.50", "¥12", "-5",
                     "Asia/Shanghai", "Mars/Base", "1e9", "12.345", "USD", "X", "\"", "\n", "0"]))
rows = st.lists(st.fixed_dictionaries({h: cell for h in HEADER}), min_size=1, max_size=8)


def csv_text(data: list[dict[str, str]]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(data)
    return out.getvalue()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=rows, raw=st.binary(max_size=200), mode=st.sampled_from(["rows", "bytes"]))
def test_given_any_file_when_imported_then_it_lands_whole_or_not_at_all_with_a_located_error(
        tmp_path_factory, data, raw, mode) -> None:  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{directory / 'fuzz.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        create_campaign(session, CampaignSpec(name="m1", mode=CampaignMode.BOT_ONLY), known_profiles=("cn",),
                        actor="fuzz")
    path = Path(directory) / "input.csv"
    if mode == "rows":
        path.write_text(csv_text(data), encoding="utf-8")
    else:
        path.write_bytes(raw)
    try:
        report = import_accounts(sessions, campaign_name="m1", path=path, options=ImportOptions(), clock=CLOCK)
    except ImportRejected as rejected:
        assert rejected.errors and all(str(e).startswith("input.csv:") for e in rejected.errors)
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Account)) == 0
            assert session.scalar(select(func.count()).select_from(Debtor)) == 0
            assert session.scalar(select(func.count()).select_from(PhoneContact)) == 0
    except (FileProblem, MappingError) as problem:
        assert str(path) in str(problem) or "input.csv" in str(problem)
    else:
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Account)) == report.inserted
    finally:
        engine.dispose()


yaml_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.sampled_from(["ami", "port", "telephony", "backend", "x",
                                                                "database", "url", "log", "mask_pii"]),
                                               children, max_size=3)), max_leaves=8)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=yaml_values)
def test_given_any_settings_file_then_it_loads_or_fails_with_a_config_error(tmp_path_factory, document) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("cfg") / "dialer.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    try:
        load_settings(path, environ={})
    except ConfigError as error:
        assert str(error)   # a message an admin can read, naming the file or the key
