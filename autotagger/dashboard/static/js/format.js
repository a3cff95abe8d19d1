// Formatting of numbers, sizes and times for display.

export function percent(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  return `${Number(value).toFixed(1)}%`;
}

export function bytes(size) {
  if (size === null || size === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = Number(size);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const date = typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function dateTime(value) {
  const date = toDate(value);
  return date ? date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" }) : "–";
}

export function shortTime(value, interval) {
  const date = toDate(value);
  if (!date) return "–";
  if (interval === "hour") return date.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  if (interval === "month") return date.toLocaleDateString(undefined, { year: "numeric", month: "short" });
  return date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

export function duration(from, to) {
  const start = toDate(from);
  const end = toDate(to);
  if (!start || !end) return "–";
  const ms = end.getTime() - start.getTime();
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

// A failure's cause in a sentence. A Lambda function's error reaches Step Functions as JSON text
// ({"errorMessage", "errorType", "stackTrace"}): its message is what a person needs; the stack
// trace stays in the execution view, which shows the cause as Step Functions recorded it.
export function causeText(cause) {
  if (typeof cause !== "string" || !cause.startsWith("{")) return cause ?? "";
  try {
    const parsed = JSON.parse(cause);
    return typeof parsed.errorMessage === "string" ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}
