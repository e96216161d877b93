/**
 * Client bundles: one entry per island plus the runtime (`revive`) entry,
 * code-split and minified with `Deno.bundle`; extra entries from
 * `config.build.entries` are bundled standalone. Written to `_fresh/` or kept
 * in memory.
 *
 * @module
 */
import { islandId } from "./islands.ts";
import type { ClientBuild } from "./render.ts";
import type { BuildStep } from "./types.ts";
import { fileFromBytes, type StaticFile } from "./static.ts";

/** The build manifest's file name inside the output folder; written last, it marks a complete build. */
export const BUILD_MANIFEST = "manifest.json";

/** The folder inside the output folder where build steps write servable files. */
export const BUILD_STATIC_DIR = "static";

/**
 * Inputs of {@linkcode build}: the absolute project folder, island manifest
 * keys (`./islands/Counter.tsx`) and extra entries (name → path), relative to it.
 *
 * @example Usage
 * ```ts
 * import type { BuildOptions } from "$fresh/build.ts";
 * const opts: BuildOptions = { rootDir: Deno.cwd(), islands: ["./islands/Counter.tsx"] };
 * ```
 */
export interface BuildOptions {
  rootDir: string;
  islands: string[];
  /** @default {} */
  entries?: Record<string, string>;
  /** @default true */
  minify?: boolean;
}

/**
 * A finished client build: code-split bundles by path inside the build, and
 * the extra entries by name (served at `/<name>.js`).
 *
 * @example Usage
 * ```ts
 * import type { BuildOutput } from "$fresh/build.ts";
 * const count = (b: BuildOutput) => b.files.size;
 * ```
 */
export interface BuildOutput extends ClientBuild {
  files: Map<string, Uint8Array<ArrayBuffer>>;
  entries: Map<string, Uint8Array<ArrayBuffer>>;
}

const RUNTIME_ENTRY = decodeURIComponent(new URL("./islands.ts", import.meta.url).pathname);

const resolve = (rootDir: string, path: string) =>
  path.startsWith("/") ? path : `${rootDir}/${path.replace(/^\.\//, "")}`;

function commonDir(paths: string[]): string {
  const dirs = paths.map((p) => p.split("/").slice(0, -1));
  let n = 0;
  while (n < dirs[0].length && dirs.every((d) => d[n] === dirs[0][n])) n++;
  return dirs[0].slice(0, n).join("/");
}

async function bundle(entrypoints: string[], codeSplitting: boolean, minify: boolean) {
  const outputDir = "/_fresh_out";
  const fail = (why: string, cause?: unknown) =>
    new Error(`Cannot build client bundles of ${entrypoints.join(", ")}: ${why}`, { cause });
  let result: Deno.bundle.Result;
  try {
    result = await Deno.bundle({
      entrypoints,
      outputDir,
      platform: "browser",
      format: "esm",
      codeSplitting,
      minify,
      write: false,
    });
  } catch (err) {
    throw fail(err instanceof Error ? err.message : String(err), err);
  }
  if (!result.success || !result.outputFiles) {
    throw fail(result.errors.map((e) => `${e.location?.file ?? ""}: ${e.text}`).join("\n"));
  }
  return new Map(result.outputFiles.map((f) => [
    f.path.slice(outputDir.length + 1),
    f.contents ?? new TextEncoder().encode(f.text()),
  ]));
}

/**
 * Bundles the islands and the runtime (one code-split build) and each extra
 * entry (standalone). The build id is a hash of every output.
 *
 * @throws {Error} naming the entry when bundling fails
 * @example Usage
 * ```ts ignore
 * import { build } from "$fresh/build.ts";
 * const out = await build({ rootDir: Deno.cwd(), islands: ["./islands/Counter.tsx"] });
 * ```
 */
