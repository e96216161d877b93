// Over 300 lines: starting, probing and stopping app processes, one helper.
/**
 * Start the real app as a subprocess for integration and browser tests.
 *
 * Each app gets a free port on 127.0.0.1 and, unless told otherwise, a fresh
 * temporary KV file (env `PARLEY_KV_PATH`), so tests never share state. Stop
 * it with `stop()` or `await using`; it is only ever signalled by its own pid.
 * `STUN_URLS` is `none` unless the test sets it: no test contacts a public
 * STUN server.
 *
 * @example
 * ```ts
 * import { startApp } from "./server.ts";
 * await using app = await startApp({ cluster: true });
 * const health = await fetch(`${app.url}/api/health`).then((r) => r.json());
 * ```
 *
 * @module
 */

/** The repository root (this file is tests/_helpers/server.ts). */
export const REPO_ROOT: string = decodeURIComponent(
  new URL("../../", import.meta.url).pathname,
);

/** Options of {@linkcode startApp}. */
export interface StartAppOptions {
  /** Extra environment for the app (on top of this process's environment). */
  env?: Record<string, string>;
  /** Extra `deno` flags, placed before `main.ts` (e.g. `["--unstable-x"]`). */
  args?: string[];
  /**
   * `deno serve -A --parallel` (one isolate per core, `DENO_JOBS` via `env`)
   * instead of one isolate.
   */
  cluster?: boolean;
  /**
   * How the entry runs: `serve` (`deno serve`, which binds the port; main.ts
   * only exports `{ fetch }`) or `run` (`deno run` with `PORT` set, for
   * entries that serve themselves). Default `serve`.
   */
  runner?: "serve" | "run";
  /**
   * KV file to use, e.g. to restart an app on the same data or to run two
   * processes on one file. Default: a fresh temp file, removed by `stop()`.
   */
  kvPath?: string;
  /** How long to wait for `GET /api/health` to answer 200 (ms, default 20 000). */
  timeout?: number;
  /** Module to run, relative to `cwd` (default `main.ts`). */
  entry?: string;
  /** Arguments after the entry, e.g. `["cluster"]` for `dev.ts`. */
  entryArgs?: string[];
  /** The folder to run in (default the repository root), e.g. a clean copy of it. */
  cwd?: string;
  /**
   * Start from an empty environment, as a hosting platform does: only `PATH`,
   * `HOME`, `DENO_DIR` (when set) and `env` — no `PARLEY_KV_PATH` (the
   * default KV), no test limits, no `STUN_URLS=none` (pass your own).
   */
  bareEnv?: boolean;
  /**
   * Address to serve on with `deno serve` (e.g. the NAT bed's public address).
   * Default `127.0.0.1`; `url` and `wsUrl` use it.
   */
  hostname?: string;
  /** Port to serve on, e.g. to restart an app where its clients left it. Default: a free one. */
  port?: number;
  /**
   * The app serves HTTPS (set `PARLEY_TLS_CERT` / `PARLEY_TLS_KEY` in `env`
   * and use `runner: "run"`): the PEM of the CA to trust when checking its
   * health. `url` and `wsUrl` are then `https://127.0.0.1:…` / `wss://…`.
   */
  caCert?: string;
}

/** A running app. */
export interface RunningApp extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  url: string;
  /** `ws://127.0.0.1:PORT/api/realtime`, the realtime endpoint. */
  wsUrl: string;
  port: number;
  pid: number;
  /** The KV file the app uses; empty with `bareEnv` (the runtime's default KV). */
  kvPath: string;
  /** The app's stdout and stderr so far (the last 64 KiB). */
  output(): string;
  /** SIGTERM, up to 3 s grace, then SIGKILL; idempotent. Removes a temp KV. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago on `hostname` (listen on 0, close). */
export function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Options of {@linkcode waitFor}. */
export interface WaitForOptions {
  /** Give up after this many ms (default 5 000). */
  timeout?: number;
  /** Pause between tries in ms (default 50). */
  interval?: number;
  /** Says what was awaited, in the timeout error. */
  message?: string;
}

/** `T` without its falsy members. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | "" | null | undefined>;

/**
 * Call `predicate` until it returns a truthy value (or a promise of one), and
 * resolve with that value. Rejects after `timeout` ms, even if a call hangs;
 * the error names `message` and the last error the predicate threw. Leaves no
 * timer behind either way.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Truthy<T>> {
  const { timeout = 5_000, interval = 50, message = "condition" } = options;
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const sleep = (ms: number) =>
    new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
    });
  try {
    while (true) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const attempt = Promise.resolve().then(predicate).then(
        (value) => ({ value }),
        (error) => {
          lastError = error;
          return { value: undefined };
        },
      );
      const result = await Promise.race([attempt, sleep(remaining)]);
      clearTimeout(timer);
      if (result === TIMED_OUT) break;
      if (result.value) return result.value as Truthy<T>;
      if (deadline - Date.now() <= 0) break;
      await sleep(Math.min(interval, deadline - Date.now()));
    }
  } finally {
    clearTimeout(timer);
  }
  const cause = lastError === undefined
    ? ""
    : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  throw new Error(`waitFor: timed out after ${timeout} ms waiting for ${message}${cause}`, {
    cause: lastError,
  });
}
const TIMED_OUT = Symbol("timed out");

const MAX_OUTPUT = 64 * 1024;
const STOP_GRACE_MS = 3_000;

/**
 * Start the app (`deno run -A main.ts`, or `deno serve -A --parallel` with
 * `cluster`) on a free port of 127.0.0.1 with its own KV file, and resolve
 * once `GET /api/health` answers 200. On failure the process is stopped and
 * the error carries its output. The app gets `PARLEY_KV_PATH` and, unless
 * `cluster` (where `deno serve --host 127.0.0.1 --port P` binds), `PORT` in
 * its environment.
 */
