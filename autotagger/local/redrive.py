"""Redrive: dead letters back into the system, each at most once.

A workflow dead letter runs the workflow again on its original event as execution
`redrive-<message id>`, so redriving one message twice (or after a crash between the re-run and
the message's removal) starts one run. An indexer dead letter puts its records back on the stream.
Both go through the queue's claim/resubmit/remove protocol (`LocalDeadLetterQueue.redrive`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from autotagger.local.dlq import LocalDeadLetterQueue, QueuedDeadLetter
from autotagger.local.stream import LocalStream

StartExecution = Callable[[dict[str, Any], str], bool]  # (event, name) -> False if `name` ran already


def redrive(message_ids: list[str] | None, *, workflow_dlq: LocalDeadLetterQueue,
            indexer_dlq: LocalDeadLetterQueue, stream: LocalStream,
            start_execution: StartExecution) -> dict[str, list[str]]:
    """Redrives the named messages (all of both queues when None); reports which were found."""
    if message_ids is None:
        message_ids = [m.message_id for m in workflow_dlq.list(limit=1_000_000)]
        message_ids += [m.message_id for m in indexer_dlq.list(limit=1_000_000)]
    redriven: list[str] = []
    not_found: list[str] = []
    for message_id in message_ids:
        if workflow_dlq.get(message_id) is not None:
            done = workflow_dlq.redrive(message_id, lambda letter: rerun_dead_letter(letter, start_execution))
        elif indexer_dlq.get(message_id) is not None:
            done = indexer_dlq.redrive(message_id, lambda letter: redrive_batch(stream, letter.body))
        else:
            done = False
        (redriven if done else not_found).append(message_id)
    return {"redriven": redriven, "not_found": not_found}


def rerun_dead_letter(letter: QueuedDeadLetter, start_execution: StartExecution) -> None:
    """Runs the workflow again on the letter's original event, as execution `redrive-<message id>`
    (if that ran already, a crash came between re-running it and removing the message)."""
    body = json.loads(letter.body)
    event = body.get("event") if isinstance(body, dict) else None
    if not isinstance(event, dict):
        raise ValueError(f"dead letter {letter.message_id} carries no original event to run again")
    start_execution(event, f"redrive-{letter.message_id}")


def redrive_batch(stream: LocalStream, dead_letter_body: str | dict[str, Any]) -> list[dict[str, str]]:
    """Puts the records of a stream dead letter back on the stream (same partition keys, so they
    are ordered after anything newer for the same key; the indexer's sequencer check keeps an old
    record from overwriting a newer state)."""
    body = json.loads(dead_letter_body) if isinstance(dead_letter_body, str) else dead_letter_body
    records = body.get("records")
    if not isinstance(records, list) or not records:
        raise ValueError("not a stream dead letter: it has no 'records'")
    return stream.put_records([(base64.b64decode(r["data"]), r["partitionKey"]) for r in records])
