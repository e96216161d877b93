// Over 300 lines: the routing and the directory upkeep share one ordered queue, and the why is long.
/**
 * The hub's reach beyond its isolate: the bus that carries frames to the
 * other isolates, the liveness that keeps presence free of the connections
 * of dead isolates, and the directory that says where a target lives — so
 * that no message waits on a KV read.
 *
 * How the directory stays current:
 * - An isolate registers its liveness record, then reads the live isolates,
 *   then says hello on the bus to each, with its own connections; each
 *   answers with its connections. Only then does it take connections.
 * - Every connect, move between groups, end and takeover of a local
 *   connection is announced (a `place` or `gone` line) to every live
 *   isolate, before any frame about it: the registry tells the cluster as
 *   it changes, and the bus keeps each sender's order.
 * - A line from an isolate not yet known adds it; liveness's beat reads the
 *   records and forgets the isolates whose deadline has passed.
 *
 * Why a group frame never misses an isolate that has members in the group:
 * group frames go to every live isolate this one knows. Take isolates S
 * (sending) and X (with a member). Both registered before reading the list
 * of isolates. KV is linearizable, so of the two reads, the later one sees
 * the other's record: either S knows X from its own read, or X knows S and
 * said hello to S. X's hello went out before X took any connection, so on
 * S's side (the bus keeps X's order) it comes before the notice of any join
 * on X. Hence once S has heard of a member on X, S knows X; a frame S routes
 * before that was concurrent with the join, as a frame sent just before a
 * join on one isolate is. X is forgotten only when its deadline has passed
 * (it is dead) and it has not spoken since the read that said so.
 *
 * A cid or user the directory does not know (one whose announcement is
 * still on its way) is looked up in presence: that is a repair, off the
 * common path. Frames go out in the order their routes were called,
 * whatever order such lookups finish in.
 *
 * @module
 */
import { noticeFrame, type ServerFrame } from "../protocol/mod.ts";
import { Bus, BusUnavailableError } from "./bus/mod.ts";
import type { Connection } from "./connection.ts";
import { Directory } from "./directory.ts";
import { roomAllowed } from "./auth.ts";
import { decodeLine, encodeLine } from "./lines.ts";
import { Liveness } from "./liveness.ts";
import type { ConnectionRecord, Presence } from "./presence.ts";
import type { Registry, Target } from "./registry.ts";
import { RequestError } from "./requests.ts";
import type { ClusterSettings } from "./settings.ts";

/** Options of {@linkcode Cluster}. */
export interface ClusterOptions {
  kv: Deno.Kv;
  /** This isolate's id. */
  isolate: string;
  presence: Presence;
  /** This isolate's connections: their changes are announced to the others. */
  registry?: Registry;
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
  isolates: readonly string[];
  line: string;
  /** Set for a safe route: settles once its commit landed. */
  committed?: PromiseWithResolvers<void>;
}

