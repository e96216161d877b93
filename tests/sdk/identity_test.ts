import assert from "node:assert/strict";
import { defaultUrl, identityStore } from "../../lib/sdk/identity.ts";

Deno.test("outside a page every client keeps its own identity proof", () => {
  const a = identityStore();
  const b = identityStore();
  assert.equal(a.load(), undefined);
  a.save("proof-a");
  assert.equal(a.load(), "proof-a");
  assert.equal(b.load(), undefined, "another client is another user");
});

Deno.test("outside a browser there is no default endpoint", () => {
  assert.equal(defaultUrl(), undefined);
});
