// Wires the dashboard's views together and keeps them current by polling /v1/summary.
import { api } from "./api.js";
import { $, announce } from "./dom.js";
import { createDeadLetters } from "./deadletters.js";
import { createExecutions } from "./executions.js";
import { currentFilters, initFilters, onFiltersChange } from "./filters.js";
import { createGallery } from "./gallery.js";
import { setThreshold } from "./moderation.js";
import { createOverview } from "./overview.js";
import { createUploader } from "./upload.js";
import { createViewer } from "./viewer.js";

const POLL_MS = 2000;

function showError(error) {
  console.error(error);
  announce(`Could not load data: ${error.message ?? error}`);
}

function renderSummary(summary) {
  const executions = summary.executions ?? {};
  const count = (status) => executions[status] ?? executions[status.toLowerCase()] ?? 0;
  $("#summary-running").textContent = String(count("RUNNING"));
  $("#summary-succeeded").textContent = String(count("SUCCEEDED"));
  $("#summary-failed").textContent = String(count("FAILED"));
  $("#summary-pending").textContent = String(summary.stream_records_pending ?? 0);
  const dead = summary.dead_letters ?? {};
  $("#summary-dead").textContent = String(typeof dead === "number" ? dead : (dead.workflow ?? 0) + (dead.indexer ?? 0));
  $("#summary-indexed").textContent = String(summary.images_indexed ?? "–");
  $("#summary-flagged").textContent = String(summary.flagged ?? "–");
  $("#summary-analysis-errors").textContent = String(summary.analysis_errors ?? "–");
  setThreshold(summary.moderation_threshold);
}

function start() {
  initFilters();
  const viewer = createViewer({ getFilters: currentFilters, onDeleted: () => refreshAll() });
  const gallery = createGallery({ onOpen: (id) => viewer.open(id).catch(showError), getFilters: currentFilters });
  const overview = createOverview({ onTagChosen: (tag) => gallery.addTag(tag) });
  const executions = createExecutions({ onError: showError });
  const deadLetters = createDeadLetters({
    onOpenExecution: (id) => executions.open(id).catch(showError),
    onRedriven: () => refreshAll(),
    onError: showError,
  });
  createUploader({ onOpen: (id) => viewer.open(id).catch(showError), onUploaded: () => refreshAll() });

  let running = null;
  let again = false;
  async function refreshAll() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      const filters = currentFilters();
      const results = await Promise.allSettled([
        overview.refresh(filters).then((tags) => gallery.setKnownTags(tags)),
        gallery.refresh(),
        executions.refresh(),
        executions.refreshOpen(),
        deadLetters.refresh(),
      ]);
      results.filter((r) => r.status === "rejected").forEach((r) => showError(r.reason));
      document.body.dataset.loaded = "true";
    })();
    try {
      await running;
    } finally {
      running = null;
    }
    if (again) {
      again = false;
      await refreshAll();
    }
  }

  onFiltersChange(() => refreshAll());

  // Live updates: the summary changes while images are processed; then every view reloads.
  let last = null;
  async function poll() {
    if (!document.hidden) {
      try {
        const summary = await api.summary();
        renderSummary(summary);
        $("#connection").textContent = "Live";
        $("#connection").dataset.state = "live";
        const text = JSON.stringify(summary);
        if (text !== last) {
          last = text;
          await refreshAll();
        }
      } catch (error) {
        $("#connection").textContent = "Server not reachable; retrying";
        $("#connection").dataset.state = "offline";
      }
    }
    setTimeout(poll, POLL_MS);
  }
  poll();
}

start();
