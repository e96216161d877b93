/**
 * The app with a KV whose writes take 30 ms (see `slow_kv.ts`), for the
 * bench's cluster rows: `deno serve --parallel tests/bench/slow_kv_main.ts`.
 *
 * @module
 */
import "./slow_kv.ts";
export { default } from "../../main.ts";
