// Over 300 lines: one scenario (clients, faults, ledger, ghost census) that only reads whole.
/**
 * The soak of issue 15: clients on two server processes sharing one KV file
 * post (acked, privately and to their rooms) and switch rooms while one
 * process is SIGKILLed and restarted every `killEveryMs` and KV is stalled
 * (another process holding the SQLite write lock) between the kills. It
 * counts, for recipients connected throughout, acked messages lost or
 * duplicated, and the ghosts (presence with no live connection) at the end.
 *
 * "Connected throughout": always the same process (A) is killed; B survives
 * the whole run. A message counts for a recipient session when that session
 * was open — and, for a room post, in the room — before the message was
 * sent, and stayed open (in that room) until the end of the run. Sessions of
 * A's clients end at each kill (they come back as fresh sessions,
 * `resumed: false`), so only their last one, for what was sent after it
 * opened, counts; B's clients count for the whole run. Duplicates count in
 * every session, connected throughout or not: none may ever see one
 * message twice.
 *
 * Run by `deno task soak` (tests/soak/run.ts) and, 20 s long, by
 * tests/cluster/soak_short_test.ts.
 *
 * @module
 */
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { PRESENCE_KEYS } from "../../lib/server/presence.ts";
import { type KvLock, lockKv } from "../_helpers/faults.ts";
import { type RawClient, rawClient } from "../_helpers/hub.ts";
import { freePort } from "../_helpers/process.ts";
import { type RunningApp, startApp } from "../_helpers/server.ts";
import { sleep, waitFor } from "../_helpers/wait.ts";

/** Options of {@linkcode runSoak}. */
export interface SoakOptions {
  /** How long clients post and switch rooms (ms). */
  durationMs: number;
  /** Period of A's SIGKILL and restart (ms). */
  killEveryMs: number;
  /** KV stalls, one between each two kills, taken in turn (ms each). */
  stallsMs: number[];
  /** Clients in all, half homed on each process. @default 20 */
  clients?: number;
  /** Pause of each client between two posts (ms). @default 1000 */
  postEveryMs?: number;
  /** How long to wait after the run for late deliveries and presence repair (ms). */
  settleMs: number;
  /** Progress lines go here. @default nothing */
  log?: (line: string) => void;
}

/** What a soak found. */
export interface SoakFigures {
  seconds: number;
  kills: number;
  stalls: number;
  /** Posts sent, and how each was answered. */
  posts: number;
  acked: number;
  unavailable: number;
  /** Other typed errors, by code (NOT_FOUND: the recipient had just gone). */
  otherErrors: Record<string, number>;
  /** Posts whose socket died before an answer (the sender's process was killed). */
  unanswered: number;
  /** Requests an open socket never answered (a server that broke its promise). */
  stuck: string[];
  /** Acked (message, recipient) pairs whose recipient was connected throughout. */
  expected: number;
  /** Of those, delivered exactly once. */
  delivered: number;
  lost: number;
  /** Copies beyond the first, in any session. */
  duplicated: number;
  /**
   * Messages that arrived before an earlier one of the same sender session
   * (per recipient session, first copies in arrival order).
   */
  outOfOrder: number;
  /** Welcomes with `resumed: true` after the process that held the session died. */
  lyingResumes: number;
  /** Fresh sessions (`resumed: false`) after a kill. */
  freshSessions: number;
  /** Reconnects of clients on the surviving process B (none expected). */
  survivorReconnects: number;
  joins: number;
  /** Presence with no live connection once the run settled, by kind. */
  ghosts: { connections: number; members: number; users: number; counts: number; listed: number };
  ghostTotal: number;
  /** How long after the last fault presence took to become exact (ms), or null. */
  exactAfterMs: number | null;
  /** A few of the losses and duplicates, for the report. */
  examples: string[];
}

const ROOMS = ["soak-0", "soak-1", "soak-2", "soak-3"];

interface Session {
  client: RawClient;
  cid: string;
  userId: string;
  session: string;
  proof?: string;
  /** Frames received (pings and the welcome not counted), as a resume claims. */
  received: number;
  openedAt: number;
  closedAt: number;
  /** Room memberships: joined (ack) at, left (join elsewhere sent) at. */
  rooms: Array<{ room: string; joinedAt: number; leftAt: number }>;
  /** Received message ids → copies. */
  got: Map<string, number>;
  /** Requests waiting for their answer, by id (answered null when the socket closes). */
  pending: Map<number, (answer: ServerFrame | null) => void>;
}

