/**
 * The capacity section: many idle sockets on each server; memory per
 * connection, time to connect them all, CPU while idle.
 *
 * @module
 */
import { REPO_ROOT } from "../../_helpers/process.ts";
import { cpuSeconds, generator, rssKb } from "../procs.ts";
import { row } from "../rows.ts";
import { PEER_VERSION, type Server, startFloor, startParley, startPeer } from "../servers.ts";
import { IDLE_N, IDLE_WINDOW_MS, log, raw, round, sleep } from "../state.ts";

type Capacity = {
  label: string;
  /** RSS growth per connection at the end of the idle window. */
  perConnKb: number;
  /** RSS growth per connection at its highest (right after the connects, or after idle). */
  peakPerConnKb?: number;
  rssPeakKb?: number;
  connectS: number;
  joinS: number;
  idleCpuPct: number;
  connected: number;
  failed: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  mem?: unknown;
};

/** N idle sockets from two generator processes; RSS delta, connect time, idle CPU. */
async function capacityOnce(server: Server, n: number): Promise<Capacity> {
  // One socket first, so lazily loaded code is not counted as per-connection cost.
  const warm = generator({
    mode: "idle",
    server: server.kind,
    port: server.port,
    count: 20,
    groups: 1,
    offset: 900_000,
  }, 30_000);
  await warm.event("ready", 25_000).catch(() => {});
  await warm.tell("stop");
  await warm.result.catch(() => {});
  await warm.proc.stop();
  await sleep(1_500);
  const before = rssKb(server.pid);
  const half = Math.floor(n / 2);
  const t0 = performance.now();
  const gens = [0, 1].map((g) =>
    generator({
      mode: "idle",
      server: server.kind,
      port: server.port,
      count: g === 0 ? half : n - half,
      groups: 100,
      offset: g * half,
      concurrency: 100,
      holdMs: 240_000,
    }, 250_000)
  );
  try {
    const ready = await Promise.all(gens.map((g) => g.event("ready", 200_000)));
    const wall = (performance.now() - t0) / 1000;
    const connected = ready.reduce((s, r) => s + Number(r.connected), 0);
    const failed = ready.reduce((s, r) => s + Number(r.failed) + Number(r.joinFailed), 0);
    const connectS = Math.max(...ready.map((r) => Number(r.connectMs))) / 1000;
    const joinS = Math.max(...ready.map((r) => Number(r.joinMs))) / 1000;
    await sleep(2_000);
    const after = rssKb(server.pid);
    const c0 = cpuSeconds(server.pid), w0 = performance.now();
    await sleep(IDLE_WINDOW_MS);
    const idleCpuPct = 100 * (cpuSeconds(server.pid) - c0) / ((performance.now() - w0) / 1000);
    const afterIdle = rssKb(server.pid);
    let mem: unknown;
    if (server.label !== "Parley" && server.kind !== "peerjs") {
      mem = await fetch(`http://127.0.0.1:${server.port}/mem`).then((r) => r.json()).catch(() =>
        null
      );
    }
    log(
      `capacity ${server.label}: ${connected} connected (${failed} failed) in ${
        round(wall, 1)
      } s; ` +
        `RSS ${before} → ${after} KiB (${afterIdle} after idle); idle CPU ${round(idleCpuPct, 1)}%`,
    );
    return {
      label: server.label,
      // The idle steady state: after the idle window (V8 and malloc give back what the connects used).
      perConnKb: (afterIdle - before) / connected,
      peakPerConnKb: (Math.max(after, afterIdle) - before) / connected,
      connectS,
      joinS,
      idleCpuPct,
      connected,
      failed,
      rssBeforeKb: before,
      rssAfterKb: afterIdle,
      rssPeakKb: Math.max(after, afterIdle),
      mem,
    };
  } finally {
    await Promise.all(gens.map((g) => g.tell("stop")));
    await Promise.all(gens.map((g) => g.result.catch(() => {})));
    await Promise.all(gens.map((g) => g.proc.stop()));
  }
}

/**
 * Capacity: IDLE_N idle sockets on the floor, Parley, PeerJS and a bare
 * upgrade; memory per connection, time to connect, idle CPU; Parley's live heap.
 */
