/**
 * The config's folders and build options, resolved; and the client build:
 * one code-split, minified `Deno.bundle` of the runtime (`revive`) and every
 * island, plus each extra entry standalone. Written to `_fresh/`, or kept in memory.
 *
 * @module
 */
import { islandId } from "./runtime.ts";
import type { BuildStep, FreshConfig } from "./types.ts";

/** The whole build in one file, written last: without it there is no build. */
export const BUILD_MANIFEST = "build.json";

/** The folder in the output folder where build steps write servable files. */
export const BUILD_STATIC_DIR = "static";

const RUNTIME_ENTRY = decodeURIComponent(new URL("./runtime.ts", import.meta.url).pathname);

const absolute = (rootDir: string, path: string) =>
  path.startsWith("/") ? path : `${rootDir}/${path.replace(/^\.\//, "")}`;

/**
 * A config's folders and build options, defaults applied, paths absolute
 * (relative ones are taken from the folder of `baseUrl`).
 *
 * @example Usage
 * ```ts
 * import { resolveConfig } from "$fresh/build.ts";
 * resolveConfig("file:///app/fresh.gen.ts").staticDir; // "/app/static"
 * ```
 */
export function resolveConfig(baseUrl: string, config: FreshConfig = {}) {
  const rootDir = decodeURIComponent(new URL(".", baseUrl).pathname).replace(/\/$/, "");
  const abs = (path: string) => absolute(rootDir, path);
  const entries = Object.entries(config.build?.entries ?? {}).map(([name, p]) => [name, abs(p)]);
  return {
    rootDir,
    staticDir: abs(config.staticDir ?? "static"),
    outDir: abs(config.build?.outDir ?? "_fresh"),
    entries: Object.fromEntries(entries) as Record<string, string>,
    steps: config.build?.steps ?? [],
  };
}

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
}

/**
 * A client build: its id (a hash of every output), the paths in it of the
 * runtime and of each island (by id), the bundles by path and the extra
 * entries by name. Bundles are text.
 *
 * @example Usage
 * ```ts
 * import type { BuildOutput } from "$fresh/build.ts";
 * const count = (b: BuildOutput) => Object.keys(b.files).length;
 * ```
 */
export interface BuildOutput {
  buildId: string;
  runtime: string;
  islands: Record<string, string>;
  files: Record<string, string>;
  entries: Record<string, string>;
}

async function bundle(entrypoints: string[], codeSplitting: boolean) {
  const outputDir = "/_fresh_out";
  const fail = (why: string, cause?: unknown) =>
    new Error(`Cannot build client bundles of ${entrypoints.join(", ")}: ${why}`, { cause });
  const options = { outputDir, platform: "browser", format: "esm", minify: true } as const;
  let result: Deno.bundle.Result;
  try {
    result = await Deno.bundle({ ...options, entrypoints, codeSplitting, write: false });
  } catch (err) {
    throw fail(err instanceof Error ? err.message : String(err), err);
  }
  if (!result.success || !result.outputFiles) {
    throw fail(result.errors.map((e) => `${e.location?.file ?? ""}: ${e.text}`).join("\n"));
  }
  return Object.fromEntries(result.outputFiles.map((f) => [
    f.path.slice(outputDir.length + 1),
    f.text(),
  ]));
}

/**
 * Bundles the islands and the runtime (one code-split build) and each extra
 * entry (standalone).
 *
 * @throws {Error} naming the entry when bundling fails
 * @example Usage
 * ```ts ignore
 * import { build } from "$fresh/build.ts";
 * const out = await build({ rootDir: Deno.cwd(), islands: ["./islands/Counter.tsx"] });
 * ```
 */
export async function build(options: BuildOptions): Promise<BuildOutput> {
  const { rootDir, islands, entries = {} } = options;
  const islandPaths = islands.map((key) => absolute(rootDir, key));
  const entryPoints = [RUNTIME_ENTRY, ...islandPaths];
  const files = await bundle(entryPoints, true);
  // Deno.bundle keeps entry paths relative to their common folder.
  const dirs = entryPoints.map((p) => p.split("/").slice(0, -1));
  let common = 0;
  while (dirs.every((d) => common < d.length && d[common] === dirs[0][common])) common++;
  const outputOf = (path: string) => {
    const out = path.split("/").slice(common).join("/").replace(/\.[jt]sx?$/, ".js");
    if (!(out in files)) throw new Error(`Cannot find the bundle of ${path}: expected ${out}`);
    return out;
  };
  const entryFiles: Record<string, string> = {};
  for (const [name, path] of Object.entries(entries).sort()) {
    const out = await bundle([absolute(rootDir, path)], false);
    const js = Object.keys(out).filter((p) => p.endsWith(".js"));
    if (js.length !== 1) throw new Error(`Cannot bundle entry "${name}" into one file`);
    entryFiles[name] = out[js[0]];
  }
  const all = JSON.stringify([Object.entries(files).sort(), Object.entries(entryFiles)]);
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(all));
  return {
    buildId: Array.from(new Uint8Array(hash, 0, 8), (b) => b.toString(16).padStart(2, "0"))
      .join(""),
    runtime: outputOf(RUNTIME_ENTRY),
    islands: Object.fromEntries(islands.map((key, i) => [islandId(key), outputOf(islandPaths[i])])),
    files,
    entries: entryFiles,
  };
}

/**
 * Writes a build to `outDir` (replacing what was there) as one file. The
 * `steps` run first, each given the project folder and an empty `static/`
 * folder of the build; a failing step leaves no build, only its error.
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
  await Deno.writeTextFile(`${outDir}/${BUILD_MANIFEST}`, JSON.stringify(out));
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
  return text === undefined ? undefined : JSON.parse(text);
}
