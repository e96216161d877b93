/**
 * The npm tools of the SDK's build (TypeScript and dts-bundle-generator for
 * the declarations; esbuild and TypeScript for the package's tests), pinned
 * in {@linkcode NPM_TOOLS} and installed into dist/npm-tools. Installing
 * them also puts them in npm's cache, which is what lets the package tests
 * install them offline: `deno task test` runs this file first.
 *
 * @module
 */

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

/** The tools, pinned by package name: TypeScript 5, as 7 has no JS compiler API. */
export const NPM_TOOLS: Readonly<Record<string, string>> = Object.freeze({
  "dts-bundle-generator": "9.5.1",
  esbuild: "0.28.2",
  typescript: "5.9.3",
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
      throw new Error(
        `Cannot run ${command} as it is not installed: the SDK's build needs Node.js and npm (Debian: apt-get install nodejs npm)`,
      );
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

/**
 * The path of an installed tool's command.
 *
 * @example
 * ```ts ignore
 * await run("node", [toolBin("tsc"), "--version"]);
 * ```
 */
export function toolBin(name: string): string {
  return `${NPM_TOOLS_DIR}/node_modules/.bin/${name}`;
}

if (import.meta.main) {
  await ensureNpmTools();
  console.log(`npm tools ready in ${NPM_TOOLS_DIR}/node_modules`);
}
