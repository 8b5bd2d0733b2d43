"""keepwell/scorecards: the scorecards file is validated as a whole, and every problem names its file and line."""

from pathlib import Path

import pytest

from keepwell import scorecards
from keepwell.scorecards import ConfigError

HEAD = """\
bands: {green: 70, yellow: 40}
scorecards:
  - id: default
    default: true
    measures:
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scorecards.yml"
    path.write_text(text)
    return path


def refused(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        scorecards.load(path)
    return str(caught.value)


def test_the_bundled_file_is_valid_with_one_default() -> None:
    book = scorecards.load()

    assert book.default.id == "default"
    assert {s.id for s in book.scorecards} >= {"onboarding", "renewal", "default"}


def test_weights_that_do_not_add_up_name_the_scorecard_line(tmp_path: Path) -> None:
    text = HEAD + (
        "      active_users: {weight: 0.5, linear: {zero_at: 0, full_at: 1}}\n"
        "      nps: {weight: 0.4, linear: {zero_at: 0, full_at: 10}}\n"
    )

    message = refused(tmp_path, text)
    assert f"{tmp_path / 'scorecards.yml'}:3:" in message
    assert "weights add up to 0.9, not 1" in message


def test_overlapping_ranges_name_the_ranges_line(tmp_path: Path) -> None:
    text = HEAD + (
        "      nps:\n"
        "        weight: 1\n"
        "        ranges:\n"
        "          - {max: 7, points: 0}\n"
        "          - {min: 6, max: 9, points: 60}\n"
    )

    message = refused(tmp_path, text)
    assert "scorecards.yml:8:" in message
    assert "ranges [-inf, 7) and [6, 9) overlap" in message


def test_an_unknown_measure_names_its_line(tmp_path: Path) -> None:
    text = HEAD + (
        "      active_users: {weight: 0.5, linear: {zero_at: 0, full_at: 1}}\n"
        "      karma: {weight: 0.5, linear: {zero_at: 0, full_at: 1}}\n"
    )

    message = refused(tmp_path, text)
    assert "scorecards.yml:7: scorecards.0.measures.karma:" in message
    assert "login_frequency" in message  # the known measures are listed


def test_an_unknown_scorecard_key_names_its_line(tmp_path: Path) -> None:
    text = HEAD.replace("    default: true\n", "    default: true\n    colour: blue\n") + (
        "      active_users: {weight: 1, linear: {zero_at: 0, full_at: 1}}\n"
    )

    message = refused(tmp_path, text)
    assert "scorecards.yml:5: scorecards.0.colour: Extra inputs are not permitted" in message


@pytest.mark.parametrize(
    ("measure", "expected"),
    [
        ("billing_state: {weight: 1, linear: {zero_at: 0, full_at: 1}}", "billing_state is scored with categories"),
        ("nps: {weight: 1, categories: {current: 100}}", "nps is scored with linear or ranges"),
        ("billing_state: {weight: 1, categories: {late: 10}}", "unknown categories ['late']"),
        ("nps: {weight: 1}", "exactly one scoring scheme"),
        ("nps: {weight: 1, linear: {zero_at: 3, full_at: 3}}", "zero_at and full_at must differ"),
        ("nps: {weight: 1, ranges: [{min: 5, max: 2, points: 1}]}", "range min 5 must be below its max 2"),
    ],
)
def test_a_scheme_that_does_not_fit_is_refused(tmp_path: Path, measure: str, expected: str) -> None:
    message = refused(tmp_path, HEAD + f"      {measure}\n")

    assert "scorecards.yml:6:" in message
    assert expected in message


def test_a_missing_default_and_bad_bands_are_refused(tmp_path: Path) -> None:
    text = (
        "bands: {green: 30, yellow: 40}\n"
        "scorecards:\n"
        "  - id: young\n"
        "    match: {account_age_days: {max: 90}}\n"
        "    measures:\n"
        "      nps: {weight: 1, linear: {zero_at: 0, full_at: 10}}\n"
    )

    message = refused(tmp_path, text)
    assert "scorecards.yml:1: bands: band thresholds need 0 < yellow < green <= 100" in message


def test_exactly_one_default(tmp_path: Path) -> None:
    text = (
        "scorecards:\n"
        "  - id: young\n"
        "    match: {account_age_days: {max: 90}}\n"
        "    measures:\n"
        "      nps: {weight: 1, linear: {zero_at: 0, full_at: 10}}\n"
    )

    assert "exactly one scorecard must be the default" in refused(tmp_path, text)


def test_not_yaml_names_the_line(tmp_path: Path) -> None:
    message = refused(tmp_path, HEAD + "      nps: {weight: 1, linear: [\n")

    assert "scorecards.yml:" in message and "not valid YAML" in message


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read scorecards file"):
        scorecards.load(tmp_path / "nowhere.yml")
