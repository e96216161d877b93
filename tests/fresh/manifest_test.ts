import assert from "node:assert/strict";
import { generateManifest, scanProject } from "$fresh/dev.ts";
import { manifest as fixtureManifest } from "./fixture/serve.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const FIXTURE = `${ROOT}/tests/fresh/fixture`;

async function formatted(source: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "ts", "-"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(source));
  await writer.close();
  const { stdout } = await child.output();
  return new TextDecoder().decode(stdout);
}

Deno.test("the fixture's fresh.gen.ts is what generation produces, every time", async () => {
  const first = generateManifest(await scanProject(FIXTURE));
  const second = generateManifest(await scanProject(FIXTURE));
  assert.equal(first, second);
  assert.equal(first, await Deno.readTextFile(`${FIXTURE}/fresh.gen.ts`));
});

Deno.test("the project's committed fresh.gen.ts is up to date", async () => {
  const generated = generateManifest(await scanProject(ROOT));
  assert.equal(
    generated,
    await Deno.readTextFile(`${ROOT}/fresh.gen.ts`),
    "fresh.gen.ts is stale: run `deno task manifest`",
  );
});

Deno.test("the manifest lists exactly the route and island files", async () => {
  const files = await scanProject(FIXTURE);
  assert.deepEqual(Object.keys(fixtureManifest.routes), files.routes);
  assert.deepEqual(Object.keys(fixtureManifest.islands), ["./islands/Counter.tsx"]);
  assert.ok(files.routes.includes("./routes/files/[...path].tsx"));
  assert.ok(files.routes.includes("./routes/api/_middleware.ts"));
  assert.equal(files.routes.length, 12);
});

Deno.test("scanProject: sorted by code unit, skips tests, dotfiles and other files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const f of [
        "routes/b.tsx",
        "routes/B.tsx",
        "routes/a/[id].tsx",
        "routes/a/index.ts",
        "routes/a/index_test.ts",
        "routes/.hidden.ts",
        "routes/notes.md",
        "islands/Z.tsx",
        "islands/A.jsx",
      ]
    ) {
      await Deno.mkdir(`${dir}/${f}`.replace(/\/[^/]+$/, ""), { recursive: true });
      await Deno.writeTextFile(`${dir}/${f}`, "");
    }
    assert.deepEqual(await scanProject(dir), {
      routes: ["./routes/B.tsx", "./routes/a/[id].tsx", "./routes/a/index.ts", "./routes/b.tsx"],
      islands: ["./islands/A.jsx", "./islands/Z.tsx"],
    });
    assert.deepEqual(await scanProject(`${dir}/missing`), { routes: [], islands: [] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generateManifest: Fresh 1.x shape, input order does not matter", () => {
  const a = generateManifest({ routes: ["./routes/z.tsx", "./routes/a.tsx"], islands: [] });
  const b = generateManifest({ routes: ["./routes/a.tsx", "./routes/z.tsx"], islands: [] });
  assert.equal(a, b);
  assert.ok(a.startsWith("// DO NOT EDIT."));
  assert.ok(
    a.includes('import * as $0 from "./routes/a.tsx";\nimport * as $1 from "./routes/z.tsx";\n'),
  );
  assert.ok(
    a.includes('  routes: {\n    "./routes/a.tsx": $0,\n    "./routes/z.tsx": $1,\n  },\n'),
  );
  assert.ok(
    a.endsWith(
      "  islands: {},\n  baseUrl: import.meta.url,\n} satisfies Manifest;\n\nexport default manifest;\n",
    ),
  );
});

Deno.test("generated manifests are already deno fmt clean", async () => {
  for (const dir of [ROOT, FIXTURE]) {
    const source = generateManifest(await scanProject(dir));
    assert.equal(await formatted(source), source, dir);
  }
  const empty = generateManifest({ routes: [], islands: [] });
  assert.equal(await formatted(empty), empty);
});
