/**
 * Processes of the bench: servers on free loopback ports, generators that
 * report in JSON lines, and what `/proc` says about them. Every process is
 * stopped by its own pid (SIGTERM, then SIGKILL after a grace period), never
 * by name; every wait has a deadline.
 *
 * @module
 */
import { freePort, REPO_ROOT } from "../_helpers/server.ts";

export { freePort, REPO_ROOT };

const GRACE_MS = 3_000;

/** A child process the bench started. */
export interface Proc {
  pid: number;
  /** The last 16 KiB of its stdout and stderr (when piped). */
  output(): string;
  /** SIGTERM, up to 3 s grace, then SIGKILL; idempotent. */
  stop(): Promise<void>;
  readonly status: Promise<Deno.CommandStatus>;
}

/** Spawns `cmd args` in the repo root; output is kept (not echoed) unless `quiet`. */
export function spawn(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; quiet?: boolean; stdin?: boolean } = {},
): Proc & { child: Deno.ChildProcess } {
  const child = new Deno.Command(cmd, {
    args,
    cwd: REPO_ROOT,
    env: { DENO_NO_UPDATE_CHECK: "1", ...options.env },
    stdin: options.stdin ? "piped" : "null",
    stdout: options.quiet ? "null" : "piped",
    stderr: options.quiet ? "null" : "piped",
  }).spawn();
  let output = "";
  const keep = async (stream: ReadableStream<Uint8Array> | null) => {
    if (!stream) return;
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      output = (output + decoder.decode(bytes, { stream: true })).slice(-16_384);
    }
  };
  if (!options.quiet) Promise.all([keep(child.stdout), keep(child.stderr)]).catch(() => {});
  return procOf(child, () => output);
}

/** Wraps a spawned child with a pid-only stop. */
export function procOf(
  child: Deno.ChildProcess,
  output: () => string,
): Proc & { child: Deno.ChildProcess } {
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch { /* gone */ }
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([status, new Promise((r) => (timer = setTimeout(r, GRACE_MS)))]);
        clearTimeout(timer);
        if (!exited) {
          try {
            child.kill("SIGKILL");
          } catch { /* gone */ }
        }
      }
      await status;
    })();
  return { pid: child.pid, child, output, stop, status };
}

/** Resolves once `http://127.0.0.1:port/` answers at all; throws after `ms`. */
export async function waitHttp(port: number, proc: Proc, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  let exited = false;
  proc.status.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server exited early:\n${proc.output()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) });
      await res.body?.cancel();
      return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on port ${port} not up within ${ms} ms:\n${proc.output()}`);
}

/** Resident memory of a process in KiB (VmRSS). */
export function rssKb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

const CLK_TCK = 100;

/** CPU seconds (user + system, all threads) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the ")" of the command name: state is field 3; utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Write and read syscalls a process has made so far (/proc/PID/io). */
export function syscalls(pid: number): { reads: number; writes: number } {
  const io = Deno.readTextFileSync(`/proc/${pid}/io`);
  return {
    reads: Number(/syscr:\s+(\d+)/.exec(io)?.[1] ?? NaN),
    writes: Number(/syscw:\s+(\d+)/.exec(io)?.[1] ?? NaN),
  };
}

/** A generator process: its events as they come, its result at the end. */
export interface GenRun {
  proc: Proc;
  /** Resolves with the first event named `name` (rejects if the process ends first). */
  event(name: string, ms: number): Promise<Record<string, unknown>>;
  /** Writes a line to its stdin. */
  tell(line: string): Promise<void>;
  result: Promise<Record<string, unknown>>;
}

/** Starts `gen.ts` on `job`; kills it after `maxMs` whatever happens. */
export function generator(job: Record<string, unknown>, maxMs: number): GenRun {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tests/bench/gen.ts", JSON.stringify(job)],
    cwd: REPO_ROOT,
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let errors = "";
  (async () => {
    const decoder = new TextDecoder();
    for await (const b of child.stderr) errors = (errors + decoder.decode(b)).slice(-8_192);
  })().catch(() => {});
  const proc = procOf(child, () => errors);
  const events: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  (async () => {
    const lines = child.stdout.pipeThrough(new TextDecoderStream());
    let buffered = "";
    for await (const chunk of lines) {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          events.push(JSON.parse(line));
        } catch {
          errors += line + "\n";
        }
        for (const w of [...waiters]) w();
      }
    }
  })().catch(() => {}).finally(() => {
    ended = true;
    for (const w of [...waiters]) w();
  });
  const killer = setTimeout(() => proc.stop(), maxMs);
  proc.status.finally(() => clearTimeout(killer));
  const event = (name: string, ms: number) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`generator: no "${name}" within ${ms} ms; stderr: ${errors}`));
      }, ms);
      const check = () => {
        const found = events.find((e) => e.event === name);
        if (found || ended) {
          clearTimeout(timer);
          waiters.delete(check);
          if (found) resolve(found);
          else reject(new Error(`generator ended without "${name}"; stderr: ${errors}`));
        }
      };
      waiters.add(check);
      check();
    });
  const writer = child.stdin.getWriter();
  return {
    proc,
    event,
    tell: async (line) => {
      try {
        await writer.write(new TextEncoder().encode(line + "\n"));
      } catch { /* gone */ }
    },
    result: event("result", maxMs + 5_000).finally(() => {
      writer.close().catch(() => {});
    }),
  };
}
