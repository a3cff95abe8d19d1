// Executions: recent workflow executions with their status, and one execution's history state
// by state with the failing state, its error and its cause highlighted.
import { api } from "./api.js";
import { $, clear, el } from "./dom.js";
import { causeText, dateTime, duration } from "./format.js";
import { eventDetails, mapRunSummary, stepsFromHistory } from "./history.js";

const STATUS_TEXT = { SUCCEEDED: "Succeeded", FAILED: "Failed", RUNNING: "Running", TIMED_OUT: "Timed out", ABORTED: "Aborted" };

export function statusBadge(status) {
  const value = String(status ?? "UNKNOWN").toUpperCase();
  return el("span", { class: `badge badge-${value.toLowerCase()}`, text: STATUS_TEXT[value] ?? value });
}

function stepBadge(status) {
  const cls = { Succeeded: "succeeded", Failed: "failed", "Caught error": "failed", "In progress": "running" }[status] ?? "unknown";
  return el("span", { class: `badge badge-${cls}`, text: status });
}

function jsonBlock(title, text) {
  if (text === null || text === undefined) return null;
  let pretty = text;
  try {
    pretty = JSON.stringify(typeof text === "string" ? JSON.parse(text) : text, null, 2);
  } catch {
    /* not JSON: shown as is */
  }
  return el("details", { class: "json" }, el("summary", { text: title }), el("pre", { text: pretty }));
}

function stepItem(step, index, failing) {
  const isFailing = step === failing;
  const item = el("li", { class: `step${isFailing ? " step-failing" : ""}${step.failures.length ? " step-has-error" : ""}`, "aria-current": isFailing ? "step" : null },
    el("div", { class: "step-head" },
      el("span", { class: "step-number", text: `${index + 1}` }),
      el("h4", { class: "step-name", text: step.name }),
      el("span", { class: "step-type", text: step.type }),
      stepBadge(step.status),
      isFailing ? el("strong", { class: "failing-flag", text: "Failing state" }) : null,
      el("span", { class: "step-duration", text: duration(step.entered, step.exited) })));
  if (step.resource) item.append(el("p", { class: "step-resource", text: step.resource }));
  if (step.retries) item.append(el("p", { class: "step-retries", text: `${step.retries} ${step.retries === 1 ? "retry" : "retries"}` }));
  for (const failure of step.failures) {
    item.append(el("dl", { class: "step-error", role: "group", "aria-label": `Error in ${step.name}` },
      el("dt", { text: "Error" }), el("dd", {}, el("code", { text: failure.error ?? "–" })),
      el("dt", { text: "Cause" }), el("dd", {}, causeText(failure.cause) || "–",
        // A Lambda function's cause is JSON with its stack trace: the message above, the whole below.
        causeText(failure.cause) !== (failure.cause ?? "") ? jsonBlock("Cause as recorded", failure.cause) : null)));
  }
  const io = [jsonBlock("Input", step.input), jsonBlock("Output", step.output)].filter(Boolean);
  if (io.length) item.append(el("div", { class: "step-io" }, io));
  return item;
}

const ITEM_TEXT = { total: "Items", succeeded: "Succeeded", failed: "Failed", running: "Running", pending: "Pending", aborted: "Aborted" };

function mapRunSection(run, open) {
  const parts = [el("h4", { text: "Map Run" }), el("p", {}, el("code", { text: run.arn ?? "–" }), run.status ? statusBadge(run.status) : null)];
  if (run.items) {
    const facts = el("dl", { class: "facts map-run-items", "aria-label": "Map Run items by status" });
    for (const [key, count] of run.items) facts.append(el("dt", { text: ITEM_TEXT[key] }), el("dd", { text: String(count) }));
    parts.push(facts);
  }
  if (run.failed.length) {
    parts.push(el("p", { text: "Failed child executions:" }), el("ul", { class: "map-run-failed" }, run.failed.map((child) =>
      el("li", {}, el("button", { type: "button", class: "link-button", text: child.name, onclick: () => open(child.arn), "aria-label": `Open failed child execution ${child.name}` })))));
  }
  return el("section", { class: "map-run", "aria-label": "Map Run" }, parts);
}

