"""keepwell/cli/generate.py: `python -m keepwell generate` writes the files it lists, and refuses counts below 1."""

from pathlib import Path

import pytest

from keepwell.cli import main


def test_it_writes_one_file_per_kind_and_says_how_to_import_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "world"
    assert main(["generate", "--accounts", "12", "--weeks", "4", "--out", str(out), "--end", "2025-06-01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{out / 'accounts.csv'}: 12 accounts rows"
    assert lines[-1].endswith(f"import with: python -m keepwell import {out}")
    assert sorted(path.name for path in out.iterdir()) == [
        "accounts.csv",
        "contacts.csv",
        "onboarding.csv",
        "subscriptions.csv",
        "surveys.csv",
        "tickets.csv",
        "usage.csv",
    ]


@pytest.mark.parametrize("option", ["--accounts", "--weeks"])
def test_a_count_below_one_is_wrong_usage(tmp_path: Path, option: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["generate", "--accounts", "5", "--weeks", "5", "--out", str(tmp_path)]
    argv[argv.index(option) + 1] = "0"
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
