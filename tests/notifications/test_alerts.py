from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from notifications import Alert, AlertKind, Amount, Severity, Subject

REQUIRED_KINDS = {
    "snapshot-failed",
    "snapshot-created",
    "retention-blocked",
    "snapshot-stale",
    "idle-warning",
    "hibernated",
    "hibernate-failed",
    "restore-finished",
    "restore-failed",
    "drill-failed",
    "drill-succeeded",
    "low-balance",
    "balance-resolved",
    "flow-failed",
    "generic",
}


def test_every_required_kind_exists() -> None:
    assert {kind.value for kind in AlertKind} >= REQUIRED_KINDS


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        (Severity.INFO, Severity.WARNING),
        (Severity.WARNING, Severity.CRITICAL),
        (Severity.INFO, Severity.CRITICAL),
    ],
)
def test_severity_orders_by_urgency_not_alphabet(lower: Severity, higher: Severity) -> None:
    assert lower < higher
    assert higher > lower
    assert lower <= higher
    assert higher >= lower
    assert not higher < lower


def test_max_of_severities_is_the_worst() -> None:
    assert max([Severity.WARNING, Severity.CRITICAL, Severity.INFO]) is Severity.CRITICAL
    assert sorted([Severity.CRITICAL, Severity.INFO, Severity.WARNING]) == [
        Severity.INFO,
        Severity.WARNING,
        Severity.CRITICAL,
    ]


def test_key_ignores_severity_and_facts() -> None:
    subject = Subject.for_instance("BRK-1A2B3C4", name="train-1", region="US-1")
    warning = Alert(kind=AlertKind.SNAPSHOT_FAILED, severity=Severity.WARNING, subject=subject)
    critical = Alert(
        kind=AlertKind.SNAPSHOT_FAILED,
        severity=Severity.CRITICAL,
        subject=subject,
        facts={"error": "x"},
    )
    assert warning.key == critical.key
    assert warning.key.id == "snapshot-failed|instance|BRK-1A2B3C4"


def test_unknown_field_is_rejected_by_name() -> None:
    with pytest.raises(ValidationError, match="severty"):
        Alert.model_validate(
            {
                "kind": "generic",
                "severty": "info",
                "severity": "info",
                "subject": {"kind": "account", "id": "acme"},
            }
        )


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValidationError, match="kind"):
        Alert.model_validate(
            {"kind": "disk-full", "severity": "info", "subject": {"kind": "account", "id": "a"}}
        )


def test_naive_datetime_fact_is_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Alert(
            kind=AlertKind.GENERIC,
            severity=Severity.INFO,
            subject=Subject.for_account(),
            facts={"when": datetime(2025, 1, 1)},
        )


@pytest.mark.parametrize("url", ["ftp://x/y", "not a url", "javascript:alert(1)"])
def test_flow_run_url_must_be_http(url: str) -> None:
    with pytest.raises(ValidationError, match="flow_run_url"):
        Alert(
            kind=AlertKind.GENERIC,
            severity=Severity.INFO,
            subject=Subject.for_account(),
            flow_run_url=url,
        )


def test_multiline_title_is_rejected() -> None:
    with pytest.raises(ValidationError, match="single line"):
        Alert(
            kind=AlertKind.GENERIC,
            severity=Severity.INFO,
            subject=Subject.for_account(),
            title="one\ntwo",
        )


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        ("4.2", "USD", "USD 4.20"),
        ("42.1700", "EUR", "EUR 42.17"),
        ("1234.5", "INR", "INR 1,234.50"),
        ("0.0042", "USD", "USD 0.0042"),
    ],
)
def test_amount_text(value: str, currency: str, text: str) -> None:
    assert str(Amount(value=Decimal(value), currency=currency)) == text


def test_amount_currency_must_be_an_iso_code() -> None:
    with pytest.raises(ValidationError, match="currency"):
        Amount(value=Decimal(1), currency="usd")


def test_subject_label() -> None:
    assert Subject.for_instance("BRK-1", name="train-1").label == "train-1 (BRK-1)"
    assert Subject.for_region("CANADA-1").label == "CANADA-1"
    assert Subject.for_flow("nightly-snapshots").label == "nightly-snapshots"
