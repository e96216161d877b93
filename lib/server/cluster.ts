/**
 * The hub's reach beyond its isolate: which other isolates a target names,
 * the bus that carries frames there, and the liveness that keeps presence
 * free of the connections of dead isolates.
 *
 * Where a target lives:
 * - a cid: its presence record names its isolate;
 * - a user_id: the isolates of that user's connections, from presence;
 * - a group: every other live isolate. Group events go to all of them
 *   rather than to an index of which isolate has which group: an index
 *   would add a write to every join and leave, and its own cleanup when an
 *   isolate dies, to save inbox lines that are batched per tick anyway. The
 *   list of live isolates is read fresh for each route (reads are shared by
 *   the routes that wait for the same one), so an isolate that registered
 *   before the route was called — and so before any of its members joined —
 *   is never missed.
 *
 * Frames go out in the order their routes were called, whatever order the
 * lookups finish in.
 *
 * @module
 */
import type { ServerFrame } from "../protocol/mod.ts";
import { Bus } from "./bus.ts";
import { Liveness } from "./liveness.ts";
import { type ConnectionRecord, type Presence, PRESENCE_KEYS } from "./presence.ts";
import type { Target } from "./registry.ts";
import type { ClusterSettings } from "./settings.ts";

/** Options of {@linkcode Cluster}. */
export interface ClusterOptions {
  kv: Deno.Kv;
  /** This isolate's id. */
  isolate: string;
  presence: Presence;
  settings: ClusterSettings;
  /** Hands a frame that came from another isolate to this isolate's sockets `target` names. */
  deliver: (target: Target, text: string) => void;
  /** The hub's route: here and everywhere (used to tell groups of dead connections). */
  route: (target: Target, frame: ServerFrame) => Promise<number>;
  /** This isolate was taken for dead and swept: its sockets must reconnect. */
  onEvicted: () => void;
  /**
   * Another isolate resumed connection `cid` for its client, which had
   * received `received` frames: let it go quietly and send on what it missed.
   */
  onRelease?: (cid: string, received: number) => void;
  /** See `LivenessOptions.resumeGraceMs`. */
  resumeGraceMs?: number;
  /** Name of the BroadcastChannel. @default "parley-bus" */
  channel?: string;
}

/** A route waiting for its lookups, so frames leave in the order routes were called. */
interface Slot {
  done: boolean;
  isolates: string[];
  line: string;
}

/**
 * One bus line: the target and the frame's JSON text. Group names, user_ids
 * and cids never hold a tab or a space, room patterns never a space or a
 * comma, and JSON text never holds a newline. A target's `rooms` follow its
 * name after a space.
 */
export function encodeLine(target: Target, text: string): string {
  if ("group" in target) return `g${target.group}\t${text}`;
  const rooms = target.rooms === undefined ? "" : ` ${target.rooms.join(",")}`;
  if ("user_id" in target) return `u${target.user_id}${rooms}\t${text}`;
  return `c${target.cid}${rooms}\t${text}`;
}

/** The target and text of a bus line; null for a line this version cannot read. */
export function decodeLine(line: string): { target: Target; text: string } | null {
  const tab = line.indexOf("\t");
  if (tab < 1) return null;
  const [name, scope] = line.slice(1, tab).split(" ");
  const text = line.slice(tab + 1);
  const rooms = scope === undefined ? {} : { rooms: scope ? scope.split(",") : [] };
  switch (line[0]) {
    case "g":
      return { target: { group: name }, text };
    case "u":
      return { target: { user_id: name, ...rooms }, text };
    case "c":
      return { target: { cid: name, ...rooms }, text };
    default:
      return null;
  }
}

/**
 * This isolate's part of the cluster.
 *
 * @example
 * ```ts ignore
 * const cluster = new Cluster({ kv, isolate, presence, settings, deliver, route, onEvicted });
 * await cluster.ready;
 * const reached = await cluster.route({ cid }, JSON.stringify(frame), 0);
 * await cluster.close();
 * ```
 */
export class Cluster {
  readonly bus: Bus;
  readonly liveness: Liveness;
  readonly #options: ClusterOptions;
  readonly #queue: Slot[] = [];
  readonly #routes = new Set<Promise<number>>();
  readonly #started: Promise<void>;
  #closing: Promise<void> | null = null;

