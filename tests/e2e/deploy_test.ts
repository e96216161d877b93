/**
 * The app booted the way Deno Deploy runs it: a clean copy of the checkout
 * (no `_fresh/`, no `.data/`, nothing git ignores), deno.json's `deploy`
 * install and build commands, then `deno serve` on its entrypoint with
 * writes, subprocesses and FFI denied and only the environment a platform
 * gives. And the same without a build: it bundles in memory, or — on a
 * runtime without `Deno.bundle` — fails at once saying to run the build.
 *
 * @module
 */
import assert from "node:assert/strict";
import { RealtimeClient } from "../../lib/sdk/mod.ts";
import { launchChromium, newUserPage, pageErrors } from "../_helpers/browser.ts";
import { waitForHydration } from "../_helpers/pages.ts";
import { REPO_ROOT } from "../_helpers/process.ts";
import { startApp } from "../_helpers/server.ts";

/** The environment Deno Deploy sets (docs.deno.com/deploy/reference/env_vars_and_contexts), plus our one setting. */
const DEPLOY_ENV = {
  DENO_DEPLOY: "true",
  DENO_DEPLOY_ORG_ID: "00000000-0000-4000-8000-000000000001",
  DENO_DEPLOY_ORG_SLUG: "parley-tests",
  DENO_DEPLOY_APP_ID: "00000000-0000-4000-8000-000000000002",
  DENO_DEPLOY_APP_SLUG: "parley",
  DENO_DEPLOY_BUILD_ID: "test-build",
  DENO_TIMELINE: "production",
  // Set by the operator here: no test may send a browser to a public STUN server.
  STUN_URLS: "none",
};
/** Deploy's runtime flags, with what Deno Deploy Classic forbade also denied. */
const DEPLOY_FLAGS = ["--deny-write", "--deny-run", "--deny-ffi"];

interface DeployConfig {
  install: string;
  build: string;
  runtime: { type: string; entrypoint: string };
  exclude: string[];
}

/** A clean copy of the working tree: tracked and untracked files, nothing git ignores. */
async function cleanCopy(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "parley-deploy-" });
  const list = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: REPO_ROOT,
    stdout: "piped",
  }).output();
  assert(list.success, "git ls-files");
  for (const path of new TextDecoder().decode(list.stdout).split("\0").filter(Boolean)) {
    const from = `${REPO_ROOT}${path}`;
    try {
      if (!(await Deno.lstat(from)).isFile) continue;
    } catch {
      continue; // deleted in the working tree
    }
    await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.copyFile(from, `${dir}/${path}`);
  }
  return dir;
}

/**
 * Where `Deno.openKv()` without a path keeps the KV of the app in `dir` (the
 * stand-in for Deploy's managed KV): Deno's cache, under the SHA-256 of the
 * app's deno.json URL. The test removes it, so runs leave nothing behind.
 */
