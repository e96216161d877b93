/**
 * The checks of a PeerJS upgrade, in `peer` 1.0.x's order (parameters,
 * key) and then Parley's (id rule, the hub's admission: origin, per-address
 * limits, access token and its subject). A refusal is a PeerJS frame: the
 * socket is upgraded all the same and told, since the PeerJS client reports
 * only what comes over the socket.
 *
 * @module
 */
import { isPeerjsId, PEERJS_DEFAULTS, PEERJS_MESSAGES, peerjsRefusal } from "../../protocol/mod.ts";
import type { RemoteInfo } from "../abuse.ts";
import type { Admission } from "../admission.ts";

/** How a PeerJS upgrade was judged. */
export interface PeerjsAdmission {
  id: string;
  token: string;
  /** The frame to send before closing; null when the socket may go on. */
  refusal: string | null;
  /** Frees the address's socket slot; call once the socket has closed. Idempotent. */
  release: () => void;
}

/**
 * Judges the upgrade `req` to `/peerjs/peerjs?key=&id=&token=` for API key `key`.
 *
 * @example
 * ```ts ignore
 * const { refusal, release } = await admitPeer(req, info, "peerjs", hub.admission);
 * if (refusal !== null) socket.send(refusal);
 * ```
 */
export async function admitPeer(
  req: Request,
  info: RemoteInfo,
  key: string,
  admission: Admission,
): Promise<PeerjsAdmission> {
  const params = new URL(req.url).searchParams;
  const [id, token, asked] = ["id", "token", "key"].map((name) => params.get(name) ?? "");
  const refuse = (type: "ERROR" | "INVALID-KEY", msg: string): PeerjsAdmission => ({
    id,
    token,
    refusal: peerjsRefusal(type, msg),
    release: () => {},
  });
  if (!id || !token || !asked) return refuse("ERROR", PEERJS_MESSAGES.invalidParameters);
  if (asked !== key) return refuse("INVALID-KEY", PEERJS_MESSAGES.invalidKey);
  if (!isPeerjsId(id)) return refuse("ERROR", PEERJS_MESSAGES.invalidId);
  if (token.length > PEERJS_DEFAULTS.maxTokenLength) {
    return refuse("ERROR", PEERJS_MESSAGES.invalidToken);
  }
  const ticket = await admission.check(req, info);
  if (ticket instanceof Response) {
    const body = await ticket.json().catch(() => ({}));
    return refuse("ERROR", String(body.message ?? PEERJS_MESSAGES.invalidToken));
  }
  if (ticket.grant !== null && ticket.grant.user_id !== id) {
    ticket.release();
    return refuse(
      "ERROR",
      `${PEERJS_MESSAGES.invalidToken}: the id must be the access token's subject`,
    );
  }
  return { id, token, refusal: null, release: ticket.release };
}
