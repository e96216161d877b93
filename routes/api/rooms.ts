import type { Handlers } from "$fresh/server.ts";
import { AuthError, roomAllowed, tokenOf, verifyToken } from "../../lib/server/auth.ts";
import { sharedHub } from "../../lib/server/mod.ts";

/**
 * `GET /api/rooms?limit=&startKey=&prefix=`: the live rooms and how many are
 * in each, for pages that list rooms without connecting. When the server
 * requires tokens, so does this (`Authorization: Bearer …` or `?token=`, as
 * `/api/ice`), and it lists only the rooms the token grants.
 */
export const handler: Handlers = {
  async GET(req) {
    const params = new URL(req.url).searchParams;
    const limit = Number(params.get("limit") ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return Response.json({
        code: "INVALID_PARAMETER",
        message: "Cannot list rooms as 'limit' must be an integer from 1 to 1000",
      }, { status: 400 });
    }
    const hub = await sharedHub();
    const secret = hub.admission.settings.authSecret;
    let visible: ((room: string) => boolean) | undefined;
    if (secret !== null) {
      try {
        const { rooms } = await verifyToken(secret, tokenOf(req));
        visible = (room) => roomAllowed(rooms, room);
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        return Response.json({ code: error.code, message: error.message }, {
          status: 401,
          headers: { "www-authenticate": 'Bearer realm="parley"', "cache-control": "no-store" },
        });
      }
    }
    const prefix = params.get("prefix") ?? undefined;
    const page = await hub.presence.listGroups({
      limit,
      startKey: params.get("startKey") ?? undefined,
      value: prefix,
    }, visible);
    return Response.json(page, { headers: { "cache-control": "no-store" } });
  },
};
