"""Benchmark: import a realistic N-row account file through the real `dialer` CLI, then re-import it.

    python -m benchmarks.import_accounts [--rows 1000000] [--db sqlite|postgresql] [--workers K]
    python -m benchmarks.import_accounts --rows 100000 --phases   # CPU per row of read/parse/write

Target (issue 2): 1,000,000 rows into SQLite in under 60 s. The file is generated into a temporary
directory (deterministic, seeded): Chinese mobile numbers in the formats files really arrive in
(national, +86, spaced, dashed), landline alternates, third-party contacts on ~30 % of rows, a few
US accounts with +1 numbers and explicit zones, amounts with currency symbols and thousands
separators, dates with '-' and '/'. About 8 % of debtors hold two accounts (same debtor id).

Every step runs as a separate `dialer` process, exactly as an operator would run it, so the wall
times include interpreter start-up, the schema check and the final commit. Not a test: it is
never collected by pytest (no `test_` names) and it does not run in CI.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

HEADER = ["account_id", "debtor_id", "name", "phone", "alt_phones", "timezone", "amount_due",
          "minimum_payment", "currency", "due_date", "days_past_due", "product", "language",
          "birth_year", "id_last4", "contact_name", "contact_phone", "contact_relation",
          "consent_autodialer"]

# Mobile prefixes of the three Chinese operators (all valid for libphonenumber's CN metadata).
CN_MOBILE_PREFIXES = ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151",
                      "152", "153", "155", "156", "157", "158", "159", "166", "176", "177", "178", "180",
                      "181", "182", "183", "184", "185", "186", "187", "188", "189", "198", "199"]
CN_LANDLINE_AREAS = ["010", "021", "020", "0755", "028", "027", "025", "0571"]
US_AREAS = [("312", "America/Chicago"), ("212", "America/New_York"), ("415", "America/Los_Angeles"),
            ("602", "America/Phoenix"), ("713", "America/Chicago"), ("206", "America/Los_Angeles")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
US_NAMES = ["Michael Johnson", "Jennifer Smith", "David Brown", "Maria Garcia", "James Wilson",
            "Linda Martinez", "Robert Davis", "Patricia Miller"]
RELATIONS = ["spouse", "parent", "sibling", "friend", "colleague", "employer"]
PRODUCTS = ["credit card", "cash loan", "consumer loan", "auto loan"]


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    cpu_seconds: float       # user + system of the command and its parser processes
    load_before: float       # 1-minute load average when it started (the machine is shared)
    rows: int
    output: dict[str, object] | None


def generate(path: Path, rows: int, *, seed: int = 2026) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(_rows(rng, rows))


def _rows(rng: random.Random, rows: int) -> Iterator[list[str]]:
    previous: tuple[str, str, str, bool] | None = None
    for i in range(rows):
        shared = previous is not None and rng.random() < 0.08
        if shared and previous is not None:
            debtor_id, name, phone, us = previous  # a second debt of the same person
        else:
            us = rng.random() < 0.03
            debtor_id = f"D{i:08d}"
            name = rng.choice(US_NAMES) if us else rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
            phone = _us_phone(rng) if us else _cn_mobile(rng)
        previous = (debtor_id, name, phone, us)
        yield _us_row(rng, i, debtor_id, name, phone) if us else _cn_row(rng, i, debtor_id, name, phone)


def _cn_row(rng: random.Random, i: int, debtor_id: str, name: str, phone: str) -> list[str]:
    amount = rng.randint(100_00, 80_000_00)
    alt = ""
    if rng.random() < 0.10:
        alt = _cn_landline(rng) if rng.random() < 0.5 else _cn_mobile(rng)
    third = rng.random() < 0.30
    return [
        f"CN{i:09d}", debtor_id, name, phone, alt, "",
        _cn_amount(rng, amount), _plain(amount // 10) if rng.random() < 0.8 else "", "CNY" if rng.random() < 0.7 else "",
        _date(rng), "", rng.choice(PRODUCTS), "zh-CN", str(rng.randint(1960, 2003)), f"{rng.randint(0, 9999):04d}",
        rng.choice(SURNAMES) + rng.choice(GIVEN) if third else "", _cn_mobile(rng) if third else "",
        rng.choice(RELATIONS) if third else "", rng.choice(("yes", "yes", "yes", "no", "是", "1")),
    ]


def _us_row(rng: random.Random, i: int, debtor_id: str, name: str, phone: str) -> list[str]:
    amount = rng.randint(50_00, 20_000_00)
    zone = next(z for area, z in US_AREAS if phone.startswith(f"+1{area}"))
    return [
        f"US{i:09d}", debtor_id, name, phone, "", zone if rng.random() < 0.5 else "",
        f"${amount // 100:,}.{amount % 100:02d}", _plain(amount // 10), "USD", _date(rng),
        str(rng.randint(1, 180)) if rng.random() < 0.3 else "", "credit card", "en-US",
        str(rng.randint(1950, 2003)), f"{rng.randint(0, 9999):04d}", "", "", "", "yes",
    ]


def _cn_mobile(rng: random.Random) -> str:
    digits = rng.choice(CN_MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
    style = rng.random()
    if style < 0.70:
        return digits
    if style < 0.85:
        return "+86" + digits
    if style < 0.95:
        return f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
    return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"


def _cn_landline(rng: random.Random) -> str:
    area = rng.choice(CN_LANDLINE_AREAS)
    return f"{area}-{rng.randint(2, 8)}{rng.randint(1, 9)}{rng.randint(0, 999_999):06d}"  # 8-digit subscriber numbers


def _us_phone(rng: random.Random) -> str:
    area, _ = rng.choice(US_AREAS)
    return f"+1{area}{rng.randint(2, 9)}{rng.randint(0, 99):02d}{rng.randint(0, 9999):04d}"


def _cn_amount(rng: random.Random, minor: int) -> str:
    yuan, fen = divmod(minor, 100)
    style = rng.random()
    if style < 0.4:
        return f"{yuan}.{fen:02d}"
    if style < 0.7:
        return f"¥{yuan:,}.{fen:02d}"
    if style < 0.85:
        return f"{yuan}.{fen:02d} CNY"
    return f"￥{yuan:,}.{fen:02d}"


def _plain(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _date(rng: random.Random) -> str:
    month, day = rng.randint(1, 11), rng.randint(1, 28)
    return f"2026-{month:02d}-{day:02d}" if rng.random() < 0.8 else f"2026/{month:02d}/{day:02d}"


def dialer(db_url: str, name: str, *args: str, rows: int = 0) -> Step:
    """Run one `dialer` command as a separate process and time it."""
    exe = shutil.which("dialer", path=str(Path(sys.executable).parent)) or "dialer"
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([exe, "--db-url", db_url, *args], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"dialer {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    output = json.loads(done.stdout) if "--json" in args else None
    print(f"{name}: {elapsed:.1f} s wall, {cpu:.1f} s CPU, load {load:.1f}", file=sys.stderr)
    return Step(name, elapsed, cpu, load, rows, output)


def run(rows: int, db: str, workers: int | None, keep: bool) -> list[Step]:
    workdir = Path(tempfile.mkdtemp(prefix="dialer-bench-import-"))
    cluster = None
    try:
        started = time.perf_counter()
        csv_path = workdir / "accounts.csv"
        generate(csv_path, rows)
        print(f"generated {rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - started:.1f} s: {csv_path}", file=sys.stderr)
        if db == "sqlite":
            db_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        else:
            from tests.fixtures.postgres import start_cluster  # the same throwaway cluster the tests use

            server, cluster = start_cluster()
            admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("CREATE DATABASE bench"))
            admin.dispose()
            db_url = server.url("bench")
        steps = [dialer(db_url, "db upgrade", "db", "upgrade"),
                 dialer(db_url, "campaign create", "campaign", "create", "bench", "--mode", "bot_only")]
        extra = ["--workers", str(workers)] if workers else []
        for name in ("import (new rows)", "re-import (updates)"):
            steps.append(dialer(db_url, name, "campaign", "import", "bench", str(csv_path), "--json", *extra,
                                rows=rows))
        return steps
    finally:
        if cluster is not None:
            cluster.stop()
        if keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def phases(rows: int) -> list[tuple[str, float]]:
    """CPU µs per file row of each phase of an import, run in this process (no CLI start-up).

    The same code the CLI runs, called phase by phase on a throwaway SQLite file, with the cyclic
    collector paused as `import_accounts` pauses it. Phones and money are also timed on their own
    (a second, uncached pass over the same rows).
    """
    import gc
    from datetime import datetime, timezone

    from dialer.campaigns import CampaignSpec, create_campaign
    from dialer.db import migrate
    from dialer.db.session import make_engine, make_sessionmaker, transaction
    from dialer.domain import CampaignMode
    from dialer.importing.accounts import ImportContext, ParsedAccount, parse_account, read_amount
    from dialer.importing.mapping import ACCOUNT_FIELDS, load_mapping
    from dialer.importing.phones import _normalise_text, normalise
    from dialer.importing.reader import open_table
    from dialer.importing.writer import write_accounts

    workdir = Path(tempfile.mkdtemp(prefix="dialer-bench-phases-"))
    try:
        csv_path = workdir / "accounts.csv"
        generate(csv_path, rows)
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        migrate.upgrade(url)
        sessions = make_sessionmaker(make_engine(url))
        with transaction(sessions) as session:
            campaign = create_campaign(session, CampaignSpec(name="bench", mode=CampaignMode.BOT_ONLY),
                                       known_profiles=("cn",), actor="bench")
            session.flush()
            campaign_id = campaign.id
        now = datetime.now(timezone.utc)
        ctx = ImportContext(file=csv_path.name, region="CN", currency="CNY", language="zh-CN", today=now.date())
        mapping = load_mapping(None, ACCOUNT_FIELDS)
        results: list[tuple[str, float]] = []

        def timed(name: str, started: float) -> None:
            results.append((name, (time.process_time() - started) / rows * 1e6))

        gc.disable()
        started = time.process_time()
        with open_table(csv_path) as (_, reader):
            table = list(reader)
        timed("read CSV into row dicts", started)
        started = time.process_time()
        parsed = [parse_account(line, raw, mapping, ctx) for line, raw in table]
        timed("parse + validate", started)
        good = [p for p in parsed if isinstance(p, ParsedAccount)]
        assert len(good) == rows, "the generated file has bad rows"
        _normalise_text.cache_clear()
        started = time.process_time()
        for _, raw in table:
            for text in (raw["phone"], *raw["alt_phones"].split(";"), raw["contact_phone"]):
                if text:
                    normalise(text, region="CN")
        timed("  of which phone numbers", started)
        started = time.process_time()
        for _, raw in table:
            for text in (raw["amount_due"], raw["minimum_payment"]):
                if text:
                    read_amount(text, raw["currency"] or "CNY")
        timed("  of which amounts", started)
        for name in ("write, new rows", "write, updates"):
            started = time.process_time()
            with transaction(sessions) as session:
                write_accounts(session, good, campaign_id=campaign_id, now=now, today=now.date())
            timed(name, started)
        gc.enable()
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


RESULTS = Path(__file__).resolve().parent / "results"


def report(lines: list[str], out: Path) -> None:
    """Print the table and write it, with the command that produced it, for `make bench`."""
    print("\n" + "\n".join(lines))
    command = " ".join(["python -m benchmarks." + Path(sys.argv[0]).stem, *sys.argv[1:]])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"<!-- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `{command}` -->\n\n"
                   + "\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, help="passed to `dialer campaign import --workers`")
    parser.add_argument("--keep", action="store_true", help="keep the generated file and database")
    parser.add_argument("--out", type=Path, default=RESULTS / "import_accounts.latest.md",
                        help="where the table is written too (the analysis lives in results/import.md)")
    parser.add_argument("--phases", action="store_true",
                        help="time read/parse/write in this process instead (SQLite, serial parsing)")
    args = parser.parse_args(argv)
    if args.phases:
        out = args.out if args.out != parser.get_default("out") else RESULTS / "import_phases.latest.md"
        report([f"{args.rows:,} rows, sqlite, CPU per file row by phase", "", "| phase | CPU µs/row |", "|---|---:|",
                *(f"| {name} | {micro:.1f} |" for name, micro in phases(args.rows))], out)
        return 0
    steps = run(args.rows, args.db, args.workers, args.keep)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = [f"{args.rows:,} rows, {args.db}, {os.cpu_count()} cores, peak RSS of one child {peak_mb:,.0f} MB", "",
             "| step | wall s | rows/s | CPU s | CPU µs/row | load avg at start | inserted | updated | rejected |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for step in steps:
        o = step.output or {}
        rate = f"{step.rows / step.seconds:,.0f}" if step.rows else ""
        per_row = f"{step.cpu_seconds / step.rows * 1e6:,.0f}" if step.rows else ""
        lines.append(f"| {step.name} | {step.seconds:.1f} | {rate} | {step.cpu_seconds:.1f} | {per_row} | {step.load_before:.1f} "
                     f"| {o.get('inserted', '')} | {o.get('updated', '')} | {o.get('rejected', '')} |")
    report(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
