import assert from "node:assert/strict";
import { build, readBuild, writeBuild } from "$fresh/build.ts";

const FIXTURE = new URL("./fixture", import.meta.url).pathname;
const options = {
  rootDir: FIXTURE,
  islands: ["./islands/Counter.tsx"],
  entries: { extra: "./lib/extra.ts" },
};

Deno.test("build: runtime and island entries, shared chunks, a content-hash build id", async () => {
  const out = await build(options);
  assert.match(out.buildId, /^[0-9a-f]{16}$/);
  assert.equal(out.runtime, "lib/fresh/islands.js");
  assert.deepEqual(out.islands, { Counter: "tests/fresh/fixture/islands/Counter.js" });
  assert.ok(out.files.has(out.runtime));
  assert.ok(out.files.has(out.islands.Counter));
  const chunks = [...out.files.keys()].filter((p) => /^chunk-/.test(p));
  assert.ok(chunks.length > 0, "preact is split into a shared chunk");
  const runtime = new TextDecoder().decode(out.files.get(out.runtime));
  assert.match(runtime, /from"\.\.\/\.\.\/chunk-/);
  assert.match(runtime, /export\{.* as revive/);
  assert.deepEqual([...out.entries.keys()], ["extra"]);
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
    assert.deepEqual([...read.files.keys()].sort(), [...out.files.keys()].sort());
    assert.deepEqual(read.files.get(out.runtime), out.files.get(out.runtime));
    assert.deepEqual(read.entries.get("extra"), out.entries.get("extra"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