export async function startApp(options: StartAppOptions = {}): Promise<RunningApp> {
  // A port picked by freePort() may be taken before the app binds it: retry.
  for (let attempt = 1;; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      const addrInUse = /AddrInUse|address already in use/i.test(String(error));
      if (!addrInUse || attempt >= 3) throw error;
    }
  }
}

async function startOnce(options: StartAppOptions): Promise<RunningApp> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? freePort(hostname);
  const tempDir = options.kvPath || options.bareEnv
    ? undefined
    : await Deno.makeTempDir({ prefix: "parley-kv-" });
  const kvPath = options.kvPath ?? (tempDir ? `${tempDir}/kv.sqlite3` : "");
  const serve = options.cluster || options.runner !== "run";
  const denoArgs = serve
    ? ["serve", "-A", "--host", hostname, "--port", String(port)]
    : ["run", "-A"];
  if (options.cluster) denoArgs.push("--parallel");
  // Inside the namespace nothing reaches a registry: fail at once on a cold
  // cache instead of hanging on DNS.
  if (Deno.env.get("PARLEY_NETNS") === "1") denoArgs.push("--cached-only");
  denoArgs.push(...(options.args ?? []), options.entry ?? "main.ts", ...(options.entryArgs ?? []));

  const cwd = options.cwd ?? REPO_ROOT;
  const child = new Deno.Command(Deno.execPath(), {
    args: denoArgs,
    cwd,
    clearEnv: options.bareEnv,
    env: options.bareEnv ? { ...hostEnv(), ...options.env } : {
      DENO_NO_UPDATE_CHECK: "1",
      ...(serve ? {} : { PORT: String(port) }),
      PARLEY_KV_PATH: kvPath,
      // Every test client shares 127.0.0.1: the per-address and per-room
      // limits stay out of the way unless a test sets them.
      PARLEY_MAX_CONNECTIONS_PER_IP: "1000000",
      PARLEY_MAX_JOINS_PER_MINUTE: "1000000",
      PARLEY_MAX_CONNECTS_PER_MINUTE: "1000000",
      PARLEY_MAX_USERS_PER_ROOM: "1000000",
      // No test may send a browser to a public STUN server (the app's
      // default): tests that want STUN or TURN pass their own servers.
      STUN_URLS: "none",
      ...options.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let output = "";
  const echo = Deno.env.get("PARLEY_APP_LOG") === "1";
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      const chunk = decoder.decode(bytes, { stream: true });
      if (echo) console.error(`[app :${port}] ${chunk.trimEnd()}`);
      output = (output + chunk).slice(-MAX_OUTPUT);
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]).catch(() => {});
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => (exited = s));

  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const graceOver = new Promise((r) => (timer = setTimeout(r, STOP_GRACE_MS)));
        await Promise.race([status, graceOver]);
        clearTimeout(timer);
        if (!exited) {
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
        }
      }
      await status;
      await drained;
      if (tempDir) await Deno.remove(tempDir, { recursive: true }).catch(() => {});
    })();

  const url = `${options.caCert ? "https" : "http"}://${hostname}:${port}`;
  const client = options.caCert ? Deno.createHttpClient({ caCerts: [options.caCert] }) : undefined;
  const timeout = options.timeout ?? 20_000;
  try {
    const state = await waitFor(async () => {
      if (exited) return "exited";
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 2_000);
      try {
        const res = await fetch(`${url}/api/health`, { signal: abort.signal, client });
        await res.body?.cancel();
        return res.status === 200 && "healthy";
      } finally {
        clearTimeout(timer);
      }
    }, { timeout, interval: 100, message: `GET ${url}/api/health → 200` });
    if (state === "exited") throw new Exited(exited!.code);
  } catch (error) {
    await stop();
    const why = error instanceof Exited
      ? `the app exited with code ${error.code} before it was healthy`
      : error instanceof Error
      ? error.message
      : String(error);
    throw new Error(
      `startApp: ${why}\n$ deno ${denoArgs.join(" ")}  (cwd ${cwd})\n` +
        `--- app output ---\n${output.trimEnd() || "(none)"}\n---`,
    );
  } finally {
    client?.close();
  }

  return {
    url,
    wsUrl: `${url.replace(/^http/, "ws")}/api/realtime`,
    port,
    pid: child.pid,
    kvPath,
    output: () => output,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** What any process needs to run: where programs and the home and Deno cache are. */
function hostEnv(): Record<string, string> {
  const env: Record<string, string> = { DENO_NO_UPDATE_CHECK: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "PARLEY_NETNS"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

class Exited extends Error {
  constructor(readonly code: number) {
    super(`exited with code ${code}`);
  }
}
