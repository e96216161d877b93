import type { Handlers } from "$fresh/server.ts";
import {
  AuthError,
  iceServers,
  securityFromEnv,
  tokenOf,
  verifyToken,
} from "../../lib/server/mod.ts";

const security = securityFromEnv();

/**
 * `GET /api/ice`: the ICE servers for a call (see lib/server/ice.ts for the
 * env). When the server requires tokens, so does this (`Authorization:
 * Bearer …` or `?token=`), and the TURN username carries the token's `sub`.
 */
export const handler: Handlers = {
  async GET(req) {
    let userId: string | undefined;
    if (security.authSecret !== null) {
      try {
        userId = (await verifyToken(security.authSecret, tokenOf(req))).user_id ?? undefined;
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        return Response.json({ code: error.code, message: error.message }, {
          status: 401,
          headers: { "www-authenticate": 'Bearer realm="parley"', "cache-control": "no-store" },
        });
      }
    }
    return Response.json(await iceServers(undefined, undefined, userId), {
      headers: { "cache-control": "no-store" },
    });
  },
};
