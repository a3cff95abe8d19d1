// Gallery: search images by one or more tags; thumbnails open the image viewer. Images flagged by
// moderation show blurred until their "Show image" button is pressed.
import { api } from "./api.js";
import { $, clear, el } from "./dom.js";
import { flaggedAs, isFlagged, veil } from "./moderation.js";

const PAGE = 24;

export function parseTags(text, knownTags = []) {
  const byLower = new Map(knownTags.map((tag) => [tag.toLowerCase(), tag]));
  const tags = text.split(",").map((t) => t.trim()).filter(Boolean);
  return [...new Set(tags.map((t) => byLower.get(t.toLowerCase()) ?? t))];
}

export function createGallery({ onOpen, getFilters }) {
  const form = $("#gallery-search");
  const input = $("#tag-search");
  const textInput = $("#text-search");
  const hideFlagged = $("#hide-flagged");
  const list = $("#gallery-list");
  const summary = $("#gallery-summary");
  const more = $("#gallery-more");
  let knownTags = [];
  let shown = 0;
  let cursor = null; // the next page's cursor (next_cursor of the last page shown)
  let generation = 0;

  function thumbnail(doc) {
    const tags = (doc.tags ?? []).slice(0, 4);
    // Search results carry no image URL: each image's own signed URL comes with its document.
    const image = el("img", { alt: "", decoding: "async" });
    api.image(doc.id).then((found) => { image.src = found.image_url; }, () => { image.alt = "image unavailable"; });
    const flagged = isFlagged(doc) ? ` (flagged: ${flaggedAs(doc)})` : "";
    const errors = (doc.analysis_errors ?? []).length ? " (an analysis failed)" : "";
    return el("li", { class: "thumb" },
      el("button", { type: "button", class: "thumb-button", onclick: () => onOpen(doc.id), "aria-label": `Open ${doc.key}${tags.length ? ` (tags: ${tags.join(", ")})` : ""}${flagged}${errors}` },
        image,
        el("span", { class: "thumb-key", text: doc.key }),
        el("span", { class: "thumb-tags", text: tags.join(" · ") || "no tags above the threshold" })),
      veil(doc, image));
  }

  async function load({ append = false } = {}) {
    const current = ++generation;
    const tags = parseTags(input.value, knownTags);
    const filters = getFilters();
    const text = textInput.value.trim();
    const page = await api.images({ tag: tags, text: text || undefined, safe: hideFlagged.checked ? "true" : undefined, limit: PAGE, cursor: append ? cursor : undefined, since: filters.since, min_confidence: filters.min_confidence });
    if (current !== generation) return;
    if (!append) {
      clear(list);
      shown = 0;
    }
    list.append(...page.images.map(thumbnail));
    shown += page.images.length;
    cursor = page.next_cursor ?? null;
    const what = [tags.length ? `tagged ${tags.join(" and ")}` : "", text ? `showing the text “${text}”` : "",
      hideFlagged.checked ? "not flagged" : ""].filter(Boolean).join(", ");
    summary.textContent = page.total === 0
      ? `No images ${what || "yet: upload some below"}.`
      : `${page.total} ${page.total === 1 ? "image" : "images"} ${what}${shown < page.total ? ` (showing ${shown})` : ""}.`.replace(" .", ".");
    more.hidden = cursor === null;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  hideFlagged.addEventListener("change", () => load());
  $("#tag-search-clear").addEventListener("click", () => {
    input.value = "";
    textInput.value = "";
    load();
    input.focus();
  });
  more.addEventListener("click", () => load({ append: true }));

  return {
    refresh: () => load(),
    setKnownTags(tags) {
      knownTags = tags.map((t) => t.tag);
      clear($("#known-tags")).append(...knownTags.map((tag) => el("option", { value: tag })));
    },
    // Adds a tag (from the cloud or a chart) to the search and shows the gallery.
    addTag(tag) {
      const tags = parseTags(input.value, knownTags);
      if (!tags.includes(tag)) tags.push(tag);
      input.value = tags.join(", ");
      load();
      $("#gallery").scrollIntoView({ behavior: "smooth", block: "start" });
    },
  };
}
