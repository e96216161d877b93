// Over 300 lines: the fuzz generator and its oracle read best whole.
/**
 * Fuzz: well over 100,000 generated hostile frames from 20 attacker sockets
 * against a real hub, while four well-behaved clients talk in the groups the
 * attackers wander through. Every frame's answer is predicted (see
 * `_hostile.ts`) and checked; the well-behaved clients must see exactly
 * their own traffic plus the attackers' legitimate actions — nothing lost,
 * nothing extra, every sender stamped by the server.
 *
 * Seeded: the seed is printed; `PARLEY_FUZZ_SEED=<n>` replays a run (each
 * attacker's frames are a function of the seed and its index).
 *
 * @module
 */
import assert from "node:assert/strict";
import { CLOSE, ERROR_CODES, LIMITS, type ServerFrame } from "../../lib/protocol/mod.ts";
import { type RawClient, rawClient, startHub, type TestHub } from "../_helpers/hub.ts";
import { sleep } from "../_helpers/wait.ts";
import {
  canonical,
  type Effect,
  type Hostile,
  hostileFrame,
  oversizeFrame,
  type Scene,
  type Victim,
} from "./_hostile.ts";
import { fuzzSeed, Rng } from "./_random.ts";

type Answer = Extract<ServerFrame, { type: "ack" | "error" }>;
type Welcome = Extract<ServerFrame, { type: "welcome" }>;

const GOOD_GROUPS = ["alpha", "alpha", "beta", "beta"] as const;
const GROUPS = ["alpha", "beta", "gamma", "delta"] as const;

/** A fuzz failure, with what it takes to replay it. */
class FuzzFailure extends Error {}

// --- an attacker's socket ---

/** A raw socket that keeps only the answers (acks and errors) of the current burst. */
class Attacker {
  answers: Answer[] = [];
  closed: { code: number; reason: string } | null = null;
  /** Answers with this id end a burst. */
  barrier = -1;
  barrierAnswer: Answer | null = null;
  rateLimited = 0;
  #wake: (() => void) | null = null;

  private constructor(readonly socket: WebSocket, readonly welcome: Welcome) {}

  static async connect(url: string, name: string): Promise<Attacker> {
    const target = new URL(url);
    target.searchParams.set("name", name);
    const socket = new WebSocket(target);
    const welcome = await new Promise<Welcome>((resolve, reject) => {
      const timer = setTimeout(() => reject(new FuzzFailure("no welcome within 10 s")), 10_000);
      socket.onclose = (e) => {
        clearTimeout(timer);
        reject(new FuzzFailure(`closed before the welcome: ${e.code} ${e.reason}`));
      };
      socket.onmessage = (event) => {
        const frame = JSON.parse(event.data) as ServerFrame;
        // A heartbeat can beat between registering a socket and welcoming it.
        if (frame.type === "ping") return;
        clearTimeout(timer);
        if (frame.type !== "welcome") reject(new FuzzFailure(`first frame ${event.data}`));
        else resolve(frame);
      };
    });
    const self = new Attacker(socket, welcome);
    socket.onmessage = (event) => {
      const text = event.data as string;
      // Group traffic and notices reach attackers in good groups too; only answers matter here.
      if (!text.startsWith('{"type":"ack"') && !text.startsWith('{"type":"error"')) return;
      const frame = JSON.parse(text) as Answer;
      if (frame.type === "error" && frame.code === "RATE_LIMITED") self.rateLimited++;
      if (frame.id === self.barrier) self.barrierAnswer = frame;
      else self.answers.push(frame);
      self.#wake?.();
    };
    socket.onclose = (event) => {
      self.closed = { code: event.code, reason: event.reason };
      self.#wake?.();
    };
    return self;
  }

  /** The answer to the current barrier, if in (a method, so no narrowing survives an await). */
  reply(): Answer | null {
    return this.barrierAnswer;
  }

  send(data: string | Uint8Array): void {
    this.socket.send(data as string);
  }

