import assert from "node:assert/strict";
import { corsHeaders, originAllowed, preflight } from "../../lib/server/origins.ts";

const req = (origin: string | null, init: RequestInit = {}, host = "parley.example") =>
  new Request(`https://${host}/api/ice`, {
    ...init,
    headers: { ...(origin ? { origin } : {}), ...(init.headers as object) },
  });

Deno.test("origins: listed, own host and no Origin pass; others do not", () => {
  const list = ["https://app.example"];
  assert.ok(originAllowed(req("https://app.example"), list));
  assert.ok(originAllowed(req("https://parley.example"), list), "the app's own origin");
  assert.ok(originAllowed(req(null), list), "no Origin: not a page's script");
  assert.ok(!originAllowed(req("https://evil.example"), list));
  assert.ok(!originAllowed(req("null"), list), "a sandboxed page");
  assert.ok(originAllowed(req("https://evil.example"), null), "unset: any origin");
});

Deno.test("CORS: echo an allowed origin with Vary; nothing for others", () => {
  const list = ["https://app.example"];
  const ok = corsHeaders(req("https://app.example"), list);
  assert.equal(ok.get("access-control-allow-origin"), "https://app.example");
  assert.equal(ok.get("vary"), "Origin");
  const no = corsHeaders(req("https://evil.example"), list);
  assert.equal(no.get("access-control-allow-origin"), null);
  assert.equal(no.get("vary"), "Origin");
  assert.equal(
    corsHeaders(req("https://any.example"), null).get("access-control-allow-origin"),
    "https://any.example",
  );
});

Deno.test("CORS preflight: 204 with methods and headers, 403 for others, null when none", async () => {
  const list = ["https://app.example"];
  const ask = (origin: string) =>
    preflight(
      req(origin, { method: "OPTIONS", headers: { "access-control-request-method": "GET" } }),
      list,
    );
  const ok = ask("https://app.example")!;
  assert.equal(ok.status, 204);
  assert.match(ok.headers.get("access-control-allow-headers")!, /authorization/);
  assert.match(ok.headers.get("access-control-allow-methods")!, /GET/);
  const no = ask("https://evil.example")!;
  assert.equal(no.status, 403);
  assert.equal((await no.json()).code, "UNAUTHORIZED");
  assert.equal(preflight(req("https://app.example"), list), null, "a GET is no preflight");
  assert.equal(preflight(req("https://app.example", { method: "OPTIONS" }), list), null);
});
