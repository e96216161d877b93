/**
 * The lists over HTTP, for a client without an open socket: Skapi's
 * `getRealtimeUsers` / `getRealtimeGroups` work before `connectRealtime`,
 * and so do Parley's, through `GET /api/rooms` and `GET /api/rooms/<group>`.
 *
 * @module
 */
import type { Page } from "../protocol/mod.ts";
import { RealtimeError } from "./errors.ts";

/**
 * The HTTP URL of the API endpoint `name` next to a realtime endpoint:
 * `wss://h/api/realtime` → `https://h/api/<name>`.
 *
 * @example
 * ```ts
 * import { apiUrlFor } from "./http_lists.ts";
 * apiUrlFor("wss://example.com/api/realtime", "rooms").href; // "https://example.com/api/rooms"
 * ```
 */
export function apiUrlFor(realtimeUrl: string, name: string): URL {
  const url = new URL(realtimeUrl);
  url.protocol = url.protocol === "wss:"
    ? "https:"
    : url.protocol === "ws:"
    ? "http:"
    : url.protocol;
  url.pathname = url.pathname.replace(/\/api\/realtime\/?$/, "") + `/api/${name}`;
  url.search = "";
  return url;
}

/**
 * Fetches one page of `type` over HTTP; the query's fields become search
 * parameters (undefined ones are left out). Sends `token` as a bearer token.
 *
 * @throws {RealtimeError} the server's `{ code, message }`, or `NOT_CONNECTED` when it cannot be reached
 * @example
 * ```ts ignore
 * const page = await listOverHttp("ws://localhost:8000/api/realtime", undefined, "groups", {
 *   searchFor: "group", value: "Hello", condition: ">=",
 * });
 * ```
 */
export async function listOverHttp<Row>(
  realtimeUrl: string,
  token: string | undefined,
  type: "users" | "groups",
  query: Record<string, unknown>,
  fetcher: typeof fetch = globalThis.fetch,
): Promise<Page<Row>> {
  const url = apiUrlFor(realtimeUrl, "rooms");
  const { group, ...rest } = query;
  if (type === "users") url.pathname += `/${encodeURIComponent(String(group))}`;
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
  }
  let response: Response;
  try {
    response = await fetcher(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  } catch (error) {
    throw RealtimeError.notConnected(`list ${type} (${url.origin} cannot be reached: ${error})`);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const code = typeof body?.code === "string" ? body.code : "INTERNAL_ERROR";
    throw new RealtimeError(
      code,
      String(body?.message ?? `Cannot list ${type}: ${response.status}`),
    );
  }
  return body as Page<Row>;
}