  /** Resolves true once `done()` holds (checked on every answer and the close), false after `ms`. */
  waitFor(done: () => boolean, ms: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve(false);
      }, ms);
      this.#wake = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.#wake = null;
        resolve(true);
      };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const closed = this.waitFor(() => this.closed !== null, 5_000);
    this.socket.close();
    await closed;
  }
}

// --- what everyone must see ---

/** What one attacker connection did that others see, in its order. */
type Deed = Effect | { kind: "closed" };

interface ConnectionLog {
  cid: string;
  user_id: string;
  name: string;
  deeds: Deed[];
}

/** The frames victim `index` (in `group`) must get from one attacker connection, in order. */
function expectedFromAttacker(log: ConnectionLog, index: number, victimGroup: string): unknown[] {
  const out: unknown[] = [];
  let group: string | null = null;
  let name = log.name;
  const stamp = () => ({ sender: log.user_id, sender_cid: log.cid, name });
  const notice = (code: string, rid: string) => ({
    type: "notice",
    code,
    sender_rid: rid,
    ...stamp(),
  });
  for (const deed of log.deeds) {
    switch (deed.kind) {
      case "join":
        if (deed.group === group) break;
        if (group === victimGroup) out.push(notice("USER_LEFT", group));
        if (deed.group === victimGroup) out.push(notice("USER_JOINED", deed.group));
        group = deed.group;
        break;
      case "rename":
        name = deed.name;
        if (group === victimGroup) out.push(notice("USER_RENAMED", group));
        break;
      case "private":
        if (deed.to === index) out.push({ type: "private", message: deed.message, ...stamp() });
        break;
      case "signal":
        if (deed.to === index) {
          out.push({ type: "signal", signal: deed.signal, sender_rid: group, ...stamp() });
        }
        break;
      case "closed":
        if (group === victimGroup) out.push(notice("USER_DISCONNECTED", group));
        group = null;
        break;
    }
  }
  return out;
}

/** A well-behaved client: what it sent, in order. */
interface Good {
  client: RawClient;
  group: string;
  /** Frames before this index are the setup's. */
  mark: number;
  /** [to (victim index) or null for the group, message] in send order. */
  sent: Array<[number | null, Record<string, unknown>]>;
  nextId: number;
}

async function ask(good: Good, frame: Record<string, unknown>, ms = 20_000): Promise<Answer> {
  const id = good.nextId++;
  const mark = good.client.frames.length;
  good.client.send({ ...frame, id });
  return await good.client.next<Answer>(
    (f) => (f.type === "ack" || f.type === "error") && f.id === id,
    ms,
    mark,
  );
}

/** Talks until `stop`: group posts and privates to the others, each acked before the next. */
async function talk(goods: Good[], k: number, stop: () => boolean): Promise<void> {
  const me = goods[k];
  for (let n = 0; !stop() && n < 100_000; n++) {
    const to = n % 3 === 2 ? (k + 1 + (n % 2) * 2) % goods.length : null;
    const message = { from: k, seq: n, text: "hello %41 \u2028 😀" };
    const frame = to === null
      ? { type: "post", message }
      : { type: "post", message, recipient: goods[to].client.welcome.user_id };
    const answer = await ask(me, frame);
    assert.equal(answer.type, "ack", `good client ${k}'s post ${n}: ${JSON.stringify(answer)}`);
    me.sent.push([to, message]);
    await sleep(8);
  }
}

/** The frames good client `j` must get from good client `k`, in order. */
function expectedFromGood(goods: Good[], k: number, j: number): unknown[] {
  const sender = goods[k];
  const { user_id: senderId, cid, name } = sender.client.welcome;
  const stamp = { sender: senderId, sender_cid: cid, name };
  const out: unknown[] = [];
  for (const [to, message] of sender.sent) {
    if (to === null && sender.group === goods[j].group) {
      out.push({ type: "message", message, sender_rid: sender.group, ...stamp });
    } else if (to === j) {
      out.push({ type: "private", message, ...stamp });
    }
  }
  return out;
}

/**
 * Checks that each good client got exactly, per sender, what it must:
 * every frame after its setup is one of its own answers (all acks), a ping,
 * or a stamped frame from a known connection, in that sender's order.
 */
