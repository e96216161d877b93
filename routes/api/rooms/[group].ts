import type { Handlers } from "$fresh/server.ts";
import { listRoomUsers, sharedHub } from "../../../lib/server/mod.ts";

/**
 * `GET /api/rooms/<group>?user_id=&limit=&startKey=&ascending=`: who is in a
 * room, one row per connection, for SDK clients without a socket (Skapi's
 * `getRealtimeUsers`). With tokens on, the token must grant the room.
 */
export const handler: Handlers = {
  async GET(req, ctx) {
    return listRoomUsers(await sharedHub(), req, ctx.params.group);
  },
};
