import assert from "node:assert/strict";
import { anonymousUserId, defaultUrl } from "../../lib/sdk/identity.ts";

Deno.test("outside a page every client is its own anonymous user", () => {
  const a = anonymousUserId();
  assert.match(a, /^[0-9a-f-]{36}$/);
  assert.notEqual(a, anonymousUserId());
});

Deno.test("outside a browser there is no default endpoint", () => {
  assert.equal(defaultUrl(), undefined);
});