async function verifyGoods(goods: Good[], logs: ConnectionLog[], seed: number): Promise<number> {
  const expected = goods.map((good, j) => {
    const bySender = new Map<string, unknown[]>();
    goods.forEach((_, k) =>
      bySender.set(goods[k].client.welcome.cid, expectedFromGood(goods, k, j))
    );
    for (const log of logs) bySender.set(log.cid, expectedFromAttacker(log, j, good.group));
    return bySender;
  });
  const total = (j: number) => [...expected[j].values()].reduce((n, list) => n + list.length, 0);
  const stamped = (good: Good) =>
    good.client.frames.slice(good.mark).filter((f) => "sender_cid" in f).length;
  // Wait (bounded) for the last notices, then a round trip: everything routed earlier is in.
  for (let i = 0; i < 300 && goods.some((g, j) => stamped(g) < total(j)); i++) await sleep(50);
  for (const good of goods) assert.equal((await ask(good, { type: "groups" })).type, "ack");
  let checked = 0;
  goods.forEach((good, j) => {
    const got = new Map<string, unknown[]>();
    for (const frame of good.client.frames.slice(good.mark)) {
      if (frame.type === "ping") continue;
      if (frame.type === "ack") continue;
      if (frame.type === "error") {
        throw new FuzzFailure(
          `good client ${j} got an error: ${JSON.stringify(frame)} (seed ${seed})`,
        );
      }
      if (!("sender_cid" in frame)) {
        throw new FuzzFailure(`good client ${j} got ${JSON.stringify(frame)} (seed ${seed})`);
      }
      const list = got.get(frame.sender_cid) ?? [];
      list.push(frame);
      got.set(frame.sender_cid, list);
    }
    for (const [cid, frames] of got) {
      if (!expected[j].has(cid)) {
        throw new FuzzFailure(
          `good client ${j} got frames from unknown connection ${cid}: ${
            JSON.stringify(frames[0]).slice(0, 300)
          } (seed ${seed})`,
        );
      }
    }
    for (const [cid, want] of expected[j]) {
      const have = (got.get(cid) ?? []).map(canonical);
      const wanted = want.map(canonical);
      const at = wanted.findIndex((w, i) => w !== have[i]);
      if (at !== -1 || have.length !== wanted.length) {
        const i = at === -1 ? Math.min(have.length, wanted.length) : at;
        throw new FuzzFailure(
          `good client ${j} from ${cid}: ${have.length} frames, expected ${wanted.length}; ` +
            `first difference at ${i}: got ${have[i]?.slice(0, 300)} expected ${
              wanted[i]?.slice(0, 300)
            } (seed ${seed})`,
        );
      }
      checked += have.length;
    }
  });
  return checked;
}

// --- bursts ---

interface Tally {
  sent: number;
  hostile: number;
  legit: number;
  silent: number;
  oversize: number;
  reconnects: number;
  rateLimited: number;
  policyCloses: number;
  resets: number;
  codes: Record<string, number>;
  labels: Record<string, number>;
}

const newTally = (): Tally => ({
  sent: 0,
  hostile: 0,
  legit: 0,
  silent: 0,
  oversize: 0,
  reconnects: 0,
  rateLimited: 0,
  policyCloses: 0,
  resets: 0,
  codes: {},
  labels: {},
});

const ANSWER_FIELDS = new Set(["type", "id", "code", "message", "result"]);

/**
 * Matches a burst's answers to what each frame must get: answers with an
 * id to the frame of that id (each at most once; ids are never reused on a
 * connection, so a late or extra answer fails here or in a later burst),
 * answers without one to the frames without a usable id in order (the
 * server answers those as it reads them, in order). With `limited`, RATE_LIMITED may stand for any
 * answer. Unless the socket closed, every frame must have been answered.
 */
