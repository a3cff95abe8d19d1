// Image viewer: the image with its labels' bounding boxes and its words' boxes (DetectText) drawn on
// it, each kind shown or hidden from the legend; the labels, the text found, the moderation labels
// and any analysis that failed beside it. A flagged image stays blurred until it is revealed.
import { api } from "./api.js";
import { $, announce, clear, el } from "./dom.js";
import { bytes, dateTime, percent } from "./format.js";
import { isFlagged, veil } from "./moderation.js";
import { colour } from "./palette.js";

function box(label, instance, index) {
  const b = instance.bounding_box;
  return el("div", {
    class: b.top < 0.08 ? "box box-top" : "box",
    style: { left: `${b.left * 100}%`, top: `${b.top * 100}%`, width: `${b.width * 100}%`, height: `${b.height * 100}%`, borderColor: colour(index) },
  }, el("span", { class: "box-label", style: { background: colour(index) }, text: `${label.name} ${percent(instance.confidence)}` }));
}

// A word's box: ratios of the image, like the labels' boxes, drawn in the one text style.
function textBox(word) {
  const b = word.box;
  return el("div", {
    class: "text-box",
    title: `${word.text} ${percent(word.confidence)}`,
    style: { left: `${b.left * 100}%`, top: `${b.top * 100}%`, width: `${b.width * 100}%`, height: `${b.height * 100}%` },
  });
}

// One legend entry: a checkbox that shows or hides a layer of boxes.
function layerToggle(layer, swatchClass, text) {
  const input = el("input", { type: "checkbox", checked: true });
  input.addEventListener("change", () => { layer.hidden = !input.checked; });
  return el("label", { class: "legend-item" }, input, el("span", { class: `swatch ${swatchClass}`, "aria-hidden": "true" }), text);
}

// A named region (its heading's text), so each part of the panel can be found by its name.
function section(title, ...content) {
  return el("section", { class: "analysis", "aria-label": title }, el("h3", { text: title }), ...content);
}

function textSection(doc) {
  if (doc.text === null || doc.text === undefined) return section("Text in the image", el("p", { class: "muted", text: "Not analysed." }));
  if (doc.text === "") return section("Text in the image", el("p", { class: "muted", text: "No text found." }));
  return section("Text in the image", el("pre", { class: "detected-text", text: doc.text }));
}

function moderationSection(doc) {
  const moderation = doc.moderation;
  if (!moderation) return section("Moderation", el("p", { class: "muted", text: "Not analysed." }));
  const labels = [...(moderation.labels ?? [])].sort((a, b) => b.confidence - a.confidence);
  if (!labels.length) return section("Moderation", el("p", { class: "muted", text: "No moderation labels." }));
  return section("Moderation",
    el("p", { class: isFlagged(doc) ? "flag-note" : "muted", text: `${isFlagged(doc) ? "Flagged" : "Not flagged"}: highest confidence ${percent(moderation.max_confidence)}.` }),
    el("table", { class: "moderation-table" },
      el("thead", {}, el("tr", {}, ["Label", "Parent", "Level", "Confidence"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, labels.map((label) => el("tr", {},
        el("th", { scope: "row", text: label.name }),
        el("td", { text: label.parent_name || "–" }),
        el("td", { text: label.taxonomy_level ?? "–" }),
        el("td", { text: percent(label.confidence) }))))));
}

// The optional analyses that failed: which one, Rekognition's error name and its cause.
function errorsSection(doc) {
  const errors = doc.analysis_errors ?? [];
  if (!errors.length) return null;
  return el("section", { class: "analysis analysis-errors", "aria-label": "Analysis errors" },
    el("h3", { text: "Analysis errors" }),
    el("ul", {}, errors.map((error) => el("li", {},
      el("strong", { text: `${error.analysis} analysis failed: ` }), el("code", { text: error.error }),
      error.cause ? el("span", { class: "error-cause", text: ` ${error.cause}` }) : null))));
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
    const words = (doc.text_words ?? []).filter((word) => word.box);
    $("#viewer-title").textContent = doc.key;

    const image = el("img", { src: doc.image_url, alt: `${doc.key}: ${visible.map((l) => l.name).join(", ") || "no labels"}` });
    const labelLayer = el("div", { class: "boxes label-boxes", "aria-hidden": "true" }, boxes);
    const textLayer = el("div", { class: "boxes text-boxes", "aria-hidden": "true" }, words.map(textBox));
    const legend = el("fieldset", { class: "legend" }, el("legend", { text: "Boxes" }),
      layerToggle(labelLayer, "swatch-label", `Labels (${boxes.length})`),
      layerToggle(textLayer, "swatch-text", `Text (${words.length} ${words.length === 1 ? "word" : "words"})`));
    const figure = el("figure", { class: "viewer-figure" },
      el("div", { class: "viewer-stage" }, image, labelLayer, textLayer, veil(doc, image)),
      legend,
      el("figcaption", { text: `${boxes.length} ${boxes.length === 1 ? "box" : "boxes"} drawn for ${visible.length} ${visible.length === 1 ? "label" : "labels"}${hidden ? `; ${hidden} below ${minConfidence}% hidden` : ""}; ${words.length} ${words.length === 1 ? "word" : "words"} of text.` }));

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
    clear(body).append(figure, el("div", { class: "viewer-info" }, errorsSection(doc), el("div", { class: "table-scroll plain" }, table),
      textSection(doc), moderationSection(doc), facts, remove));
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
