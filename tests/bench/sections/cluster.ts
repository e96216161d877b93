/**
 * The cluster section: `deno serve --parallel` with two isolates; round
 * trips across isolates against the same pair on one isolate.
 *
 * @module
 */
import { LIFTED_RATE_LIMIT } from "../../_helpers/limits.ts";
import { REPO_ROOT } from "../../_helpers/process.ts";
import { generator } from "../procs.ts";
import { notMeasured, row } from "../rows.ts";
import { type Server, startParley } from "../servers.ts";
import { log, MEASURE_MS, raw, round, WARMUP_MS } from "../state.ts";

/** Cluster: round trips across two isolates, with and without BroadcastChannel. */
export async function clusterSection(): Promise<void> {
  let busExists = true;
  try {
    Deno.statSync(`${REPO_ROOT}lib/server/bus/mod.ts`);
  } catch {
    busExists = false;
  }
  if (!busExists) {
    notMeasured("cluster", "Cross-isolate round trip", "lib/server/bus/mod.ts does not exist yet");
    return;
  }
  /** Each variant: a name, the BroadcastChannel setting, pairs, a slow KV. */
  const variants: Array<[string, "on" | "off", number, boolean]> = [
    ["on", "on", 1, false],
    ["off", "off", 1, false],
    ["on, KV writes 30 ms", "on", 1, true],
    ["off, 50 pairs", "off", 50, false],
  ];
  const results: Record<string, Record<string, number | string | boolean>> = {};
  for (const [name, broadcast, pairs, slow] of variants) {
    log(`cluster: deno serve --parallel, 2 isolates, PARLEY_BROADCAST=${name}`);
    let server: Server | undefined;
    try {
      server = await startParley(
        { ...LIFTED_RATE_LIMIT, DENO_JOBS: "2", PARLEY_BROADCAST: broadcast },
        true,
        slow ? "tests/bench/slow_kv_main.ts" : undefined,
      );
      const gen = generator({
        mode: "cluster",
        server: "parley",
        port: server.port,
        pairs,
        warmupMs: WARMUP_MS,
        measureMs: MEASURE_MS,
      }, 90_000);
      const r = await gen.result;
      await gen.proc.stop();
      results[name] = r as Record<string, number | string | boolean>;
      log(`cluster ${name}:`, JSON.stringify(r));
    } catch (error) {
      results[name] = { ok: false, why: String(error) };
    } finally {
      await server?.stop();
    }
  }
  raw.cluster = results;
  for (const [name, broadcast, pairs, slow] of variants) {
    const r = results[name];
    const what = `Cluster (2 isolates), ${pairs} pair${pairs > 1 ? "s" : ""}, PARLEY_BROADCAST=${
      broadcast + (slow ? ", KV writes 30 ms" : "")
    }`;
    if (!r.ok || r.failed) {
      notMeasured("cluster", what, String(r.why ?? r.failed));
      continue;
    }
    const note = `${round(Number(r.crossMsgsPerSec))} vs ${
      round(Number(r.sameMsgsPerSec))
    } msg/s; ${r.errors} errors`;
    if (pairs > 1) {
      row(
        "cluster",
        `${what}: msg/s across isolates`,
        "msg/s",
        Number(r.crossMsgsPerSec),
        "target",
        10_000,
        { op: ">=", factor: 1 },
        note,
      );
      row("cluster", `${what}: p99 round trip`, "ms", Number(r.crossP99), "target", 20, {
        op: "<=",
        factor: 1,
      });
      continue;
    }
    // With BroadcastChannel: p50 within 2×, p99 within 3× the same pair on one isolate.
    const bounds = broadcast === "on" ? [2, 3] : [undefined, undefined];
    (["P50", "P99"] as const).forEach((p, i) => {
      const factor = bounds[i];
      row(
        "cluster",
        `${what}: ${p.toLowerCase()} round trip`,
        "ms",
        Number(r[`cross${p}`]),
        "same pair on one isolate",
        Number(r[`same${p}`]),
        factor === undefined ? undefined : { op: "<=", factor },
        i === 0 ? note : undefined,
      );
    });
  }
}
