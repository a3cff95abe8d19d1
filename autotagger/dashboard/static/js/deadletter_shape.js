// Reads dead letters as GET /v1/dead-letters returns them:
// {"workflow": [msg], "indexer": [msg]}, msg = {message_id, queue, sent_at, reason: {error, cause,
// execution_id, failed_at}, body: <the message body, parsed when JSON>}.

export function allLetters(queues) {
  if (Array.isArray(queues)) return queues;
  return Object.entries(queues ?? {}).flatMap(([queue, messages]) => (messages ?? []).map((m) => ({ queue, ...m })));
}

export function letterReason(letter) {
  const body = typeof letter.body === "object" && letter.body !== null ? letter.body : {};
  const reason = letter.reason ?? {};
  return {
    error: reason.error ?? body.error ?? null,
    cause: reason.cause ?? body.cause ?? (typeof letter.body === "string" ? letter.body : null),
    execution_id: reason.execution_id ?? body.execution_id ?? null,
  };
}

// The bucket and key a dead letter is about: the workflow's S3 event, or the indexer's record.
export function letterObject(letter) {
  const body = typeof letter.body === "object" && letter.body !== null ? letter.body : {};
  const detail = body.event?.detail;
  if (detail) return { bucket: detail.bucket?.name, key: detail.object?.key };
  const record = body.record ?? body.document ?? body;
  return { bucket: record.bucket, key: record.key };
}

export function letterId(letter) {
  return letter.message_id;
}
