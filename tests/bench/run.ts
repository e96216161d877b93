/**
 * `deno task bench`: Parley against the PeerJS server and the floor (a bare
 * Deno relay), side by side, in one run. Every server and every load
 * generator is its own process on 127.0.0.1; servers get free ports and are
 * stopped by their own pid. Writes tests/bench/results.json and prints a
 * markdown table (benchmark, Parley, reference, ratio, target, met).
 *
 * Flags: `--only relay,peerjs,flood,capacity,storm,cluster` runs some sections;
 * `--pairs 1,100` runs only those relay sizes (of 1, 100, 500);
 * `--quick` shortens every measurement (for trying the bench out, not for
 * figures).
 *
 * @module
 */
import { machine, notMeasured, text, writeResults } from "./rows.ts";
import { capacitySection } from "./sections/capacity.ts";
import { clusterSection } from "./sections/cluster.ts";
import { floodSection } from "./sections/flood.ts";
import { peerjsSection } from "./sections/peerjs.ts";
import { relaySection } from "./sections/relay.ts";
import { stormSection } from "./sections/storm.ts";
import { ensurePeer, PEER_VERSION } from "./servers.ts";
import { log, round, want } from "./state.ts";

if (import.meta.main) {
  const t0 = performance.now();
  await ensurePeer();
  const versions = {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    node: await text("node", ["--version"]),
    peer: PEER_VERSION,
  };
  const info = machine();
  log(
    `machine: ${info.cores} cores, ${info.model}, load ${info.loadAtStart}; deno ${versions.deno}, node ${versions.node}, peer ${versions.peer}`,
  );
  // Compile the generator and the app once, before anything is timed.
  await text(Deno.execPath(), [
    "cache",
    "tests/bench/gen.ts",
    "tests/bench/floor.ts",
    "tests/bench/slow_kv_main.ts",
    "main.ts",
  ]);
  const sections: Array<[string, () => Promise<void>]> = [
    ["relay", relaySection],
    ["peerjs", peerjsSection],
    ["flood", floodSection],
    ["capacity", capacitySection],
    ["storm", stormSection],
    ["cluster", clusterSection],
  ];
  for (const [name, run] of sections) {
    if (!want(name)) continue;
    const s0 = performance.now();
    try {
      await run();
    } catch (error) {
      log(`${name} failed:`, error);
      notMeasured(name, name, String(error).split("\n")[0]);
    }
    log(`${name}: ${round((performance.now() - s0) / 1000)} s`);
  }
  await writeResults(t0, info, versions);
}
