"""keepwell/importing/rows.py: the kinds, their file names, and SCHEMA.md documenting exactly their columns."""

import re
from pathlib import Path

import pytest

from keepwell.importing import KINDS, UnknownKind, kind_named

SCHEMA = Path(__file__).resolve().parents[3] / "keepwell" / "importing" / "SCHEMA.md"


def _documented() -> dict[str, tuple[list[str], list[str]]]:
    """Per kind section of SCHEMA.md: its columns and those marked required."""
    sections = re.split(r"^## ", SCHEMA.read_text(encoding="utf-8"), flags=re.MULTILINE)
    documented = {}
    for section in sections:
        heading, _, body = section.partition("\n")
        kind = heading.split(" ")[0]
        if kind not in KINDS:
            continue
        rows = [line.split("|")[1:-1] for line in body.splitlines() if line.startswith("| ") and "---" not in line]
        cells = [[cell.strip() for cell in row] for row in rows[1:]]
        documented[kind] = ([row[0] for row in cells], [row[0] for row in cells if row[2] == "yes"])
    return documented


def test_schema_md_documents_every_column_of_every_kind_and_which_are_required() -> None:
    documented = _documented()
    assert set(documented) == set(KINDS)
    for name, kind in KINDS.items():
        columns, required = documented[name]
        expected = [column if column != "features" else "feature:*key*" for column in kind.columns]
        assert columns == expected, name
        assert required == list(kind.required_columns), name


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("usage", "usage"),
        ("usage_snapshots", "usage"),
        ("support_tickets", "tickets"),
        ("customers", "accounts"),
        ("survey", "surveys"),
        ("subscription", "subscriptions"),
    ],
)
def test_a_kind_is_found_by_its_name_or_file_alias(name: str, kind: str) -> None:
    assert kind_named(name).name == kind


def test_an_unknown_name_lists_the_kinds() -> None:
    with pytest.raises(UnknownKind) as error:
        kind_named("invoices")
    assert all(kind in str(error.value) for kind in KINDS)
