/**
 * The lists over HTTP — live rooms (`GET /api/rooms`) and the connections
 * in one (`GET /api/rooms/<group>`) — for pages and SDK clients without an
 * open socket. The query is a `groups` / `users` request in search
 * parameters and goes through the protocol's parser, the one gate.
 *
 * @module
 */
import { errorCodeOf, parseClientFrame } from "../protocol/mod.ts";
import { AuthError, roomAllowed, tokenOf, verifyToken } from "./auth.ts";
import type { Hub } from "./hub.ts";

const NO_STORE = { "cache-control": "no-store" };

function failure(code: string, message: string, status: number): Response {
  return Response.json({ code, message }, { status, headers: NO_STORE });
}

/** The paging fields shared by both lists. */
function paging(params: URLSearchParams): Record<string, unknown> {
  const page: Record<string, unknown> = {};
  const limit = params.get("limit");
  if (limit !== null) page.limit = Number(limit);
  const startKey = params.get("startKey");
  if (startKey !== null) page.startKey = startKey;
  const ascending = params.get("ascending");
  if (ascending !== null) page.ascending = ascending !== "false";
  return page;
}

/** Parses `frame` with the protocol's rules; a refusal becomes a 400 naming the field. */
function parsed<T>(frame: Record<string, unknown>, hub: Hub): T | Response {
  try {
    const given = Object.entries(frame).filter(([, value]) => value !== undefined);
    return parseClientFrame({ id: 0, ...Object.fromEntries(given) }, hub.limits) as T;
  } catch (error) {
    return failure(errorCodeOf(error), (error as Error).message, 400);
  }
}

const UNAUTHORIZED_HEADERS = { ...NO_STORE, "www-authenticate": 'Bearer realm="parley"' };

/**
 * With a signing secret, a bearer token (or `?token=`) is required, as on
 * the socket and at `/api/ice`: resolves to the rooms it grants, or to the
 * 401 to answer with. Without a secret, every room (null).
 */
async function grantedRooms(hub: Hub, req: Request): Promise<readonly string[] | null | Response> {
  const secret = hub.admission.settings.authSecret;
  if (secret === null) return null;
  try {
    return (await verifyToken(secret, tokenOf(req))).rooms;
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    return Response.json({ code: error.code, message: error.message }, {
      status: 401,
      headers: UNAUTHORIZED_HEADERS,
    });
  }
}

/**
 * `GET /api/rooms?searchFor=&value=&condition=&range=&limit=&startKey=&ascending=`
 * (Skapi's `getRealtimeGroups` parameters; `prefix=` is `value` with `>=`).
 * With tokens on, a token is required and only the rooms it grants are listed.
 *
 * @example
 * ```ts ignore
 * export const handler = { GET: async (req) => listRooms(await sharedHub(), req) };
 * ```
 */
export async function listRooms(hub: Hub, req: Request): Promise<Response> {
  const params = new URL(req.url).searchParams;
  const searchFor = params.get("searchFor") ?? undefined;
  // A count is a number in the query; text that is no number stays text, for the parser to refuse.
  const number = (raw: string | null) => {
    if (raw === null) return undefined;
    if (searchFor !== "number_of_users" || raw.trim() === "") return raw;
    return Number.isFinite(Number(raw)) ? Number(raw) : raw;
  };
  const prefix = params.get("prefix");
  const frame = parsed<Parameters<Hub["presence"]["listGroups"]>[0]>({
    type: "groups",
    ...paging(params),
    ...(searchFor ? { searchFor } : {}),
    ...(prefix !== null
      ? { value: prefix, condition: ">=" }
      : { value: number(params.get("value")), condition: params.get("condition") ?? undefined }),
    range: number(params.get("range")),
  }, hub);
  if (frame instanceof Response) return frame;
  const rooms = await grantedRooms(hub, req);
  if (rooms instanceof Response) return rooms;
  const visible = rooms === null ? undefined : (room: string) => roomAllowed(rooms, room);
  return Response.json(await hub.presence.listGroups(frame, visible), { headers: NO_STORE });
}

/**
 * `GET /api/rooms/<group>?user_id=&limit=&startKey=&ascending=`: the
 * connections in `group` (Skapi's `getRealtimeUsers`).
 *
 * @example
 * ```ts ignore
 * export const handler = {
 *   GET: async (req, ctx) => listRoomUsers(await sharedHub(), req, ctx.params.group),
 * };
 * ```
 */
export async function listRoomUsers(hub: Hub, req: Request, group: string): Promise<Response> {
  const params = new URL(req.url).searchParams;
  const frame = parsed<Parameters<Hub["presence"]["listUsers"]>[0]>({
    type: "users",
    group,
    ...paging(params),
    user_id: params.get("user_id") ?? undefined,
  }, hub);
  if (frame instanceof Response) return frame;
  const rooms = await grantedRooms(hub, req);
  if (rooms instanceof Response) return rooms;
  if (rooms !== null && !roomAllowed(rooms, group)) {
    return failure(
      "UNAUTHORIZED",
      `Cannot list the users of room "${group}" as the access token does not grant it`,
      403,
    );
  }
  return Response.json(await hub.presence.listUsers(frame), { headers: NO_STORE });
}
