"""keepwell/importing/importer.py (with readers.py): a run over CSV and JSON files, accounts first, in the caller's
transaction. Every error path names the file, the line (CSV, header = 1) or item (JSON, from 0) and the reason,
and a run with an error must be rolled back whole; the sample files import, twice without a change."""

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from keepwell.db import session_factory
from keepwell.importing.importer import BATCH_ROWS, import_files
from keepwell.importing.report import Report
from keepwell.models import Base, Customer, Subscription, SurveyAnswer, UsageSnapshot

SAMPLES = Path(__file__).resolve().parents[3] / "examples" / "import"
TODAY = date(2025, 6, 1)
ACCOUNTS_HEADER = "id,name,plan,company_size,lifecycle_stage,signup_date,renewal_date\n"
ACCOUNT = "acc_1,Copperleaf,growth,mid,adoption,2024-03-01,2026-03-01\n"
USAGE_HEADER = "account_id,period_end,period_days,logins,active_users,feature_adoption\n"

Write = Callable[[str, str | bytes], Path]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "import"
    path.mkdir()
    return path


@pytest.fixture
def put(folder: Path) -> Write:
    """Write a file into the import folder (text as UTF-8, bytes as they are)."""

    def _put(name: str, content: str | bytes) -> Path:
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path

    return _put


def _run(engine: Engine, paths: list[Path], **options: Any) -> tuple[Report, dict[str, int]]:
    """Import in one transaction, committed only when the report has not failed, and count the rows of each table."""
    with session_factory(engine)() as session:
        report = import_files(session, paths, today=TODAY, **options)
        session.rollback() if report.failed else session.commit()
    return report, _counts(engine)


def _counts(engine: Engine) -> dict[str, int]:
    with session_factory(engine)() as session:
        tables = ("customers", "contacts", "subscriptions", "usage_snapshots", "support_tickets", "survey_answers")
        tables += ("onboarding_steps",)
        return {t: session.scalar(select(func.count()).select_from(Base.metadata.tables[t])) or 0 for t in tables}


def _contents(engine: Engine) -> dict[str, list[Any]]:
    with session_factory(engine)() as session:
        return {
            name: sorted(session.execute(select(table)).all(), key=repr) for name, table in Base.metadata.tables.items()
        }


def test_the_sample_files_import_and_a_second_import_changes_nothing(migrated: Engine) -> None:
    report, counts = _run(migrated, [SAMPLES])
    assert report.errors == [] and not report.failed
    assert [result.kind for result in report.files] == [
        "accounts", "contacts", "subscriptions", "usage", "tickets", "surveys", "onboarding",
    ]  # fmt: skip
    assert counts == {
        "customers": 4, "contacts": 5, "subscriptions": 6, "usage_snapshots": 7, "support_tickets": 3,
        "survey_answers": 4, "onboarding_steps": 4,
    }  # fmt: skip
    before = _contents(migrated)
    again, _ = _run(migrated, [SAMPLES])
    assert again.errors == []
    assert _contents(migrated) == before


def test_the_samples_current_terms_come_from_their_subscriptions(migrated: Engine) -> None:
    _run(migrated, [SAMPLES])
    with session_factory(migrated)() as session:
        terms = {c.id: (c.plan, c.mrr, c.seats_purchased) for c in session.scalars(select(Customer))}
        features = session.scalar(select(UsageSnapshot.features).where(UsageSnapshot.customer_id == "acme-co").limit(1))
    assert terms["acme-co"] == ("growth", 480, 20)
    assert terms["driftwood"] == ("free", 0, 3)
    assert features == {"tasks": 16, "automations": 6, "reports": 4, "integrations": 2}


def test_missing_columns_refuse_the_file_naming_them(migrated: Engine, put: Write) -> None:
    path = put("accounts.csv", "id,name,plan\nacc_1,Copperleaf,growth\n")
    report, counts = _run(migrated, [path])
    assert report.failed and counts["customers"] == 0
    [error] = report.errors
    assert (error.source, error.line) == ("accounts.csv", 1)
    assert error.reason.startswith("missing column(s) company_size, lifecycle_stage, signup_date, renewal_date")


def test_a_misspelt_column_is_refused(migrated: Engine, put: Write) -> None:
    path = put("accounts.csv", ACCOUNTS_HEADER.replace("\n", ",mmr\n") + ACCOUNT.replace("\n", ",100\n"))
    report, _ = _run(migrated, [path])
    assert "unknown column(s) 'mmr'" in report.errors[0].reason