let nextRequestId = 1;

/**
 * How long a request may go unanswered on an open socket. Far beyond any
 * stall the soak makes (a post waits one out, then is acked or UNAVAILABLE):
 * past it the request counts as stuck, a broken promise of the server's.
 */
const STUCK_AFTER_MS = 30_000;

/**
 * Sends a request on `session`; resolves to its ack or error, to null once
 * the socket closed without one, or to null (counted as stuck) after
 * {@linkcode STUCK_AFTER_MS} (and named in `stuck`).
 */
function ask(
  session: Session,
  frame: Record<string, unknown>,
  stuck: string[],
): Promise<ServerFrame | null> {
  if (session.closedAt !== Infinity) return Promise.resolve(null);
  const id = nextRequestId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      session.pending.delete(id);
      stuck.push(`${frame.type} #${id} on ${session.cid}`);
      resolve(null);
    }, STUCK_AFTER_MS);
    session.pending.set(id, (answer) => {
      clearTimeout(timer);
      resolve(answer);
    });
    session.client.send({ ...frame, id });
  });
}

interface Sent {
  id: string;
  from: Session;
  /** A private post's recipient session, or a room post's room. */
  to: Session | string;
  sentAt: number;
  answer?: "acked" | string;
}

interface Soaker {
  name: string;
  home: "A" | "B";
  /** Churners switch rooms now and then; the others stay in theirs. */
  churner: boolean;
  sessions: Session[];
  current?: Session;
}

/** Whether something listens on `port` of 127.0.0.1 (a refused WebSocket never welcomes). */
async function listening(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/** Received frames carrying soak messages, counted per id, and pings answered. */
function watch(session: Session): void {
  session.client.socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data) as ServerFrame;
    if (frame.type === "ping") {
      session.client.send({ type: "pong", received: session.received });
      return;
    }
    if (frame.type !== "welcome") session.received++;
    if ((frame.type === "ack" || frame.type === "error") && frame.id !== undefined) {
      session.pending.get(frame.id)?.(frame);
      session.pending.delete(frame.id);
      return;
    }
    if (frame.type !== "private" && frame.type !== "message") return;
    if (frame.sender_cid === session.cid) return;
    const id = (frame.message as { soak?: string } | null)?.soak;
    if (typeof id === "string") session.got.set(id, (session.got.get(id) ?? 0) + 1);
  });
}

/**
 * Runs the soak and returns its figures (it asserts nothing: the caller
 * decides what must be zero).
 *
 * @example
 * ```ts ignore
 * const figures = await runSoak({ durationMs: 20_000, killEveryMs: 8_000, stallsMs: [1500], settleMs: 5_000 });
 * ```
 */
