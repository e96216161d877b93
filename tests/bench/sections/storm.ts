/**
 * The storm section: many clients joining one group at once, on Parley
 * and on the floor doing the same fan-out.
 *
 * @module
 */
import { cpuSeconds, generator } from "../procs.ts";
import { notMeasured, row } from "../rows.ts";
import { type Server, startFloor, startParley } from "../servers.ts";
import { log, raw, round, STORM_N } from "../state.ts";

async function stormOnce(server: Server): Promise<Record<string, unknown>> {
  const gen = generator({
    mode: "storm",
    server: server.kind,
    port: server.port,
    count: STORM_N,
    concurrency: 100,
  }, 180_000);
  const c0 = cpuSeconds(server.pid);
  const r = await gen.result;
  const c1 = cpuSeconds(server.pid);
  await gen.proc.stop();
  return { ...r, cpuS: c1 - c0 };
}

/** Storm: STORM_N clients join one group; time until all saw all, bytes, server CPU. */
export async function stormSection(): Promise<void> {
  const results: Record<string, Record<string, unknown>> = {};
  for (
    const [name, start] of [["floor", () => startFloor()], [
      "parley",
      () => startParley({}),
    ]] as const
  ) {
    log(`storm: ${STORM_N} clients join one group on ${name}`);
    const server = await start();
    try {
      results[name] = await stormOnce(server);
      log(`storm ${name}:`, JSON.stringify(results[name]));
    } finally {
      await server.stop();
    }
  }
  raw.storm = results;
  const p = results.parley, f = results.floor;
  if (p.failed || f.failed) {
    notMeasured("storm", "Join storm", String(p.failed ?? f.failed));
    return;
  }
  const what = `Join storm, ${STORM_N.toLocaleString("en")} clients → one group`;
  row(
    "storm",
    `${what}: until every client saw every later join`,
    "s",
    Number(p.ms) / 1000,
    "floor (same fan-out)",
    Number(f.ms) / 1000,
    { op: "<=", factor: 0.5 },
    `${p.notices}/${p.expected} notices${
      p.timedOut ? " (TIMED OUT)" : ""
    }; all ${STORM_N} joins acked after ${round(Number(p.ackMs) / 1000, 2)} s`,
  );
  row(
    "storm",
    `${what}: bytes received per client`,
    "KiB",
    Number(p.bytesPerClient) / 1024,
    "floor (same fan-out)",
    Number(f.bytesPerClient) / 1024,
    { op: "<=", factor: 0.5 },
    `${round(Number(p.noticesPerClient))} notices in ${
      round(Number(p.framesPerClient))
    } frames per client on average (floor: one frame per notice)`,
  );
  row(
    "storm",
    `${what}: server CPU`,
    "s",
    Number(p.cpuS),
    "floor (same fan-out)",
    Number(f.cpuS),
    undefined,
    "user + system over the whole job (the connects included)",
  );
}
