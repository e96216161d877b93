/**
 * `deno task sdk:pack`: builds the npm package `parley-sdk` from lib/sdk
 * into dist/sdk/package (git-ignored) and packs it with `npm pack` into
 * dist/sdk/parley-sdk-<version>.tgz. The package holds one ESM bundle (for
 * browsers, Deno, and Node 22+ where WebSocket is global), the declarations
 * generated from the source, its package.json, README and licence. Packing
 * needs npm (for `npm pack`); building the package's files needs only Deno.
 *
 * @module
 */
import { SDK_VERSION } from "../../lib/sdk/version.ts";
import { REPO_ROOT, run, TOOLS_DIR } from "./npm_tools.ts";
import { SDK_ENTRY, writeSdkTypes } from "./types.ts";

/** The package's name on npm. */
export const PACKAGE_NAME = "parley-sdk";

/** The package.json of the package. */
export function packageJson(): Record<string, unknown> {
  return {
    name: PACKAGE_NAME,
    version: SDK_VERSION,
    description:
      "Client SDK of Parley, a self-hostable WebRTC signaling service: Skapi's Realtime and WebRTC API (rooms, presence, messages, calls)",
    keywords: ["webrtc", "signaling", "realtime", "websocket", "video-call", "skapi", "parley"],
    license: "MIT",
    type: "module",
    main: "./index.js",
    module: "./index.js",
    types: "./index.d.ts",
    exports: {
      ".": { types: "./index.d.ts", default: "./index.js" },
      "./package.json": "./package.json",
    },
    files: ["index.js", "index.d.ts", "README.md", "LICENSE"],
    sideEffects: false,
    engines: { node: ">=22" },
  };
}

/** One ESM file of lib/sdk and what it imports, readable (apps minify). */
async function bundleSdk(): Promise<string> {
  const outputDir = "/parley_sdk_out";
  const result = await Deno.bundle({
    entrypoints: [SDK_ENTRY],
    outputDir,
    platform: "browser",
    format: "esm",
    codeSplitting: false,
    minify: false,
    write: false,
  });
  const files = (result.outputFiles ?? []).filter((f) => f.path.endsWith(".js"));
  if (!result.success || files.length !== 1) {
    throw new Error(
      `Cannot bundle ${SDK_ENTRY} into one file: ${
        result.errors.map((e) => e.text).join("; ") || `${files.length} files`
      }`,
    );
  }
  return `// ${PACKAGE_NAME} ${SDK_VERSION}: bundled from lib/sdk/mod.ts. Do not edit.\n` +
    files[0].text();
}

/**
 * Builds the package into `outDir/package` (replacing `outDir`) and packs
 * it; resolves to the tarball's path.
 *
 * @throws {Error} when bundling, the declarations or `npm pack` fail
 * @example
 * ```ts ignore
 * const tarball = await packSdk(); // …/dist/sdk/parley-sdk-0.1.0.tgz
 * ```
 */
export async function packSdk(outDir = `${REPO_ROOT}/dist/sdk`): Promise<string> {
  const dir = `${outDir}/package`;
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const [js] = await Promise.all([bundleSdk(), writeSdkTypes(`${dir}/index.d.ts`)]);
  await Deno.writeTextFile(`${dir}/index.js`, js);
  await Deno.writeTextFile(`${dir}/package.json`, JSON.stringify(packageJson(), null, 2) + "\n");
  await Deno.copyFile(`${TOOLS_DIR}/PACKAGE_README.md`, `${dir}/README.md`);
  await Deno.copyFile(`${REPO_ROOT}/LICENSE`, `${dir}/LICENSE`);
  const packed = JSON.parse(
    await run("npm", ["pack", "--json", "--pack-destination", outDir, "--loglevel=error"], {
      cwd: dir,
    }),
  );
  return `${outDir}/${packed[0].filename}`;
}

if (import.meta.main) console.log(await packSdk());
