/**
 * A KV wrapper for the bench: every write (an atomic commit, `set`,
 * `delete`) waits `PARLEY_BENCH_KV_COMMIT_MS` (default 30) before it goes
 * to the real KV — the round trip a KV commit costs on Deno Deploy, where KV
 * is a network away. Imported first by `slow_kv_main.ts`, it replaces
 * `Deno.openKv` before the app opens its KV.
 *
 * @module
 */

const delayMs = Number(Deno.env.get("PARLEY_BENCH_KV_COMMIT_MS") ?? 30);
const sleep = () => new Promise((r) => setTimeout(r, delayMs));

/** A commit that waits first; the rest of the operation as it is (chaining kept on the wrapper). */
function slowOperation(op: Deno.AtomicOperation): Deno.AtomicOperation {
  const wrapper: Deno.AtomicOperation = new Proxy(op, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === "commit") return async () => (await sleep(), target.commit());
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result = value.apply(target, args);
        return result === target ? wrapper : result;
      };
    },
  });
  return wrapper;
}

/**
 * `kv` with every write delayed.
 *
 * @example
 * ```ts ignore
 * const kv = slowKv(await Deno.openKv(":memory:"));
 * await kv.set(["k"], 1); // about 30 ms
 * ```
 */
export function slowKv(kv: Deno.Kv): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === "atomic") return () => slowOperation(target.atomic());
      if (prop === "set" || prop === "delete") {
        return async (...args: unknown[]) => (await sleep(), value.apply(target, args));
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const openKv = Deno.openKv.bind(Deno);
Object.defineProperty(Deno, "openKv", {
  value: async (path?: string) => slowKv(await openKv(path)),
  configurable: true,
  writable: true,
});
