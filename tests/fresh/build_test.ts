import assert from "node:assert/strict";
import { build, readBuild, writeBuild } from "$fresh/build.ts";
import { type BuildStep, createHandler } from "$fresh/server.ts";
import { FIXTURE_CONFIG, manifest } from "./fixture/serve.ts";

const FIXTURE = new URL("./fixture", import.meta.url).pathname;
const options = {
  rootDir: FIXTURE,
  islands: ["./islands/Counter.tsx"],
  entries: { extra: "./lib/extra.ts" },
};

Deno.test("build: runtime and island entries, shared chunks, a content-hash build id", async () => {
  const out = await build(options);
  assert.match(out.buildId, /^[0-9a-f]{16}$/);
  assert.equal(out.runtime, "lib/fresh/runtime.js");
  assert.deepEqual(out.islands, { Counter: "tests/fresh/fixture/islands/Counter.js" });
  assert.ok(out.runtime in out.files);
  assert.ok(out.islands.Counter in out.files);
  const chunks = Object.keys(out.files).filter((p) => /^chunk-/.test(p));
  assert.ok(chunks.length > 0, "preact is split into a shared chunk");
  const runtime = out.files[out.runtime];
  assert.match(runtime, /from"\.\.\/\.\.\/chunk-/);
  assert.match(runtime, /export\{.* as revive/);
  assert.deepEqual(Object.keys(out.entries), ["extra"]);
  const again = await build(options);
  assert.equal(again.buildId, out.buildId, "same inputs, same build id");
  const other = await build({ ...options, entries: {} });
  assert.notEqual(other.buildId, out.buildId, "different outputs, different build id");
});

Deno.test("build: an entry that fails names itself", async () => {
  await assert.rejects(
    build({ rootDir: FIXTURE, islands: ["./islands/Missing.tsx"] }),
    (err: Error) => err.message.includes("islands/Missing.tsx"),
  );
});

Deno.test("writeBuild then readBuild round-trips; no build reads as undefined", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await readBuild(`${dir}/_fresh`), undefined);
    const out = await build(options);
    await writeBuild(out, `${dir}/_fresh`);
    const read = await readBuild(`${dir}/_fresh`);
    assert.ok(read);
    assert.equal(read.buildId, out.buildId);
    assert.deepEqual(read.islands, out.islands);
    assert.deepEqual(read.files, out.files);
    assert.deepEqual(read.entries, out.entries);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("build steps write files served like static/; a folder serves its index.html", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = await build(options);
    const docs: BuildStep = async function docs({ rootDir, staticOutDir }) {
      assert.equal(rootDir, FIXTURE);
      await Deno.mkdir(`${staticOutDir}/docs`);
      await Deno.writeTextFile(`${staticOutDir}/docs/index.html`, "<p>the docs</p>");
      await Deno.writeTextFile(`${staticOutDir}/hello.txt`, "not the fixture's");
    };
    await writeBuild(out, `${dir}/_fresh`, [docs], FIXTURE);
    const handler = await createHandler(manifest, {
      build: { ...FIXTURE_CONFIG.build, outDir: `${dir}/_fresh` },
    });
    const index = await handler(new Request("http://x/docs/"));
    assert.equal(index.status, 200);
    assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(await index.text(), "<p>the docs</p>");
    const bare = await handler(new Request("http://x/docs?q=1"));
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get("location"), "/docs/?q=1");
    const clash = await handler(new Request("http://x/hello.txt"));
    assert.equal(
      await clash.text(),
      await Deno.readTextFile(`${FIXTURE}/static/hello.txt`),
      "static/ wins over a build step's file",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failing build step is named and leaves no manifest (the build counts as missing)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const broken: BuildStep = function apiDocs() {
      return Promise.reject(new Error("no doc tool"));
    };
    await assert.rejects(
      writeBuild(await build(options), `${dir}/_fresh`, [broken], FIXTURE),
      /Cannot finish the build as step 1 \(apiDocs\) failed: no doc tool/,
    );
    assert.equal(await readBuild(`${dir}/_fresh`), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
