/**
 * The table's rows, how they are printed, and results.json: what the
 * sections record and what run.ts writes out at the end.
 *
 * @module
 */
import { REPO_ROOT } from "../_helpers/process.ts";
import { quick, raw, round, rows } from "./state.ts";

const RESULTS = `${REPO_ROOT}tests/bench/results.json`;

/** The machine's description in results.json. */
export interface Machine {
  cores: number;
  model: string;
  memGiB: number;
  kernel: string;
  loadAtStart: string;
}

/** The versions of what ran, in results.json. */
export interface Versions {
  deno: string;
  v8: string;
  node: string;
  peer: string;
}

/**
 * Adds a row: Parley's figure beside a reference's; `target` bounds their ratio.
 *
 * @example Parley's rate at least 0.9× the floor's
 * ```ts ignore
 * row("relay", "Relay 1 pair: msg/s", "msg/s", 9_500, "floor", 10_000, { op: ">=", factor: 0.9 });
 * ```
 */
export function row(
  section: string,
  benchmark: string,
  unit: string,
  parley: number,
  reference: string,
  referenceValue: number,
  target?: { op: ">=" | "<="; factor: number },
  note?: string,
): void {
  const ratio = parley / referenceValue;
  rows.push({
    section,
    benchmark,
    unit,
    parley,
    reference,
    referenceValue,
    ratio,
    target: target ? `${target.op === ">=" ? "≥" : "≤"} ${target.factor}×` : "—",
    met: target
      ? Number.isFinite(ratio) &&
        (target.op === ">=" ? ratio >= target.factor : ratio <= target.factor)
      : null,
    note,
  });
}

/** Adds a row saying what could not be measured, and why. */
export function notMeasured(section: string, benchmark: string, why: string): void {
  rows.push({
    section,
    benchmark,
    unit: "",
    parley: NaN,
    reference: "—",
    referenceValue: NaN,
    ratio: NaN,
    target: "—",
    met: null,
    note: `not measured: ${why}`,
  });
}

/** A command's trimmed stdout; "unknown" if it cannot run. */
export async function text(cmd: string, cmdArgs: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args: cmdArgs, stdout: "piped", stderr: "null" })
      .output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "unknown";
  }
}

/**
 * The machine the bench runs on (cores, CPU model, memory, kernel, load at start).
 *
 * @example
 * ```ts ignore
 * console.log(machine().cores);
 * ```
 */
export function machine(): Machine {
  const cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  const cores = navigator.hardwareConcurrency;
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/meminfo"))?.[1]);
  const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  return {
    cores,
    model,
    memGiB: round(memKb / 1048576, 1),
    kernel: Deno.osRelease(),
    loadAtStart: load,
  };
}

/** A figure with its unit, to three significant-ish digits; "—" if not finite. */
export function fmt(n: number, unit: string): string {
  if (!Number.isFinite(n)) return "—";
  const digits = n >= 100 ? 0 : n >= 10 ? 1 : n >= 1 ? 2 : 3;
  return `${n.toLocaleString("en", { maximumFractionDigits: digits })}${unit ? " " + unit : ""}`;
}

/** The rows as a markdown table (benchmark, Parley, reference, ratio, target, met). */
export function table(): string {
  const lines = [
    "| benchmark | Parley | reference | ratio | target | met |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    if (r.note?.startsWith("not measured")) {
      lines.push(`| ${r.benchmark} | — | — | — | — | ${r.note} |`);
      continue;
    }
    const met = r.met === null ? "—" : r.met ? "yes" : "**no**";
    lines.push(
      `| ${r.benchmark} | ${fmt(r.parley, r.unit)} | ${r.reference}: ${
        fmt(r.referenceValue, r.unit)
      } | ` +
        `${Number.isFinite(r.ratio) ? r.ratio.toFixed(2) + "×" : "—"} | ${r.target} | ${met} |`,
    );
  }
  return lines.join("\n");
}

/**
 * Writes tests/bench/results.json (rows and raw results) and prints the table
 * and any missed targets; `t0` is when the run started.
 *
 * @example At the end of a run
 * ```ts ignore
 * await writeResults(t0, machine(), versions);
 * ```
 */
export async function writeResults(t0: number, info: Machine, versions: Versions): Promise<void> {
  const output = {
    date: new Date().toISOString(),
    quick,
    machine: info,
    versions,
    seconds: round((performance.now() - t0) / 1000),
    rows,
    raw,
  };
  await Deno.writeTextFile(RESULTS, JSON.stringify(output, null, 2) + "\n");
  console.log(
    `\n${output.date.slice(0, 10)} · ${info.cores} cores, ${info.model}, ${info.memGiB} GiB · ` +
      `deno ${versions.deno}, node ${versions.node}, peer ${versions.peer}` +
      `${quick ? " · QUICK (not for figures)" : ""} · ${output.seconds} s\n`,
  );
  console.log(table());
  const missed = rows.filter((r) => r.met === false);
  if (missed.length > 0) {
    console.log(
      `\nMissed targets: ${missed.map((r) => `${r.benchmark} (vs ${r.reference})`).join("; ")}`,
    );
  }
  console.log(`\nWritten: tests/bench/results.json`);
}
