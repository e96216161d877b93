/**
 * The app's security faces, end to end over HTTP against the real app
 * (subprocess): tokens on `/api/realtime` and `/api/ice`, TURN REST
 * credentials, CORS and the WebSocket origin check, and page headers.
 *
 * `deno task build && bash tests/netns.sh deno test -A tests/security/app_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import { upgradeAttempt as attempt } from "../_helpers/hub.ts";
import { RealtimeClient, type RealtimeError } from "../../lib/sdk/mod.ts";
import { signToken } from "../../lib/server/auth.ts";
import { turnCredential } from "../../lib/server/ice.ts";
import { startApp } from "../_helpers/server.ts";

const SECRET = "app-test-secret-0123456789abcdef";
const TURN_SECRET = "turn-test-secret";
const ALLOWED = "https://app.example";

Deno.test("security of the app: tokens, TURN credentials, origins, headers", async (t) => {
  await using app = await startApp({
    env: {
      PARLEY_AUTH_SECRET: SECRET,
      ALLOWED_ORIGINS: ALLOWED,
      STUN_URLS: "stun:127.0.0.1:3478",
      TURN_URLS: "turn:127.0.0.1:3478?transport=udp, turn:127.0.0.1:3478?transport=tcp",
      TURN_SECRET,
      TURN_TTL: "600",
    },
  });
  const sub = crypto.randomUUID();
  const token = await signToken(SECRET, { sub, name: "Ada", rooms: ["team-*"] });

  await t.step("/api/ice needs the token and puts its sub in the TURN username", async () => {
    for (const init of [{}, { headers: { authorization: "Bearer nope" } }]) {
      const res = await fetch(`${app.url}/api/ice`, init);
      assert.equal(res.status, 401);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
      const body = await res.json();
      assert.equal(body.code, "UNAUTHORIZED");
    }
    for (
      const [url, init] of [
        [`${app.url}/api/ice`, { headers: { authorization: `Bearer ${token}` } }],
        [`${app.url}/api/ice?token=${token}`, {}],
      ] as const
    ) {
      const before = Math.floor(Date.now() / 1000);
      const res = await fetch(url, init);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), "no-store");
      const { iceServers } = await res.json();
      assert.equal(iceServers.length, 2);
      assert.deepEqual(iceServers[0], { urls: ["stun:127.0.0.1:3478"] });
      const turn = iceServers[1];
      assert.deepEqual(turn.urls, [
        "turn:127.0.0.1:3478?transport=udp",
        "turn:127.0.0.1:3478?transport=tcp",
      ]);
      assert.ok(!("url" in turn) && !iceServers.some((s: object) => "url" in s), "never `url`");
      const [expiry, user] = turn.username.split(":");
      assert.equal(user, sub);
      assert.ok(Number(expiry) >= before + 600 && Number(expiry) <= before + 602, turn.username);
      assert.equal(turn.credential, await turnCredential(TURN_SECRET, turn.username));
    }
  });

  await t.step("/api/rooms needs the token and lists only the rooms it grants", async () => {
    const board = new RealtimeClient({
      url: app.wsUrl,
      token: await signToken(SECRET, { sub: crypto.randomUUID(), rooms: ["secret-board-meeting"] }),
    });
    const ada = new RealtimeClient({ url: app.wsUrl, token });
    await Promise.all([board.connectRealtime(), ada.connectRealtime()]);
    await board.joinRealtime({ group: "secret-board-meeting" });
    await ada.joinRealtime({ group: "team-red" });
    for (const init of [{}, { headers: { authorization: "Bearer nope" } }]) {
      const res = await fetch(`${app.url}/api/rooms`, init);
      assert.equal(res.status, 401);
      assert.equal((await res.json()).code, "UNAUTHORIZED");
    }
    const res = await fetch(`${app.url}/api/rooms`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).list, [{ group: "team-red", number_of_users: 1 }]);
    const groups = await ada.getRealtimeGroups();
    assert.deepEqual(groups.list.map((g) => g.group), ["team-red"], "nor over the socket");
    await Promise.all([board.closeRealtime(), ada.closeRealtime()]);
  });

  await t.step("the WebSocket: 401 without a token, 403 from another origin", async () => {
    assert.match(await attempt(app.wsUrl), /401/);
    assert.match(
      await attempt(`${app.wsUrl}?token=${token}`, { origin: "https://evil.example" }),
      /403/,
    );
    assert.equal(await attempt(`${app.wsUrl}?token=${token}`, { origin: ALLOWED }), "welcome");
    assert.equal(await attempt(`${app.wsUrl}?token=${token}`, { origin: app.url }), "welcome");
    const client = new RealtimeClient({ url: app.wsUrl, token, name: "Mallory" });
    await client.connectRealtime();
    assert.deepEqual([client.user?.user_id, client.user?.name], [sub, "Ada"]);
    await client.joinRealtime({ group: "team-blue" });
    await assert.rejects(
      client.joinRealtime({ group: "board" }),
      (e: RealtimeError) => e.code === "UNAUTHORIZED",
    );
    await client.closeRealtime();
    const expired = await signToken(SECRET, { sub }, 5, Date.now() - 60_000);
    const late = new RealtimeClient({ url: app.wsUrl, token: expired });
    await assert.rejects(late.connectRealtime(), (e: RealtimeError) => {
      assert.equal(e.code, "UNAUTHORIZED");
      return true;
    });
    await late.closeRealtime();
  });

  await t.step("CORS on the API and /sdk.js follows ALLOWED_ORIGINS", async () => {
    // /api/rooms needs the token here (see above).
    for (const path of ["/sdk.js", "/api/health", `/api/rooms?token=${token}`]) {
      const ok = await fetch(`${app.url}${path}`, { headers: { origin: ALLOWED } });
      await ok.body?.cancel();
      assert.equal(ok.status, 200, path);
      assert.equal(ok.headers.get("access-control-allow-origin"), ALLOWED, path);
      assert.match(ok.headers.get("vary") ?? "", /Origin/, path);
      const evil = await fetch(`${app.url}${path}`, {
        headers: { origin: "https://evil.example" },
      });
      await evil.body?.cancel();
      assert.equal(evil.headers.get("access-control-allow-origin"), null, path);
      assert.match(evil.headers.get("vary") ?? "", /Origin/, path);
    }
    const preflight = (origin: string) =>
      fetch(`${app.url}/api/ice`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "GET",
          "access-control-request-headers": "authorization",
        },
      });
    const ok = await preflight(ALLOWED);
    await ok.body?.cancel();
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get("access-control-allow-origin"), ALLOWED);
    assert.match(ok.headers.get("access-control-allow-headers") ?? "", /authorization/);
    const refused = await preflight("https://evil.example");
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).code, "UNAUTHORIZED");
  });

  await t.step("pages: CSP with a nonce on the boot script, nosniff, permissions", async () => {
    let islands = 0;
    let res = new Response();
    let csp = "";
    for (const path of ["/", "/room/csp-check"]) {
      res = await fetch(`${app.url}${path}`);
      const html = await res.text();
      assert.equal(res.status, 200, path);
      csp = res.headers.get("content-security-policy") ?? "";
      const nonce = csp.match(/script-src 'self' 'nonce-([^']+)'/)?.[1];
      assert.ok(nonce, `${path}: ${csp}`);
      assert.match(csp, /object-src 'none'/);
      assert.match(csp, /base-uri 'none'/);
      // Every executable inline script carries the nonce; none lacks it.
      const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)]
        .map((m) => m[1]).filter((attrs) => !/type="application\/json"/.test(attrs));
      for (const attrs of inline) assert.match(attrs, new RegExp(`nonce="${nonce}"`), path);
      islands += inline.length;
    }
    assert.ok(islands > 0, "no page had an island boot script to check");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("referrer-policy"), "strict-origin-when-cross-origin");
    const permissions = res.headers.get("permissions-policy") ?? "";
    for (const feature of ["camera", "microphone", "display-capture"]) {
      assert.match(permissions, new RegExp(`${feature}=\\(self\\)`));
    }
    const again = await fetch(`${app.url}/`);
    await again.body?.cancel();
    assert.notEqual(again.headers.get("content-security-policy"), csp, "a fresh nonce each time");
    const json = await fetch(`${app.url}/api/health`);
    await json.body?.cancel();
    assert.equal(json.headers.get("x-content-type-options"), "nosniff");
    assert.equal(json.headers.get("content-security-policy"), null);
  });
});

Deno.test("the app without a secret stays open and anonymous; per-address cap", async () => {
  await using app = await startApp({ env: { PARLEY_MAX_CONNECTIONS_PER_IP: "3" } });
  const clients = [1, 2, 3].map(() => new RealtimeClient({ url: app.wsUrl }));
  await Promise.all(clients.map((c) => c.connectRealtime()));
  const over = new RealtimeClient({ url: app.wsUrl });
  await assert.rejects(over.connectRealtime(), (e: RealtimeError) => {
    assert.equal(e.code, "RATE_LIMITED");
    assert.match(e.message, /too many connections/);
    return true;
  });
  await over.closeRealtime();
  const res = await fetch(`${app.url}/api/ice`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { iceServers: [] });
  await Promise.all(clients.map((c) => c.closeRealtime()));
});