def test_a_bad_value_names_its_csv_line_and_nothing_of_the_run_is_imported(migrated: Engine, put: Write) -> None:
    accounts = put("accounts.csv", ACCOUNTS_HEADER + ACCOUNT)
    usage = put("usage.csv", USAGE_HEADER + "acc_1,2025-05-25,7,100,10,0.5\nacc_1,2025-06-01,7,lots,10,0.5\n")
    report, counts = _run(migrated, [accounts, usage])
    assert [str(error) for error in report.errors] == [
        "usage.csv, line 3, logins: Input should be a valid integer, unable to parse string as an integer (got 'lots')"
    ]
    assert counts["customers"] == 0 and counts["usage_snapshots"] == 0
    assert report.summary().splitlines()[-2] == "1 error(s), nothing was imported:"


def test_a_json_item_is_named_by_its_index(migrated: Engine, put: Write) -> None:
    put("accounts.csv", ACCOUNTS_HEADER + ACCOUNT)
    put("surveys.json", '[{"external_id": "a", "account_id": "acc_1", "kind": "nps", "score": 9, "answered_at": '
        '"2025-05-01"}, {"external_id": "b", "account_id": "acc_1", "kind": "nps", "score": 12, "answered_at": '
        '"2025-05-02"}]')  # fmt: skip
    report, _ = _run(migrated, [put("x.txt", "").parent])
    # The .txt file is not an import file: a folder stands for its .csv and .json files only.
    assert [(e.source, e.position, e.line, e.reason) for e in report.errors] == [
        ("surveys.json", "item", 1, "a nps score is 0 to 10, not 12")
    ]


def test_a_duplicate_within_a_file_names_the_first_line(migrated: Engine, put: Write) -> None:
    put("accounts.csv", ACCOUNTS_HEADER + ACCOUNT + ACCOUNT.replace("Copperleaf", "Copperleaf Ltd"))
    report, counts = _run(migrated, [put("accounts.csv", ACCOUNTS_HEADER + ACCOUNT + ACCOUNT)])
    assert [(e.line, e.reason) for e in report.errors] == [(3, "duplicate of line 2 (id acc_1)")]
    assert counts["customers"] == 0


def test_an_account_is_known_from_the_same_import_but_not_from_nowhere(migrated: Engine, put: Write) -> None:
    put("accounts.csv", ACCOUNTS_HEADER + ACCOUNT)
    put("usage.csv", USAGE_HEADER + "acc_1,2025-05-25,7,100,10,0.5\nacc_9,2025-05-25,7,100,10,0.5\n")
    report, _ = _run(migrated, [put("accounts.csv", ACCOUNTS_HEADER + ACCOUNT).parent])
    assert [(e.source, e.line, e.field) for e in report.errors] == [("usage.csv", 3, "account_id")]
    assert "unknown account 'acc_9'" in report.errors[0].reason


def test_a_file_that_is_not_utf8_is_named_with_the_line_of_its_first_bad_byte(migrated: Engine, put: Write) -> None:
    put(
        "accounts.csv",
        (ACCOUNTS_HEADER + ACCOUNT + "acc_2,Caf\u00e9 Noir,free,small,mature,2024-01-01,2025-01-01\n").encode(
            "latin-1"
        ),
    )
    report, counts = _run(migrated, [put("usage.csv", USAGE_HEADER).parent])
    assert [str(error) for error in report.errors] == [
        "accounts.csv, line 3: is not UTF-8 text (byte 0xe9); save it as UTF-8"
    ]
    assert counts["customers"] == 0


def test_a_row_with_the_wrong_number_of_cells_is_an_error(migrated: Engine, put: Write) -> None:
    report, _ = _run(migrated, [put("accounts.csv", ACCOUNTS_HEADER + "acc_1,Copperleaf,growth\n")])
    assert [(e.line, e.reason) for e in report.errors] == [(2, "has 3 cells, the header has 7")]


def test_an_unrecognised_file_name_asks_for_the_kind_and_kind_overrides_names(migrated: Engine, put: Write) -> None:
    path = put("export.csv", ACCOUNTS_HEADER + ACCOUNT)
    report, _ = _run(migrated, [path])
    assert "unknown record kind 'export'" in report.errors[0].reason and "--kind" in report.errors[0].reason
    report, counts = _run(migrated, [path], kind="accounts")
    assert report.errors == [] and counts["customers"] == 1


