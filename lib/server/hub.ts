// Over 300 lines: the one place where sockets, frames and requests meet (its parts: admission, handshake, sessions, grants, requests).
/**
 * The hub: this isolate's WebSocket endpoint. It welcomes connections,
 * passes every frame through the protocol's validator and the rate limit,
 * runs requests in each connection's order, delivers to local sockets at
 * once, reaches the other isolates through the cluster (cluster.ts: KV
 * inboxes plus a BroadcastChannel), and keeps presence in KV.
 *
 * @module
 */
import {
  cleanDisplayName,
  CLOSE,
  errorCodeOf,
  type ErrorRef,
  errorRefOf,
  FrameTooLargeError,
  HELLO_PARAM,
  type Limits,
  type NoticeFrame,
  parseClientFrame,
  type ParsedClientFrame,
  PROTOCOL_VERSION,
  PROTOCOL_VERSIONS,
  type ServerFrame,
  versionMismatch,
} from "../protocol/mod.ts";
import { Cluster } from "./cluster.ts";
import { releaseOnClose, type RemoteInfo } from "./abuse.ts";
import { Admission, type Ticket } from "./admission.ts";
import { AuthError, roomAllowed } from "./auth.ts";
import {
  Connection,
  ConnectionState,
  type Credentials,
  type Identity,
  type SocketLike,
} from "./connection.ts";
import { armExpiry, replaceGrant } from "./grants.ts";
import { awaitHello, closeReason } from "./handshake.ts";
import { randomId } from "./ids.ts";
import { Heartbeat, serverSilenceMs } from "./heartbeat.ts";
import { Presence } from "./presence.ts";
import { type Recipient, Registry, type Target } from "./registry.ts";
import { type BindableSocket, Sessions } from "./sessions.ts";
import { handleRequest, type HubCore, notify, RequestError } from "./requests.ts";
import {
  clusterFromEnv,
  type ClusterSettings,
  limitsFromEnv,
  securityFromEnv,
  type SecuritySettings,
} from "./settings.ts";

/** Options of {@linkcode createHub}. */
export interface HubOptions {
  /** Where presence lives; shared by every isolate of the deployment. */
  kv: Deno.Kv;
  /** This isolate's id. @default a random "iso-…" id */
  isolate?: string;
  /** Limits to enforce. @default the protocol's, with the environment's overrides */
  limits?: Partial<Limits>;
  /** How to work with other isolates. @default the defaults, with the environment's overrides */
  cluster?: Partial<ClusterSettings>;
  /** Tokens, origins and abuse limits. @default the defaults, with the environment's overrides */
  security?: Partial<SecuritySettings>;
  /** Closes the hub when aborted. */
  signal?: AbortSignal;
}

const PONG = '{"type":"pong"}';
/** How every notice's JSON text begins (`JSON.stringify` keeps the order its fields were made). */
const NOTICE_PREFIX = '{"type":"notice",';

/** Errors Deno reports when a client broke the WebSocket framing (not a network failure). */
const PROTOCOL_VIOLATION = /invalid utf-8|frame too large|reserved bits|control frame|opcode/i;

/** The longest a disconnect notice waits for its presence removal to land in KV (ms). */
const NOTICE_AFTER_KV_MS = 1_000;

/** Resolves when `promise` settles or `ms` have passed, whichever comes first; leaves no timer. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    promise.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Requests whose successors need not wait for their answer (see #receive). */
const PIPELINED: ReadonlySet<string> = new Set(["post", "signal"]);

function displayName(raw: string | null, userId: string): string {
  return cleanDisplayName(raw) || `Guest ${userId.slice(0, 4)}`;
}

/**
 * Creates this isolate's hub.
 *
 * @example Serve the realtime endpoint
 * ```ts ignore
 * const hub = createHub({ kv: await Deno.openKv() });
 * Deno.serve((req) => hub.handle(req));
 * ```
 */
export function createHub(options: HubOptions): Hub {
  return new Hub(options);
}

/** See {@linkcode createHub}. */
export class Hub implements HubCore {
  readonly isolate: string;
  /** The KV every isolate shares (other faces, such as PeerJS's, keep their records there). */
  readonly kv: Deno.Kv;
  readonly limits: Limits;
  readonly presence: Presence;
  readonly registry = new Registry();
  /** The other isolates: the bus to them and the liveness of all. */
  readonly cluster: Cluster;
  /** Connections that outlive their sockets: suspend, resume, take over. */
  readonly sessions: Sessions;
  /** The checks of upgrades and joins: tokens, origins, abuse limits. */
  readonly admission: Admission;
  #heartbeat: ReturnType<typeof setInterval>;
  #heart: Heartbeat;
  #repair: ReturnType<typeof setInterval>;
  #closing: Promise<void> | null = null;
  #drops = new Set<Promise<void>>();