export async function runSoak(options: SoakOptions): Promise<SoakFigures> {
  const log = options.log ?? (() => {});
  const clientCount = options.clients ?? 20;
  const postEveryMs = options.postEveryMs ?? 1_000;
  const kvDir = await Deno.makeTempDir({ prefix: "parley-soak-" });
  const kvPath = `${kvDir}/kv.sqlite3`;
  const portA = freePort();
  const appB = await startApp({ kvPath });
  let appA: RunningApp | undefined = await startApp({ kvPath, port: portA });
  const urlOf = (home: "A" | "B") =>
    home === "B" ? appB.wsUrl : `ws://127.0.0.1:${portA}/api/realtime`;

  const soakers: Soaker[] = Array.from({ length: clientCount }, (_, i) => ({
    name: `soak${i}`,
    home: i % 2 === 0 ? "A" : "B",
    churner: i % 4 >= 2,
    sessions: [],
  }));
  const sent: Sent[] = [];
  const stuck: string[] = [];
  const figures = {
    kills: 0,
    stalls: 0,
    lyingResumes: 0,
    freshSessions: 0,
    joins: 0,
    survivorReconnects: 0,
  };
  let stopping = false;
  let stoppedAt = Infinity;
  let nextMessage = 0;

  const open = async (soaker: Soaker, previous?: Session): Promise<Session> => {
    const port = Number(new URL(urlOf(soaker.home)).port);
    if (!await listening(port)) throw new Error(`nothing on port ${port}`);
    // As the SDK does: the resume claim (and the identity proof) in the hello.
    const hello = previous
      ? {
        proof: previous.proof,
        resume: { cid: previous.cid, session: previous.session, received: previous.received },
      }
      : undefined;
    const client = await rawClient(urlOf(soaker.home), { name: soaker.name }, {
      ignoreNotices: true,
      welcomeMs: 30_000,
      hello,
    });
    const { welcome } = client;
    // Only A is killed: a resume there after a kill would lie (its log died
    // with it); B's sessions never close unless something is wrong.
    if (previous && soaker.home === "A") {
      if (welcome.resumed) figures.lyingResumes++;
      else figures.freshSessions++;
    }
    if (previous && soaker.home === "B") figures.survivorReconnects++;
    if (previous) log(`${soaker.name}: back, resumed ${welcome.resumed}`);
    const session: Session = {
      client,
      cid: welcome.cid,
      userId: welcome.user_id,
      session: welcome.session,
      proof: welcome.proof ?? previous?.proof,
      received: 0,
      openedAt: Date.now(),
      closedAt: Infinity,
      rooms: [],
      got: new Map(),
      pending: new Map(),
    };
    watch(session);
    client.closed.then(() => {
      session.closedAt = Date.now();
      for (const answer of session.pending.values()) answer(null);
      session.pending.clear();
    });
    soaker.sessions.push(session);
    return session;
  };

  const join = async (session: Session, room: string) => {
    const from = session.rooms.at(-1);
    const leftAt = Date.now();
    figures.joins++;
    const answer = await ask(session, { type: "join", group: room }, stuck);
    if (from && from.leftAt === Infinity) from.leftAt = leftAt;
    if (answer?.type === "ack") {
      session.rooms.push({ room, joinedAt: Date.now(), leftAt: Infinity });
    }
  };

  const roomOf = (session: Session) => {
    const last = session.rooms.at(-1);
    return last && last.leftAt === Infinity ? last.room : undefined;
  };

  /** One client's life: (re)connect, join, post, sometimes switch rooms. */
  const live = async (soaker: Soaker, index: number) => {
    let room = ROOMS[index % ROOMS.length];
    // After the stop, a client whose socket died still comes back (within
    // 20 s): the census counts what is left without a live connection.
    const giveUpAt = () => stopping && Date.now() > stoppedAt + 20_000;
    while (!stopping || soaker.current?.closedAt !== Infinity) {
      if (giveUpAt()) break;
      let session: Session;
      try {
        session = await open(soaker, soaker.sessions.at(-1));
      } catch (error) {
        log(`${soaker.name}: ${String(error).slice(0, 150)}`);
        await sleep(250); // its process is down: try again
        continue;
      }
      await join(session, room);
      soaker.current = session;
      if (stopping) break;
      while (!stopping && session.closedAt === Infinity) {
        await sleep(postEveryMs * (0.5 + Math.random()));
        if (stopping || session.closedAt !== Infinity) break;
        if (!roomOf(session)) {
          await join(session, room); // the last join failed (a KV stall)
          continue;
        }
        if (soaker.churner && Math.random() < 0.2) {
          room = ROOMS[(ROOMS.indexOf(room) + 1 + Math.floor(Math.random() * 3)) % ROOMS.length];
          await join(session, room);
          continue;
        }
        const peers = soakers.filter((s) => s !== soaker && s.current?.closedAt === Infinity);
        const toRoom = Math.random() < 0.5 || peers.length === 0;
        const target = toRoom
          ? undefined
          : peers[Math.floor(Math.random() * peers.length)].current!;
        const currentRoom = roomOf(session);
        if (toRoom && !currentRoom) continue;
        const id = `m${nextMessage++}`;
        const entry: Sent = { id, from: session, to: target ?? currentRoom!, sentAt: Date.now() };
        sent.push(entry);
        const frame: Record<string, unknown> = { type: "post", message: { soak: id } };
        if (target) frame.recipient = target.userId;
        // Not awaited one by one: the client goes on posting while KV stalls.
        ask(session, frame, stuck).then((answer) => {
          // null: the socket died first (its process was killed).
          if (answer) entry.answer = answer.type === "error" ? answer.code : "acked";
        });
      }
      if (session.closedAt === Infinity) break;
    }
  };

  const started = Date.now();
  const lives = soakers.map((soaker, i) => live(soaker, i));
  let lastFaultAt = started;

  /** A's kills every killEveryMs, a KV stall half-way between two. */
  const faults = (async () => {
    let stallIndex = 0;
    let lock: KvLock | undefined;
    for (let k = 1; Date.now() - started < options.durationMs; k++) {
      const stallAt = started + (k - 0.5) * options.killEveryMs;
      const killAt = started + k * options.killEveryMs;
      if (killAt - started > options.durationMs) break;
      await sleep(stallAt - Date.now());
      const stallMs = options.stallsMs[stallIndex++ % options.stallsMs.length];
      if (options.stallsMs.length > 0) {
        lock = await lockKv(kvPath, stallMs);
        figures.stalls++;
        log(`${((Date.now() - started) / 1000).toFixed(1)} s: KV stalled for ${stallMs} ms`);
        await sleep(stallMs);
        await lock.release();
        lastFaultAt = Date.now();
      }
      await sleep(killAt - Date.now());
      Deno.kill(appA!.pid, "SIGKILL");
      await appA!.stop();
      figures.kills++;
      log(`${((Date.now() - started) / 1000).toFixed(1)} s: A SIGKILLed`);
      // A loaded machine (CI runs browsers beside this) may take a while.
      appA = await startApp({ kvPath, port: portA, timeout: 60_000 });
      lastFaultAt = Date.now();
      log(`${((Date.now() - started) / 1000).toFixed(1)} s: A restarted`);
    }
  })();
  // Held, not left rejected: a fault that fails (a restart that never gets
  // healthy) fails the run with its reason once the clients have stopped.
  const faultsEnded = faults.then(() => undefined, (error: unknown) => error);

  try {
    await sleep(options.durationMs);
    const faultError = await faultsEnded;
    if (faultError) throw faultError;
    stopping = true;
    stoppedAt = Date.now();
    await Promise.all(lives);
    const endedAt = Date.now();
    log(`${((endedAt - started) / 1000).toFixed(1)} s: posting stopped; settling`);
    const settleUntil = Date.now() + options.settleMs;
    // Answers still on their way (a post sent in a stall is acked after it).
    await waitFor(() => sent.every((m) => m.answer || m.from.closedAt !== Infinity), {
      timeout: Math.max(1, options.settleMs),
    }).catch(() => {});

    // Every (acked message, recipient connected throughout) pair.
    const isOpen = (s: Session) => s.closedAt === Infinity;
    const pairs: Array<{ message: Sent; to: Session }> = [];
    const everySession = soakers.flatMap((s) => s.sessions);
    for (const message of sent) {
      if (message.answer !== "acked") continue;
      if (typeof message.to !== "string") {
        if (isOpen(message.to) && message.to.openedAt < message.sentAt) {
          pairs.push({ message, to: message.to });
        }
        continue;
      }
      for (const session of everySession) {
        if (session === message.from || !isOpen(session)) continue;
        const stayed = session.rooms.some((r) =>
          r.room === message.to && r.joinedAt < message.sentAt && r.leftAt === Infinity
        );
        if (stayed) pairs.push({ message, to: session });
      }
    }
    await waitFor(() => pairs.every((p) => p.to.got.has(p.message.id)), {
      timeout: Math.max(1, settleUntil - Date.now()),
    }).catch(() => {});
    await sleep(1_000); // late copies, if any
    const examples: string[] = [];
    let delivered = 0;
    let lost = 0;
    for (const { message, to } of pairs) {
      const copies = to.got.get(message.id) ?? 0;
      if (copies === 1) delivered++;
      if (copies === 0) {
        lost++;
        if (examples.length < 10) {
          examples.push(
            `lost ${message.id} (${typeof message.to === "string" ? message.to : "private"}) ` +
              `sent ${message.sentAt - started} ms in, to ${to.cid}`,
          );
        }
      }
    }
    let duplicated = 0;
    for (const session of everySession) {
      for (const [id, copies] of session.got) {
        if (copies <= 1) continue;
        duplicated += copies - 1;
        if (examples.length < 10) examples.push(`${id} ×${copies} at ${session.cid}`);
      }
    }
    // Ids number the messages in the order they were sent; a Map keeps arrival order.
    const senderOf = new Map(sent.map((m) => [m.id, m.from]));
    let outOfOrder = 0;
    for (const session of everySession) {
      const lastFrom = new Map<Session, number>();
      for (const id of session.got.keys()) {
        const from = senderOf.get(id);
        if (!from) continue;
        const n = Number(id.slice(1));
        if (n < (lastFrom.get(from) ?? -1)) {
          outOfOrder++;
          if (examples.length < 10) examples.push(`${id} after a later one at ${session.cid}`);
        } else lastFrom.set(from, n);
      }
    }

    // Ghosts: presence that names no live connection, or counts that drift from it.
    const liveSessions = everySession.filter(isOpen);
    const census = async () => {
      const kv = await Deno.openKv(kvPath);
      try {
        const liveCids = new Set(liveSessions.map((s) => s.cid));
        const ghosts = { connections: 0, members: 0, users: 0, counts: 0, listed: 0 };
        for await (const entry of kv.list({ prefix: PRESENCE_KEYS.connections })) {
          if (!liveCids.has(String(entry.key[2]))) ghosts.connections++;
        }
        for (const room of ROOMS) {
          const expected = new Set(
            liveSessions.filter((s) => roomOf(s) === room).map((s) => s.cid),
          );
          const members = new Set<string>();
          for await (const entry of kv.list({ prefix: PRESENCE_KEYS.members(room) })) {
            members.add(String(entry.key[3]));
          }
          for (const cid of members) if (!expected.has(cid)) ghosts.members++;
          const count = await kv.get<Deno.KvU64>(PRESENCE_KEYS.group(room));
          const counted = Number(count.value?.value ?? 0n);
          ghosts.counts += Math.abs(counted - expected.size);
          const asker = liveSessions.find((s) => s.client.socket.readyState === WebSocket.OPEN);
          if (asker) {
            const answer = await ask(asker, { type: "users", group: room }, stuck);
            if (answer?.type === "ack") {
              const list = (answer.result as { list: Array<{ cid: string }> }).list;
              for (const row of list) if (!expected.has(row.cid)) ghosts.listed++;
            }
          }
        }
        for await (const entry of kv.list({ prefix: ["parley", "user"] })) {
          if (!liveCids.has(String(entry.key[3]))) ghosts.users++;
        }
        return ghosts;
      } finally {
        kv.close();
      }
    };
    let ghosts = await census();
    const total = (g: typeof ghosts) => Object.values(g).reduce((a, b) => a + b, 0);
    let exactAfterMs: number | null = total(ghosts) === 0 ? Date.now() - lastFaultAt : null;
    while (exactAfterMs === null && Date.now() < settleUntil) {
      await sleep(500);
      ghosts = await census();
      if (total(ghosts) === 0) exactAfterMs = Date.now() - lastFaultAt;
    }

    const answers = sent.map((m) => m.answer);
    const otherErrors: Record<string, number> = {};
    for (const answer of answers) {
      if (answer && answer !== "acked" && answer !== "UNAVAILABLE") {
        otherErrors[answer] = (otherErrors[answer] ?? 0) + 1;
      }
    }
    return {
      seconds: Math.round((endedAt - started) / 1000),
      ...figures,
      posts: sent.length,
      acked: answers.filter((a) => a === "acked").length,
      unavailable: answers.filter((a) => a === "UNAVAILABLE").length,
      otherErrors,
      unanswered: answers.filter((a) => a === undefined).length,
      stuck,
      expected: pairs.length,
      delivered,
      lost,
      duplicated,
      outOfOrder,
      ghosts,
      ghostTotal: total(ghosts),
      exactAfterMs,
      examples,
    };
  } finally {
    // Also when a fault failed (the run throws): the clients stop, and those
    // whose process is gone give up 20 s on instead of retrying forever.
    stopping = true;
    stoppedAt = Math.min(stoppedAt, Date.now());
    await Promise.allSettled(lives);
    for (const soaker of soakers) {
      for (const session of soaker.sessions) await session.client.close().catch(() => {});
    }
    await appA?.stop();
    await appB.stop();
    await Deno.remove(kvDir, { recursive: true }).catch(() => {});
  }
}
