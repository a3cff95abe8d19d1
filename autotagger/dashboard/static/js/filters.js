// The page-wide filters (time range, minimum confidence) every view honours.

const RANGES = {
  "1h": 3600e3,
  "24h": 86400e3,
  "7d": 7 * 86400e3,
  "30d": 30 * 86400e3,
  "365d": 365 * 86400e3,
  all: null,
};

const listeners = [];

function rangeSelect() {
  return document.getElementById("time-range");
}

function confidenceInput() {
  return document.getElementById("min-confidence");
}

// {since, min_confidence, range}: `since` is an ISO time computed now, so "last hour" keeps sliding.
export function currentFilters() {
  const range = rangeSelect().value;
  const span = RANGES[range];
  return {
    range,
    since: span ? new Date(Date.now() - span).toISOString() : undefined,
    min_confidence: Number(confidenceInput().value) || undefined,
  };
}

// The bucket size of the "images over time" chart for a time range.
export function intervalFor(range) {
  if (range === "1h" || range === "24h") return "hour";
  if (range === "365d") return "week";
  return "day";
}

export function onFiltersChange(listener) {
  listeners.push(listener);
}

export function initFilters() {
  const output = document.getElementById("min-confidence-value");
  const showConfidence = () => {
    output.textContent = `${confidenceInput().value}%`;
  };
  showConfidence();
  let timer = null;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => listeners.forEach((listener) => listener(currentFilters())), 150);
  };
  rangeSelect().addEventListener("change", changed);
  confidenceInput().addEventListener("input", () => {
    showConfidence();
    changed();
  });
  document.getElementById("filters").addEventListener("submit", (event) => event.preventDefault());
}