function reconcile(
  frames: Hostile[],
  answers: Answer[],
  closed: boolean,
  limited: boolean,
  tally: Tally,
  where: string,
): void {
  const byId = new Map<number, Hostile>();
  const withoutId: Hostile[] = [];
  for (const frame of frames) {
    const expect = frame.expect;
    if (expect.kind === "ack" || (expect.kind === "error" && expect.id !== undefined)) {
      const id = expect.id!;
      if (byId.has(id)) throw new FuzzFailure(`${where}: generator reused id ${id}`);
      byId.set(id, frame);
    } else if (expect.kind === "error") withoutId.push(frame);
  }
  const fail = (frame: Hostile | undefined, why: string): never => {
    const data = frame === undefined
      ? ""
      : typeof frame.data === "string"
      ? JSON.stringify(frame.data.slice(0, 200))
      : `${frame.data.length} binary bytes`;
    throw new FuzzFailure(`${where}: ${why}${frame ? ` — [${frame.label}] ${data}` : ""}`);
  };
  let inOrder = 0;
  for (const answer of answers) {
    for (const key of Object.keys(answer)) {
      if (!ANSWER_FIELDS.has(key)) {
        fail(undefined, `answer with field ${key}: ${JSON.stringify(answer)}`);
      }
    }
    let frame: Hostile | undefined;
    if (answer.id !== undefined) {
      frame = byId.get(answer.id);
      if (!frame) {
        fail(undefined, `unexpected or repeated answer ${JSON.stringify(answer).slice(0, 300)}`);
      }
      byId.delete(answer.id);
    } else {
      frame = withoutId[inOrder++];
      if (!frame || answer.type !== "error") {
        fail(frame, `unexpected answer without id ${JSON.stringify(answer).slice(0, 300)}`);
      }
    }
    const expect = frame!.expect;
    if (answer.type === "error") {
      if (!ERROR_CODES.includes(answer.code)) fail(frame, `untyped error ${answer.code}`);
      if (
        typeof answer.message !== "string" || answer.message === "" || answer.message.length > 600
      ) {
        fail(frame, `error message must be a short sentence: ${answer.message?.length} chars`);
      }
      tally.codes[answer.code] = (tally.codes[answer.code] ?? 0) + 1;
      if (limited && answer.code === "RATE_LIMITED") continue;
      if (expect.kind !== "error" || expect.code !== answer.code) {
        fail(frame, `got ${answer.code} (${answer.message}), expected ${JSON.stringify(expect)}`);
      }
    } else {
      if (expect.kind !== "ack") {
        return fail(
          frame,
          `acked ${JSON.stringify(answer.result)}, expected ${JSON.stringify(expect)}`,
        );
      }
      const problem = expect.check(answer.result);
      if (problem) fail(frame, problem);
      tally.codes.ack = (tally.codes.ack ?? 0) + 1;
    }
  }
  if (!closed) {
    const left = [...byId.values(), ...withoutId.slice(inOrder)];
    if (left.length > 0) fail(left[0], `${left.length} frame(s) never answered`);
  }
  for (const frame of frames) {
    const family = frame.label.split(/[:.]/)[0];
    tally.labels[family] = (tally.labels[family] ?? 0) + 1;
    if (frame.effect) tally.legit++;
    else if (frame.expect.kind === "silent") tally.silent++;
    else tally.hostile++;
  }
}

/** One attacker's side of a phase. */
interface Campaign {
  url: string;
  seed: number;
  index: number;
  victims: Victim[];
  frames: number;
  deadline: number;
  /** Default limits: RATE_LIMITED and 1008 are part of the game. */
  limited: boolean;
  logs: ConnectionLog[];
  tally: Tally;
}

const HOSTILE_NAMES = [
  "Eve",
  "\u0000\u001b[31mred",
  "x".repeat(200),
  "<b>bold</b>",
  "\u202eevil",
  "%00%2F",
  "",
];

