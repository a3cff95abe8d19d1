// Dead letters of both queues (workflow and indexer) with a redrive button.
import { api } from "./api.js";
import { $, announce, clear, el } from "./dom.js";
import { dateTime } from "./format.js";
import { allLetters, letterId, letterObject, letterReason } from "./deadletter_shape.js";

export function createDeadLetters({ onOpenExecution, onRedriven, onError }) {
  const body = $("#dlq-body");
  const selectedButton = $("#redrive-selected");
  const allButton = $("#redrive-all");

  function selectedIds() {
    return [...body.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value);
  }

  function updateButtons() {
    const count = selectedIds().length;
    selectedButton.disabled = count === 0;
    selectedButton.textContent = count ? `Redrive ${count} selected` : "Redrive selected";
    allButton.disabled = body.children.length === 0;
  }

  async function refresh() {
    const letters = allLetters(await api.deadLetters());
    const checked = new Set(selectedIds());
    clear(body).append(...letters.map((letter) => {
      const id = letterId(letter);
      const parsed = letterReason(letter);
      const object = letterObject(letter);
      const execution = parsed.execution_id;
      return el("tr", {},
        el("td", {}, el("input", { type: "checkbox", value: id, checked: checked.has(id), "aria-label": `Select dead letter for ${object.key ?? id}`, onchange: updateButtons })),
        el("td", { text: letter.queue ?? "–" }),
        el("td", { text: dateTime(letter.sent_at) }),
        el("td", { class: "cell-key", text: object.key ?? "–" }),
        el("td", {}, el("code", { text: parsed.error ?? "–" })),
        el("td", { class: "cell-cause", text: parsed.cause ?? "–" }),
        el("td", {}, execution ? el("button", { type: "button", class: "link-button", text: "Execution", onclick: () => onOpenExecution(execution), "aria-label": `Open the execution of ${object.key ?? id}` }) : "–"));
    }));
    $("#dlq-empty").hidden = letters.length > 0;
    $("#dlq-count").textContent = String(letters.length);
    updateButtons();
  }

  async function redrive(ids) {
    selectedButton.disabled = true;
    allButton.disabled = true;
    try {
      const result = await api.redrive(ids);
      const count = result.redriven.length;
      const missing = result.not_found.length ? ` ${result.not_found.length} no longer there.` : "";
      const kept = result.not_redrivable?.length ? ` ${result.not_redrivable.length} kept: nothing to send again.` : "";
      announce(`${count} dead ${count === 1 ? "letter" : "letters"} sent back for another try.${missing}${kept}`);
      onRedriven();
    } catch (error) {
      onError(error);
    } finally {
      await refresh().catch(onError);
    }
  }

  selectedButton.addEventListener("click", () => redrive(selectedIds()));
  allButton.addEventListener("click", () => redrive(undefined));
  return { refresh };
}
