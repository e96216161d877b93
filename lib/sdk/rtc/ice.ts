/**
 * Which ICE servers a call uses: the app's choice (a URL, a server list or a
 * whole RTCConfiguration), or by default the Parley server's `/api/ice`.
 *
 * @module
 */
import { RealtimeError } from "../errors.ts";
import { apiUrlFor } from "../http_lists.ts";
import type { IceOption } from "./types.ts";

/**
 * The `/api/ice` URL that belongs to a realtime endpoint.
 *
 * @example
 * ```ts
 * import { iceUrlFor } from "./ice.ts";
 * console.log(iceUrlFor("wss://example.com/api/realtime")); // "https://example.com/api/ice"
 * ```
 */
export function iceUrlFor(realtimeUrl: string): string {
  return apiUrlFor(realtimeUrl, "ice").href;
}

function isIceUrl(value: string): boolean {
  return /^(stun|stuns|turn|turns):/i.test(value);
}

/**
 * Resolves `ice` into an RTCConfiguration. A string is a STUN/TURN URL, or an
 * http(s) URL answering `{ iceServers }`; nothing means the server's `/api/ice`,
 * asked with `token` as a bearer token when there is one (a server that
 * requires tokens answers 401 without). Never uses the legacy `url` field:
 * always `urls`.
 *
 * @throws {RealtimeError} `INVALID_PARAMETER` for a malformed option, `NOT_FOUND` when the list cannot be fetched
 * @example
 * ```ts ignore
 * await resolveIce("stun:stun.example.com:3478", realtimeUrl);
 * // { iceServers: [{ urls: "stun:stun.example.com:3478" }] }
 * ```
 */
export async function resolveIce(
  ice: IceOption | undefined,
  realtimeUrl: string,
  fetchFn: typeof fetch = globalThis.fetch,
  timeout = 10_000,
  token?: string,
): Promise<RTCConfiguration> {
  if (Array.isArray(ice)) return { iceServers: ice.map(normalizeServer) };
  if (typeof ice === "object" && ice !== null) {
    return { ...ice, iceServers: (ice.iceServers ?? []).map(normalizeServer) };
  }
  if (typeof ice === "string" && isIceUrl(ice)) return { iceServers: [{ urls: ice }] };
  if (ice !== undefined && ice !== null && typeof ice !== "string") {
    throw RealtimeError.invalidParameter(
      "Cannot call as 'ice' must be a STUN/TURN URL, an RTCIceServer[] or an RTCConfiguration",
    );
  }
  const url = ice ?? iceUrlFor(realtimeUrl);
  const signal = AbortSignal.timeout(timeout);
  try {
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetchFn(url, { signal, headers });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    const body = await response.json() as RTCConfiguration;
    return { ...body, iceServers: (body.iceServers ?? []).map(normalizeServer) };
  } catch (error) {
    throw new RealtimeError(
      "NOT_FOUND",
      `Cannot get the ICE servers from ${url} (${
        (error as Error)?.message ?? error
      }): pass 'ice' explicitly`,
      { cause: error },
    );
  }
}

/** Copies a server entry, turning a legacy `url` into `urls`. */
function normalizeServer(server: RTCIceServer & { url?: string }): RTCIceServer {
  const { url, ...rest } = server;
  const urls = rest.urls ?? url;
  if (!urls || (Array.isArray(urls) && urls.length === 0)) {
    throw RealtimeError.invalidParameter("Cannot call as an ICE server has no 'urls'");
  }
  return { ...rest, urls };
}