const DONE = Promise.resolve();

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
  /** Where the other isolates' connections are, as the bus has told. */
  readonly directory: Directory;
  readonly #options: ClusterOptions;
  readonly #queue: Slot[] = [];
  readonly #routes = new Set<Promise<number>>();
  readonly #started: Promise<void>;
  /** When each local connection came to this isolate (see `RemoteConnection.since`). */
  readonly #since = new WeakMap<Connection, number>();
  /** Whether the live isolates are known (local changes are announced from then on). */
  #announcing = false;
  #closing: Promise<void> | null = null;

  constructor(options: ClusterOptions) {
    this.#options = options;
    const { kv, isolate, settings } = options;
    this.directory = new Directory(isolate);
    this.bus = new Bus({
      kv,
      isolate,
      broadcast: settings.broadcast,
      broadcastDrop: settings.broadcastDrop,
      inboxExpireMs: settings.inboxExpireMs,
      unavailableAfterMs: settings.unavailableAfterMs,
      channel: options.channel,
      deliver: (line, sender) => this.#receive(line, sender),
    });
    this.liveness = new Liveness({
      kv,
      isolate,
      presence: options.presence,
      ttlMs: settings.isolateTtlMs,
      resumeGraceMs: options.resumeGraceMs,
      onGone: (record) => this.#gone(record),
      onSwept: (iso) => {
        this.directory.forget(iso);
        this.bus.forget(iso);
      },
      onRegistered: () => this.#hello(),
      onLive: (live, startedAt) => {
        // An isolate this one missed (it would have said hello): greet it.
        for (const iso of this.directory.refresh(live, startedAt)) this.#greet(iso, true);
      },
      onEvicted: options.onEvicted,
    });
    if (options.registry) {
      options.registry.onChange = (connection, present) => this.#announce(connection, present);
    }
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
   * how many sockets that makes in all, as far as this isolate knows. Never
   * waits on KV for a recipient the directory knows.
   *
   * With `safe`, it resolves only once the KV commit carrying the frame to
   * the other isolates landed (at once when it reaches none), and rejects
   * with an `UNAVAILABLE` RequestError when KV keeps failing: an ack then
   * means the frame survives this process's death.
   */
  route(target: Target, text: string, local: number, safe = false): Promise<number> {
    // A cid lives on one isolate: found here, it is nowhere else.
    if ("cid" in target && local > 0) return Promise.resolve(local);
    const others = this.directory.isolates;
    if (others.length === 0) return Promise.resolve(local);
    if ("group" in target) {
      const sent = this.#publish(others, encodeLine({ kind: "frame", target, text }), safe);
      const count = local + this.directory.groupSize(target.group);
      return sent === DONE ? Promise.resolve(count) : sent.then(() => count);
    }
    const known = "cid" in target
      ? this.#cidReach(this.directory.isolateOf(target.cid, target.rooms))
      : this.directory.userReach(target.user_id, target.rooms);
    // Known here, or known elsewhere but outside the sender's rooms (then
    // refused here, with nothing sent: the count says so, no KV asked).
    if (local > 0 || this.knows(target)) {
      const count = local + known.count;
      if (known.isolates.length === 0) return Promise.resolve(count);
      const line = encodeLine({ kind: "frame", target, text });
      const sent = this.#publish(known.isolates, line, safe);
      return sent === DONE ? Promise.resolve(count) : sent.then(() => count);
    }
    return this.#repair(target, text, safe);
  }

  /**
   * Whether the directory knows `target` on another isolate, in any room:
   * a route with rooms that reaches none of it was refused by the grant,
   * not sent to nobody (see `RequestError`'s `UNAUTHORIZED`).
   */
  knows(target: { cid: string } | { user_id: string }): boolean {
    return "cid" in target
      ? this.directory.isolateOf(target.cid) !== undefined
      : this.directory.userReach(target.user_id).count > 0;
  }

  #cidReach(isolate: string | undefined): { isolates: string[]; count: number } {
    return isolate === undefined ? { isolates: [], count: 0 } : { isolates: [isolate], count: 1 };
  }

  /**
   * A cid or user the directory does not know: its announcement may still
   * be on its way, so presence is asked. Later routes wait their turn.
   */
  #repair(
    target: Exclude<Target, { group: string }>,
    text: string,
    safe: boolean,
  ): Promise<number> {
    const slot: Slot = { done: false, isolates: [], line: "" };
    if (safe) slot.committed = Promise.withResolvers();
    this.#queue.push(slot);
    const routed = this.#lookUp(target).then(({ isolates, count }) => {
      if (isolates.length > 0) {
        slot.isolates = isolates;
        slot.line = encodeLine({ kind: "frame", target, text });
      }
      return count;
    }, (error) => {
      console.error("cluster: cannot look up the recipients on other isolates", error);
      return 0;
    }).then((count) => {
      slot.done = true;
      this.#release();
      return slot.committed ? slot.committed.promise.then(() => count) : count;
    });
    this.#routes.add(routed);
    const untrack = () => this.#routes.delete(routed);
    routed.then(untrack, untrack);
    return routed;
  }

  async #lookUp(
    target: Exclude<Target, { group: string }>,
  ): Promise<{ isolates: string[]; count: number }> {
    const { presence, isolate } = this.#options;
    const { rooms } = target;
    // A record whose end the bus has already told is a stale read: not
    // there; one outside the sender's rooms is not reached (its isolate drops it).
    const reached = (record: ConnectionRecord | null): record is ConnectionRecord =>
      record !== null && record.isolate !== isolate &&
      !this.directory.isGone(record.cid, record.isolate) &&
      (rooms === undefined || (record.group !== null && roomAllowed(rooms, record.group)));
    if ("cid" in target) {
      const record = await presence.lookup(target.cid);
      return this.#cidReach(reached(record) ? record.isolate : undefined);
    }
    const rows = (await presence.connectionsOf(target.user_id))
      .filter((row) => row.isolate !== isolate && !this.directory.isGone(row.cid, row.isolate));
    // The user index holds no rooms: with a grant, each record is read (repairs only).
    const remote = rooms === undefined ? rows : (await Promise.all(
      rows.map((row) => presence.lookup(row.cid)),
    )).filter(reached);
    return { isolates: [...new Set(remote.map((row) => row.isolate))], count: remote.length };
  }

  /**
   * Publishes now, or after the routes still waiting for their lookups.
   * Resolves once committed with `safe`, else at once (to `DONE`).
   */
  #publish(isolates: readonly string[], line: string, safe = false): Promise<void> {
    if (this.#queue.length === 0) {
      if (safe) return this.#committed(isolates, line);
      this.bus.publish(isolates, line);
      return DONE;
    }
    const slot: Slot = { done: true, isolates, line };
    if (safe) slot.committed = Promise.withResolvers();
    this.#queue.push(slot);
    return slot.committed?.promise ?? DONE;
  }

  /** Publishes, and resolves once the commit carrying `line` landed. */
  #committed(isolates: readonly string[], line: string): Promise<void> {
    return this.bus.publishCommitted(isolates, line).catch((error) => {
      if (!(error instanceof BusUnavailableError)) throw error;
      throw new RequestError(
        "UNAVAILABLE",
        "Cannot confirm delivery to other isolates as the shared store (Deno KV) keeps failing: it may still arrive; retry later",
      );
    });
  }

  /**
   * Sends a frame's text to `target` on `isolate`, which the caller looked up
   * itself (a PeerJS peer's id claim names its isolate and cid), in order
   * with the routes called before.
   */
  sendTo(isolate: string, target: Target, text: string): void {
    this.#publish([isolate], encodeLine({ kind: "frame", target, text }));
  }

  /**
   * Tells `isolate` that connection `cid` was resumed here, its client
   * having received `received` frames (see `ClusterOptions.onRelease`).
   */
  release(isolate: string, cid: string, received: number): void {
    this.#publish([isolate], encodeLine({ kind: "release", cid, received }));
  }

  /** Publishes the routes at the head of the queue whose lookups are done. */
  #release(): void {
    while (this.#queue.length > 0 && this.#queue[0].done) {
      const slot = this.#queue.shift()!;
      if (slot.committed) {
        const { resolve, reject } = slot.committed;
        if (slot.isolates.length === 0) resolve();
        else this.#committed(slot.isolates, slot.line).then(resolve, reject);
      } else if (slot.isolates.length > 0) this.bus.publish(slot.isolates, slot.line);
    }
  }

  #receive(text: string, sender: string): void {
    const line = decodeLine(text);
    if (line === null) return;
    // A line from an isolate not known yet (one that came back after it was
    // taken for dead): it is alive, and it must learn our connections.
    if (this.directory.heard(sender) && line.kind !== "hello") this.#greet(sender, false);
    switch (line.kind) {
      case "frame":
        return this.#options.deliver(line.target, line.text);
      case "release":
        return this.#options.onRelease?.(line.cid, line.received);
      case "hello":
        if (line.reply) this.#greet(sender, false);
        return;
      case "place":
        return this.directory.place(sender, line.cid, line);
      case "gone":
        return this.directory.remove(sender, line.cid);
    }
  }

  /**
   * Registered (at start or after an eviction): learn the live isolates and
   * say hello to each, with this isolate's connections.
   */
  async #hello(): Promise<void> {
    const startedAt = performance.now();
    const live = await this.liveness.liveIsolates();
    this.directory.refresh(live, startedAt);
    this.#announcing = true;
    for (const iso of this.directory.isolates) this.#greet(iso, true);
  }

  /** Says hello to `iso` (asking for its connections if `reply`), with ours. */
  #greet(iso: string, reply: boolean): void {
    const targets = [iso];
    this.#publish(targets, encodeLine({ kind: "hello", reply }));
    for (const connection of this.#options.registry?.all() ?? []) {
      this.#publish(targets, this.#placeLine(connection));
    }
  }

  #placeLine(connection: Connection): string {
    let since = this.#since.get(connection);
    if (since === undefined) {
      since = Date.now();
      this.#since.set(connection, since);
    }
    const { cid, user_id, group } = connection;
    return encodeLine({ kind: "place", cid, user_id, group, since });
  }

  /** A local connection came, moved or went: tell every live isolate. */
  #announce(connection: Connection, present: boolean): void {
    const line = present
      ? this.#placeLine(connection)
      : encodeLine({ kind: "gone", cid: connection.cid });
    if (this.#announcing && this.directory.isolates.length > 0) {
      this.#publish(this.directory.isolates, line);
    }
  }

  /** Tells the group of a connection whose isolate died. */
  #gone(record: ConnectionRecord): Promise<unknown> {
    if (record.group === null) return Promise.resolve();
    return this.#options.route(
      { group: record.group },
      noticeFrame("USER_DISCONNECTED", record.group, {
        sender: record.user_id,
        sender_cid: record.cid,
        name: record.name,
      }),
    );
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
      while (this.#routes.size > 0) await Promise.allSettled(this.#routes);
      await this.bus.close();
    })();
    return this.#closing;
  }
}