def test_not_valid_json_is_a_file_error(migrated: Engine, put: Write) -> None:
    report, _ = _run(migrated, [put("surveys.json", '[{"external_id": "a",]')])
    assert report.errors[0].source == "surveys.json" and report.errors[0].reason.startswith("is not valid JSON")


def test_skipping_bad_rows_imports_the_rest(migrated: Engine, put: Write) -> None:
    put("accounts.csv", ACCOUNTS_HEADER + ACCOUNT)
    put("usage.csv", USAGE_HEADER + "acc_1,2025-05-25,7,100,10,0.5\nacc_1,2025-06-01,7,-1,10,0.5\n")
    report, counts = _run(migrated, [put("accounts.csv", ACCOUNTS_HEADER + ACCOUNT).parent], skip_bad_rows=True)
    assert [(e.line, e.field) for e in report.errors] == [(3, "logins")] and not report.failed
    assert (counts["customers"], counts["usage_snapshots"]) == (1, 1)
    assert "1 error(s), skipped:" in report.summary()


def test_more_rows_than_a_batch_are_all_written(migrated: Engine, put: Write) -> None:
    weeks = BATCH_ROWS + 5
    lines = "".join(f"acc_1,{date.fromordinal(TODAY.toordinal() - 7 * week)},7,{week},3,0.5\n" for week in range(weeks))
    report, counts = _run(
        migrated, [put("accounts.csv", ACCOUNTS_HEADER + ACCOUNT), put("usage.csv", USAGE_HEADER + lines)]
    )
    assert report.errors == [] and counts["usage_snapshots"] == weeks
    with session_factory(migrated)() as session:
        assert session.scalar(select(func.sum(UsageSnapshot.logins))) == sum(range(weeks))


def test_an_error_after_rows_were_written_rolls_back_everything(migrated: Engine, put: Write) -> None:
    # The bad row comes after a whole batch was written: the caller's rollback must take that batch back too.
    lines = "".join(f"acc_1,{date.fromordinal(TODAY.toordinal() - 7 * week)},7,1,1,0.5\n" for week in range(BATCH_ROWS))
    usage = put("usage.csv", USAGE_HEADER + lines + "acc_1,2020-01-01,7,1,1,2.5\n")
    report, counts = _run(migrated, [put("accounts.csv", ACCOUNTS_HEADER + ACCOUNT), usage])
    assert [e.line for e in report.errors] == [BATCH_ROWS + 2]
    assert counts["usage_snapshots"] == 0 and counts["customers"] == 0


def test_subscriptions_and_answers_are_stored_as_given(migrated: Engine) -> None:
    _run(migrated, [SAMPLES])
    with session_factory(migrated)() as session:
        ended = session.scalar(select(Subscription.ended_on).where(Subscription.external_id == "sub-acme-1"))
        comment = session.scalar(select(SurveyAnswer.comment).where(SurveyAnswer.external_id == "nps-2025-05-bright"))
    assert ended == date(2025, 2, 12)
    assert comment == "Exports keep failing."


def test_a_terms_add_ons_are_read_from_a_list_in_csv_or_json_and_a_bad_key_is_refused(
    migrated: Engine, put: Write
) -> None:
    _run(migrated, [SAMPLES])
    with session_factory(migrated)() as session:
        add_ons = dict(session.execute(select(Subscription.external_id, Subscription.add_ons)).all())
    assert add_ons["sub-acme-2"] == ["automations-pro"] and add_ons["sub-acme-1"] == []
    term = {"external_id": "sub-acme-3", "account_id": "acme-co", "plan": "growth", "mrr": 500, "seats_purchased": 20,
            "seats_used": 19, "started_on": "2025-06-01"}  # fmt: skip
    report, _ = _run(migrated, [put("subscriptions.json", json.dumps([{**term, "add_ons": ["premium-support"]}]))])
    assert not report.errors
    header = "external_id,account_id,plan,mrr,seats_purchased,seats_used,started_on,add_ons\n"
    report, _ = _run(migrated, [put("subscriptions.csv", header + "sub-acme-4,acme-co,growth,500,20,19,2025-07-01,"
                                    "Premium Support\n")])  # fmt: skip
    assert [(error.line, error.field) for error in report.errors] == [(2, "add_ons.0")], report.errors
