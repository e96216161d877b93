/**
 * What `/proc` says about the bench's processes, and the load generators,
 * which report in JSON lines. Processes are spawned, waited on and stopped
 * by the helper the tests use (tests/_helpers/process.ts): by their own pid
 * (SIGTERM, then SIGKILL after a grace period), never by name; every wait
 * has a deadline.
 *
 * @module
 */
import { type ChildProcess, spawnProcess } from "../_helpers/process.ts";

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
  proc: ChildProcess;
  /** Resolves with the first event named `name` (rejects if the process ends first). */
  event(name: string, ms: number): Promise<Record<string, unknown>>;
  /** Writes a line to its stdin. */
  tell(line: string): Promise<void>;
  result: Promise<Record<string, unknown>>;
}

/** Starts `gen.ts` on `job`; kills it after `maxMs` whatever happens. */
export function generator(job: Record<string, unknown>, maxMs: number): GenRun {
  const proc = spawnProcess(Deno.execPath(), {
    args: ["run", "-A", "tests/bench/gen.ts", JSON.stringify(job)],
    stdin: "piped",
    stdout: "piped",
    keep: 8_192,
  });
  const { child } = proc;
  // Its stderr, and any stdout line that is not an event.
  let unparsed = "";
  const errors = () => proc.output() + unparsed;
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
          unparsed = (unparsed + line + "\n").slice(-8_192);
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
        reject(new Error(`generator: no "${name}" within ${ms} ms; stderr: ${errors()}`));
      }, ms);
      const check = () => {
        const found = events.find((e) => e.event === name);
        if (found || ended) {
          clearTimeout(timer);
          waiters.delete(check);
          if (found) resolve(found);
          else reject(new Error(`generator ended without "${name}"; stderr: ${errors()}`));
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