  constructor(options: ClusterOptions) {
    this.#options = options;
    const { kv, isolate, settings } = options;
    this.bus = new Bus({
      kv,
      isolate,
      broadcast: settings.broadcast,
      broadcastDrop: settings.broadcastDrop,
      inboxExpireMs: settings.inboxExpireMs,
      channel: options.channel,
      deliver: (line) => {
        if (line[0] === "r") {
          const [cid, received] = line.slice(1).split("\t");
          return options.onRelease?.(cid, Number(received));
        }
        const event = decodeLine(line);
        if (event) options.deliver(event.target, event.text);
      },
    });
    this.liveness = new Liveness({
      kv,
      isolate,
      presence: options.presence,
      ttlMs: settings.isolateTtlMs,
      resumeGraceMs: options.resumeGraceMs,
      onGone: (record) => this.#gone(record),
      onSwept: (iso) => this.bus.forget(iso),
      onEvicted: options.onEvicted,
    });
    // Receive first, then say we are alive: no sender can reach us before we listen.
    this.bus.start();
    this.#started = this.liveness.start().catch((error) => {
      console.error("cluster: cannot record this isolate's liveness", error);
    });
  }

  /** Resolves once this isolate is recorded as alive and may take connections. */
  get ready(): Promise<void> {
    return this.#started.then(() => this.liveness.ready);
  }

  /**
   * Sends a frame's text to the recipients of `target` on other isolates
   * (the hub has already delivered to `local` sockets here). Resolves to
   * how many sockets that makes in all, as far as presence knows.
   */
  route(target: Target, text: string, local: number): Promise<number> {
    // A cid lives on one isolate: found here, it is nowhere else.
    if ("cid" in target && local > 0) return Promise.resolve(local);
    const slot: Slot = { done: false, isolates: [], line: "" };
    this.#queue.push(slot);
    const routed = this.#reach(target, local).then(({ isolates, count }) => {
      if (isolates.length > 0) {
        slot.isolates = isolates;
        slot.line = encodeLine(target, text);
      }
      return count;
    }, (error) => {
      console.error("cluster: cannot look up the recipients on other isolates", error);
      return local;
    }).then((count) => {
      slot.done = true;
      this.#release();
      return count;
    });
    this.#routes.add(routed);
    routed.finally(() => this.#routes.delete(routed));
    return routed;
  }

  /**
   * Sends a frame's text to `target` on `isolate`, which the caller looked up
   * itself (a PeerJS peer's id claim names its isolate and cid), in order
   * with the routes called before.
   */
  sendTo(isolate: string, target: Target, text: string): void {
    this.#queue.push({ done: true, isolates: [isolate], line: encodeLine(target, text) });
    this.#release();
  }

  /**
   * Tells `isolate` that connection `cid` was resumed here, its client
   * having received `received` frames (see `ClusterOptions.onRelease`).
   */
  release(isolate: string, cid: string, received: number): void {
    this.bus.publish([isolate], `r${cid}\t${received}`);
  }

  /** Publishes the routes at the head of the queue whose lookups are done. */
  #release(): void {
    while (this.#queue.length > 0 && this.#queue[0].done) {
      const slot = this.#queue.shift()!;
      if (slot.isolates.length > 0) this.bus.publish(slot.isolates, slot.line);
    }
  }

  async #reach(target: Target, local: number): Promise<{ isolates: string[]; count: number }> {
    const { presence, isolate, kv } = this.#options;
    if ("cid" in target) {
      if ((await this.liveness.others()).length === 0) return { isolates: [], count: 0 };
      const record = await presence.lookup(target.cid);
      return record !== null && record.isolate !== isolate
        ? { isolates: [record.isolate], count: 1 }
        : { isolates: [], count: 0 };
    }
    if ("user_id" in target) {
      // Alone in the cluster (the usual single isolate): no lookup per message.
      // The read of live isolates is fresh and shared by concurrent routes.
      if ((await this.liveness.others()).length === 0) return { isolates: [], count: local };
      const remote = (await presence.connectionsOf(target.user_id))
        .filter((row) => row.isolate !== isolate);
      return {
        isolates: [...new Set(remote.map((row) => row.isolate))],
        count: local + remote.length,
      };
    }
    const others = await this.liveness.others();
    if (others.length === 0) return { isolates: [], count: local };
    const members = await kv.get<Deno.KvU64>(PRESENCE_KEYS.group(target.group));
    return { isolates: others, count: Math.max(local, Number(members.value?.value ?? 0n)) };
  }

  /** Tells the group of a connection whose isolate died. */
  #gone(record: ConnectionRecord): Promise<unknown> {
    if (record.group === null) return Promise.resolve();
    return this.#options.route({ group: record.group }, {
      type: "notice",
      code: "USER_DISCONNECTED",
      sender_rid: record.group,
      sender: record.user_id,
      sender_cid: record.cid,
      name: record.name,
    });
  }

  /**
   * Publishes what is routed, commits it, stops the bus and the beat, and
   * removes this isolate's inbox and liveness record. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#started;
      // Sweeps under way finish first: their notices are routes too.
      await this.liveness.close();
      while (this.#routes.size > 0) await Promise.all(this.#routes);
      await this.bus.close();
    })();
    return this.#closing;
  }
}
