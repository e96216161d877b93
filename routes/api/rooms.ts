import type { Handlers } from "$fresh/server.ts";
import { listRooms, sharedHub } from "../../lib/server/mod.ts";

/**
 * `GET /api/rooms?searchFor=&value=&condition=&range=&limit=&startKey=&ascending=`
 * (or `?prefix=`): the live rooms and how many are in each, for pages and
 * SDK clients that list rooms without a socket (Skapi's `getRealtimeGroups`).
 */
export const handler: Handlers = {
  async GET(req) {
    return listRooms(await sharedHub(), req);
  },
};
