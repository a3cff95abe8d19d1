// The `/v1` API (autotagger/api/openapi.json; served by autotagger/server). One function per
// endpoint the page uses. Errors are {"error": code, "message"}.

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
    const detail = body.message ?? body.error ?? text;
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

// An execution's name: the last part of its ARN (dead letters name executions by ARN).
export function executionName(id) {
  return String(id).split(":").pop();
}

export const api = {
  summary: () => request("GET", "/v1/summary"),
  // {total, images, next_cursor}: pass next_cursor back as `cursor` for the next page.
  images: (params) => request("GET", "/v1/images", params),
  // The document plus image_url, a short-lived signed URL to the image bytes.
  image: (id) => request("GET", `/v1/images/${encodeURIComponent(id)}`),
  tagStats: (params) => request("GET", "/v1/stats/tags", params),
  imageStats: (params) => request("GET", "/v1/stats/images", params),
  // {executions, next_cursor}
  executions: (params) => request("GET", "/v1/executions", params),
  execution: (id) => request("GET", `/v1/executions/${encodeURIComponent(executionName(id))}`),
  deadLetters: () => request("GET", "/v1/dead-letters"),
  redrive: (messageIds) => request("POST", "/v1/dead-letters/redrive", undefined, messageIds ? { message_ids: messageIds } : {}),
  // {url, method, headers, expires_at, key}: a signed URL that takes exactly this type and size.
  uploadTicket: (key, contentType, size) => request("POST", "/v1/uploads", undefined, { key, content_type: contentType, size }),
  deleteObject: (bucket, key) => fetch(objectUrl(bucket, key), { method: "DELETE" }),
  // What became of the key's latest upload: {id, status: indexed|dead_lettered|running|superseded,
  // document, dead_letter}; the server answers it (GET /v1/uploads/{bucket}/{object}).
  uploadOutcome: (bucket, key) => request("GET", `/v1/uploads/${encodeURIComponent(bucket)}/${encodeURIComponent(key)}`),
};

// The upload API path: the key is one path segment, its slashes sent as %2F.
export function objectUrl(bucket, key) {
  return `/v1/${encodeURIComponent(bucket)}/${encodeURIComponent(key)}`;
}

// Images up to this size go straight to PUT /v1/{bucket}/{object}; larger ones through an upload
// ticket (POST /v1/uploads), as API Gateway's 10 MiB payload limit requires on AWS.
export const DIRECT_PUT_MAX_BYTES = 10 * 1024 * 1024;
// the image types the upload API takes (autotagger.contracts.IMAGE_MEDIA_TYPES); anything else as bytes
const IMAGE_TYPES = ["image/jpeg", "image/png", "image/heic", "image/heif", "image/webp", "image/avif", "image/gif"];

function sendFile(method, url, headers, file, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, value); // the browser sets the length
    }
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let message = xhr.statusText;
      try {
        const body = JSON.parse(xhr.responseText);
        message = body.message ?? message;
      } catch {
        /* an empty body on success */
      }
      resolve({ ok: xhr.status >= 200 && xhr.status < 300, status: xhr.status, message });
    });
    xhr.addEventListener("error", () => resolve({ ok: false, status: 0, message: "network error: the server did not answer" }));
    xhr.send(file);
  });
}

// PUTs one file's bytes; reports upload progress (0..1). Resolves to {ok, status, message}.
export async function uploadObject(bucket, key, file, onProgress) {
  if (file.size > DIRECT_PUT_MAX_BYTES && IMAGE_TYPES.includes(file.type)) {
    let ticket;
    try {
      ticket = await api.uploadTicket(key, file.type, file.size);
    } catch (error) {
      return { ok: false, status: error.status ?? 0, message: error.message };
    }
    return sendFile(ticket.method, ticket.url, ticket.headers, file, onProgress);
  }
  const type = IMAGE_TYPES.includes(file.type) ? file.type : "application/octet-stream";
  return sendFile("PUT", objectUrl(bucket, key), { "Content-Type": type }, file, onProgress);
}
