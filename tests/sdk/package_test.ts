/**
 * The npm package `parley-sdk`, as a web developer gets it: `deno task
 * sdk:pack`'s tarball installs with npm into a fresh project (offline:
 * only the tarball and npm's cache), a TypeScript app using it type-checks
 * with tsc (and a wrong field does not), and that app, bundled by esbuild,
 * makes a call through Parley in Chromium.
 *
 * Run inside the private network namespace, after `deno run -A
 * tools/sdk/npm_tools.ts` (which `deno task test` runs first):
 * `bash tests/netns.sh deno test -A tests/sdk/package_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { SDK_VERSION } from "../../lib/sdk/mod.ts";
import { NPM_TOOLS, run } from "../../tools/sdk/npm_tools.ts";
import { PACKAGE_NAME, packSdk } from "../../tools/sdk/pack.ts";
import { launchChromium, newUserPage, pageErrors } from "../_helpers/browser.ts";
import { inPageWith, openPage } from "../_helpers/pages.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

/** A web app written against the package: typed events, a call, a data channel. */
const APP_TS = `import {
  type RealtimeCallbackEvent,
  RealtimeClient,
  type RTCConnection,
  type RTCEvent,
  SDK_VERSION,
} from "parley-sdk";

const received: string[] = [];
const events: RealtimeCallbackEvent["type"][] = [];
let client: RealtimeClient | null = null;
let call: RTCConnection | null = null;
const noIce: RTCIceServer[] = []; // the test's own hosts only

function onRtc(event: RTCEvent): void {
  if (event.type === "message" && typeof event.data === "string") received.push(event.data);
}

async function connect(name: string): Promise<string> {
  client = new RealtimeClient({ name }); // url: this page's /api/realtime
  await client.connectRealtime((rt) => {
    events.push(rt.type);
    if (rt.type === "rtc:incoming") {
      rt.connectRTC({ ice: noIce, media: false }, onRtc).then((accepted) => call = accepted);
    }
  });
  const user = client.user;
  if (!user) throw new Error("connected without a user");
  return user.cid;
}

async function dial(cid: string): Promise<boolean> {
  if (!client) throw new Error("connect first");
  const { connection } = await client.connectRTC({ cid, ice: noIce, media: false }, onRtc);
  call = await connection;
  return call !== null;
}

Object.assign(globalThis, {
  typedApp: {
    version: SDK_VERSION,
    connect,
    dial,
    received,
    events,
    isOpen: (): boolean => call?.channels.default?.readyState === "open",
    send: (text: string): void => call?.channels.default.send(text),
  },
});
`;

/** The same package misused: an option and an event field that do not exist. */
const WRONG_TS = `import { RealtimeClient } from "parley-sdk";

const client = new RealtimeClient({ nmae: "Ada" });
await client.connectRealtime((rt) => {
  if (rt.type === "message") console.log(rt.sender_id);
});
`;

const tsconfig = (file: string) =>
  JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "Bundler",
      lib: ["ES2022", "DOM", "DOM.Iterable"],
      strict: true,
      noEmit: true,
      skipLibCheck: false, // the package's own declarations are checked too
      types: [],
    },
    files: [file],
  });

/** Runs `body` in the page with the bundled app in scope as `typedApp`. */
function inApp<T>(page: Page, body: string, arg?: unknown): Promise<T> {
  return inPageWith(page, "typedApp", body, arg);
}