function eventsTable(events) {
  const start = events[0]?.timestamp;
  return el("details", { class: "events" },
    el("summary", { text: `All ${events.length} events` }),
    el("div", { class: "table-scroll" },
      el("table", {},
        el("thead", {}, el("tr", {}, ["ID", "Type", "Step", "Elapsed", "Details"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, events.map((event) => {
          const details = eventDetails(event);
          return el("tr", { class: /Failed$|TimedOut$/.test(event.type) ? "event-failed" : null },
            el("td", { text: event.id }),
            el("td", { text: event.type }),
            el("td", { text: details.name ?? "" }),
            el("td", { text: duration(start, event.timestamp) }),
            el("td", { text: details.error ? `${details.error}: ${details.cause ?? ""}` : "" }));
        })))));
}

export function createExecutions({ onError }) {
  const table = $("#executions-body");
  const filter = $("#execution-status");
  const panel = $("#execution-panel");
  const detail = $("#execution-detail");
  let openId = null;

  async function refreshList() {
    const { executions } = await api.executions({ status: filter.value || undefined, limit: 50 });
    clear(table).append(...executions.map((execution) => el("tr", { class: execution.status === "FAILED" ? "row-failed" : null },
      el("td", {}, el("button", { type: "button", class: "link-button", text: execution.name, onclick: () => open(execution.name), "aria-label": `Open execution ${execution.name} (${STATUS_TEXT[execution.status] ?? execution.status})` })),
      el("td", {}, statusBadge(execution.status)),
      el("td", { text: dateTime(execution.start_date) }),
      el("td", { text: execution.stop_date ? duration(execution.start_date, execution.stop_date) : "–" }),
      el("td", { class: "cell-error", text: execution.error ?? "" }))));
    $("#executions-empty").hidden = executions.length > 0;
  }

  async function open(id, { focus = true } = {}) {
    openId = id;
    const execution = await api.execution(id);
    const { steps, failing: firstFailure } = stepsFromHistory(execution.history ?? []);
    // The state the server names as the failing one: the last error before the Catch routed on to
    // the dead letter and the Fail state (an earlier caught error, such as DetectLabels refusing a
    // HEIC before Normalize, is not where it failed); without one, the first error in the history.
    const failing = steps.find((step) => step.name === execution.failed_state) ?? firstFailure ?? null;
    const summary = el("dl", { class: "facts" });
    for (const [term, value] of [["Status", statusBadge(execution.status)], ["Started", dateTime(execution.start_date)], ["Stopped", dateTime(execution.stop_date)], ["Duration", duration(execution.start_date, execution.stop_date)], ["ARN", el("code", { text: execution.arn ?? "–" })]]) {
      summary.append(el("dt", { text: term }), el("dd", {}, value));
    }
    const parts = [el("h3", { id: "execution-title", tabindex: "-1", text: `Execution ${execution.name}` }), summary];
    if (execution.error || execution.cause) {
      parts.push(el("div", { class: "callout callout-error", role: "note" },
        el("p", {}, el("strong", { text: failing ? `Failed in ${failing.name}: ` : "Failed: " }), el("code", { text: execution.error ?? "" })),
        el("p", { text: execution.cause ?? "" })));
    }
    const mapRun = mapRunSummary(execution.map_run, execution.history ?? []);
    if (mapRun) parts.push(mapRunSection(mapRun, (arn) => open(arn).catch(onError)));
    if (execution.parent_arn) {
      parts.push(el("p", {}, "Started by ", el("button", { type: "button", class: "link-button", text: execution.parent_arn.split(":").pop(), onclick: () => open(execution.parent_arn).catch(onError) })));
    }
    parts.push(el("h4", { class: "steps-title", text: "Steps" }),
      el("ol", { class: "steps", "aria-label": `Steps of execution ${execution.name}` }, steps.map((step, i) => stepItem(step, i, failing))),
      eventsTable(execution.history ?? []));
    clear(detail).append(...parts);
    panel.hidden = false;
    if (focus) {
      panel.scrollIntoView({ block: "start" });
      $("#execution-title").focus({ preventScroll: true });
    }
  }

  filter.addEventListener("change", () => refreshList().catch(onError));
  $("#execution-close").addEventListener("click", () => {
    panel.hidden = true;
    openId = null;
  });

  return {
    refresh: refreshList,
    open,
    // Keeps an open execution current while it is still running.
    async refreshOpen() {
      if (openId && !panel.hidden && detail.querySelector(".badge-running")) await open(openId, { focus: false });
    },
  };
}
