"""keepwell/segmentation.py: ARR band, lifecycle stage and touch model from the YAML rules; bad files name the line."""

from datetime import date, timedelta
from pathlib import Path

import pytest

from keepwell import segmentation
from keepwell.scorecards import Facts
from keepwell.yamlfile import ConfigError

TODAY = date(2025, 6, 1)
RULES = segmentation.bundled()


def facts(age_days: int = 500, renewal_in: int = 200) -> Facts:
    return Facts(TODAY, 10, 10, TODAY - timedelta(days=age_days), TODAY + timedelta(days=renewal_in))


@pytest.mark.parametrize(
    ("plan", "mrr", "age", "renewal", "expected"),
    [
        ("starter", 100, 30, 300, ("onboarding", "under-5k", "tech-touch")),
        ("growth", 500, 200, 300, ("adoption", "5k-50k", "low-touch")),
        ("growth", 5000, 800, 60, ("renewal", "50k-plus", "high-touch")),
        ("enterprise", 100, 800, 300, ("mature", "under-5k", "high-touch")),
        ("free", 0, 800, 10, ("mature", "under-5k", "tech-touch")),  # Free has no contract to renew
    ],
)
def test_segments_follow_the_rules(plan: str, mrr: float, age: int, renewal: int, expected: tuple) -> None:
    got = RULES.classify(plan, "mid", mrr, facts(age, renewal))

    assert (got.lifecycle_stage, got.arr_band, got.touch_model) == expected


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("arr_bands:\n  - {id: a, below: 10}\n  - {id: b, below: 5}\n  - {id: c}\n", 1, "ARR bands must go up"),
        ("lifecycle_stages:\n  - stage: renewing\n", 2, "unknown lifecycle stage 'renewing'"),
        ("touch_models:\n  - model: high-touch\n    when: {plans: [enterprise]}\n", 1, "the last of the touch_models"),
        ("touch_models:\n  - model: x\n    when: {colour: [red]}\n  - model: y\n", 3, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_rule_names_its_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    good = segmentation.DEFAULT_PATH.read_text()
    key = text.split(":", 1)[0]
    start = good.index(f"\n{key}:") + 1
    end = good.find("\n\n", start)
    offset = good[:start].count("\n")
    path = tmp_path / "segments.yml"
    path.write_text(good[:start] + text + (good[end:] if end != -1 else ""))

    with pytest.raises(ConfigError) as caught:
        segmentation.load(path)
    assert f"{path}:{offset + line}:" in str(caught.value)
    assert message in str(caught.value)