async function defaultKvDir(dir: string): Promise<string> {
  const key = new TextEncoder().encode(`file://${dir}/deno.json`);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", key));
  const hex = [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
  const cache = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
  return `${cache}/location_data/${hex}`;
}

/** Runs a deno.json command as Deploy's builder does (a shell, in the app folder). */
async function shell(command: string, cwd: string): Promise<void> {
  const path = `${Deno.execPath().replace(/\/[^/]*$/, "")}:${Deno.env.get("PATH")}`;
  const out = await new Deno.Command("sh", {
    args: ["-c", command],
    cwd,
    env: {
      PATH: path,
      HOME: Deno.env.get("HOME") ?? "/root",
      CI: "true",
      DENO_DEPLOY: "true",
      DENO_NO_UPDATE_CHECK: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  assert(out.success, `\`${command}\` failed:\n${text}`);
}

/** `/sdk.js` of `appUrl` is the SDK. */
async function sdkServed(appUrl: string): Promise<void> {
  const sdk = await fetch(`${appUrl}/sdk.js`);
  assert.equal(sdk.status, 200);
  assert.match(await sdk.text(), /RealtimeClient/);
}

/** Two SDK clients meet in a room of `wsUrl` and exchange a message. */
async function twoClientsMeet(wsUrl: string): Promise<void> {
  const [ada, bob] = [new RealtimeClient({ url: wsUrl }), new RealtimeClient({ url: wsUrl })];
  try {
    const got = Promise.withResolvers<unknown>();
    await ada.connectRealtime();
    await bob.connectRealtime((rt) => {
      if (rt.type === "message" && rt.sender !== bob.user?.user_id) got.resolve(rt.message);
    });
    await ada.joinRealtime({ group: "deploy" });
    await bob.joinRealtime({ group: "deploy" });
    await ada.postRealtime("hello from Deploy", "deploy");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise((_, reject) =>
      timer = setTimeout(() => reject(new Error("no message")), 10_000)
    );
    assert.equal(
      await Promise.race([got.promise, late]).finally(() => clearTimeout(timer)),
      "hello from Deploy",
    );
  } finally {
    await Promise.all([ada.closeRealtime(), bob.closeRealtime()]);
  }
}

Deno.test({
  name:
    "Deno Deploy's way: clean checkout, deploy.install + deploy.build, deno serve with writes, run and FFI denied",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await cleanCopy();
    try {
      const deploy = JSON.parse(await Deno.readTextFile(`${dir}/deno.json`)).deploy as DeployConfig;
      assert.equal(deploy.build, "deno task build");
      assert.deepEqual(deploy.runtime, { type: "dynamic", entrypoint: "main.ts" });
      for (const left of ["tests/", ".ci/"]) assert(deploy.exclude.includes(left), left);
      await assert.rejects(Deno.stat(`${dir}/_fresh`), Deno.errors.NotFound, "a clean copy");
      await shell(deploy.install, dir);
      await shell(deploy.build, dir);
      /** `deno serve` on the entrypoint, as Deploy runs it. */
      const serveLikeDeploy = (timeout?: number) =>
        startApp({
          cwd: dir,
          bareEnv: true,
          env: DEPLOY_ENV,
          args: DEPLOY_FLAGS,
          entry: deploy.runtime.entrypoint,
          timeout,
        });

      await t.step("the landing page hydrates, /sdk.js is served, two clients talk", async () => {
        await using app = await serveLikeDeploy();
        await using browser = await launchChromium();
        const page = await newUserPage(browser, app.url);
        assert.equal((await page.goto("/"))?.status(), 200);
        await waitForHydration(page, "JoinRoomForm");
        pageErrors(page).assertNone();
        await sdkServed(app.url);
        // What the build's own steps made: the SDK's declarations and reference.
        for (const path of ["/sdk.d.ts", "/docs/sdk/"]) {
          const res = await fetch(`${app.url}${path}`);
          await res.body?.cancel();
          assert.equal(res.status, 200, path);
        }
        await twoClientsMeet(app.wsUrl);
        assert.doesNotMatch(app.output(), /bundling in memory|PermissionDenied|NotCapable/);
      });

      await Deno.remove(`${dir}/_fresh`, { recursive: true });

      await t.step("without a build it bundles in memory, and says so", async () => {
        await using app = await serveLikeDeploy(60_000);
        assert.match(app.output(), /No client build in .*_fresh: bundling in memory/);
        await sdkServed(app.url);
        await twoClientsMeet(app.wsUrl);
      });

      await t.step(
        "without a build and without Deno.bundle it fails at once, saying to build",
        async () => {
          const config = JSON.parse(await Deno.readTextFile(`${dir}/deno.json`));
          config.unstable = config.unstable.filter((name: string) => name !== "bundle");
          await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify(config));
          const start = performance.now();
          const error = await serveLikeDeploy().then(
            (app) => app.stop().then(() => null),
            (e: Error) => e,
          );
          assert(error, "the app must not start");
          assert.match(error.message, /exited with code [1-9]/);
          assert.match(error.message, /run `deno task build` before starting/);
          assert(performance.now() - start < 15_000, "at once");
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await Deno.remove(await defaultKvDir(dir), { recursive: true }).catch(() => {});
    }
  },
});
