import assert from "node:assert/strict";
import { asset, setBuildId } from "$fresh/runtime.ts";

Deno.test("asset adds the build id to local absolute paths only", () => {
  setBuildId("b42");
  try {
    assert.equal(asset("/styles.css"), "/styles.css?__frsh_c=b42");
    assert.equal(asset("/a.png?x=1#top"), "/a.png?x=1&__frsh_c=b42#top");
    assert.equal(asset("/a.png?__frsh_c=old"), "/a.png?__frsh_c=old");
    assert.equal(asset("styles.css"), "styles.css");
    assert.equal(asset("//cdn.example/x.css"), "//cdn.example/x.css");
    assert.equal(asset("https://cdn.example/x.css"), "https://cdn.example/x.css");
  } finally {
    setBuildId(undefined);
  }
  assert.equal(asset("/styles.css"), "/styles.css");
});