async function attack(c: Campaign): Promise<void> {
  // Phase 2's attackers draw from other streams of the same seed.
  const rng = new Rng(c.seed, (c.limited ? 1000 : 0) + c.index + 1);
  let connection!: Attacker;
  let log!: ConnectionLog;
  let nextId = rng.pick([0, 2 ** 31, Number.MAX_SAFE_INTEGER - 10_000_000]);
  const scene: Scene = {
    group: null,
    groups: GROUPS,
    victims: c.victims,
    nextId: () => nextId++,
    legit: !c.limited,
  };
  const where = () => `attacker ${c.index} (${connection.welcome.cid}, seed ${c.seed})`;

  const connect = async () => {
    connection = await Attacker.connect(c.url, rng.pick(HOSTILE_NAMES));
    const { cid, user_id, name } = connection.welcome;
    // The server's own sanitising of the claimed name.
    assert.ok(name.length > 0 && name.length <= 64 && !/[\p{Cc}]/u.test(name), `name ${name}`);
    log = { cid, user_id, name, deeds: [] };
    c.logs.push(log);
    scene.group = null;
    if (c.limited) {
      // Joined on a fresh bucket, so this one is always accepted.
      const id = scene.nextId();
      connection.barrier = id;
      connection.barrierAnswer = null;
      connection.send(JSON.stringify({ type: "join", id, group: "alpha" }));
      await connection.waitFor(
        () => connection.barrierAnswer !== null || !!connection.closed,
        20_000,
      );
      assert.equal(connection.reply()?.type, "ack", `${where()}: join on connect`);
      log.deeds.push({ kind: "join", group: "alpha" });
      scene.group = "alpha";
    }
  };

  /** Sends a no-op join until one is acked: every answer to what came before is then in. */
  const barrier = async (): Promise<void> => {
    for (let attempt = 0; attempt < 400; attempt++) {
      connection.barrier = scene.nextId();
      connection.barrierAnswer = null;
      connection.send(JSON.stringify({ type: "join", id: connection.barrier, group: scene.group }));
      const answered = await connection.waitFor(
        () => connection.barrierAnswer !== null || connection.closed !== null,
        20_000,
      );
      if (!answered) throw new FuzzFailure(`${where()}: no answer to the barrier within 20 s`);
      if (connection.closed) return;
      const answer = connection.reply()!;
      if (answer.type === "ack") return;
      if (!c.limited || answer.code !== "RATE_LIMITED") {
        throw new FuzzFailure(`${where()}: barrier answered ${JSON.stringify(answer)}`);
      }
      await sleep(25);
    }
    throw new FuzzFailure(`${where()}: barrier still rate-limited after 400 tries`);
  };

  const closedFor = async (code: number) => {
    const { closed } = connection;
    assert.ok(closed, `${where()}: closed`);
    // Closed for policy while frames were still coming: the kernel may reset the
    // connection, and the close frame is lost with the unread data (and so may
    // be every answer before it, the first RATE_LIMITED included).
    const reset = code === CLOSE.policy && (closed.code === 0 || closed.code === 1006);
    if (reset) {
      log.deeds.push({ kind: "closed" });
      c.tally.resets++;
      c.tally.rateLimited += connection.rateLimited;
      c.tally.reconnects++;
      await connect();
      return;
    }
    if (closed.code !== code) {
      throw new FuzzFailure(
        `${where()}: closed with ${closed.code} ${closed.reason}, expected ${code}`,
      );
    }
    log.deeds.push({ kind: "closed" });
    if (code === CLOSE.policy) {
      c.tally.policyCloses++;
      assert.match(closed.reason, /Rate limit/);
      assert.ok(
        connection.rateLimited >= LIMITS.maxRejectedInARow,
        `${where()}: closed for policy after ${connection.rateLimited} RATE_LIMITED`,
      );
    }
    c.tally.rateLimited += connection.rateLimited;
    c.tally.reconnects++;
    await connect();
  };

  await connect();
  let sent = 0;
  while (sent < c.frames) {
    if (performance.now() > c.deadline) {
      throw new FuzzFailure(`${where()}: only ${sent} of ${c.frames} frames sent in time`);
    }
    const frames: Hostile[] = [];
    for (let i = rng.range(c.limited ? 10 : 20, c.limited ? 300 : 200); i > 0; i--) {
      const frame = hostileFrame(rng, scene);
      frames.push(frame);
      if (frame.effect) log.deeds.push(frame.effect);
    }
    connection.answers = [];
    for (const frame of frames) connection.send(frame.data);
    sent += frames.length;
    c.tally.sent += frames.length;
    await barrier();
    // The barrier's ack comes after every answer given as frames are read and
    // every join's or rename's, but posts and signals are pipelined: their
    // answers may still be on the way. Wait (bounded) until as many answers
    // as frames expect one are in; a missing or extra one fails below.
    const answerable = frames.filter((f) => f.expect.kind === "error" || f.expect.kind === "ack");
    await connection.waitFor(
      () => connection.closed !== null || connection.answers.length >= answerable.length,
      10_000,
    );
    reconcile(frames, connection.answers, connection.closed !== null, c.limited, c.tally, where());
    if (connection.closed) {
      await closedFor(CLOSE.policy);
      continue;
    }
    if (rng.chance(c.limited ? 0.05 : 0.025)) {
      // Alone, after the barrier: nothing of this connection is pending when it closes.
      const frame = oversizeFrame(rng, scene);
      connection.send(frame.data);
      c.tally.oversize++;
      if (!await connection.waitFor(() => connection.closed !== null, 10_000)) {
        throw new FuzzFailure(
          `${where()}: ${frame.data.length} characters did not close the socket`,
        );
      }
      await closedFor(CLOSE.tooBig);
    }
  }
  // Leave on purpose (acked), then close: the victims' last notice from it is USER_LEFT.
  for (let attempt = 0; scene.group !== null && attempt < 400; attempt++) {
    const id = scene.nextId();
    connection.barrier = id;
    connection.barrierAnswer = null;
    connection.send(JSON.stringify({ type: "join", id, group: null }));
    await connection.waitFor(
      () => connection.barrierAnswer !== null || !!connection.closed,
      20_000,
    );
    if (connection.closed) {
      await closedFor(CLOSE.policy);
      continue;
    }
    const answer = connection.reply();
    if (answer?.type === "ack") {
      log.deeds.push({ kind: "join", group: null });
      scene.group = null;
    } else if (answer?.type === "error" && answer.code === "RATE_LIMITED" && c.limited) {
      await sleep(25);
    } else {
      throw new FuzzFailure(`${where()}: leaving answered ${JSON.stringify(answer)}`);
    }
  }
  c.tally.rateLimited += connection.rateLimited;
  await connection.close();
}

