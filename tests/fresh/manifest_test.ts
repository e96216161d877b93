import assert from "node:assert/strict";
import { scanProject } from "$fresh/dev.ts";
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
  const first = (await scanProject(FIXTURE)).source;
  const second = (await scanProject(FIXTURE)).source;
  assert.equal(first, second);
  assert.equal(first, await Deno.readTextFile(`${FIXTURE}/fresh.gen.ts`));
});

Deno.test("the project's committed fresh.gen.ts is up to date", async () => {
  const generated = (await scanProject(ROOT)).source;
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
    const { routes, islands } = await scanProject(dir);
    assert.deepEqual(routes, [
      "./routes/B.tsx",
      "./routes/a/[id].tsx",
      "./routes/a/index.ts",
      "./routes/b.tsx",
    ]);
    assert.deepEqual(islands, ["./islands/A.jsx", "./islands/Z.tsx"]);
    const none = await scanProject(`${dir}/missing`);
    assert.deepEqual([none.routes, none.islands], [[], []]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the manifest source: Fresh 1.x shape", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/routes`);
    for (const f of ["z.tsx", "a.tsx"]) await Deno.writeTextFile(`${dir}/routes/${f}`, "");
    const { source } = await scanProject(dir);
    assert.ok(source.startsWith("// DO NOT EDIT."));
    assert.ok(
      source.includes(
        'import * as $0 from "./routes/a.tsx";\nimport * as $1 from "./routes/z.tsx";\n',
      ),
    );
    assert.ok(
      source.includes('  routes: {\n    "./routes/a.tsx": $0,\n    "./routes/z.tsx": $1,\n  },\n'),
    );
    assert.ok(
      source.endsWith(
        "  islands: {},\n  baseUrl: import.meta.url,\n} satisfies Manifest;\n\nexport default manifest;\n",
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generated manifests are already deno fmt clean", async () => {
  for (const dir of [ROOT, FIXTURE]) {
    const { source } = await scanProject(dir);
    assert.equal(await formatted(source), source, dir);
  }
  const empty = (await scanProject(`${FIXTURE}/missing`)).source;
  assert.equal(await formatted(empty), empty);
});
