/**
 * The SDK's declarations are made by Deno alone: the build step runs
 * dts-bundle-generator and TypeScript from Deno's npm cache, with no node or
 * npm on PATH (Deno Deploy's build, a machine with only Deno); and a type
 * error in the SDK's source fails the build with TypeScript's diagnostic.
 *
 * @module
 */
import assert from "node:assert/strict";
import { REPO_ROOT } from "../../../tools/sdk/npm_tools.ts";
import { writeSdkTypes } from "../../../tools/sdk/types.ts";

Deno.test("the SDK's declarations and reference: made by Deno alone", async (t) => {
  const work = await Deno.makeTempDir({ prefix: "parley-sdk-types-test-" });
  try {
    await t.step("the build step runs with no node or npm on PATH", async () => {
      const emptyPath = `${work}/bin`;
      await Deno.mkdir(emptyPath);
      const staticOutDir = `${work}/static`;
      const step = new URL("../../../tools/sdk/site.ts", import.meta.url).href;
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `const { sdkTypesAndDocs } = await import(${JSON.stringify(step)});
await sdkTypesAndDocs({ rootDir: ${JSON.stringify(REPO_ROOT)}, staticOutDir: ${
            JSON.stringify(staticOutDir)
          } });`,
        ],
        cwd: REPO_ROOT,
        env: { PATH: emptyPath, NO_COLOR: "1" },
        stdin: "null",
      }).output();
      assert.ok(output.success, new TextDecoder().decode(output.stderr));
      const dts = await Deno.readTextFile(`${staticOutDir}/sdk.d.ts`);
      assert.match(
        dts,
        /^\/\/ parley-sdk .* generated from lib\/sdk\/mod\.ts by dts-bundle-generator/,
      );
      assert.match(dts, /export declare class RealtimeClient /);
      assert.doesNotMatch(dts, /^(?:import|export)\b[^\n]* from "\./m, "one self-contained module");
      assert.match(
        await Deno.readTextFile(`${staticOutDir}/docs/sdk/index.html`),
        /RealtimeClient/,
      );
    });

    await t.step("a type error in the source fails with TypeScript's diagnostic", async () => {
      const entry = `${work}/broken.ts`;
      await Deno.writeTextFile(entry, `export const port: number = "8000";\n`);
      await assert.rejects(
        () => writeSdkTypes(`${work}/broken.d.ts`, entry),
        /TS2322: Type 'string' is not assignable to type 'number'/,
      );
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
