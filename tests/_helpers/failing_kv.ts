/**
 * A real KV whose atomic commits can be made to fail or hang on demand:
 * only the commits that write the keys a test names (by prefix), so the
 * rest of the app (presence, liveness) keeps working.
 *
 * @example
 * ```ts ignore
 * const faulty = failingKv(await Deno.openKv(":memory:"), ["parley", "inbox"]);
 * faulty.fail = true; // the bus's commits now throw
 * faulty.fail = false;
 * ```
 *
 * @module
 */

/** A KV with its fault switches. */
export interface FailingKv {
  kv: Deno.Kv;
  /** Matching commits throw, as a locked SQLite file makes them. */
  fail: boolean;
  /** Matching commits wait for this before they go on. */
  hold: Promise<void> | null;
  /** How many matching commits threw. */
  failed: number;
}

/**
 * Wraps `kv`: commits that set a key under `prefix` (or delete one, with
 * `deletes`) obey the switches.
 */
export function failingKv(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  options: { deletes?: boolean } = {},
): FailingKv {
  const faults: FailingKv = { kv, fail: false, hold: null, failed: 0 };
  const matches = (key: Deno.KvKey) => prefix.every((part, i) => key[i] === part);
  faults.kv = new Proxy(kv, {
    get(target, property) {
      if (property === "atomic") {
        return () => {
          const op = target.atomic();
          let touched = false;
          const set = op.set.bind(op);
          op.set = (key, value, options) => {
            touched ||= matches(key);
            return set(key, value, options);
          };
          if (options.deletes) {
            const remove = op.delete.bind(op);
            op.delete = (key) => {
              touched ||= matches(key);
              return remove(key);
            };
          }
          const commit = op.commit.bind(op);
          op.commit = async () => {
            if (touched && faults.hold) await faults.hold;
            if (touched && faults.fail) {
              faults.failed++;
              throw new TypeError("database is locked (injected)");
            }
            return commit();
          };
          return op;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return faults;
}