export async function capacitySection(): Promise<void> {
  const runs: Capacity[] = [];
  const starters: Array<[string, () => Promise<Server>]> = [
    ["floor", () => startFloor()],
    ["parley", () => startParley({})],
    ["peerjs", () => startPeer()],
    ["bare", () => startFloor(true)],
  ];
  for (const [name, start] of starters) {
    log(`capacity: ${IDLE_N} idle sockets on ${name}`);
    let server: Server | undefined;
    try {
      server = await start();
      runs.push({ ...(await capacityOnce(server, IDLE_N)), label: name });
    } catch (error) {
      log(`capacity ${name} failed: ${error}`);
      runs.push({
        label: name,
        perConnKb: NaN,
        connectS: NaN,
        joinS: NaN,
        idleCpuPct: NaN,
        connected: 0,
        failed: IDLE_N,
        rssBeforeKb: NaN,
        rssAfterKb: NaN,
      });
    } finally {
      await server?.stop();
    }
  }
  raw.capacity = runs;
  const by = (l: string) => runs.find((r) => r.label === l)!;
  const p = by("parley"), f = by("floor"), j = by("peerjs"), b = by("bare");
  const n = `${IDLE_N.toLocaleString("en")} idle sockets, 100 groups`;
  row(
    "capacity",
    `${n}: server memory per connection`,
    "KiB",
    p.perConnKb,
    "floor",
    f.perConnKb,
    {
      op: "<=",
      factor: 1.0,
    },
    `RSS after ${IDLE_WINDOW_MS / 1000} s idle: ${round(p.rssBeforeKb / 1024)} → ${
      round(p.rssAfterKb / 1024)
    } MiB (peak ${round(Number(p.rssPeakKb) / 1024)} MiB = ${
      round(Number(p.peakPerConnKb), 1)
    } KiB/conn); floor ${round(f.rssBeforeKb / 1024)} → ${round(f.rssAfterKb / 1024)} MiB (peak ${
      round(Number(f.peakPerConnKb), 1)
    } KiB/conn)`,
  );
  row(
    "capacity",
    `${n}: server memory per connection`,
    "KiB",
    p.perConnKb,
    `PeerJS ${PEER_VERSION}`,
    j.perConnKb,
  );
  row(
    "capacity",
    `${n}: server memory per connection`,
    "KiB",
    p.perConnKb,
    "bare Deno upgrade (no routing)",
    b.perConnKb,
  );
  // Parley's own live state per connection: in-process, fake sockets, after a forced GC.
  const probe = await probeHeap();
  raw.probeHeap = probe;
  if (probe) {
    row(
      "capacity",
      "Parley's live JS heap per connection, joined (in-process, fake sockets, after GC)",
      "KiB",
      Number(probe.joinedHeapPerConn) / 1024,
      "bare Deno upgrade, RSS per socket",
      b.perConnKb,
      undefined,
      `RSS grew ${
        round(Number(probe.joinedRssPerConn) / 1024, 1)
      } KiB per connection even without sockets ` +
        `(V8 heap kept grown: ${
          round(Number(probe.joinedHeapTotalPerConn) / 1024, 1)
        } KiB; the rest KV and malloc)`,
    );
  }

  row(
    "capacity",
    `${n}: time to connect all`,
    "s",
    p.connectS,
    "floor",
    f.connectS,
    { op: "<=", factor: 2 },
    `Parley's joins took ${round(p.joinS, 1)} s more`,
  );
  row(
    "capacity",
    `${n}: time to connect all`,
    "s",
    p.connectS,
    `PeerJS ${PEER_VERSION}`,
    j.connectS,
  );
  row(
    "capacity",
    `${n}: server CPU while idle`,
    "% of a core",
    p.idleCpuPct,
    "target",
    1,
    { op: "<=", factor: 1 },
    `floor ${round(f.idleCpuPct, 2)} % of a core`,
  );
  row(
    "capacity",
    `${n}: server CPU while idle`,
    "% of a core",
    p.idleCpuPct,
    `PeerJS ${PEER_VERSION}`,
    j.idleCpuPct,
  );
}

/** Runs probe_heap.ts (10,000 fake sockets on a real hub, :memory: KV); null if it fails. */
async function probeHeap(): Promise<Record<string, number> | null> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      "tests/bench/probe_heap.ts",
      String(IDLE_N),
      "--batch",
      "200",
    ],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output().catch(() => null);
  if (!out?.success) {
    log("probe_heap failed:", out ? new TextDecoder().decode(out.stderr).slice(-500) : "timeout");
    return null;
  }
  const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  log("probe_heap:", JSON.stringify(result));
  return result;
}
