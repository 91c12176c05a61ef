"""Which file column feeds which field. Defaults are the field names; a mapping file renames them.

A mapping file (YAML) maps our field names to the file's column headers, e.g.::

    account_id: 合同号
    name: 姓名
    phone: 手机号
    amount_due: 应还金额
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Field:
    name: str
    required: bool
    help: str


ACCOUNT_FIELDS: tuple[Field, ...] = (
    Field("account_id", True, "external account id (unique; re-imports update by it)"),
    Field("debtor_id", False, "external debtor id; default: the account id"),
    Field("name", True, "debtor's full name"),
    Field("phone", True, "debtor's main phone number (national or +E.164)"),
    Field("alt_phones", False, "more of the debtor's numbers, separated by ';'"),
    Field("timezone", False, "IANA zone(s) of the debtor's numbers, '|' separated; default: from the number"),
    Field("amount_due", True, "amount owed, e.g. 1234.50, ¥1,234.50 or 1234.50 CNY"),
    Field("minimum_payment", False, "minimum payment, same format"),
    Field("currency", False, "ISO 4217 code; default: --currency"),
    Field("due_date", True, "missed due date, YYYY-MM-DD"),
    Field("days_past_due", False, "days past due as of the import; default: from due_date"),
    Field("product", False, "product (credit card, cash loan, ...)"),
    Field("language", False, "zh-CN or en-US; default: the campaign's"),
    Field("birth_year", False, "for identity verification"),
    Field("id_last4", False, "last 4 digits of ID/card, for identity verification"),
    Field("contact_name", False, "third-party contact's name (emergency contact, relative)"),
    Field("contact_phone", False, "third-party contact's number"),
    Field("contact_relation", False, "relation of the third party to the debtor"),
    Field("consent_autodialer", False, "yes/no: consent to automated calls"),
)

DNC_FIELDS: tuple[Field, ...] = (
    Field("phone", True, "number to suppress"),
    Field("reason", False, "why"),
)


class MappingError(ValueError):
    pass


def load_mapping(path: Path | None, fields: tuple[Field, ...]) -> dict[str, str]:
    """Our field name -> the file's column header."""
    mapping = {f.name: f.name for f in fields}
    if path is None:
        return mapping
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read column mapping: {exc}") from None
    if not isinstance(data, dict):
        raise MappingError(f"{path}: expected 'field: column header' lines")
    known = {f.name for f in fields}
    for field, column in data.items():
        if field not in known:
            raise MappingError(f"{path}: {field}: unknown field (known: {', '.join(sorted(known))})")
        if not isinstance(column, str) or not column.strip():
            raise MappingError(f"{path}: {field}: column header must be a non-empty string")
        mapping[field] = column.strip()
    return mapping
