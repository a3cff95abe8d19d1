// Upload: many files by drag and drop or the file picker, each PUT through /v1/{bucket}/{key},
// with its own progress bar and outcome (uploaded, then tagged or failed).
import { api, ApiError, uploadObject } from "./api.js";
import { $, announce, el } from "./dom.js";
import { bytes, causeText } from "./format.js";

const CONCURRENCY = 3;
const TRACK_FOR_MS = 180000;

export function createUploader({ onOpen, onUploaded }) {
  const zone = $("#drop-zone");
  const input = $("#file-input");
  const list = $("#upload-list");
  const pending = new Set(); // {bucket, key, view, started}
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

  // Shows what the server says became of the upload; true once that is final.
  function showOutcome(job, outcome) {
    if (outcome.status === "indexed") {
      const open = el("button", { type: "button", class: "link-button", text: "Open", onclick: () => onOpen(outcome.id), "aria-label": `Open ${job.key}` });
      setOutcome(job.view, "tagged", `Tagged: ${(outcome.document.tags ?? []).slice(0, 6).join(", ") || "no tags above the threshold"}.`, open);
      return true;
    }
    if (outcome.status === "dead_lettered") {
      const reason = outcome.dead_letter.reason;
      setOutcome(job.view, "failed", `Not tagged: ${reason.error ?? "error"}${reason.cause ? ` (${causeText(reason.cause)})` : ""}`);
      announce(`${job.key} could not be tagged: ${reason.error ?? "error"}.`);
      return true;
    }
    if (outcome.status === "superseded") {
      setOutcome(job.view, "uploaded", "Uploaded; a newer upload or delete of this key replaced it.");
      return true;
    }
    return false; // running
  }

  async function track() {
    trackTimer = null;
    for (const job of [...pending]) {
      try {
        if (showOutcome(job, await api.uploadOutcome(job.bucket, job.key))) {
          pending.delete(job);
          continue;
        }
      } catch (error) {
        // 404: the object was deleted meanwhile; anything else (the server restarting): try again on the next tick.
        if (error instanceof ApiError && error.status === 404) {
          setOutcome(job.view, "uploaded", "Uploaded; the object has been deleted since.");
          pending.delete(job);
          continue;
        }
        console.warn("tracking", job.key, error);
      }
      if (Date.now() - job.started > TRACK_FOR_MS) {
        setOutcome(job.view, "uploaded", "Uploaded; not indexed yet (see Executions).");
        pending.delete(job);
      }
    }
    if (pending.size) trackTimer = setTimeout(track, 1000);
  }

  async function uploadOne(file, view, bucket, key) {
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
    setOutcome(view, "tagging", "Uploaded; tagging…");
    pending.add({ key, bucket, view, started: Date.now() });
    if (!trackTimer) trackTimer = setTimeout(track, 500);
    return true;
  }

  async function uploadAll(files) {
    if (!files.length) return;
    const bucket = $("#upload-bucket").value.trim() || "image-vaults";
    const prefix = $("#upload-prefix").value.trim();
    const jobs = [...files].map((file) => ({ file, view: row(file), key: `${prefix}${file.name}` }));
    announce(`Uploading ${jobs.length} ${jobs.length === 1 ? "file" : "files"}.`);
    let next = 0;
    let uploaded = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        if (await uploadOne(job.file, job.view, bucket, job.key)) uploaded += 1;
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
