/**
 * The hub: this isolate's WebSocket endpoint, and the one place its parts
 * are wired together — admission (who gets in), the upgrade (HTTP to
 * WebSocket, then the hello), sessions (each connection from accept to drop,
 * resumes included), the inbound pipeline (each frame through the
 * protocol's parser and the rate limit to its request handler), the router
 * (local sockets at once, the other isolates through the cluster: KV
 * inboxes plus a BroadcastChannel), and presence in KV.
 *
 * @module
 */
import type { Limits } from "../protocol/mod.ts";
import type { RemoteInfo } from "./abuse.ts";
import { Admission } from "./admission.ts";
import { Cluster } from "./cluster.ts";
import { randomId } from "./ids.ts";
import { Inbound } from "./inbound.ts";
import { Presence } from "./presence.ts";
import { PresenceRepair } from "./presence_repair.ts";
import { Registry } from "./registry.ts";
import type { HubCore } from "./requests.ts";
import { Router } from "./routing.ts";
import { Sessions } from "./sessions.ts";
import {
  clusterFromEnv,
  type ClusterSettings,
  limitsFromEnv,
  securityFromEnv,
  type SecuritySettings,
} from "./settings.ts";
import { upgrade } from "./upgrade.ts";

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
export class Hub {
  readonly isolate: string;
  /** The KV every isolate shares (other faces, such as PeerJS's, keep their records there). */
  readonly kv: Deno.Kv;
  readonly limits: Limits;
  readonly presence: Presence;
  readonly registry = new Registry();
  /** The other isolates: the bus to them and the liveness of all. */
  readonly cluster: Cluster;
  /** Delivers here at once and to the other isolates through the cluster. */
  readonly router: Router;
  /** The connections, from accept to drop: welcome, suspend, resume, take over. */
  readonly sessions: Sessions;
  /** The checks of upgrades and joins: tokens, origins, abuse limits. */
  readonly admission: Admission;
  /** Removes the records of leaves KV refused (see `presence_repair.ts`). */
  readonly #repair: PresenceRepair;
  #closing: Promise<void> | null = null;

  constructor(options: HubOptions) {
    this.isolate = options.isolate ?? `iso-${randomId(6)}`;
    this.kv = options.kv;
    const limits = this.limits = { ...limitsFromEnv(), ...options.limits };
    const presence = this.presence = new Presence(options.kv, this.isolate);
    const registry = this.registry;
    const admission = this.admission = new Admission(
      { ...securityFromEnv(), ...options.security },
      options.kv,
    );
    const clusterSettings = { ...clusterFromEnv(), ...options.cluster };
    // The cluster hands what other isolates send to the router and the sessions, made next.
    const cluster = this.cluster = new Cluster({
      kv: options.kv,
      isolate: this.isolate,
      presence,
      registry,
      settings: clusterSettings,
      deliver: (target, text) => {
        if ("cid" in target && this.sessions.settle(target.cid, text)) return;
        this.router.deliver(target, text);
      },
      route: (target, frame) => this.router.route(target, frame),
      onEvicted: () => this.sessions.evict(),
      onRelease: (cid, received) => this.sessions.release(cid, received),
      resumeGraceMs: limits.resumeGraceMs,
    });
    const router = this.router = new Router(registry, cluster);
    const core: HubCore = {
      presence,
      registry,
      cluster,
      admission,
      route: (target, frame, safe) => router.route(target, frame, safe),
      // The sessions are made with the inbound pipeline: an `auth` reaches them once they are.
      sessions: { renew: (connection, token) => this.sessions.renew(connection, token) },
    };
    const inbound = new Inbound({ limits, core });
    this.sessions = new Sessions({
      limits,
      registry,
      presence,
      cluster,
      router,
      admission,
      inbound,
      onLeaveFailed: (cid) => this.#repair.leaveFailed(cid),
    });
    this.#repair = new PresenceRepair(
      presence,
      (cid) => registry.get(cid) !== undefined,
      clusterSettings.presenceRepairMs,
    );
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** How many sockets and groups this isolate serves. */
  get counts(): { sockets: number; groups: number } {
    return this.registry.counts;
  }

  /**
   * Answers `GET /api/realtime`: upgrades to a WebSocket, or refuses with a
   * typed JSON body (see {@linkcode upgrade}). `info` is `Deno.serve`'s,
   * for the client's address.
   */
  handle(req: Request, info?: RemoteInfo): Promise<Response> {
    return upgrade(req, this, info);
  }

  /** Closes every socket ("going away"), clears their presence, then leaves the cluster. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.sessions.close();
      await this.#repair.close();
      await this.cluster.close();
    })();
    return this.#closing;
  }
}
