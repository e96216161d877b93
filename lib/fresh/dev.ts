/**
 * `$fresh/dev.ts`: the project's dev and build tool.
 *
 * @module
 */
import { build, BUILD_MANIFEST, writeBuild } from "./build.ts";
import { resolveConfig, rootDirOf, serveOptions } from "./config.ts";
import { writeManifest } from "./manifest.ts";
import type { FreshConfig } from "./types.ts";

/** Folders whose changes make a written build stale. */
export const BUILD_INPUTS = ["routes", "islands", "lib", "static"] as const;

async function newestMtime(path: string): Promise<number> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch {
    return 0;
  }
  if (!info.isDirectory) return info.mtime?.getTime() ?? 0;
  let newest = 0;
  for await (const entry of Deno.readDir(path)) {
    newest = Math.max(newest, await newestMtime(`${path}/${entry.name}`));
  }
  return newest;
}

/**
 * Whether the build in `outDir` is missing or older than any file in
 * {@linkcode BUILD_INPUTS}, `deno.json` or `fresh.config.ts`.
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
  const inputs = [...BUILD_INPUTS, "deno.json", "fresh.config.ts"];
  const newest = await Promise.all(inputs.map((p) => newestMtime(`${rootDir}/${p}`)));
  return Math.max(...newest) > built;
}

async function loadConfig(rootDir: string): Promise<FreshConfig> {
  const path = `${rootDir}/fresh.config.ts`;
  try {
    await Deno.stat(path);
  } catch {
    return {};
  }
  return (await import(new URL(`file://${path}`).href)).default ?? {};
}

/** The commands of {@linkcode dev}; none means "develop". */
export const DEV_COMMANDS = ["manifest", "build", "start", "cluster"] as const;

/**
 * Runs one dev command, chosen by `args`:
 * - `manifest`: regenerate `fresh.gen.ts`;
 * - `build`: regenerate it and write the client build to `_fresh/`;
 *   `build --if-stale` builds only when `_fresh/` is missing or stale;
 * - `start`: `build --if-stale`, then serve `entry`'s default export on the
 *   config's port (`$PORT`, else 8000) in this process;
 * - `cluster`: `build --if-stale`, then `deno serve --parallel` `entry` on that
 *   port (one isolate per CPU, or `$DENO_JOBS`);
 * - none: regenerate, build, then serve like `start` (what `deno task dev`
 *   runs under `--watch`).
 * The config comes from `fresh.config.ts` beside `base`, when present.
 *
 * @throws {TypeError} on an unknown command
 * @example Usage
 * ```ts ignore
 * import dev from "$fresh/dev.ts";
 * await dev(import.meta.url, "./main.ts");
 * ```
 */
export async function dev(
  base: string,
  entry: string,
  args: string[] = Deno.args,
): Promise<void> {
  const [command, ...flags] = args;
  if (command !== undefined && !(DEV_COMMANDS as readonly string[]).includes(command)) {
    throw new TypeError(
      `Cannot run dev command as it must be one of ${
        DEV_COMMANDS.join(", ")
      } or none: current value is "${command}"`,
    );
  }
  const rootDir = rootDirOf(base);
  const files = await writeManifest(rootDir);
  if (command === "manifest") return;
  const config = await loadConfig(rootDir);
  const resolved = resolveConfig({ routes: {}, islands: {}, baseUrl: base }, config);
  const { outDir, entries, minify, steps } = resolved.build;
  const ifStale = flags.includes("--if-stale") || command === "start" || command === "cluster";
  if (ifStale && !(await isBuildStale(rootDir, outDir))) {
    console.log(`Client build in ${outDir} is up to date`);
  } else {
    const out = await build({ rootDir, islands: files.islands, entries, minify });
    await writeBuild(out, outDir, steps, rootDir);
    console.log(`Client build ${out.buildId} written to ${outDir}`);
  }
  if (command === "build") return;
  const entryUrl = new URL(entry, base);
  if (command === "cluster") {
    if (resolved.tls) {
      throw new TypeError(
        "Cannot serve a cluster over TLS as `deno serve` takes no certificate: terminate TLS in a proxy in front of it, or use `start`",
      );
    }
    // `deno serve` takes no port from the environment, so pass the resolved one.
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: [
        "serve",
        "-A",
        "--parallel",
        "--port",
        String(resolved.port),
        "--host",
        resolved.hostname,
        decodeURIComponent(entryUrl.pathname),
      ],
    }).spawn().status;
    if (code !== 0) throw new Error(`Cannot keep serving ${entry}: deno serve exited with ${code}`);
    return;
  }
  const app = (await import(entryUrl.href)).default;
  if (typeof app?.fetch !== "function") {
    throw new TypeError(`Cannot serve ${entry} as its default export has no fetch function`);
  }
  const { options, scheme } = await serveOptions(resolved);
  const server = Deno.serve({
    ...options,
    onListen: ({ hostname, port }) =>
      console.log(
        `Listening on ${scheme}://${hostname === "0.0.0.0" ? "localhost" : hostname}:${port}/`,
      ),
  }, app.fetch);
  await server.finished;
}

export default dev;