  constructor(options: HubOptions) {
    this.isolate = options.isolate ?? `iso-${randomId(6)}`;
    this.kv = options.kv;
    this.limits = { ...limitsFromEnv(), ...options.limits };
    this.presence = new Presence(options.kv, this.isolate);
    this.admission = new Admission({ ...securityFromEnv(), ...options.security }, options.kv);
    const clusterSettings = { ...clusterFromEnv(), ...options.cluster };
    this.cluster = new Cluster({
      kv: options.kv,
      isolate: this.isolate,
      presence: this.presence,
      registry: this.registry,
      settings: clusterSettings,
      deliver: (target, text) => {
        if ("cid" in target && this.sessions.settle(target.cid, text)) return;
        this.#deliver(this.registry.resolve(target), text);
      },
      route: (target, frame) => this.route(target, frame),
      onEvicted: () => this.#evicted(),
      onRelease: (cid, received) => this.sessions.release(cid, received),
      resumeGraceMs: this.limits.resumeGraceMs,
    });
    this.sessions = new Sessions({
      limits: this.limits,
      registry: this.registry,
      presence: this.presence,
      cluster: this.cluster,
      accept: (socket, identity) => this.accept(socket, identity),
      create: (socket, identity) => this.#connection(socket, identity),
      bind: (connection, socket) => this.#bind(connection, socket),
      welcome: (connection, resumed) => this.#welcome(connection, resumed),
      drop: (connection) => this.drop(connection),
      forget: (connection) => this.#forget(connection),
    });
    this.#heart = new Heartbeat(this.limits.heartbeatMs);
    this.#heartbeat = setInterval(() => this.#beat(), this.limits.heartbeatMs);
    this.#repair = setInterval(() => this.#repairPresence(), clusterSettings.presenceRepairMs);
    // The heartbeat and the repair alone must not keep a process (a test, a script) alive.
    Deno.unrefTimer(Number(this.#heartbeat));
    Deno.unrefTimer(Number(this.#repair));
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** How many sockets and groups this isolate serves. */
  get counts(): { sockets: number; groups: number } {
    return this.registry.counts;
  }

  /**
   * Answers `GET /api/realtime`: upgrades to a WebSocket. The query may
   * carry `name`, `v`, `token`, and `hello=1`, which says the credentials
   * (token, identity proof, resume) follow in the first frame — never in the
   * URL. Refuses before upgrading (a typed JSON body) a disallowed origin
   * (403), an address over its socket limit (429), a resume asked for in the
   * URL (400) and a missing, bad or expired query token when the server
   * requires one and no hello follows (401). A bad token in the hello closes
   * the socket ({@linkcode CLOSE.unauthorized}) with the reason. `info` is
   * `Deno.serve`'s, for the client's address.
   */
  async handle(req: Request, info?: RemoteInfo): Promise<Response> {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({
        code: "INVALID_REQUEST",
        message:
          "Cannot serve this request as it is not a WebSocket upgrade: connect with a WebSocket",
      }, { status: 426, headers: { upgrade: "websocket" } });
    }
    if (this.#closing) {
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
    const ticket = await this.admission.check(req, info, helloFollows);
    if (ticket instanceof Response) return ticket;
    const version = params.get("v");
    let upgraded;
    try {
      // No Deno ping (a timer per socket, reset on every frame): #beat pings.
      upgraded = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    } catch (error) {
      ticket.release();
      throw error;
    }
    const { socket, response } = upgraded;
    // Not `onclose`, which accept() takes over: the slot is freed however it ends.
    releaseOnClose(socket, ticket.release);
    socket.onopen = () => {
      if (version !== null && !PROTOCOL_VERSIONS.map(String).includes(version)) {
        socket.close(CLOSE.unsupportedVersion, versionMismatch(version, PROTOCOL_VERSION));
        return;
      }
      this.#open(socket, ticket, params, helloFollows).catch((error) => {
        console.error("hub: cannot take the connection in", error);
        socket.close(CLOSE.internal, "Cannot take the connection in: try again");
      });
    };
    return response;
  }

  /** Identifies an open socket (from its hello, if one follows) and takes it in or resumes. */
  async #open(
    socket: WebSocket,
    ticket: Ticket,
    params: URLSearchParams,
    helloFollows: boolean,
  ): Promise<void> {
    const hello = helloFollows ? await awaitHello(socket, this.limits) : null;
    if (hello instanceof Error) return socket.close(CLOSE.noHello, hello.message);
    if (socket.readyState !== WebSocket.OPEN) return;
    let who;
    try {
      who = await this.admission.identify(ticket, hello);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return socket.close(CLOSE.unauthorized, closeReason(error.message));
    }
    const identity = {
      cid: `cid:${randomId(18)}`,
      user_id: who.user_id,
      name: displayName(who.name ?? params.get("name"), who.user_id),
      grant: who.grant,
      proof: who.proof,
    };
    const claim = hello?.resume;
    let previous = await this.sessions.find(claim, who.user_id);
    const group = previous instanceof Connection ? previous.group : previous?.value.group;
    // A fresher token that no longer grants the room starts afresh.
    if (who.grant && group && !roomAllowed(who.grant.rooms, group)) previous = null;
    const received = claim?.received ?? 0;
    if (socket.readyState !== WebSocket.OPEN) return; // gone while we looked
    const connection = previous instanceof Connection
      ? this.sessions.resumeHere(previous, socket, received, identity)
      : previous
      ? this.sessions.takeOver(previous, socket, received, identity)
      : this.accept(socket, identity);
    // A client that names no version speaks v1 (checked against PROTOCOL_VERSIONS on upgrade).
    connection.protocol = Number(params.get("v") ?? 1);
    this.admission.attach(connection, ticket);
  }

  /** The most connections one room may hold; see {@linkcode HubCore.roomCap}. */
  get roomCap(): number {
    return this.admission.settings.maxUsersPerRoom;
  }

  /** Replaces a connection's token; see {@linkcode HubCore.reauthorize}. */
  async reauthorize(connection: Connection, token: string): Promise<number> {
    const expires = await replaceGrant(this.admission, connection, token);
    this.#armExpiry(connection);
    return expires;
  }

  /** Closes `connection` when its token expires (re-armed by each new token). */
  #armExpiry(connection: Connection): void {
    armExpiry(connection, () => {
      connection.close(
        CLOSE.unauthorized,
        "Access token expired: reconnect with a new one (the SDK's getToken option refreshes it)",
      );
      this.drop(connection);
    });
  }

  /** Checks a join; see {@linkcode HubCore.admit} and `Admission.admit`. */
  admit(connection: Connection, group: string): void {
    return this.admission.admit(connection, group);
  }

  /** Checks a users list; see {@linkcode HubCore.mayList} and `Admission.mayList`. */
  mayList(connection: Connection, group: string): void {
    this.admission.mayList(connection, group);
  }

  /** Takes an open socket in: registers it, records presence, welcomes it. */
  accept(socket: BindableSocket, identity: Identity & Credentials): Connection {
    const connection = this.#connection(socket, identity);
    this.registry.add(connection);
    this.#bind(connection, socket);
    // Presence is written only once this isolate is recorded as alive.
    connection.queue = this.cluster.ready.then(() => this.presence.connect(connection)).then(
      () => this.#welcome(connection, false),
      (error) => {
        console.error("presence: cannot record connection", error);
        connection.close(CLOSE.internal, "Cannot record presence: try again");
      },
    );
    return connection;
  }

  #connection(
    socket: SocketLike,
    identity: Identity & Credentials & { session?: string },
  ): Connection {
    const connection = new Connection(socket, identity, {
      rate: this.limits.rateLimit,
      burst: this.limits.rateBurst,
      replayFrames: this.limits.resumeBufferFrames,
      replayBytes: this.limits.resumeBufferBytes,
      maxBufferedBytes: this.limits.maxBufferedBytes,
    });
    connection.onBackedUp = () => {
      // Like a dropped socket: kept for its grace, its frames logged for the resume.
      const backedUp = connection.socket;
      this.sessions.suspend(connection);
      try {
        backedUp.close(
          CLOSE.slowReader,
          `Read too slowly: over ${this.limits.maxBufferedBytes} bytes queued; resume to continue`,
        );
      } catch {
        // Already closing.
      }
    };
    return connection;
  }

