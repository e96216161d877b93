/**
 * The SDK's API reference: `deno doc --html` of lib/sdk/mod.ts, served by
 * the app at `/docs/sdk/`.
 *
 * @module
 */
import { SDK_VERSION } from "../../lib/sdk/version.ts";
import { REPO_ROOT, run } from "./npm_tools.ts";
import { PACKAGE_NAME } from "./pack.ts";
import { SDK_ENTRY } from "./types.ts";

/** Source links point at the build machine's files (`file:///…`): no use to a reader. */
const LOCAL_SOURCE_LINK = / href="file:[^"]*"/g;

/** Usage blocks import from the documented file (`"."`); readers import the package. */
const LOCAL_IMPORT = / from &quot;\.&quot;;/g;

async function* htmlFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* htmlFiles(path);
    else if (entry.name.endsWith(".html")) yield path;
  }
}

/**
 * Writes the HTML reference of the SDK's exports, from their JSDoc, into
 * `outDir` (its `index.html` lists every export).
 *
 * @throws {Error} with `deno doc`'s diagnostics
 * @example
 * ```ts ignore
 * await writeSdkDocs("./_fresh/static/docs/sdk");
 * ```
 */
export async function writeSdkDocs(outDir: string): Promise<void> {
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(outDir, { recursive: true });
  await run(Deno.execPath(), [
    "doc",
    "--html",
    `--name=parley-sdk ${SDK_VERSION}`,
    `--output=${outDir}`,
    SDK_ENTRY,
  ], { cwd: REPO_ROOT, env: { NO_COLOR: "1" } });
  for await (const path of htmlFiles(outDir)) {
    const html = await Deno.readTextFile(path);
    await Deno.writeTextFile(
      path,
      html.replace(LOCAL_SOURCE_LINK, "").replace(
        LOCAL_IMPORT,
        ` from &quot;${PACKAGE_NAME}&quot;;`,
      ),
    );
  }
}