/** Four good clients, two per good group, joined, their setup frames behind a mark. */
async function goodClients(server: TestHub): Promise<Good[]> {
  const goods: Good[] = [];
  for (const [k, group] of GOOD_GROUPS.entries()) {
    const client = await rawClient(server.url, { name: `Good ${k}` });
    goods.push({ client, group, mark: 0, sent: [], nextId: 1 });
  }
  for (const good of goods) {
    assert.equal((await ask(good, { type: "join", group: good.group })).type, "ack");
  }
  // A round trip each: every notice of the joins above has arrived.
  for (const good of goods) {
    assert.equal((await ask(good, { type: "join", group: good.group })).type, "ack");
    good.mark = good.client.frames.length;
  }
  return goods;
}

/** A phase: attackers and good clients at once, then everything checked. */
async function phase(
  server: TestHub,
  options: { seed: number; attackers: number; frames: number; ms: number; limited: boolean },
): Promise<{ tally: Tally; checked: number; ms: number }> {
  const started = performance.now();
  const goods = await goodClients(server);
  const victims = goods.map((g) => ({
    cid: g.client.welcome.cid,
    user_id: g.client.welcome.user_id,
  }));
  const tally = newTally();
  const logs: ConnectionLog[] = [];
  let stop = false;
  const talking = goods.map((_, k) => talk(goods, k, () => stop));
  const deadline = performance.now() + options.ms;
  const progress = setInterval(
    () => console.log(`  ${Math.round(performance.now() - started)} ms: ${tally.sent} sent`),
    5_000,
  );
  try {
    await Promise.all(
      Array.from({ length: options.attackers }, (_, index) =>
        attack({
          url: server.url,
          seed: options.seed,
          index,
          victims,
          frames: Math.ceil(options.frames / options.attackers),
          deadline,
          limited: options.limited,
          logs,
          tally,
        })),
    );
  } finally {
    clearInterval(progress);
    stop = true;
    await Promise.allSettled(talking);
  }
  await Promise.all(talking);
  const checked = await verifyGoods(goods, logs, options.seed);
  // The hub still serves: a fresh client connects, joins, posts and hears itself.
  const fresh = await rawClient(server.url);
  assert.equal((await fresh.request({ type: "join", group: "alpha" })).type, "ack");
  const posted = await fresh.request({ type: "post", message: "still here" });
  assert.equal(posted.type, "ack");
  await fresh.next((f) => f.type === "message" && f.sender_cid === fresh.welcome.cid);
  await fresh.close();
  for (const good of goods) await good.client.close();
  return { tally, checked, ms: Math.round(performance.now() - started) };
}

