/**
 * The SDK's TypeScript declarations, generated from lib/sdk's source by
 * dts-bundle-generator (on TypeScript's compiler) into one `.d.ts` file: the
 * npm package's `index.d.ts` and the app's `/sdk.d.ts`. Both tools are npm
 * packages that Deno runs from its cache (see dts_bundle.ts): making the
 * declarations needs Deno only, no Node.js or npm.
 *
 * @module
 */
import { SDK_VERSION } from "../../lib/sdk/version.ts";
import { REPO_ROOT, run, TOOLS_DIR } from "./npm_tools.ts";

/** The SDK's entry module: everything it exports is the package's API. */
export const SDK_ENTRY: string = `${REPO_ROOT}/lib/sdk/mod.ts`;

/**
 * The compiler options the declarations are made with: the SDK's own
 * `.ts` imports allowed, browser globals (WebSocket, RTCPeerConnection…)
 * from TypeScript's DOM lib, no Deno types.
 */
const COMPILER_OPTIONS = {
  target: "ES2022",
  module: "ESNext",
  moduleResolution: "Bundler",
  lib: ["ES2022", "DOM", "DOM.Iterable"],
  allowImportingTsExtensions: true,
  noEmit: true,
  strict: true,
  types: [],
};

/**
 * Writes the declarations of `entry` (default: lib/sdk/mod.ts) to
 * `outFile`, as one self-contained module; fails when they do not
 * type-check.
 *
 * @throws {Error} with the generator's diagnostics
 * @example
 * ```ts ignore
 * await writeSdkTypes("./_fresh/static/sdk.d.ts");
 * ```
 */
export async function writeSdkTypes(outFile: string, entry: string = SDK_ENTRY): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "parley-sdk-types-" });
  try {
    const tsconfig = `${dir}/tsconfig.json`;
    await Deno.writeTextFile(
      tsconfig,
      JSON.stringify({ compilerOptions: COMPILER_OPTIONS, files: [entry] }),
    );
    const generated = `${dir}/index.d.ts`;
    await run(Deno.execPath(), [
      "run",
      "--allow-read",
      `--allow-write=${dir}`,
      "--allow-env",
      `${TOOLS_DIR}/dts_bundle.ts`,
      tsconfig,
      entry,
      generated,
    ], { cwd: REPO_ROOT, env: { NO_COLOR: "1" } });
    const banner = `// parley-sdk ${SDK_VERSION}: TypeScript declarations generated from ` +
      `lib/sdk/mod.ts by dts-bundle-generator. Do not edit.\n\n`;
    await Deno.mkdir(outFile.slice(0, outFile.lastIndexOf("/")) || ".", { recursive: true });
    await Deno.writeTextFile(outFile, banner + await Deno.readTextFile(generated));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
