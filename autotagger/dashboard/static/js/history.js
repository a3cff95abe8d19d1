// Turns a Step Functions execution history (GetExecutionHistory events) into steps, state by
// state, as the Step Functions console's table view shows them: status, duration, error, cause.

export function eventDetails(event) {
  const key = Object.keys(event).find((k) => k.endsWith("EventDetails"));
  return key ? event[key] ?? {} : {};
}

const FAILURE = /(Failed|TimedOut|Aborted)$/;

export function stepsFromHistory(events) {
  const steps = [];
  let current = null;
  let execution = { status: "RUNNING", error: null, cause: null };
  for (const event of events) {
    const type = event.type ?? "";
    const details = eventDetails(event);
    if (type.endsWith("StateEntered")) {
      current = {
        name: details.name,
        type: type.replace("StateEntered", ""),
        entered: event.timestamp,
        exited: null,
        input: details.input,
        output: null,
        resource: null,
        status: "In progress",
        failures: [],
        retries: 0,
        events: [event],
      };
      steps.push(current);
      continue;
    }
    if (type.startsWith("Execution")) {
      if (type === "ExecutionSucceeded") execution = { status: "SUCCEEDED", error: null, cause: null };
      else if (FAILURE.test(type)) {
        execution = { status: type.replace("Execution", "").toUpperCase().replace("TIMEDOUT", "TIMED_OUT"), error: details.error, cause: details.cause };
        // A Fail state (or an uncaught error) ends the execution: that step failed with it.
        if (current && !current.exited) {
          current.status = "Failed";
          current.failures.push({ error: details.error, cause: details.cause, event: type });
          current.exited = event.timestamp;
        } else if (current && current.type === "Fail") {
          current.status = "Failed";
          if (!current.failures.length) current.failures.push({ error: details.error, cause: details.cause, event: type });
        }
      }
      continue;
    }
    if (!current) continue;
    current.events.push(event);
    if (type.endsWith("Scheduled")) {
      if (details.resource || details.resourceType) current.resource = [details.resourceType, details.resource].filter(Boolean).join(":");
      if (current.failures.length && current.status === "In progress") current.retries += 1;
    }
    if (FAILURE.test(type)) {
      current.failures.push({ error: details.error, cause: details.cause, event: type });
    }
    if (type.endsWith("Succeeded") && current.failures.length) {
      current.status = "Succeeded";
    }
    if (type.endsWith("StateExited")) {
      current.exited = event.timestamp;
      current.output = details.output;
      // Exiting after a failure means a Catch handled it (the console calls this "Caught error").
      const lastFailure = current.events.findLastIndex((e) => FAILURE.test(e.type ?? ""));
      const lastSuccess = current.events.findLastIndex((e) => /Succeeded$/.test(e.type ?? ""));
      current.status = lastFailure > lastSuccess ? "Caught error" : "Succeeded";
    }
  }
  const failing = steps.find((step) => step.status === "Failed" || step.status === "Caught error") ?? null;
  return { steps, execution, failing };
}

// A backfill's distributed Map: its Map Run as the execution view shows it (items by status, the
// failed child executions), from the API's `map_run`; the ARN from the history when only that is known.
export function mapRunSummary(mapRun, events = []) {
  if (!mapRun) {
    const started = events.find((event) => event.type === "MapRunStarted");
    return started ? { arn: eventDetails(started).mapRunArn, status: null, items: null, failed: [] } : null;
  }
  const items = mapRun.items ?? {};
  return {
    arn: mapRun.arn,
    status: mapRun.status,
    items: ["total", "succeeded", "failed", "running", "pending", "aborted"].map((key) => [key, items[key] ?? 0]),
    failed: mapRun.failed_executions ?? [],
  };
}
