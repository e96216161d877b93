/**
 * Client bundles: one code-split, minified `Deno.bundle` of the runtime
 * (`revive`) and every island, plus each of `config.build.entries`
 * standalone. Written to `_fresh/`, or kept in memory. And the config's
 * folders and build options, resolved.
 *
 * @module
 */
import { islandId } from "./runtime.ts";
import type { BuildStep, FreshConfig } from "./types.ts";

/** The build's file in the output folder: written last, it marks a complete build. */
export const BUILD_MANIFEST = "manifest.json";

/** The folder in the output folder where build steps write servable files. */
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
}

/**
 * A finished client build: the build id (a hash of every output), the paths
 * of the runtime and of each island (by island id) inside the build, the
 * bundles by path, and the extra entries by name.
 *
 * @example Usage
 * ```ts
 * import type { BuildOutput } from "$fresh/build.ts";
 * const count = (b: BuildOutput) => b.files.size;
 * ```
 */
export interface BuildOutput {
  buildId: string;
  runtime: string;
  islands: Record<string, string>;
  files: Map<string, Uint8Array<ArrayBuffer>>;
  entries: Map<string, Uint8Array<ArrayBuffer>>;
}

const absolute = (rootDir: string, path: string) =>
  path.startsWith("/") ? path : `${rootDir}/${path.replace(/^\.\//, "")}`;

/**
 * A config's folders and build options with every default applied and every
 * path absolute (relative ones are taken from the folder of `baseUrl`).
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
    build: {
      outDir: abs(config.build?.outDir ?? "_fresh"),
      entries: Object.fromEntries(entries) as Record<string, string>,
      steps: config.build?.steps ?? [],
    },
  };
}

const RUNTIME_ENTRY = decodeURIComponent(new URL("./runtime.ts", import.meta.url).pathname);

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
  return new Map(result.outputFiles.map((f) => [
    f.path.slice(outputDir.length + 1),
    f.contents ?? new TextEncoder().encode(f.text()),
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
  const resolve = (path: string) => absolute(rootDir, path);
  const islandPaths = islands.map(resolve);
  const entryPoints = [RUNTIME_ENTRY, ...islandPaths];
  const files = await bundle(entryPoints, true);
  // Deno.bundle keeps entry paths relative to their common folder.
  const dirs = entryPoints.map((p) => p.split("/").slice(0, -1));
  let common = 0;
  while (dirs.every((d) => common < d.length && d[common] === dirs[0][common])) common++;
  const outputOf = (path: string) => {
    const out = path.split("/").slice(common).join("/").replace(/\.[jt]sx?$/, ".js");
    if (!files.has(out)) throw new Error(`Cannot find the bundle of ${path}: expected ${out}`);
    return out;
  };
  const entryFiles = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const [name, path] of Object.entries(entries).sort()) {
    const js = [...(await bundle([resolve(path)], false))].filter(([p]) => p.endsWith(".js"));
    if (js.length !== 1) throw new Error(`Cannot bundle entry "${name}" into one file`);
    entryFiles.set(name, js[0][1]);
  }
  const all = [...files, ...entryFiles].sort(([a], [b]) => a < b ? -1 : 1).flat();
  const hash = await crypto.subtle.digest("SHA-256", await new Blob(all).arrayBuffer());
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
 * Writes a build to `outDir` (replacing what was there) as one manifest file,
 * bundles included: they are text. `steps` run first, each given the project
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
  const text = (files: Map<string, Uint8Array>) =>
    Object.fromEntries([...files].map(([path, bytes]) => [path, new TextDecoder().decode(bytes)]));
  const { buildId, runtime, islands } = out;
  const manifest = {
    buildId,
    runtime,
    islands,
    files: text(out.files),
    entries: text(out.entries),
  };
  await Deno.writeTextFile(`${outDir}/${BUILD_MANIFEST}`, JSON.stringify(manifest));
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
  const { files, entries, ...rest } = JSON.parse(text);
  const bytes = (texts: Record<string, string>) =>
    new Map(Object.entries(texts).map(([path, t]) => [path, new TextEncoder().encode(t)]));
  return { ...rest, files: bytes(files), entries: bytes(entries) };
}
