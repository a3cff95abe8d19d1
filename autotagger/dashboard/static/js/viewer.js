// Image viewer: the image with its labels' bounding boxes drawn on it, and a table of labels.
import { api } from "./api.js";
import { $, announce, clear, el } from "./dom.js";
import { bytes, dateTime, percent } from "./format.js";
import { colour } from "./palette.js";

function box(label, instance, index) {
  const b = instance.bounding_box;
  return el("div", {
    class: b.top < 0.08 ? "box box-top" : "box",
    style: { left: `${b.left * 100}%`, top: `${b.top * 100}%`, width: `${b.width * 100}%`, height: `${b.height * 100}%`, borderColor: colour(index) },
  }, el("span", { class: "box-label", style: { background: colour(index) }, text: `${label.name} ${percent(instance.confidence)}` }));
}

export function createViewer({ getFilters, onDeleted }) {
  const dialog = $("#viewer");
  const body = $("#viewer-body");
  $("#viewer-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });

  function render(doc) {
    const minConfidence = getFilters().min_confidence ?? 0;
    const labels = [...(doc.labels ?? [])].sort((a, b) => b.confidence - a.confidence);
    const visible = labels.filter((l) => l.confidence >= minConfidence);
    const hidden = labels.length - visible.length;
    const boxes = visible.flatMap((label, i) => (label.instances ?? []).map((instance) => box(label, instance, i)));
    $("#viewer-title").textContent = doc.key;

    const figure = el("figure", { class: "viewer-figure" },
      el("div", { class: "viewer-stage" },
        el("img", { src: doc.image_url, alt: `${doc.key}: ${visible.map((l) => l.name).join(", ") || "no labels"}` }),
        el("div", { class: "boxes", "aria-hidden": "true" }, boxes)),
      el("figcaption", { text: `${boxes.length} ${boxes.length === 1 ? "box" : "boxes"} drawn for ${visible.length} ${visible.length === 1 ? "label" : "labels"}${hidden ? `; ${hidden} below ${minConfidence}% hidden` : ""}.` }));

    const table = el("table", { class: "labels-table" },
      el("caption", { text: "Labels" }),
      el("thead", {}, el("tr", {}, ["Label", "Confidence", "Boxes", "Parents", "Categories"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, visible.map((label, i) => el("tr", {},
        el("th", { scope: "row" }, el("span", { class: "swatch", style: { background: colour(i) }, "aria-hidden": "true" }), label.name),
        el("td", { text: percent(label.confidence) }),
        el("td", { text: (label.instances ?? []).map((inst) => percent(inst.confidence)).join(", ") || "–" }),
        el("td", { text: (label.parents ?? []).join(", ") || "–" }),
        el("td", { text: (label.categories ?? []).join(", ") || "–" })))));

    const facts = el("dl", { class: "facts" });
    for (const [term, value] of [["Bucket", doc.bucket], ["Size", bytes(doc.size)], ["Uploaded", dateTime(doc.event_time)], ["Indexed", dateTime(doc.indexed_at)], ["Model", doc.label_model_version ?? "–"]]) {
      facts.append(el("dt", { text: term }), el("dd", { text: value }));
    }
    const remove = el("button", { type: "button", class: "danger", text: "Delete image" });
    remove.addEventListener("click", async () => {
      if (!window.confirm(`Delete ${doc.key} from ${doc.bucket}?`)) return;
      const response = await api.deleteObject(doc.bucket, doc.key);
      announce(response.ok ? `Deleted ${doc.key}; it leaves the index once the workflow has run.` : `Could not delete ${doc.key}: HTTP ${response.status}.`);
      if (response.ok) {
        dialog.close();
        onDeleted();
      }
    });
    clear(body).append(figure, el("div", { class: "viewer-info" }, el("div", { class: "table-scroll plain" }, table), facts, remove));
  }

  return {
    async open(id) {
      const doc = await api.image(id);
      render(doc);
      if (!dialog.open) dialog.showModal();
      $("#viewer-close").focus();
    },
  };
}
