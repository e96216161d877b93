import type { Handlers } from "$fresh/server.ts";
import { sharedHub } from "../../lib/server/mod.ts";

/**
 * `GET /api/rooms?limit=&startKey=&prefix=`: the live rooms and how many are
 * in each, for pages that list rooms without connecting.
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
    const prefix = params.get("prefix") ?? undefined;
    const page = await (await sharedHub()).presence.listGroups({
      limit,
      startKey: params.get("startKey") ?? undefined,
      value: prefix,
      condition: ">=",
    });
    return Response.json(page, { headers: { "cache-control": "no-store" } });
  },
};
