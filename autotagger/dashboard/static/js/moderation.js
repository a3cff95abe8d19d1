// Which images are flagged by moderation, and which of them the person chose to see.
//
// The threshold is the server's (GET /v1/summary's moderation_threshold, contracts.MODERATION_THRESHOLD):
// the page keeps no copy of the number. Until the first summary has arrived it is unknown, and then an
// image with any moderation label counts as flagged: better blurred a moment too long than shown.
import { el } from "./dom.js";

let threshold = null;
const revealed = new Set(); // ids revealed in this page's lifetime

export function setThreshold(value) {
  threshold = typeof value === "number" && Number.isFinite(value) ? value : null;
}

export function isFlagged(doc) {
  const moderation = doc.moderation;
  if (!moderation) return false; // not analysed
  if (threshold === null) return (moderation.labels ?? []).length > 0;
  return (moderation.max_confidence ?? 0) >= threshold;
}

// The most confident moderation label's name, for the notice on a blurred image.
export function flaggedAs(doc) {
  const labels = [...(doc.moderation?.labels ?? [])].sort((a, b) => b.confidence - a.confidence);
  return labels[0]?.name ?? "moderation";
}

export const isRevealed = (id) => revealed.has(id);
export const reveal = (id) => revealed.add(id);

// Blurs a flagged image (not yet revealed) and returns the button that shows it, for the caller to
// place over the image (outside any other button); null when the image is not to be veiled.
export function veil(doc, image, onReveal = () => {}) {
  if (!isFlagged(doc) || isRevealed(doc.id)) return null;
  image.classList.add("flagged");
  const button = el("button", { type: "button", class: "reveal", text: `Flagged: ${flaggedAs(doc)}. Show image` });
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    reveal(doc.id);
    image.classList.remove("flagged");
    button.remove();
    onReveal();
  });
  return button;
}