export async function build(options: BuildOptions): Promise<BuildOutput> {
  const { rootDir, islands, entries = {}, minify = true } = options;
  const islandPaths = islands.map((key) => resolve(rootDir, key));
  const entryPoints = [RUNTIME_ENTRY, ...islandPaths];
  const files = await bundle(entryPoints, true, minify);
  // Deno.bundle keeps entry paths relative to their common folder.
  const base = commonDir(entryPoints);
  const outputOf = (path: string) => {
    const out = path.slice(base.length + 1).replace(/\.[jt]sx?$/, ".js");
    if (!files.has(out)) throw new Error(`Cannot find the bundle of ${path}: expected ${out}`);
    return out;
  };
  const islandFiles = Object.fromEntries(
    islands.map((key, i) => [islandId(key), outputOf(islandPaths[i])]),
  );
  const entryFiles = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const [name, path] of Object.entries(entries).sort()) {
    const out = [...(await bundle([resolve(rootDir, path)], false, minify))]
      .filter(([p]) => p.endsWith(".js"));
    if (out.length !== 1) throw new Error(`Cannot bundle entry "${name}" into one file`);
    entryFiles.set(name, out[0][1]);
  }
  const all = [...files, ...entryFiles].sort(([a], [b]) => a < b ? -1 : 1).flat();
  const hash = await crypto.subtle.digest("SHA-256", await new Blob(all).arrayBuffer());
  const buildId = Array.from(
    new Uint8Array(hash).slice(0, 8),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
  return {
    buildId,
    runtime: outputOf(RUNTIME_ENTRY),
    islands: islandFiles,
    files,
    entries: entryFiles,
  };
}

/**
 * Writes a build to `outDir` (replacing what was there): `js/…`, `entries/…`
 * and the build manifest. `steps` run in between, each given the project
 * folder and an empty `static/` folder of the build; a failing step leaves
 * no manifest, so the build counts as missing.
 *
 * @throws {Error} naming the step that failed
 * @example Usage
 * ```ts ignore
 * import { build, writeBuild } from "$fresh/build.ts";
 * await writeBuild(await build({ rootDir: Deno.cwd(), islands: [] }), "./_fresh");
 * ```
 */
export async function writeBuild(
  out: BuildOutput,
  outDir: string,
  steps: BuildStep[] = [],
  rootDir = Deno.cwd(),
): Promise<void> {
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  const write = async (path: string, bytes: Uint8Array) => {
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, bytes);
  };
  for (const [path, bytes] of out.files) await write(`${outDir}/js/${path}`, bytes);
  for (const [name, bytes] of out.entries) await write(`${outDir}/entries/${name}.js`, bytes);
  const staticOutDir = `${outDir}/${BUILD_STATIC_DIR}`;
  await Deno.mkdir(staticOutDir, { recursive: true });
  for (const [i, step] of steps.entries()) {
    await step({ rootDir, staticOutDir }).catch((err) => {
      const why = err instanceof Error ? err.message : err;
      const name = step.name || "anonymous";
      throw new Error(`Cannot finish the build as step ${i + 1} (${name}) failed: ${why}`, {
        cause: err,
      });
    });
  }
  const { buildId, runtime, islands } = out;
  const files = [...out.files.keys()].sort(), entries = [...out.entries.keys()];
  const manifest = JSON.stringify({ buildId, runtime, islands, files, entries }, null, 2) + "\n";
  await write(`${outDir}/${BUILD_MANIFEST}`, new TextEncoder().encode(manifest));
}

/**
 * Reads a build written by {@linkcode writeBuild}, or `undefined` when none.
 *
 * @example Usage
 * ```ts
 * import { readBuild } from "$fresh/build.ts";
 * const out = await readBuild("./_fresh");
 * ```
 */
export async function readBuild(outDir: string): Promise<BuildOutput | undefined> {
  const text = await Deno.readTextFile(`${outDir}/${BUILD_MANIFEST}`).catch((err) => {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  });
  if (text === undefined) return undefined;
  const m = JSON.parse(text);
  const read = async (paths: string[], dir: string, ext = "") =>
    new Map(
      await Promise.all(
        paths.map(async (p) => [p, await Deno.readFile(`${outDir}/${dir}/${p}${ext}`)] as const),
      ),
    );
  const [files, entries] = await Promise.all([
    read(m.files, "js"),
    read(m.entries, "entries", ".js"),
  ]);
  return { buildId: m.buildId, runtime: m.runtime, islands: m.islands, files, entries };
}

/**
 * Turns a build's bytes into servable files, keyed `prefix + path + suffix`.
 *
 * @example Usage
 * ```ts
 * import { toStaticFiles } from "$fresh/build.ts";
 * const files = await toStaticFiles(new Map([["sdk", new Uint8Array([1])]]), ".js", "/");
 * ```
 */
export async function toStaticFiles(
  bytes: Map<string, Uint8Array<ArrayBuffer>>,
  suffix = "",
  prefix = "",
): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  for (const [path, b] of bytes) {
    files.set(prefix + path + suffix, await fileFromBytes(path + suffix, b));
  }
  return files;
}
