// The server's JSON API (see autotagger/server). One function per endpoint the page uses.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function query(params = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(name, String(item));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export async function errorMessage(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    const detail = body.detail ?? body.message ?? body.error ?? text;
    return typeof detail === "string" ? detail : JSON.stringify(detail);
  } catch {
    return text || response.statusText;
  }
}

async function request(method, path, params, body) {
  const options = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path + query(params), options);
  if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const api = {
  summary: () => request("GET", "/api/summary"),
  images: (params) => request("GET", "/api/images", params),
  image: (id) => request("GET", `/api/images/${encodeURIComponent(id)}`),
  imageContentUrl: (id) => `/api/images/${encodeURIComponent(id)}/content`,
  tagStats: (params) => request("GET", "/api/stats/tags", params),
  imageStats: (params) => request("GET", "/api/stats/images", params),
  executions: (params) => request("GET", "/api/executions", params),
  execution: (id) => request("GET", `/api/executions/${encodeURIComponent(id)}`),
  deadLetters: () => request("GET", "/api/dlq"),
  redrive: (messageIds) => request("POST", "/api/dlq/redrive", undefined, messageIds ? { message_ids: messageIds } : {}),
  deleteObject: (bucket, key) => fetch(objectUrl(bucket, key), { method: "DELETE" }),
};

// The upload API path: the key is one path segment, its slashes sent as %2F.
export function objectUrl(bucket, key) {
  return `/v1/${encodeURIComponent(bucket)}/${encodeURIComponent(key)}`;
}

// PUTs one file's bytes; reports upload progress (0..1). Resolves to {ok, status, message}.
export function uploadObject(bucket, key, file, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", objectUrl(bucket, key));
    // the image types the upload API takes (autotagger.contracts.IMAGE_TYPES); anything else as bytes
    const type = ["image/jpeg", "image/png", "image/heic", "image/heif", "image/webp", "image/avif", "image/gif"]
      .includes(file.type) ? file.type : "application/octet-stream";
    xhr.setRequestHeader("Content-Type", type);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let message = xhr.statusText;
      try {
        const body = JSON.parse(xhr.responseText);
        message = typeof body.detail === "string" ? body.detail : body.message ?? message;
      } catch {
        /* an empty body on success */
      }
      resolve({ ok: xhr.status >= 200 && xhr.status < 300, status: xhr.status, message });
    });
    xhr.addEventListener("error", () => resolve({ ok: false, status: 0, message: "network error: the server did not answer" }));
    xhr.send(file);
  });
}

// The index document id of an object: sha256(bucket + "/" + key) in hex, first 40 characters.
export async function documentId(bucket, key) {
  if (!globalThis.crypto?.subtle) return null;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${bucket}/${key}`));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("").slice(0, 40);
}
