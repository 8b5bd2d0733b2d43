"""Pass rates of a suite run: by category and overall, dev and held-out apart, the feedback rates, every failure."""

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tests.conversations.runner import ConversationResult, TurnResult
from tests.conversations.suite import CATEGORIES, HALVES

# The targets (issue 8, "Done when").
TARGETS = {"dev": 0.97, "heldout": 0.95}
MAX_FALSE_FEEDBACK = 0.02
MIN_FEEDBACK_CAPTURE = 0.95


@dataclass(frozen=True)
class Rate:
    passed: int
    total: int

    @property
    def value(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{100 * self.value:.1f} % ({self.passed}/{self.total})" if self.total else "– (0)"


@dataclass(frozen=True)
class Summary:
    """Turn and conversation pass rates per half and category, and the feedback rates over every turn played."""

    turns: dict[tuple[str, str], Rate]  # (half, category or "all")
    conversations: dict[tuple[str, str], Rate]
    false_feedback: Rate  # non-feedback turns recorded as feedback (passed = recorded)
    feedback_capture: Rate
    failure_kinds: dict[str, Counter[str]]  # half -> kind -> count
    late_answers: int


def _turns(results: Sequence[ConversationResult]) -> list[TurnResult]:
    return [t for r in results for t in r.turns]


def summarise(results: Sequence[ConversationResult]) -> Summary:
    turns: dict[tuple[str, str], Rate] = {}
    conversations: dict[tuple[str, str], Rate] = {}
    kinds: dict[str, Counter[str]] = {}
    for half in HALVES:
        in_half = [r for r in results if r.conversation.half == half]
        kinds[half] = Counter(f.kind for t in _turns(in_half) for f in t.failures)
        for category in (*CATEGORIES, "all"):
            chosen = [r for r in in_half if category in ("all", r.conversation.category)]
            played = _turns(chosen)
            turns[half, category] = Rate(sum(t.passed for t in played), len(played))
            conversations[half, category] = Rate(sum(r.passed for r in chosen), len(chosen))
    every = _turns(results)
    non_feedback = [t for t in every if t.turn.expect.feedback is None and t.observation.error is None]
    feedback = [t for t in every if t.turn.expect.feedback == "recorded"]
    return Summary(
        turns=turns,
        conversations=conversations,
        false_feedback=Rate(sum(bool(t.observation.feedback) for t in non_feedback), len(non_feedback)),
        feedback_capture=Rate(sum(bool(t.observation.feedback) for t in feedback), len(feedback)),
        failure_kinds=kinds,
        late_answers=sum(t.observation.late for t in every),
    )


def format_summary(summary: Summary) -> str:
    """The pass-rate table (turns, and whole conversations) with the feedback rates and the failure kinds."""
    halves = [h for h in HALVES if summary.turns[h, "all"].total]
    lines = ["Conversation suite: turns passed (conversations with every turn passed)", ""]
    header = f"{'category':<16}" + "".join(f"{h + ' turns':<24}{h + ' convs':<22}" for h in halves)
    lines += [header, "-" * len(header)]
    for category in (*CATEGORIES, "all"):
        if not any(summary.turns[h, category].total for h in halves):
            continue
        row = f"{category:<16}"
        for half in halves:
            row += f"{summary.turns[half, category]!s:<24}{summary.conversations[half, category]!s:<22}"
        lines.append(row)
    lines.append("")
    for half in halves:
        target = TARGETS[half]
        reached = "met" if summary.turns[half, "all"].value >= target else "not met"
        lines.append(f"{half}: {summary.turns[half, 'all']} of turns pass; target {100 * target:.0f} % {reached}")
    false_ok = "met" if summary.false_feedback.value <= MAX_FALSE_FEEDBACK else "not met"
    capture_ok = "met" if summary.feedback_capture.value >= MIN_FEEDBACK_CAPTURE else "not met"
    lines.append(
        f"false feedback (non-feedback turns recorded as feedback): {summary.false_feedback}; "
        f"target ≤ {100 * MAX_FALSE_FEEDBACK:.0f} % {false_ok}"
    )
    lines.append(
        f"feedback capture: {summary.feedback_capture}; target ≥ {100 * MIN_FEEDBACK_CAPTURE:.0f} % {capture_ok}"
    )
    if summary.late_answers:
        lines.append(f"late answers (the notice came first): {summary.late_answers} turns")
    for half in halves:
        common = ", ".join(f"{kind} {count}" for kind, count in summary.failure_kinds[half].most_common())
        lines.append(f"failure kinds ({half}): {common or 'none'}")
    return "\n".join(lines)


def format_failures(results: Sequence[ConversationResult]) -> str:
    """Every failing turn with expected versus got, and what the bot understood and said."""
    lines = []
    for result in results:
        for turn in result.turns:
            if turn.passed:
                continue
            conversation, observation = turn.conversation, turn.observation
            who = f" as {conversation.customer}" if conversation.customer else ""
            lines.append(
                f"[{conversation.half}] {conversation.id} turn {turn.index}{who}: {turn.turn.said!r}"
                f" -> intent {observation.intent}, actions {observation.actions}"
            )
            lines += [f"    {failure}" for failure in turn.failures]
    return "\n".join(lines) if lines else "No failing turns."


def as_json(results: Sequence[ConversationResult], summary: Summary) -> dict[str, Any]:
    """The run in machine-readable form: per conversation and turn, and the summary's rates."""
    return {
        "summary": {
            "turns": {f"{h}/{c}": [r.passed, r.total] for (h, c), r in summary.turns.items() if r.total},
            "conversations": {
                f"{h}/{c}": [r.passed, r.total] for (h, c), r in summary.conversations.items() if r.total
            },
            "false_feedback": [summary.false_feedback.passed, summary.false_feedback.total],
            "feedback_capture": [summary.feedback_capture.passed, summary.feedback_capture.total],
            "failure_kinds": {h: dict(c) for h, c in summary.failure_kinds.items()},
        },
        "conversations": [
            {
                "id": r.conversation.id,
                "category": r.conversation.category,
                "half": r.conversation.half,
                "passed": r.passed,
                "turns": [
                    {
                        "said": t.turn.said,
                        "passed": t.passed,
                        "intent": t.observation.intent,
                        "confidence": t.observation.confidence,
                        "actions": t.observation.actions,
                        "reply": t.observation.text,
                        "sources": [s.get("url") for s in t.observation.sources],
                        "failures": [str(f) for f in t.failures],
                    }
                    for t in r.turns
                ],
            }
            for r in results
        ],
    }


def dumps(results: Sequence[ConversationResult], summary: Summary) -> str:
    return json.dumps(as_json(results, summary), indent=2, ensure_ascii=False)
