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
import { LIFTED_LIMITS } from "./limits.ts";
import { freePort, ProcessExitedError, REPO_ROOT, spawnProcess, waitServing } from "./process.ts";

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
  const app = spawnProcess(Deno.execPath(), {
    args: denoArgs,
    cwd,
    clearEnv: options.bareEnv,
    env: options.bareEnv ? { ...hostEnv(), ...options.env } : {
      ...(serve ? {} : { PORT: String(port) }),
      PARLEY_KV_PATH: kvPath,
      // Every test client shares 127.0.0.1: the per-address and per-room
      // limits stay out of the way unless a test sets them.
      ...LIFTED_LIMITS,
      // No test may send a browser to a public STUN server (the app's
      // default): tests that want STUN or TURN pass their own servers.
      STUN_URLS: "none",
      ...options.env,
    },
    echo: Deno.env.get("PARLEY_APP_LOG") === "1" ? `app :${port}` : undefined,
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      await app.stop();
      if (tempDir) await Deno.remove(tempDir, { recursive: true }).catch(() => {});
    })();

  const url = `${options.caCert ? "https" : "http"}://${hostname}:${port}`;
  const client = options.caCert ? Deno.createHttpClient({ caCerts: [options.caCert] }) : undefined;
  try {
    await waitServing(app, `${url}/api/health`, {
      timeout: options.timeout ?? 20_000,
      accept: (status) => status === 200,
      client,
    });
  } catch (error) {
    await stop();
    const why = error instanceof ProcessExitedError
      ? `the app ${error.message}`
      : error instanceof Error
      ? error.message
      : String(error);
    throw new Error(
      `startApp: ${why}\n$ deno ${denoArgs.join(" ")}  (cwd ${cwd})\n` +
        `--- app output ---\n${app.output().trimEnd() || "(none)"}\n---`,
    );
  } finally {
    client?.close();
  }

  return {
    url,
    wsUrl: `${url.replace(/^http/, "ws")}/api/realtime`,
    port,
    pid: app.pid,
    kvPath,
    output: app.output,
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
