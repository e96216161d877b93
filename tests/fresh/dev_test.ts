import assert from "node:assert/strict";
import dev from "$fresh/dev.ts";

async function tempProject(): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/routes/api`, { recursive: true });
  await Deno.writeTextFile(`${dir}/routes/index.tsx`, "export default () => null;\n");
  await Deno.writeTextFile(
    `${dir}/routes/api/x.ts`,
    "export const handler = () => new Response();\n",
  );
  return dir;
}

Deno.test("dev: an unknown command is a TypeError", async () => {
  await assert.rejects(dev("file:///nowhere/dev.ts", "./main.ts", {}, ["serve"]), TypeError);
});

Deno.test("dev manifest: writes fresh.gen.ts, and leaves it alone when unchanged", async () => {
  const dir = await tempProject();
  try {
    await dev(`file://${dir}/dev.ts`, "./main.ts", {}, ["manifest"]);
    const source = await Deno.readTextFile(`${dir}/fresh.gen.ts`);
    assert.ok(source.includes(`"./routes/api/x.ts": $0,\n    "./routes/index.tsx": $1,`));
    const before = (await Deno.stat(`${dir}/fresh.gen.ts`)).mtime;
    await new Promise((r) => setTimeout(r, 20));
    await dev(`file://${dir}/dev.ts`, "./main.ts", {}, ["manifest"]);
    assert.deepEqual((await Deno.stat(`${dir}/fresh.gen.ts`)).mtime, before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dev build --if-stale: builds when missing or stale, skips when fresh", async () => {
  const dir = await tempProject();
  const built = () => Deno.stat(`${dir}/_fresh/build.json`).then((s) => s.mtime?.getTime());
  try {
    await dev(`file://${dir}/dev.ts`, "./main.ts", {}, ["build", "--if-stale"]);
    const first = await built();
    assert.ok(first, "a missing build is made");
    await dev(`file://${dir}/dev.ts`, "./main.ts", {}, ["build", "--if-stale"]);
    assert.equal(await built(), first, "a fresh build is not rewritten");
    const later = new Date(first + 5000);
    await Deno.utime(`${dir}/routes/api/x.ts`, later, later);
    await dev(`file://${dir}/dev.ts`, "./main.ts", {}, ["build", "--if-stale"]);
    assert.notEqual(await built(), first, "a stale build is made again");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
