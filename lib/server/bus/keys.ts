/**
 * The KV schema of the bus, and its owner: the keys, the sizes kept to, and
 * the removal of an inbox. Other modules ask here instead of reading bus
 * keys themselves.
 *
 * @module
 */

/** The KV keys of the bus, in one place. */
export const BUS_KEYS = {
  /** Every entry of isolate `iso`'s inbox. */
  inbox: (iso: string) => ["parley", "inbox", iso] as const,
  /**
   * One inbox entry: events `seq`, `seq + 1`, … from `sender` (`parts` 1), or
   * part `part` of the `parts` parts of one large event `seq`.
   */
  entry: (iso: string, sender: string, seq: number, part: number, parts: number) =>
    ["parley", "inbox", iso, sender, seq, part, parts] as const,
  /**
   * The key isolate `iso` watches; bumped with every commit to its inbox,
   * its value a `Head` (see pack.ts).
   */
  head: (iso: string) => ["parley", "head", iso] as const,
  /**
   * How many commits have written to isolate `iso`'s inbox (a `Deno.KvU64`,
   * watched with the head): a receiver that sees it grow by one knows the
   * head it read is the only commit since the last it saw.
   */
  count: (iso: string) => ["parley", "commits", iso] as const,
  counts: ["parley", "commits"] as const,
  /** Every head. */
  heads: ["parley", "head"] as const,
};

/** Sizes the bus keeps to, below Deno KV's limits. */
export const BUS_LIMITS = {
  /** Largest inbox value (KV allows 65,536 bytes). */
  entryBytes: 60_000,
  /**
   * Most event bytes for one target that its head carries too (a copy that
   * spares the receiver a listing of its inbox).
   */
  inlineBytes: 16_384,
  /** Largest commit, keys and values (KV allows 819,200 bytes). */
  commitBytes: 700_000,
  /** Most mutations in a commit (KV allows 1,000). */
  commitMutations: 1_000,
  /** What a key and a mutation's bookkeeping cost at most, counted with its value. */
  keyBytes: 256,
  /** Longest event (in UTF-16 units; up to 3 UTF-8 bytes each, so a few entries at most). */
  eventChars: 128 * 1024,
  /** Events held per sender that came over the channel ahead of a missing one. */
  bufferedPerSender: 10_000,
  /**
   * How long a hole in an inbox may last before the receiver skips it. A hole
   * is normally a list that raced a commit and is gone at the next list; one
   * that stays means the entries expired (a receiver stalled for longer than
   * `expireIn`).
   */
  holeMs: 10_000,
  /** Most deletes of consumed entries an outgoing commit carries beside its events. */
  removalsPerCommit: 200,
  /**
   * How long consumed entries wait for an outgoing commit to carry their
   * deletes before a commit of their own deletes them.
   */
  deleteDelayMs: 20,
  /** How often the inbox is listed even when the watch says nothing (a safety net). */
  pollMs: 1_000,
  /**
   * How long a doorbell waits to list the inbox when the last listing found
   * nothing the channel had not already delivered: the listing is then only
   * cleanup, and one can serve many doorbells.
   */
  cleanupDelayMs: 10,
} as const;

/**
 * Deletes isolate `iso`'s inbox entries and head (on close, or by the
 * isolate that sweeps a dead one).
 *
 * @example
 * ```ts ignore
 * await removeInbox(kv, "iso-dead");
 * ```
 */
export async function removeInbox(kv: Deno.Kv, iso: string): Promise<void> {
  let op = kv.atomic();
  let count = 0;
  for await (const entry of kv.list({ prefix: BUS_KEYS.inbox(iso) }, { batchSize: 1000 })) {
    op.delete(entry.key);
    if (++count === BUS_LIMITS.commitMutations - 2) {
      await op.commit();
      op = kv.atomic();
      count = 0;
    }
  }
  op.delete(BUS_KEYS.head(iso)).delete(BUS_KEYS.count(iso));
  await op.commit();
}

/**
 * The isolates that have an inbox head in KV (to find the inboxes of
 * isolates that are gone).
 *
 * @example
 * ```ts ignore
 * for (const iso of await isolatesWithInbox(kv)) console.log(iso);
 * ```
 */
export async function isolatesWithInbox(kv: Deno.Kv): Promise<Set<string>> {
  const isolates = new Set<string>();
  for await (const entry of kv.list({ prefix: BUS_KEYS.heads })) {
    isolates.add(entry.key[2] as string);
  }
  // A commit counter cannot expire (a KV sum takes no expireIn): one left
  // after its head expired still names an inbox to remove.
  for await (const entry of kv.list({ prefix: BUS_KEYS.counts })) {
    isolates.add(entry.key[2] as string);
  }
  return isolates;
}
