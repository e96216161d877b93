/**
 * What the app serves for developers: `/sdk.js` typed through
 * `X-TypeScript-Types: /sdk.d.ts` (a Deno file importing it by URL
 * type-checks, and a wrong field fails), and the API reference at
 * `/docs/sdk/`, linked from the landing page. Needs `deno task build`.
 */
import assert from "node:assert/strict";
import { startApp } from "../_helpers/server.ts";

/** `deno check` of `source` alone, with an empty DENO_DIR: nothing cached, the URL fetched anew. */
async function denoCheck(source: string, allowImport: string) {
  const dir = await Deno.makeTempDir({ prefix: "parley-url-import-" });
  try {
    await Deno.writeTextFile(`${dir}/app.ts`, source);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--no-config", `--allow-import=${allowImport}`, "app.ts"],
      cwd: dir,
      env: { DENO_DIR: `${dir}/deno_dir`, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(output.stderr) + new TextDecoder().decode(output.stdout);
    return { ok: output.success, text };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the SDK for developers: typed /sdk.js, /sdk.d.ts, the API reference", async (t) => {
  await using app = await startApp();
  const host = new URL(app.url).host;

  await t.step("/sdk.js names its declarations, and /sdk.d.ts is them", async () => {
    const js = await fetch(`${app.url}/sdk.js`);
    await js.body?.cancel();
    assert.equal(js.headers.get("x-typescript-types"), "/sdk.d.ts");
    const dts = await fetch(`${app.url}/sdk.d.ts`);
    assert.equal(dts.status, 200, "run `deno task build` first");
    assert.equal(dts.headers.get("content-type"), "application/typescript; charset=utf-8");
    const text = await dts.text();
    assert.match(text, /export declare class RealtimeClient /);
    assert.match(text, /connectRTC\(params: ConnectRTCParams/);
  });

  await t.step("a Deno file importing /sdk.js by URL type-checks against them", async () => {
    const good = await denoCheck(
      `import { RealtimeClient, type RealtimeCallbackEvent, SDK_VERSION } from "${app.url}/sdk.js";
const skapi = new RealtimeClient({ url: "ws://127.0.0.1:1/api/realtime", name: "Ada" });
const onEvent = (rt: RealtimeCallbackEvent) => {
  if (rt.type === "message") console.log(rt.sender_cid.toUpperCase(), rt.message);
};
export const start = async () => {
  await skapi.connectRealtime(onEvent);
  const joined: string = (await skapi.joinRealtime({ group: "lobby" })).message;
  const { connection } = await skapi.connectRTC({ cid: "cid:x" }, (e) => console.log(e.type));
  return [joined, SDK_VERSION, await connection];
};
`,
      host,
    );
    assert.ok(good.ok, good.text);
    const bad = await denoCheck(
      `import { RealtimeClient } from "${app.url}/sdk.js";
const skapi = new RealtimeClient({ url: "ws://127.0.0.1:1/api/realtime" });
export const join = () => skapi.joinRealtime({ grop: "lobby" });
`,
      host,
    );
    assert.ok(!bad.ok, "a wrong field must be a type error");
    assert.match(bad.text, /'grop' does not exist/);
  });

  await t.step("/docs/sdk/ is the API reference: RealtimeClient and its methods", async () => {
    const bare = await fetch(`${app.url}/docs/sdk`, { redirect: "manual" });
    await bare.body?.cancel();
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get("location"), "/docs/sdk/");
    const index = await fetch(`${app.url}/docs/sdk/`);
    assert.equal(index.status, 200, "run `deno task build` first");
    assert.match(index.headers.get("content-type") ?? "", /^text\/html/);
    const html = await index.text();
    assert.match(html, /RealtimeClient/);
    const page = await fetch(`${app.url}/docs/sdk/~/RealtimeClient.html`);
    assert.equal(page.status, 200);
    const classHtml = await page.text();
    for (
      const method of [
        "connectRealtime",
        "closeRealtime",
        "joinRealtime",
        "postRealtime",
        "getRealtimeUsers",
        "getRealtimeGroups",
        "connectRTC",
        "closeRTC",
      ]
    ) {
      assert.ok(classHtml.includes(`RealtimeClient.prototype.${method}.html`), method);
    }
    assert.doesNotMatch(classHtml, /file:/, "no links to the build machine's files");
    assert.match(classHtml, /import \{ RealtimeClient \} from &quot;parley-sdk&quot;;/);
  });

  await t.step("the landing page links the reference", async () => {
    const html = await (await fetch(`${app.url}/`)).text();
    assert.match(html, /href="\/docs\/sdk\/"/);
  });
});
