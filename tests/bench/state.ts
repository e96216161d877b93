/**
 * The bench's shared state: the flags it was run with, the measuring times
 * they give, and the rows and raw results the sections add to (run.ts
 * writes them out at the end). Small helpers every section uses too.
 *
 * @module
 */

const args = Deno.args;

/** `--quick`: every measurement shortened (for trying the bench out, not for figures). */
export const quick: boolean = args.includes("--quick");
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? new Set(args[onlyAt + 1].split(",")) : null;

/**
 * Whether a section runs (`--only relay,storm` runs only those; no flag: all).
 *
 * @example Skipping a section
 * ```ts ignore
 * if (!want("storm")) return;
 * ```
 */
export const want = (section: string): boolean => only === null || only.has(section);
const pairsAt = args.indexOf("--pairs");
/** The relay sizes to run (`--pairs 1,100`; default 1, 100 and 500). */
export const RELAY_PAIRS: number[] = pairsAt >= 0
  ? args[pairsAt + 1].split(",").map(Number)
  : [1, 100, 500];

/** How long a relay or cluster job measures, after its warm-up. */
export const MEASURE_MS: number = quick ? 1_500 : 3_000;
/** How long a relay or cluster job warms up before measuring. */
export const WARMUP_MS: number = quick ? 500 : 1_000;
/** How many idle sockets the capacity section opens per server. */
export const IDLE_N: number = quick ? 2_000 : 10_000;
/**
 * How long the capacity section leaves the sockets idle before reading RSS
 * and CPU: two heartbeat periods (25 s each), so the idle CPU counts the
 * heartbeat's sweeps and pings, not a quiet stretch between them.
 */
export const IDLE_WINDOW_MS: number = quick ? 3_000 : 50_000;
/** How many clients the join storm sends into one group. */
export const STORM_N: number = quick ? 300 : 1_000;

/** One line of the table (and of results.json's `rows`). */
export interface Row {
  section: string;
  benchmark: string;
  unit: string;
  parley: number;
  reference: string;
  referenceValue: number;
  /** parley / reference. */
  ratio: number;
  /** e.g. "≥ 0.9×"; "—" when informative. */
  target: string;
  /** null: no target. */
  met: boolean | null;
  note?: string;
}

/** The table's rows, in the order the sections add them. */
export const rows: Row[] = [];
/** Each section's raw results, by section name (results.json's `raw`). */
export const raw: Record<string, unknown> = {};

/**
 * Logs a progress line to stderr (stdout is the table).
 *
 * @example Logging a step
 * ```ts ignore
 * log("storm: starting");
 * ```
 */
export const log = (...parts: unknown[]): void => console.error("[bench]", ...parts);
/** Resolves after `ms` milliseconds. */
export { sleep } from "../_helpers/wait.ts";
/**
 * Rounds to `digits` decimals; NaN for anything not finite.
 *
 * @example Rounding a rate
 * ```ts ignore
 * round(1234.567, 1); // 1234.6
 * ```
 */
export const round = (n: number, digits = 0): number =>
  Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : NaN;
