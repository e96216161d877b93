/**
 * The servers the bench measures, each its own process on 127.0.0.1 on a
 * free port, stopped by its own pid: Parley, the PeerJS server and the floor
 * (a bare Deno relay).
 *
 * @module
 */
import {
  type ChildProcess,
  freePort,
  REPO_ROOT,
  spawnProcess,
  waitServing,
} from "../_helpers/process.ts";
import { startApp } from "../_helpers/server.ts";
import { log } from "./state.ts";

/** The PeerJS server version the bench compares against (installed by ensurePeer). */
export const PEER_VERSION = "1.0.2";
const PEER_DIR = `${REPO_ROOT}tests/bench/.peerjs`;
const PEER_BIN = `${PEER_DIR}/node_modules/.bin/peerjs`;

/** Which wire a server speaks (Parley's own, PeerJS's, the floor's, PeerJS's at Parley). */
export type Kind = "parley" | "peerjs" | "floor" | "parley-peerjs";

/** A server under test. */
export interface Server {
  kind: Kind;
  label: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function withRetry<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= 3) throw error;
      log(`server start failed (${String(error).slice(0, 200)}); retrying`);
    }
  }
}

/**
 * Starts the floor; `bare`: only the upgrade; `ack`: it acks each frame to its sender, as Parley does.
 *
 * @example A floor for one section
 * ```ts ignore
 * const floor = await startFloor();
 * try { console.log(floor.port); } finally { await floor.stop(); }
 * ```
 */
export function startFloor(bare = false, ack = false): Promise<Server> {
  return withRetry(async () => {
    const port = freePort();
    const proc = spawnProcess(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "tests/bench/floor.ts",
        "--port",
        String(port),
        ...(bare ? ["--bare"] : []),
        ...(ack ? ["--ack"] : []),
      ],
      keep: 16_384,
    });
    await started(proc, port);
    const label = bare ? "bare Deno upgrade" : ack ? "floor (acks each frame)" : "floor";
    return { kind: "floor", label, port, ...stopper(proc) };
  });
}

/** Starts the PeerJS server (`peer`, installed by ensurePeer) on a free port. */
export function startPeer(): Promise<Server> {
  return withRetry(async () => {
    const port = freePort();
    // PeerJS logs a line per connection; it goes nowhere (as in production with logs off).
    const proc = spawnProcess("node", {
      args: [
        PEER_BIN,
        "--port",
        String(port),
        "--host",
        "127.0.0.1",
        "--concurrent_limit",
        "20000",
      ],
      stdout: "null",
      stderr: "null",
    });
    await started(proc, port);
    return { kind: "peerjs", label: `PeerJS ${PEER_VERSION}`, port, ...stopper(proc) };
  });
}

/**
 * Starts Parley (`cluster`: `deno serve --parallel`; `entry`: another main file).
 *
 * @example Parley with the rate limit lifted
 * ```ts ignore
 * const parley = await startParley({ ...LIFTED_RATE_LIMIT });
 * ```
 */
export async function startParley(
  env: Record<string, string>,
  cluster = false,
  entry?: string,
): Promise<Server> {
  const app = await startApp({ env, cluster, timeout: 60_000, entry });
  return { kind: "parley", label: "Parley", port: app.port, pid: app.pid, stop: app.stop };
}

async function started(proc: ChildProcess, port: number): Promise<void> {
  try {
    await waitServing(proc, `http://127.0.0.1:${port}/`);
  } catch (error) {
    await proc.stop();
    throw new Error(`server on port ${port}: ${(error as Error).message}:\n${proc.output()}`);
  }
}

/** A server's pid and its stop, from the process that runs it. */
export function stopper(proc: ChildProcess): { pid: number; stop: () => Promise<void> } {
  return { pid: proc.pid, stop: () => proc.stop() };
}

/** Installs peer@PEER_VERSION into tests/bench/.peerjs unless it is there. */
export async function ensurePeer(): Promise<void> {
  try {
    const pkg = JSON.parse(await Deno.readTextFile(`${PEER_DIR}/node_modules/peer/package.json`));
    if (pkg.version === PEER_VERSION) return;
  } catch { /* not installed */ }
  log(`installing peer@${PEER_VERSION} into tests/bench/.peerjs`);
  await Deno.mkdir(PEER_DIR, { recursive: true });
  const out = await new Deno.Command("npm", {
    args: [
      "i",
      "--prefix",
      PEER_DIR,
      `peer@${PEER_VERSION}`,
      "--no-audit",
      "--no-fund",
      "--no-save",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`npm i peer failed: ${new TextDecoder().decode(out.stderr)}`);
}
