/**
 * Child processes of the tests and the bench: spawned in the repository
 * root, their output's tail kept, waited on until they serve HTTP, and
 * stopped by their own pid only (SIGTERM, a grace period, then SIGKILL;
 * never by name). The app itself is started by `startApp` (./server.ts),
 * which builds on this.
 *
 * @example
 * ```ts ignore
 * import { freePort, spawnProcess, waitServing } from "./process.ts";
 * const port = freePort();
 * await using floor = spawnProcess(Deno.execPath(), {
 *   args: ["run", "-A", "tests/bench/floor.ts", "--port", String(port)],
 * });
 * await waitServing(floor, `http://127.0.0.1:${port}/`);
 * ```
 *
 * @module
 */
import { waitFor } from "./wait.ts";

/** The repository root, with a trailing slash (this file is tests/_helpers/process.ts). */
export const REPO_ROOT: string = decodeURIComponent(
  new URL("../../", import.meta.url).pathname,
);

/**
 * A port that was free a moment ago on `hostname` (listen on 0, close).
 *
 * @example
 * ```ts
 * import { freePort } from "./process.ts";
 * Deno.listen({ hostname: "127.0.0.1", port: freePort() }).close();
 * ```
 */
export function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Options of {@linkcode spawnProcess}. */
export interface SpawnOptions {
  /** Arguments after the command. */
  args?: string[];
  /** The folder to run in. @default REPO_ROOT */
  cwd?: string;
  /** Extra environment, on top of this process's (or of none, with `clearEnv`) and `DENO_NO_UPDATE_CHECK=1`. */
  env?: Record<string, string>;
  /** Start from an empty environment: only `env` (and `DENO_NO_UPDATE_CHECK`). @default false */
  clearEnv?: boolean;
  /** `piped` to write to the child (`child.stdin`). @default "null" */
  stdin?: "piped" | "null";
  /**
   * `keep`: the tail goes into `output()`; `piped`: the caller reads
   * `child.stdout` itself; `null`: discarded. @default "keep"
   */
  stdout?: "keep" | "piped" | "null";
  /** `keep`: the tail goes into `output()`; `null`: discarded. @default "keep" */
  stderr?: "keep" | "null";
  /** How many characters of output `output()` keeps. @default 65536 */
  keep?: number;
  /** When set, every chunk of kept output is also written to stderr as `[echo] …`. */
  echo?: string;
  /** How long `stop()` waits after SIGTERM before SIGKILL, in ms. @default 3000 */
  graceMs?: number;
}

/** A running child process. */
export interface ChildProcess extends AsyncDisposable {
  pid: number;
  /** The process itself (its `stdin`, or `stdout` when piped to the caller). */
  child: Deno.ChildProcess;
  /** Resolves when it has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Its exit status once it has exited, else `undefined`. */
  exited(): Deno.CommandStatus | undefined;
  /** The tail of its kept stdout and stderr so far. */
  output(): string;
  /** SIGTERM, up to `graceMs` grace, then SIGKILL; waits for the exit and the output; idempotent. */
  stop(): Promise<void>;
}

/**
 * Spawns `cmd`, keeping the tail of its output; `stop()` (or `await using`)
 * ends it by its own pid.
 *
 * @example
 * ```ts ignore
 * await using child = spawnProcess("node", { args: ["server.js"], stdout: "null" });
 * ```
 */
export function spawnProcess(cmd: string, options: SpawnOptions = {}): ChildProcess {
  const keepOut = (options.stdout ?? "keep") === "keep";
  const keepErr = (options.stderr ?? "keep") === "keep";
  const child = new Deno.Command(cmd, {
    args: options.args ?? [],
    cwd: options.cwd ?? REPO_ROOT,
    clearEnv: options.clearEnv,
    env: { DENO_NO_UPDATE_CHECK: "1", ...options.env },
    stdin: options.stdin ?? "null",
    stdout: options.stdout === "null" ? "null" : "piped",
    stderr: keepErr ? "piped" : "null",
  }).spawn();

  const keep = options.keep ?? 64 * 1024;
  let output = "";
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      const chunk = decoder.decode(bytes, { stream: true });
      if (options.echo) console.error(`[${options.echo}] ${chunk.trimEnd()}`);
      output = (output + chunk).slice(-keep);
    }
  };
  const drained = Promise.all([
    keepOut ? drain(child.stdout) : undefined,
    keepErr ? drain(child.stderr) : undefined,
  ]).catch(() => {});

  let exitStatus: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => (exitStatus = s));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      if (!exitStatus) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const graceOver = new Promise((r) => (timer = setTimeout(r, options.graceMs ?? 3_000)));
        await Promise.race([status, graceOver]);
        clearTimeout(timer);
        if (!exitStatus) {
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
        }
      }
      await status;
      await drained;
    })();
  return {
    pid: child.pid,
    child,
    status,
    exited: () => exitStatus,
    output: () => output,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** The process ended before it served: its exit code is `code`. */
export class ProcessExitedError extends Error {
  /** @param code The exit code. @param awaited What it was waited for. */
  constructor(readonly code: number, awaited: string) {
    super(`exited with code ${code} before ${awaited}`);
    this.name = "ProcessExitedError";
  }
}

/** Options of {@linkcode waitServing}. */
export interface WaitServingOptions {
  /** Give up after this many ms. @default 20000 */
  timeout?: number;
  /** Which answers count; the default takes any status (the server answers at all). */
  accept?: (status: number) => boolean;
  /** The HTTP client to ask with (e.g. one that trusts a test CA). */
  client?: Deno.HttpClient;
}

/**
 * Resolves once `GET url` answers (with a status `accept` takes). Rejects
 * with a {@linkcode ProcessExitedError} as soon as `process` exits, and after
 * `timeout` ms.
 *
 * @example
 * ```ts ignore
 * await waitServing(app, `${url}/api/health`, { accept: (status) => status === 200 });
 * ```
 */
export async function waitServing(
  process: ChildProcess,
  url: string,
  options: WaitServingOptions = {},
): Promise<void> {
  const accept = options.accept ?? (() => true);

  const state = await waitFor(async () => {
    if (process.exited()) return "exited";
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 2_000);
    try {
      const res = await fetch(url, { signal: abort.signal, client: options.client });
      await res.body?.cancel();
      return accept(res.status) && "serving";
    } finally {
      clearTimeout(timer);
    }
  }, { timeout: options.timeout ?? 20_000, interval: 100, message: `GET ${url} to answer` });
  if (state === "exited") {
    throw new ProcessExitedError(process.exited()!.code, `GET ${url} answered`);
  }
}