Deno.test("fuzz: 100,000+ hostile frames get typed answers; good clients see exactly their traffic", async () => {
  const seed = fuzzSeed();
  console.log(`fuzz seed: ${seed} (replay with PARLEY_FUZZ_SEED=${seed})`);
  // Any exception the hub logs (instead of answering typed) fails the run.
  const logged: unknown[][] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => {
    logged.push(args);
    consoleError(...args);
  };
  try {
    {
      // High limits: the answers are the validator's and the handlers', not RATE_LIMITED.
      await using server = await startHub({ limits: { rateLimit: 1e6, rateBurst: 1e6 } });
      const { tally, checked, ms } = await phase(server, {
        seed,
        attackers: 20,
        frames: 100_000 / 0.93,
        // A bound, not a budget: ~20 s on an idle 2-core machine, longer when it is shared.
        ms: 150_000,
        limited: false,
      });
      console.log(
        `high limits: ${ms} ms, ${JSON.stringify(tally)}, good frames checked: ${checked}`,
      );
      assert.ok(tally.hostile >= 100_000, `only ${tally.hostile} hostile frames in time`);
      assert.ok(tally.oversize > 0 && tally.legit > 0, "every family ran");
      assert.equal(tally.codes.RATE_LIMITED ?? 0, 0);
    }
    {
      // Default limits: the same frames, now also rate-limited and closed for policy.
      await using server = await startHub();
      const { tally, checked, ms } = await phase(server, {
        seed,
        attackers: 6,
        frames: 6_000,
        ms: 60_000,
        limited: true,
      });
      console.log(
        `default limits: ${ms} ms, ${JSON.stringify(tally)}, good frames checked: ${checked}`,
      );
      assert.ok((tally.codes.RATE_LIMITED ?? 0) > 0, "the attackers were rate-limited");
      // Mostly seen as a reset: the server closes while the burst is still coming in.
      assert.ok(tally.policyCloses + tally.resets > 0, "and closed for policy");
    }
  } finally {
    console.error = consoleError;
  }
  assert.deepEqual(logged, [], "the hub logged no failure");
});

Deno.test("fuzz: 'type' and 'kind' cannot be smuggled into a relayed signal", async () => {
  // The validator's unknown-field check exempts "type" and "kind" at every
  // level, so these reach the recipient verbatim, with anything in them.
  await using server = await startHub();
  const victim = await rawClient(server.url);
  const attacker = await rawClient(server.url);
  const to = victim.welcome.cid;
  const deep = JSON.parse("[".repeat(5_000) + "]".repeat(5_000));
  const smuggled = [
    { kind: "hangup", call: "c", type: deep },
    { kind: "accept", call: "c", type: "x".repeat(60_000) },
    { kind: "description", call: "c", description: { type: "offer", kind: { sender: "forged" } } },
    { kind: "candidate", call: "c", candidate: { candidate: "a", type: 1, kind: deep } },
    { kind: "call", call: "c", channels: [{ label: "a", id: 1, type: "zz", kind: "yy" }] },
  ];
  const answers = [];
  for (const signal of smuggled) {
    const answer = await attacker.request({ type: "signal", to, signal });
    answers.push(answer.type === "error" ? answer.code : answer.type);
  }
  const relayed = victim.frames.filter((f) => f.type === "signal").length;
  await Promise.all([victim.close(), attacker.close()]);
  assert.deepEqual(answers, smuggled.map(() => "INVALID_PARAMETER"), "each refused, typed");
  assert.equal(relayed, 0, "nothing relayed");
});
