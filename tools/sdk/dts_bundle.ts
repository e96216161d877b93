/**
 * `deno run tools/sdk/dts_bundle.ts <tsconfig> <entry> <out-file>`:
 * dts-bundle-generator's bundle of `entry`'s declarations, written to
 * `out-file`, on TypeScript's compiler — both npm packages run by Deno from
 * its own cache (pinned in deno.json), so the build needs no Node.js or npm.
 * {@linkcode writeSdkTypes} runs it as a subprocess: TypeScript's program
 * stays out of the build's process, and its diagnostics (printed on stderr)
 * end up in the build's error.
 *
 * TypeScript is imported here, beside the generator, so that Deno resolves
 * the generator's `typescript` dependency (any 5+) to the pinned 5.9.3:
 * TypeScript 7 has no JS compiler API for it to use.
 *
 * @module
 */
import ts from "typescript";
import { generateDtsBundle } from "dts-bundle-generator";

/**
 * The declarations of `entry`, compiled with the options of `tsconfig`, as
 * one self-contained module without the generator's banner.
 *
 * @throws {Error} "Compiled with errors" after printing TypeScript's diagnostics
 * @example
 * ```ts ignore
 * const dts = bundleDeclarations("/tmp/tsconfig.json", "./lib/sdk/mod.ts");
 * ```
 */
export function bundleDeclarations(tsconfig: string, entry: string): string {
  const [bundle] = generateDtsBundle(
    [{ filePath: entry, output: { noBanner: true } }],
    { preferredConfigPath: tsconfig },
  );
  return bundle;
}

if (import.meta.main) {
  const [tsconfig, entry, outFile] = Deno.args;
  if (!outFile) {
    throw new TypeError("Usage: deno run -A tools/sdk/dts_bundle.ts <tsconfig> <entry> <out-file>");
  }
  if (!ts.version.startsWith("5.")) {
    throw new Error(`Cannot make declarations with TypeScript ${ts.version}: pin 5.x in deno.json`);
  }
  await Deno.writeTextFile(outFile, bundleDeclarations(tsconfig, entry));
}
