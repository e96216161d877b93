/**
 * Clients spread over the isolates of a `deno serve --parallel` app, for
 * cluster tests.
 *
 * @module
 */
import { type RawClient, rawClient } from "./hub.ts";
import { LIFTED_RATE_LIMIT } from "./limits.ts";

/**
 * Environment for a two-isolate cluster under test: the per-connection rate
 * limit is lifted as well (every test socket sends as fast as it can;
 * `startApp` lifts the per-address ones).
 */
export const CLUSTER_ENV: Record<string, string> = {
  DENO_JOBS: "2",
  ...LIFTED_RATE_LIMIT,
  // Dead isolates are swept at once here; resume has its own tests.
  PARLEY_RESUME_GRACE_MS: "1000",
};

/**
 * Opens sockets until two isolates have `perIsolate` each (the kernel
 * spreads connections over the isolates with SO_REUSEPORT); closes the
 * extra ones. Resolves to the clients of each of the two isolates.
 *
 * An isolate that is still starting (a loaded machine) takes no
 * connections yet: opening goes on, a little slower, until it does.
 *
 * @throws {Error} When two isolates were not reached within `timeout` ms.
 */
export async function spread(
  url: string,
  perIsolate: number,
  options: { ignoreNotices?: boolean; timeout?: number } = {},
): Promise<[RawClient[], RawClient[]]> {
  const by = new Map<string, RawClient[]>();
  const deadline = Date.now() + (options.timeout ?? 30_000);
  const full = () => [...by.values()].filter((list) => list.length >= perIsolate).length >= 2;
  for (let opened = 0; !full(); opened += 8) {
    if (Date.now() > deadline) {
      await Promise.all([...by.values()].flat().map((client) => client.close()));
      throw new Error(`spread: ${opened} sockets reached only ${[...by.keys()].join(", ")}`);
    }
    const batch = await Promise.all(
      Array.from({ length: 8 }, () => rawClient(url, {}, options)),
    );
    const extra: RawClient[] = [];
    for (const client of batch) {
      const list = by.get(client.welcome.isolate) ?? [];
      if (list.length < perIsolate) {
        list.push(client);
        by.set(client.welcome.isolate, list);
      } else {
        extra.push(client);
      }
    }
    await Promise.all(extra.map((client) => client.close()));
    // A whole batch to isolates already full: the other is likely still starting.
    if (extra.length === batch.length) await new Promise((r) => setTimeout(r, 100));
  }
  const [first, second, ...more] = [...by.values()]
    .filter((list) => list.length >= perIsolate);
  const others = [...by.values()].filter((list) => list !== first && list !== second);
  void more;
  await Promise.all(others.flat().map((client) => client.close()));
  return [first, second];
}

/** Every entry left under `prefix` in the KV file at `path`. */
export async function kvEntries(
  path: string,
  prefix: Deno.KvKey,
): Promise<Deno.KvEntry<unknown>[]> {
  const kv = await Deno.openKv(path);
  try {
    return await Array.fromAsync(kv.list({ prefix }));
  } finally {
    kv.close();
  }
}
