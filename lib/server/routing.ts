/**
 * Where a frame goes: to this isolate's sockets a target names at once (a
 * map lookup in the registry), and through the cluster to the other
 * isolates' — never waiting on a KV read for either.
 *
 * @module
 */
import type { NoticeFrame, ServerFrame } from "../protocol/mod.ts";
import type { Cluster } from "./cluster.ts";
import { Connection } from "./connection.ts";
import type { Recipient, Registry, Target } from "./registry.ts";

/** How every notice's JSON text begins (`JSON.stringify` keeps the order its fields were made). */
const NOTICE_PREFIX = '{"type":"notice",';

/**
 * The routes of one hub.
 *
 * @example Tell a room, here and on every other isolate
 * ```ts ignore
 * const router = new Router(registry, cluster);
 * const reached = await router.route({ group: "lobby" }, noticeFrame("USER_JOINED", "lobby", stamp));
 * ```
 */
export class Router {
  constructor(
    private readonly registry: Registry,
    private readonly cluster: Pick<Cluster, "route">,
  ) {}

  /**
   * Delivers `frame` to the local sockets `target` names at once, and
   * through the cluster to the others; resolves to how many sockets that
   * makes. With `safe`, only once the frame is committed to KV for the
   * other isolates (see `Cluster.route`).
   */
  route(target: Target, frame: ServerFrame, safe = false): Promise<number> {
    const recipients = this.registry.resolve(target);
    const text = JSON.stringify(frame);
    this.#deliver(recipients, text, frame);
    return this.cluster.route(target, text, recipients.size, safe);
  }

  /** Hands a frame's text that came from another isolate to the local sockets `target` names. */
  deliver(target: Target, text: string): void {
    this.#deliver(this.registry.resolve(target), text);
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
}
