// Upload: many files by drag and drop or the file picker, each PUT through /v1/{bucket}/{key},
// with its own progress bar and outcome (uploaded, then tagged or failed).
import { api, ApiError, documentId, uploadObject } from "./api.js";
import { $, announce, el } from "./dom.js";
import { bytes } from "./format.js";
import { allLetters, letterId, letterObject, letterReason } from "./deadletter_shape.js";

const CONCURRENCY = 3;
const TRACK_FOR_MS = 180000;

export function createUploader({ onOpen, onUploaded }) {
  const zone = $("#drop-zone");
  const input = $("#file-input");
  const list = $("#upload-list");
  const pending = new Map(); // document id -> {key, bucket, previous, deadLettersBefore, row, started}
  let trackTimer = null;

  function row(file) {
    const progress = el("progress", { max: "100", value: "0", "aria-label": `Upload progress of ${file.name}` });
    const status = el("span", { class: "upload-status", text: "Waiting" });
    const item = el("li", { class: "upload-item" },
      el("span", { class: "upload-name", text: file.name }),
      el("span", { class: "upload-size", text: bytes(file.size) }),
      progress, status);
    list.prepend(item);
    return { item, progress, status };
  }

  function setOutcome(view, state, text, action) {
    view.item.dataset.state = state;
    view.status.replaceChildren(text);
    if (action) view.status.append(" ", action);
  }

  async function deadLetterIds() {
    try {
      return new Set(allLetters(await api.deadLetters()).map(letterId));
    } catch {
      return new Set();
    }
  }

  async function track() {
    trackTimer = null;
    if (!pending.size) return;
    let letters = [];
    try {
      letters = allLetters(await api.deadLetters());
    } catch {
      /* retried on the next tick */
    }
    for (const [id, job] of [...pending]) {
      const failed = letters.find((letter) => {
        const object = letterObject(letter);
        return !job.deadLettersBefore.has(letterId(letter)) && object.key === job.key && object.bucket === job.bucket;
      });
      if (failed) {
        const body = letterReason(failed);
        setOutcome(job.view, "failed", `Not tagged: ${body.error ?? "error"}${body.cause ? ` (${body.cause})` : ""}`);
        announce(`${job.key} could not be tagged: ${body.error ?? "error"}.`);
        pending.delete(id);
        continue;
      }
      try {
        const doc = await api.image(id);
        if (doc.sequencer !== job.previous) {
          const open = el("button", { type: "button", class: "link-button", text: "Open", onclick: () => onOpen(id), "aria-label": `Open ${job.key}` });
          setOutcome(job.view, "tagged", `Tagged: ${(doc.tags ?? []).slice(0, 6).join(", ") || "no tags above the threshold"}.`, open);
          pending.delete(id);
          continue;
        }
      } catch (error) {
        // 404: not indexed yet; anything else (the server restarting): try again on the next tick.
        if (!(error instanceof ApiError)) console.warn("tracking", job.key, error);
      }
      if (Date.now() - job.started > TRACK_FOR_MS) {
        setOutcome(job.view, "uploaded", "Uploaded; not indexed yet (see Executions).");
        pending.delete(id);
      }
    }
    if (pending.size) trackTimer = setTimeout(track, 1000);
  }

  async function uploadOne(file, view, bucket, key, deadLettersBefore) {
    const id = await documentId(bucket, key);
    let previous = null;
    if (id) {
      try {
        previous = (await api.image(id)).sequencer;
      } catch {
        previous = null;
      }
    }
    setOutcome(view, "uploading", "Uploading 0%");
    const result = await uploadObject(bucket, key, file, (fraction) => {
      view.progress.value = Math.round(fraction * 100);
      view.status.textContent = `Uploading ${Math.round(fraction * 100)}%`;
    });
    if (!result.ok) {
      view.progress.value = 0;
      setOutcome(view, "rejected", `Rejected (HTTP ${result.status}): ${result.message}`);
      return false;
    }
    view.progress.value = 100;
    if (!id) {
      setOutcome(view, "uploaded", "Uploaded; tagging runs in the background.");
      return true;
    }
    setOutcome(view, "tagging", "Uploaded; tagging…");
    pending.set(id, { key, bucket, previous, deadLettersBefore, view, started: Date.now() });
    if (!trackTimer) trackTimer = setTimeout(track, 500);
    return true;
  }

  async function uploadAll(files) {
    if (!files.length) return;
    const bucket = $("#upload-bucket").value.trim() || "image-vaults";
    const prefix = $("#upload-prefix").value.trim();
    const deadLettersBefore = await deadLetterIds();
    const jobs = [...files].map((file) => ({ file, view: row(file), key: `${prefix}${file.name}` }));
    announce(`Uploading ${jobs.length} ${jobs.length === 1 ? "file" : "files"}.`);
    let next = 0;
    let uploaded = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        if (await uploadOne(job.file, job.view, bucket, job.key, deadLettersBefore)) uploaded += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, worker));
    announce(`${uploaded} of ${jobs.length} ${jobs.length === 1 ? "file" : "files"} uploaded.`);
    onUploaded();
  }

  input.addEventListener("change", () => {
    const files = [...input.files]; // a live list: copied before the input is reset
    input.value = "";
    uploadAll(files);
  });
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    uploadAll([...event.dataTransfer.files]);
  });
  // A drop that misses the zone must not navigate away from the page.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
  $("#upload-clear").addEventListener("click", () => {
    for (const item of [...list.children]) {
      if (!["uploading", "tagging"].includes(item.dataset.state)) item.remove();
    }
  });
}
