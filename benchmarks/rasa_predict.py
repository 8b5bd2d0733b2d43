"""Predict intents with a trained Rasa model, one query at a time. Runs INSIDE the Rasa (Python 3.10) environment.

    <rasa env>/bin/python benchmarks/rasa_predict.py --model M.tar.gz --input texts.jsonl --output predictions.jsonl

Input: JSON Lines, each an object with "text". Output: one JSON object per input line, in order:
  intent      the best intent other than `nlu_fallback` (the FallbackClassifier's verdict is kept in top_intent)
  confidence  that intent's confidence
  top_intent  Rasa's own top intent (may be nlu_fallback)
  ranking     the best three non-fallback intents as [name, confidence]
  latency_ms  wall time of parsing this query alone
Progress (counts and ETA) goes to stderr. Only the standard library and Rasa are imported: the project's code needs
Python 3.11. Run it from the repository root so custom pipeline components resolve, as `rasa` itself does.
"""

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from typing import Any

FALLBACK_INTENT = "nlu_fallback"
WARM_UP_TEXT = "hello"


def main(argv: list[str] | None = None) -> int:
    """Parse every input text with the model and write one prediction per line."""
    parser = argparse.ArgumentParser(description="Predict intents with a trained Rasa model, one query at a time.")
    parser.add_argument("--model", required=True, help="trained model (.tar.gz)")
    parser.add_argument("--input", required=True, help="JSON Lines with a 'text' per line")
    parser.add_argument("--output", required=True, help="where to write predictions (JSON Lines)")
    args = parser.parse_args(argv)

    # The `rasa` command puts the working directory on the path so custom components import; so do we.
    sys.path.insert(1, os.getcwd())
    logging.basicConfig(level=logging.WARNING)
    with open(args.input, encoding="utf-8") as file:
        texts = [json.loads(line)["text"] for line in file if line.strip()]

    print(f"Loading {args.model} ...", file=sys.stderr, flush=True)
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Without this, structlog prints a debug line for every parsed message.
    configure_structlog(logging.WARNING)

    started = time.perf_counter()
    agent = Agent.load(args.model)
    print(f"Model loaded in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    predictions = asyncio.run(_predict_all(agent, texts))
    partial = args.output + ".partial"
    with open(partial, "w", encoding="utf-8") as file:
        for prediction in predictions:
            file.write(json.dumps(prediction) + "\n")
    os.replace(partial, args.output)
    return 0


async def _predict_all(agent: Any, texts: list[str]) -> list[dict[str, Any]]:
    from tqdm import tqdm

    # The first parse traces TensorFlow graphs; it should not count as a query's latency.
    await agent.parse_message(WARM_UP_TEXT)
    predictions = []
    with tqdm(total=len(texts), desc="Predicting", unit="query", file=sys.stderr, mininterval=1.0) as bar:
        for text in texts:
            started = time.perf_counter()
            parsed = await agent.parse_message(text)
            latency_ms = (time.perf_counter() - started) * 1000
            predictions.append(_prediction(parsed, latency_ms))
            bar.update(1)
    return predictions


def _prediction(parsed: dict[str, Any], latency_ms: float) -> dict[str, Any]:
    ranking = [
        (str(item["name"]), float(item.get("confidence") or 0.0))
        for item in parsed.get("intent_ranking") or []
        if item.get("name") and item["name"] != FALLBACK_INTENT
    ]
    top = parsed.get("intent") or {}
    best_name, best_confidence = ranking[0] if ranking else (None, 0.0)
    return {
        "intent": best_name,
        "confidence": best_confidence,
        "top_intent": top.get("name"),
        "ranking": [list(item) for item in ranking[:3]],
        "latency_ms": latency_ms,
    }


if __name__ == "__main__":
    sys.exit(main())
