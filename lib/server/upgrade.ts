/**
 * The step from HTTP to a WebSocket: the refusals that come before any
 * upgrade (a plain request, a server shutting down, a resume in the URL, and
 * admission's origin, address and token checks), the upgrade itself with
 * Deno's own ping off (see `heartbeat.ts`), then the version check and the hello
 * that may carry the credentials — until the socket is someone, whom the
 * sessions take in.
 *
 * @module
 */
import {
  cleanDisplayName,
  CLOSE,
  HELLO_PARAM,
  type Limits,
  PROTOCOL_VERSION,
  PROTOCOL_VERSIONS,
  versionMismatch,
} from "../protocol/mod.ts";
import { releaseOnClose, type RemoteInfo } from "./abuse.ts";
import type { Admission, Ticket } from "./admission.ts";
import { AuthError } from "./auth.ts";
import { awaitHello, closeReason } from "./handshake.ts";
import { randomId } from "./ids.ts";
import type { Sessions } from "./sessions.ts";

/** The parts an upgrade works with. */
export interface UpgradeParts {
  /** What the hello's parser checks. */
  limits: Limits;
  /** Who may connect, and who they are. */
  admission: Pick<Admission, "check" | "identify">;
  /** Takes the identified socket in; refuses upgrades once closing. */
  sessions: Pick<Sessions, "open" | "closing">;
}

/** The name shown for a user who gave none (or only characters the name rule removes). */
function displayName(raw: string | null, userId: string): string {
  return cleanDisplayName(raw) || `Guest ${userId.slice(0, 4)}`;
}

/**
 * Answers `GET /api/realtime`: upgrades to a WebSocket. The query may carry
 * `name`, `v`, `token`, and `hello=1`, which says the credentials (token,
 * identity proof, resume) follow in the first frame — never in the URL.
 * Refuses before upgrading (a typed JSON body) a request that is no
 * WebSocket upgrade (426), any while shutting down (503), a disallowed
 * origin (403), an address over its socket limit (429), a resume asked for
 * in the URL (400) and a missing, bad or expired query token when the
 * server requires one and no hello follows (401). Once upgraded, an unknown
 * `v` closes the socket ({@linkcode CLOSE.unsupportedVersion}), a missing or
 * bad hello {@linkcode CLOSE.noHello}, and a bad token in the hello
 * {@linkcode CLOSE.unauthorized}, each with the reason. `info` is
 * `Deno.serve`'s, for the client's address.
 *
 * @example Serve the realtime endpoint with a hub's parts
 * ```ts ignore
 * Deno.serve((req, info) => upgrade(req, { limits, admission, sessions }, info));
 * ```
 */
export async function upgrade(
  req: Request,
  parts: UpgradeParts,
  info?: RemoteInfo,
): Promise<Response> {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return Response.json({
      code: "INVALID_REQUEST",
      message:
        "Cannot serve this request as it is not a WebSocket upgrade: connect with a WebSocket",
    }, { status: 426, headers: { upgrade: "websocket" } });
  }
  if (parts.sessions.closing) {
    return Response.json({ code: "INTERNAL_ERROR", message: "The server is shutting down" }, {
      status: 503,
    });
  }
  const params = new URL(req.url).searchParams;
  if (params.has("resume") || params.has("session")) {
    return Response.json({
      code: "INVALID_REQUEST",
      message:
        "Cannot resume through the URL, where the secret would be logged: connect with hello=1 and send the resume in the hello frame",
    }, { status: 400 });
  }
  const helloFollows = params.get(HELLO_PARAM) === "1";
  const ticket = await parts.admission.check(req, info, helloFollows);
  if (ticket instanceof Response) return ticket;
  const version = params.get("v");
  let upgraded;
  try {
    // No Deno ping (a timer per socket, reset on every frame): the heartbeat
    // (`heartbeat.ts`) pings the quiet sockets in one sweep.
    upgraded = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
  } catch (error) {
    ticket.release();
    throw error;
  }
  const { socket, response } = upgraded;
  // Not `onclose`, which the sessions take over: the slot is freed however it ends.
  releaseOnClose(socket, ticket.release);
  socket.onopen = () => {
    if (version !== null && !PROTOCOL_VERSIONS.map(String).includes(version)) {
      socket.close(CLOSE.unsupportedVersion, versionMismatch(version, PROTOCOL_VERSION));
      return;
    }
    open(socket, parts, ticket, params, helloFollows).catch((error) => {
      console.error("hub: cannot take the connection in", error);
      socket.close(CLOSE.internal, "Cannot take the connection in: try again");
    });
  };
  return response;
}

/** Identifies an open socket (from its hello, if one follows) and hands it to the sessions. */
async function open(
  socket: WebSocket,
  parts: UpgradeParts,
  ticket: Ticket,
  params: URLSearchParams,
  helloFollows: boolean,
): Promise<void> {
  const hello = helloFollows ? await awaitHello(socket, parts.limits) : null;
  if (hello instanceof Error) return socket.close(CLOSE.noHello, hello.message);
  if (socket.readyState !== WebSocket.OPEN) return;
  let who;
  try {
    who = await parts.admission.identify(ticket, hello);
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    return socket.close(CLOSE.unauthorized, closeReason(error.message));
  }
  await parts.sessions.open(socket, {
    cid: `cid:${randomId(18)}`,
    user_id: who.user_id,
    name: displayName(who.name ?? params.get("name"), who.user_id),
    grant: who.grant,
    proof: who.proof,
    // A client that names no version speaks v1 (checked against PROTOCOL_VERSIONS on upgrade).
    protocol: Number(params.get("v") ?? 1),
    ticket,
  }, hello?.resume);
}
