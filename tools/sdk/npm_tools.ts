/**
 * Running commands for the SDK's tools, and the npm tools of the package's
 * test (tests/sdk/package_test.ts): TypeScript and esbuild, pinned in
 * {@linkcode NPM_TOOLS}, which that test `npm install`s offline beside the
 * `parley-sdk` tarball. Installing them here, into dist/npm-tools, puts them
 * in npm's cache: `deno task test` runs this file first. Only that test and
 * `deno task sdk:pack` (`npm pack`) need Node.js and npm; the app's build
 * runs its npm tools through Deno (see dts_bundle.ts).
 *
 * @module
 */
import denoConfig from "../../deno.json" with { type: "json" };

/** The repository root. */
export const REPO_ROOT: string = decodeURIComponent(new URL("../../", import.meta.url).pathname)
  .replace(/\/$/, "");

/** This folder: the tools' sources and the package's README. */
export const TOOLS_DIR: string = decodeURIComponent(new URL(".", import.meta.url).pathname)
  .replace(/\/$/, "");

/**
 * Where the tools are installed (git-ignored). Not beside these sources: a
 * package.json there would become a Deno config scope of its own.
 */
export const NPM_TOOLS_DIR = `${REPO_ROOT}/dist/npm-tools`;

/** The version deno.json pins `name` at (`npm:name@version`), so both agree. */
function pinnedInDenoJson(name: string): string {
  const imports: Record<string, string> = denoConfig.imports;
  const version = imports[name]?.match(/^npm:(?:@[^/]+\/)?[^@]+@(.+)$/)?.[1];
  if (!version) throw new Error(`Cannot find ${name} pinned in deno.json's imports`);
  return version;
}

/**
 * The package test's tools, pinned by package name: the TypeScript the
 * declarations are made with (5, as 7 has no JS compiler API), and esbuild.
 */
export const NPM_TOOLS: Readonly<Record<string, string>> = Object.freeze({
  esbuild: "0.28.2",
  typescript: pinnedInDenoJson("typescript"),
});

/**
 * Runs a command to its end; resolves to its stdout, rejects with its
 * stderr (or the missing program, with how to get it).
 *
 * @throws {Error} naming the command when it fails or cannot start
 * @example
 * ```ts ignore
 * const version = await run("node", ["--version"]);
 * ```
 */
export async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const shown = [command, ...args].join(" ");
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, {
      args,
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      const hint = ["node", "npm"].includes(command)
        ? ": packing the SDK and its package test need Node.js and npm (Debian: apt-get install nodejs npm)"
        : "";
      throw new Error(`Cannot run ${command} as it is not installed${hint}`);
    }
    throw error;
  }
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  if (!output.success) {
    throw new Error(
      `Cannot finish \`${shown}\` (exit ${output.code}): ${
        (text(output.stderr) || text(output.stdout)).trim().slice(-2000)
      }`,
    );
  }
  return text(output.stdout);
}

/**
 * Installs the pinned tools into {@linkcode NPM_TOOLS_DIR} unless each is
 * there at its pinned version. Prefers npm's cache, so it works offline
 * once it has run online.
 *
 * @example
 * ```ts ignore
 * await ensureNpmTools();
 * ```
 */
export async function ensureNpmTools(): Promise<void> {
  const installed = await Promise.all(
    Object.entries(NPM_TOOLS).map(async ([name, version]) => {
      try {
        const path = `${NPM_TOOLS_DIR}/node_modules/${name}/package.json`;
        return JSON.parse(await Deno.readTextFile(path)).version === version;
      } catch {
        return false;
      }
    }),
  );
  if (installed.every(Boolean)) return;
  await Deno.mkdir(NPM_TOOLS_DIR, { recursive: true });
  await Deno.writeTextFile(
    `${NPM_TOOLS_DIR}/package.json`,
    JSON.stringify({ private: true, devDependencies: NPM_TOOLS }, null, 2) + "\n",
  );
  await run("npm", [
    "install",
    "--prefer-offline",
    "--no-audit",
    "--no-fund",
    "--no-package-lock",
    "--loglevel=error",
  ], { cwd: NPM_TOOLS_DIR });
}

if (import.meta.main) {
  await ensureNpmTools();
  console.log(`npm tools ready in ${NPM_TOOLS_DIR}/node_modules`);
}