Deno.test("parley-sdk from npm: installs offline, type-checks, bundles, calls", async (t) => {
  const work = await Deno.makeTempDir({ prefix: "parley-sdk-package-" });
  const project = `${work}/typed-app`;
  try {
    let tarball = "";
    await t.step(
      "sdk:pack makes a tarball with the bundle, types, README and licence",
      async () => {
        tarball = await packSdk(`${work}/dist`);
        assert.ok(tarball.endsWith(`/${PACKAGE_NAME}-${SDK_VERSION}.tgz`), tarball);
        const listing = (await run("tar", ["-tzf", tarball])).trim().split("\n").sort();
        assert.deepEqual(listing, [
          "package/LICENSE",
          "package/README.md",
          "package/index.d.ts",
          "package/index.js",
          "package/package.json",
        ]);
        const manifest = JSON.parse(
          await run("tar", ["-xzOf", tarball, "package/package.json"]),
        );
        assert.equal(manifest.name, "parley-sdk");
        assert.equal(manifest.version, SDK_VERSION);
        assert.equal(manifest.type, "module");
        assert.equal(manifest.sideEffects, false);
        assert.equal(manifest.types, "./index.d.ts");
        assert.deepEqual(manifest.exports["."], { types: "./index.d.ts", default: "./index.js" });
        assert.equal(manifest.license, "MIT");
        const readme = await run("tar", ["-xzOf", tarball, "package/README.md"]);
        assert.match(readme, /npm install parley-sdk/);
        assert.match(readme, /\/docs\/sdk\//);
      },
    );

    await t.step(
      "npm installs it offline into a fresh project, with typescript and esbuild",
      async () => {
        await Deno.mkdir(project);
        await Deno.writeTextFile(
          `${project}/package.json`,
          JSON.stringify({ name: "typed-app", private: true, type: "module" }),
        );
        await run("npm", [
          "install",
          "--offline",
          "--no-audit",
          "--no-fund",
          "--loglevel=error",
          tarball,
          `typescript@${NPM_TOOLS.typescript}`,
          `esbuild@${NPM_TOOLS.esbuild}`,
        ], { cwd: project });
        const installed = JSON.parse(
          await Deno.readTextFile(`${project}/node_modules/parley-sdk/package.json`),
        );
        assert.equal(installed.version, SDK_VERSION);
        // Node resolves the package's ESM entry too (Node 22+ also has WebSocket to connect with).
        const exported = await run("node", [
          "--input-type=module",
          "-e",
          "const m = await import('parley-sdk'); console.log(typeof m.RealtimeClient, m.SDK_VERSION)",
        ], { cwd: project });
        assert.equal(exported.trim(), `function ${SDK_VERSION}`);
      },
    );

    await t.step(
      "tsc type-checks an app using RealtimeClient, connectRTC and the event types",
      async () => {
        await Deno.writeTextFile(`${project}/app.ts`, APP_TS);
        await Deno.writeTextFile(`${project}/tsconfig.json`, tsconfig("app.ts"));
        await run("node", ["node_modules/typescript/bin/tsc", "--noEmit", "-p", "."], {
          cwd: project,
        });
      },
    );

    await t.step("a wrong field is a type error", async () => {
      await Deno.writeTextFile(`${project}/wrong.ts`, WRONG_TS);
      await Deno.writeTextFile(`${project}/tsconfig.wrong.json`, tsconfig("wrong.ts"));
      const failure = await run(
        "node",
        ["node_modules/typescript/bin/tsc", "--noEmit", "-p", "tsconfig.wrong.json"],
        { cwd: project },
      ).then(() => assert.fail("tsc accepted a wrong field"), (error: Error) => error.message);
      assert.match(failure, /'nmae' does not exist in type 'RealtimeClientOptions'/);
      assert.match(failure, /Property 'sender_id' does not exist/);
    });

    await t.step(
      "its esbuild bundle runs in Chromium and makes a call through Parley",
      async () => {
        await run(`${project}/node_modules/.bin/esbuild`, [
          "app.ts",
          "--bundle",
          "--format=esm",
          "--platform=browser",
          "--minify",
          "--outfile=dist/app.js",
        ], { cwd: project });
        const bundle = await Deno.readTextFile(`${project}/dist/app.js`);
        assert.doesNotMatch(bundle, /from\s*["']parley-sdk["']/, "the SDK is inside the bundle");

        await using app = await startApp();
        await using browser = await launchChromium();
        const pages: Page[] = [];
        for (const _ of ["caller", "callee"]) {
          const page = await newUserPage(browser, app.url);
          // A page of the app's origin, without its CSP.
          await openPage(page, "/api/health", {
            blank: { title: "typed app", scripts: [{ content: bundle, module: true }] },
            globals: ["typedApp"],
          });
          pages.push(page);
        }
        const [caller, callee] = pages;
        assert.equal(await inApp(caller, "return typedApp.version"), SDK_VERSION);
        await inApp(caller, "return typedApp.connect('caller')");
        const calleeCid = await inApp<string>(callee, "return typedApp.connect('callee')");
        assert.ok(calleeCid.startsWith("cid:"));
        assert.equal(await inApp(caller, "return typedApp.dial(arg)", calleeCid), true);
        await waitFor(() => inApp<boolean>(callee, "return typedApp.isOpen()"), {
          timeout: 15_000,
          message: "the callee's data channel to open",
        });
        await inApp(caller, "typedApp.send('hello from an npm install')");
        await waitFor(
          () =>
            inApp<string[]>(callee, "return typedApp.received.length ? typedApp.received : null"),
          {
            timeout: 10_000,
            message: "the message over the data channel",
          },
        );
        assert.deepEqual(await inApp(callee, "return typedApp.received"), [
          "hello from an npm install",
        ]);
        assert.ok(
          (await inApp<string[]>(callee, "return typedApp.events")).includes("rtc:incoming"),
        );
        for (const page of pages) pageErrors(page).assertNone([/status of 404/]); // favicon.ico
      },
    );
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