  /** Frames and the close of `socket` go to `connection` while it is its socket. */
  #bind(connection: Connection, socket: BindableSocket): void {
    socket.onmessage = (event) => {
      if (connection.socket === socket) this.#receive(connection, event.data);
    };
    socket.onerror = (event) => {
      // Deno drops a socket that broke the framing itself (invalid UTF-8 in
      // a text frame, a frame over its own 64 MiB bound) with no close frame,
      // which would look like a blip: such a client is not let resume.
      const message = (event as ErrorEvent).message ?? "";
      if (connection.socket !== socket || !PROTOCOL_VIOLATION.test(message)) return;
      connection.close(CLOSE.invalidData, closeReason(`Protocol violation: ${message}`));
      this.drop(connection);
    };
    socket.onclose = (event) => {
      // Replaced by a resume, or already suspended by the server (a slow
      // reader, a silent one), however its close handshake ends.
      if (connection.socket !== socket || connection.state === ConnectionState.Suspended) return;
      // A clean close (the client sent a close frame) is a leave; a socket
      // that just dropped (1006) waits for its client to resume it.
      if (connection.closed || this.#closing || event.wasClean) this.drop(connection);
      else this.sessions.suspend(connection);
    };
  }

  #welcome(connection: Connection, resumed: boolean): void {
    connection.welcomed = true;
    this.#armExpiry(connection);
    connection.sendUncounted(JSON.stringify(
      {
        type: "welcome",
        v: connection.protocol,
        cid: connection.cid,
        user_id: connection.user_id,
        name: connection.name,
        isolate: this.isolate,
        heartbeat: serverSilenceMs(this.limits.heartbeatMs),
        session: connection.session,
        grace: this.limits.resumeGraceMs,
        resumed,
        group: connection.group,
        ...(connection.proof ? { proof: connection.proof } : {}),
        ...(connection.grant ? { expires: connection.grant.exp * 1000 } : {}),
      } satisfies ServerFrame,
    ));
  }

  #receive(connection: Connection, data: unknown): void {
    connection.lastSeen = performance.now();
    if (data === PONG) return;
    if (!connection.bucket.take()) {
      if (++connection.rejectedInARow > this.limits.maxRejectedInARow) {
        connection.close(CLOSE.policy, "Rate limit exceeded: slow down and reconnect");
        return;
      }
      return this.#error(
        connection,
        errorRefOf(data),
        new RequestError(
          "RATE_LIMITED",
          `Cannot accept more than ${this.limits.rateLimit} frames a second: wait and retry`,
        ),
      );
    }
    connection.rejectedInARow = 0;
    let frame: ParsedClientFrame;
    try {
      frame = parseClientFrame(data, this.limits);
    } catch (error) {
      if (error instanceof FrameTooLargeError) return connection.close(CLOSE.tooBig, error.message);
      return this.#error(connection, errorRefOf(data), error);
    }
    if (frame.type === "pong") {
      if (frame.received !== undefined) connection.log.acknowledge(frame.received);
      return;
    }
    if (frame.type === "bye") {
      connection.close(CLOSE.normal, "Goodbye");
      this.drop(connection);
      return;
    }
    if (frame.type === "hello") {
      return this.#error(
        connection,
        {},
        new RequestError(
          "INVALID_REQUEST",
          "Cannot take a hello now: it is only the first frame of a connection opened with hello=1",
        ),
      );
    }
    const request = frame;
    connection.queue = connection.queue.then(() => {
      if (connection.closed) return;
      const answered = handleRequest(this, connection, request).then(
        // A signal without id (v3) gets no ack: only its failure is answered.
        (result) => {
          if (request.id !== undefined) {
            connection.send({ type: "ack", id: request.id, result } as ServerFrame);
          }
        },
        (error) => this.#error(connection, errorRefOf(request), error),
      );
      // A post or signal has routed its frame (in order) before its handler's
      // first await: the next request need not wait for its count. Joins and
      // renames change what later requests see, so those are waited for.
      return PIPELINED.has(request.type) ? undefined : answered;
    });
  }

  /** Answers with a typed error naming what failed (`ref`: a request's id, an unacked signal). */
  #error(connection: Connection, ref: ErrorRef, error: unknown): void {
    const known = error instanceof RequestError;
    if (
      !known &&
      !(error instanceof SyntaxError || error instanceof TypeError || error instanceof RangeError)
    ) {
      console.error("hub: request failed", error);
    }
    const code = known ? error.code : errorCodeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    connection.send({ type: "error", ...ref, code, message });
  }

  /** Removes a connection that went away; tells its group. Idempotent. */
  drop(connection: Connection): Promise<void> {
    if (!this.registry.has(connection)) return Promise.resolve();
    connection.close(CLOSE.normal, "Gone");
    return this.#forget(connection);
  }

  /** Removes a connection, tells its group and clears its presence; its socket is left as it is. */
  #forget(connection: Connection): Promise<void> {
    if (!this.registry.has(connection)) return Promise.resolve();
    const group = connection.group;
    this.registry.remove(connection);
    const removed = this.presence.disconnect(connection, group).catch((error) =>
      console.error("presence: cannot remove connection", error)
    );
    // As with a join's move, the removal lands in KV before the group hears of it, so a list
    // right after the notice no longer shows the connection. A KV that keeps failing delays the
    // notice by at most NOTICE_AFTER_KV_MS (presence repair removes the record later).
    const told = group === null ? Promise.resolve() : settledWithin(removed, NOTICE_AFTER_KV_MS)
      .then(() => notify(this, connection, group, "USER_DISCONNECTED")).then(
        () => {},
        (error) => console.error("hub: cannot tell the group of a disconnect", error),
      );
    const dropped = Promise.all([removed, told]).then(() => {});
    // close() waits for these, so the KV is never closed under a write.
    this.#drops.add(dropped);
    dropped.finally(() => this.#drops.delete(dropped));
    return dropped;
  }

  /** Removes the presence records a failed leave left behind (see `Presence.reconcile`). */
  async #repairPresence(): Promise<void> {
    if (this.#closing) return;
    try {
      const repaired = await this.presence.reconcile((cid) => this.registry.get(cid) !== undefined);
      if (repaired > 0) console.warn(`presence: repaired ${repaired} stale record(s)`);
    } catch (error) {
      // KV still failing: the next round tries again.
      console.error("presence: cannot repair", error);
    }
  }

  /**
   * Pings the quiet sockets (a pong says how much the client received, so
   * its resume log can shrink); closes those that left a ping unanswered
   * for a whole heartbeat (see `heartbeat.ts`).
   */
  #beat(): void {
    const open = [...this.registry.all()].filter((c) =>
      c.state === ConnectionState.Open && c.welcomed
    );
    this.#heart.beat(open, (connection) => {
      // Silent: its socket is likely dead. Its client may still resume it.
      try {
        connection.socket.close(
          CLOSE.heartbeatTimeout,
          "Heartbeat timeout: a ping went unanswered",
        );
      } catch {
        // Already closing.
      }
      this.sessions.suspend(connection);
    });
  }

  /**
   * Delivers to the local sockets a target names at once, and through the
   * cluster to the others; see {@linkcode HubCore.route}.
   */
  route(target: Target, frame: ServerFrame, safe = false): Promise<number> {
    const recipients = this.registry.resolve(target);
    const text = JSON.stringify(frame);
    this.#deliver(recipients, text, frame);
    return this.cluster.route(target, text, recipients.size, safe);
  }

  /** Sends a frame's text to local sockets; notices go with the others of this tick. */
  #deliver(recipients: ReadonlySet<Recipient>, text: string, frame?: ServerFrame): void {
    if (recipients.size === 0) return;
    if (frame?.type === "notice" || (frame === undefined && text.startsWith(NOTICE_PREFIX))) {
      const notice = (frame ?? JSON.parse(text)) as NoticeFrame;
      for (const recipient of recipients) {
        if (recipient instanceof Connection) recipient.sendNotice(notice, text);
        else recipient.sendText(text);
      }
      return;
    }
    for (const recipient of recipients) recipient.sendText(text);
  }

  /**
   * Another isolate took this one for dead and removed its connections from
   * presence (and told their groups): close them without touching presence
   * again, so the clients reconnect and are recorded anew.
   */
  #evicted(): void {
    for (const connection of [...this.registry.all()]) {
      this.registry.remove(connection);
      connection.close(CLOSE.goingAway, "Server was taken for dead: reconnect");
    }
  }

  /** Closes every socket ("going away") and clears their presence. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#heartbeat);
      clearInterval(this.#repair);
      for (const connection of [...this.registry.all()]) {
        connection.close(CLOSE.goingAway, "Server is restarting: reconnect");
        this.drop(connection);
      }
      await Promise.all(this.#drops);
      await this.cluster.close();
    })();
    return this.#closing;
  }
}
