// Overview: image count (total and over time), tag cloud, top tag counts (bar) and tag pie chart.
import { api } from "./api.js";
import { $, clear, el } from "./dom.js";
import { intervalFor } from "./filters.js";
import { shortTime } from "./format.js";
import { PALETTE, colour } from "./palette.js";

const TOP_TAGS = 15;
const CLOUD_TAGS = 60;
const PIE_SLICES = 10;
const OTHER_COLOUR = "#8c959f";

function dataTable(container, headers, rows) {
  clear(container).append(
    el("table", {}, el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows.map((row) => el("tr", {}, row.map((cell) => el("td", { text: cell })))))),
  );
}

function baseOptions(extra = {}) {
  return { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } }, ...extra };
}

const STEP_MS = { hour: 3600e3, day: 86400e3, week: 7 * 86400e3 };

function nextBucket(ms, interval) {
  if (interval !== "month") return ms + STEP_MS[interval];
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

// The API lists only buckets that hold images; the chart shows the empty ones in between as 0.
export function fillGaps(series, interval) {
  if (series.length < 2) return series;
  const counts = new Map(series.map((p) => [new Date(p.time).getTime(), p.count]));
  const last = new Date(series[series.length - 1].time).getTime();
  const filled = [];
  for (let ms = new Date(series[0].time).getTime(); ms <= last && filled.length < 2000; ms = nextBucket(ms, interval)) {
    filled.push({ time: new Date(ms).toISOString(), count: counts.get(ms) ?? 0 });
  }
  return filled;
}

export function createOverview({ onTagChosen }) {
  const Chart = window.Chart;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#1f2328";

  const countChart = new Chart($("#count-chart"), {
    type: "bar",
    data: { labels: [], datasets: [{ label: "Images", data: [], backgroundColor: PALETTE[0] }] },
    options: baseOptions({ scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
  });

  const pickTag = (chart) => (event) => {
    const [hit] = chart.getElementsAtEventForMode(event, "nearest", { intersect: true }, true);
    if (hit) onTagChosen(chart.data.labels[hit.index]);
  };
  const tagChart = new Chart($("#tag-chart"), {
    type: "bar",
    data: { labels: [], datasets: [{ label: "Images", data: [], backgroundColor: PALETTE[2] }] },
    options: baseOptions({ indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }),
  });
  tagChart.options.onClick = pickTag(tagChart);

  const pieChart = new Chart($("#pie-chart"), {
    type: "pie",
    data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderColor: "#ffffff" }] },
    options: baseOptions({ plugins: { legend: { display: true, position: window.matchMedia("(max-width: 600px)").matches ? "bottom" : "right", labels: { boxWidth: 14 } } } }),
  });
  pieChart.options.onClick = pickTag(pieChart);

  const cloud = $("#tag-cloud");
  cloud.addEventListener("click", (event) => {
    const tag = event.target.closest("[data-tag]")?.dataset.tag;
    if (tag) onTagChosen(tag);
  });
  cloud.addEventListener("keydown", (event) => {
    const tag = event.target.closest("[data-tag]")?.dataset.tag;
    if (tag && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      onTagChosen(tag);
    }
  });

  function showEmpty(id, empty) {
    $(id).hidden = !empty;
  }

  let drawnCloud = "";
  function drawCloud(tags) {
    // Redrawn only when the tags or the room for them change, so live updates do not shuffle it.
    const key = JSON.stringify([tags, cloud.clientWidth]);
    if (key === drawnCloud) return;
    drawnCloud = key;
    clear(cloud);
    showEmpty("#tag-cloud-empty", tags.length === 0);
    if (!tags.length || !cloud.clientWidth || !window.WordCloud?.isSupported) return;
    const counts = tags.map((t) => t.count);
    const max = Math.max(...counts);
    const min = Math.min(...counts);
    const order = new Map(tags.map((t, i) => [t.tag, i]));
    const width = cloud.clientWidth || 300;
    const biggest = Math.max(22, Math.min(56, width / 7));
    // The weight is the font size in px: shrinkToFit then shrinks a word that does not fit by 3/4
    // until it fits or falls under minSize (and is left out).
    const size = (count) => (max === min ? biggest * 0.75 : 14 + ((count - min) / (max - min)) * (biggest - 14));
    window.WordCloud(cloud, {
      list: tags.map((t) => ({
        word: t.tag,
        weight: size(t.count),
        attributes: { role: "button", tabindex: "0", "data-tag": t.tag, "aria-label": `${t.tag}: ${t.count} ${t.count === 1 ? "image" : "images"}` },
      })),
      weightFactor: 1,
      minSize: 10,
      fontFamily: getComputedStyle(document.body).fontFamily,
      fontWeight: "600",
      color: (word) => colour(order.get(word) ?? 0),
      rotateRatio: 0,
      gridSize: Math.round(width / 40) + 4,
      shrinkToFit: true,
      drawOutOfBound: false,
      backgroundColor: "transparent",
      classes: "cloud-word",
    });
  }

  async function refreshCounts(filters) {
    const [page, initialSeries] = await Promise.all([
      api.images({ limit: 1, since: filters.since, min_confidence: filters.min_confidence }),
      api.imageStats({ interval: intervalFor(filters.range), since: filters.since, min_confidence: filters.min_confidence }),
    ]);
    let interval = intervalFor(filters.range);
    let series = initialSeries;
    // Everything in one or two days: hourly bars say more than one tall bar.
    if (interval !== "hour" && series.length <= 2 && page.total > 0) {
      interval = "hour";
      series = await api.imageStats({ interval, since: filters.since, min_confidence: filters.min_confidence });
    }
    series = fillGaps(series, interval);
    $("#image-total").textContent = String(page.total);
    $("#count-interval").textContent = `per ${interval}`;
    countChart.data.labels = series.map((p) => shortTime(p.time, interval));
    countChart.data.datasets[0].data = series.map((p) => p.count);
    countChart.update();
    showEmpty("#count-empty", series.length === 0);
    $("#count-chart").setAttribute("aria-label", `Images over time, per ${interval}: ${series.map((p) => `${shortTime(p.time, interval)} ${p.count}`).join(", ") || "no images"}`);
    dataTable($("#count-data"), [interval[0].toUpperCase() + interval.slice(1), "Images"], series.map((p) => [shortTime(p.time, interval), p.count]));
  }

  async function refreshTags(filters) {
    const tags = await api.tagStats({ top: CLOUD_TAGS, since: filters.since, min_confidence: filters.min_confidence });
    const top = tags.slice(0, TOP_TAGS);
    tagChart.data.labels = top.map((t) => t.tag);
    tagChart.data.datasets[0].data = top.map((t) => t.count);
    tagChart.canvas.parentElement.style.height = `${Math.max(220, top.length * 26 + 40)}px`;
    tagChart.resize();
    tagChart.update();
    showEmpty("#tag-empty", top.length === 0);
    const described = top.map((t) => `${t.tag} ${t.count}`).join(", ") || "no tags";
    $("#tag-chart").setAttribute("aria-label", `Images per tag: ${described}`);
    dataTable($("#tag-data"), ["Tag", "Images"], top.map((t) => [t.tag, t.count]));

    const slices = tags.slice(0, PIE_SLICES);
    const rest = tags.slice(PIE_SLICES).reduce((sum, t) => sum + t.count, 0);
    const labels = slices.map((t) => t.tag).concat(rest ? ["Other tags"] : []);
    const values = slices.map((t) => t.count).concat(rest ? [rest] : []);
    pieChart.data.labels = labels;
    pieChart.data.datasets[0].data = values;
    pieChart.data.datasets[0].backgroundColor = labels.map((_, i) => (i < slices.length ? colour(i) : OTHER_COLOUR));
    pieChart.update();
    showEmpty("#pie-empty", slices.length === 0);
    const total = values.reduce((a, b) => a + b, 0);
    const shares = labels.map((label, i) => [label, values[i], `${((values[i] / total) * 100).toFixed(1)}%`]);
    $("#pie-chart").setAttribute("aria-label", `Share of tags: ${shares.map((s) => `${s[0]} ${s[2]}`).join(", ") || "no tags"}`);
    dataTable($("#pie-data"), ["Tag", "Images", "Share"], shares);

    drawCloud(tags);
    return tags;
  }

  return {
    async refresh(filters) {
      const [, tags] = await Promise.all([refreshCounts(filters), refreshTags(filters)]);
      return tags;
    },
  };
}
