/**
 * `deno task soak [--minutes N]`: the soak of tests/soak/scenario.ts — 20
 * clients on two processes sharing one KV file, acked posts and room
 * switches, process A SIGKILLed and restarted every 30 s, KV stalled between
 * the kills — run for N minutes (default 5) inside tests/netns.sh. Prints the
 * figures as JSON and exits 1 when an acked message was lost or duplicated
 * for a recipient connected throughout, a request went unanswered on an open
 * socket, or ghosts were left.
 *
 * @example
 * ```sh
 * deno task soak --minutes 1
 * ```
 *
 * @module
 */
import { runSoak } from "./scenario.ts";

/** `--minutes N` (or `--minutes=N`) of `args`, default 5. */
export function minutesOf(args: string[]): number {
  const at = args.findIndex((a) => a === "--minutes" || a.startsWith("--minutes="));
  if (at < 0) return 5;
  const raw = args[at].includes("=") ? args[at].split("=")[1] : args[at + 1];
  const minutes = Number(raw);
  if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, got "${raw}"`);
  return minutes;
}

if (import.meta.main) {
  const minutes = minutesOf(Deno.args);
  const started = Date.now();
  const figures = await runSoak({
    durationMs: minutes * 60_000,
    killEveryMs: 30_000,
    // The last outlasts the bus's 5 s patience: its posts are told UNAVAILABLE.
    stallsMs: [2_000, 4_000, 6_500],
    settleMs: 45_000,
    log: (line) => console.error(line),
  });
  console.log(
    JSON.stringify({ minutes, wallSeconds: (Date.now() - started) / 1000, ...figures }, null, 2),
  );
  const failed = figures.lost > 0 || figures.duplicated > 0 || figures.outOfOrder > 0 ||
    figures.ghostTotal > 0 ||
    figures.lyingResumes > 0 || figures.stuck.length > 0;
  Deno.exit(failed ? 1 : 0);
}
