// The management API (and /api/pulse) as the pages call it. Credentials travel as HTTP Basic
// on every request, as RabbitMQ's UI sends them; `credentials: "omit"` keeps the browser's own
// auth cache and cookies out, so nothing but this page's header carries authority (no CSRF)
// and a 401 never raises the browser's login prompt.
let authorization = null;
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, error, reason) {
    super(reason || error || "HTTP " + status);
    this.status = status;
    this.error = error;
    this.reason = reason;
  }
}

export function basicAuth(user, password) {
  const bytes = new TextEncoder().encode(user + ":" + password);
  return "Basic " + btoa(String.fromCharCode(...bytes));
}

export function setAuthorization(value) { authorization = value; }
export function whenUnauthorized(fn) { onUnauthorized = fn; }

// path`/queues/${vhost}/${name}`: each interpolated value is one percent-encoded segment.
export function path(strings, ...values) {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? encodeURIComponent(values[i]) : ""), "");
}

export async function request(method, p, { params, body, rawBody, contentType, signal, headers: extra } = {}) {
  const url = new URL("/api" + p, location.origin);
  for (const [k, v] of Object.entries(params || {}))
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  const headers = { "x-requested-with": "pulse-ui" };
  if (authorization) headers.authorization = authorization;
  // Extra headers a call needs (X-Reason on closing a connection, as RabbitMQ's UI sends it).
  for (const [k, v] of Object.entries(extra || {})) if (v !== undefined && v !== null && v !== "") headers[k.toLowerCase()] = String(v);
  let payload;
  if (rawBody !== undefined) {
    payload = rawBody;
    headers["content-type"] = contentType || "application/json";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  const r = await fetch(url, { method, headers, body: payload, credentials: "omit", cache: "no-store", signal });
  const text = await r.text();
  let json = null;
  if (text && (r.headers.get("content-type") || "").includes("json")) {
    try { json = JSON.parse(text); } catch { json = null; }
  }
  if (!r.ok) {
    if (r.status === 401) onUnauthorized(json && json.reason);
    throw new ApiError(r.status, json && json.error, (json && json.reason) || text.trim() || r.statusText);
  }
  return json !== null ? json : text;
}

export const api = {
  get: (p, params, opts) => request("GET", p, { params, ...opts }),
  put: (p, body) => request("PUT", p, { body: body === undefined ? {} : body }),
  post: (p, body) => request("POST", p, { body: body === undefined ? {} : body }),
  del: (p, params, opts) => request("DELETE", p, { params, ...opts }),
};
