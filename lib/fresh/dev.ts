/**
 * `$fresh/dev.ts`: the project's dev and build tool.
 *
 * @module
 */
import { build, BUILD_MANIFEST, writeBuild } from "./build.ts";
import { resolveConfig } from "./config.ts";
import { writeManifest } from "./manifest.ts";
import type { FreshConfig } from "./types.ts";

/** What makes a written build stale, relative to the project folder. */
const BUILD_INPUTS = ["routes", "islands", "lib", "static", "deno.json", "fresh.config.ts"];

async function newestMtime(path: string): Promise<number> {
  const info = await Deno.lstat(path).catch(() => undefined);
  if (!info?.isDirectory) return info?.mtime?.getTime() ?? 0;
  let newest = 0;
  for await (const entry of Deno.readDir(path)) {
    newest = Math.max(newest, await newestMtime(`${path}/${entry.name}`));
  }
  return newest;
}

/**
 * Whether the build in `outDir` is missing or older than any file of the
 * project's routes, islands, lib, static, `deno.json` or `fresh.config.ts`.
 *
 * @example Usage
 * ```ts ignore
 * import { isBuildStale } from "$fresh/dev.ts";
 * if (await isBuildStale(Deno.cwd(), `${Deno.cwd()}/_fresh`)) console.log("stale");
 * ```
 */
export async function isBuildStale(rootDir: string, outDir: string): Promise<boolean> {
  const built = await newestMtime(`${outDir}/${BUILD_MANIFEST}`);
  if (built === 0) return true;
  const newest = await Promise.all(BUILD_INPUTS.map((p) => newestMtime(`${rootDir}/${p}`)));
  return Math.max(...newest) > built;
}

/**
 * Regenerates `fresh.gen.ts` beside `base`, then by `args`:
 * - `manifest`: nothing more;
 * - `build`: writes the client build to `_fresh/` (`build --if-stale`: only
 *   when it is missing or stale);
 * - none: builds (`--if-stale` as above), then serves `entry`'s default
 *   export with `config.server` in this process (`deno task dev` runs this
 *   under `--watch`).
 *
 * @throws {TypeError} on an unknown command
 * @example Usage
 * ```ts ignore
 * import dev from "$fresh/dev.ts";
 * import config from "./fresh.config.ts";
 * await dev(import.meta.url, "./main.ts", config);
 * ```
 */
export async function dev(
  base: string,
  entry: string,
  config: FreshConfig = {},
  args: string[] = Deno.args,
): Promise<void> {
  const command = args.find((arg) => !arg.startsWith("-"));
  if (command !== undefined && command !== "manifest" && command !== "build") {
    throw new TypeError(
      `Cannot run dev command as it must be manifest, build or none: current value is "${command}"`,
    );
  }
  const { rootDir, build: { outDir, entries, minify, steps } } = resolveConfig(base, config);
  const files = await writeManifest(rootDir);
  if (command === "manifest") return;
  if (args.includes("--if-stale") && !(await isBuildStale(rootDir, outDir))) {
    console.log(`Client build in ${outDir} is up to date`);
  } else {
    const out = await build({ rootDir, islands: files.islands, entries, minify });
    await writeBuild(out, outDir, steps, rootDir);
    console.log(`Client build ${out.buildId} written to ${outDir}`);
  }
  if (command === "build") return;
  const app = (await import(new URL(entry, base).href)).default;
  if (typeof app?.fetch !== "function") {
    throw new TypeError(`Cannot serve ${entry} as its default export has no fetch function`);
  }
  await Deno.serve(config.server ?? {}, app.fetch).finished;
}

export default dev;
