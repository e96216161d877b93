/**
 * Many people behind one address (an office NAT, a reverse proxy): the
 * default per-address limits let 500 of them in within a minute, and the
 * client address comes from `Forwarded` / `X-Forwarded-For` only when the
 * request comes from a trusted proxy.
 *
 * @module
 */
import assert from "node:assert/strict";
import { clientAddress } from "../../lib/server/abuse.ts";
import type { Ticket } from "../../lib/server/admission.ts";
import { SECURITY_DEFAULTS } from "../../lib/server/settings.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";

Deno.test("with the default limits, 500 people behind one address connect and join within a minute", async () => {
  await using server = await startHub({ security: { ...SECURITY_DEFAULTS } });
  const clients = [];
  const started = Date.now();
  for (let batch = 0; batch < 10; batch++) {
    clients.push(
      ...await Promise.all(
        Array.from(
          { length: 50 },
          () => rawClient(server.url, {}, { ignoreNotices: true, welcomeMs: 30_000 }),
        ),
      ),
    );
  }
  const joins = await Promise.all(
    clients.map((c, i) => c.request({ type: "join", group: `desk-${i % 7}` }, 30_000)),
  );
  assert.ok(Date.now() - started < 60_000, "all within the minute the limits count");
  assert.equal(new Set(clients.map((c) => c.welcome.cid)).size, 500);
  assert.deepEqual(joins.filter((j) => j.type !== "ack"), []);
  await Promise.all(clients.map((c) => c.close()));
});

const peer = (hostname: string) => ({
  remoteAddr: { transport: "tcp" as const, hostname, port: 1 },
});
const upgrade = (headers: Record<string, string>) =>
  new Request("http://127.0.0.1/api/realtime", { headers: { upgrade: "websocket", ...headers } });

Deno.test("client address: forwarded headers count only from a trusted proxy", () => {
  const proxies = ["10.0.0.9", "10.0.0.8"];
  const spoofed = upgrade({ "x-forwarded-for": "9.9.9.9" });
  assert.equal(clientAddress(spoofed, peer("1.1.1.1"), { proxies }), "1.1.1.1", "ignored");
  assert.equal(clientAddress(spoofed, peer("10.0.0.9"), { proxies }), "9.9.9.9");
  // The rightmost address that is not a proxy: what is left of it, the client may forge.
  const chain = upgrade({ "x-forwarded-for": "6.6.6.6, 9.9.9.9, 10.0.0.8" });
  assert.equal(clientAddress(chain, peer("10.0.0.9"), { proxies }), "9.9.9.9");
  const forwarded = upgrade({ forwarded: 'for=6.6.6.6, for="[2001:DB8::1]:443";proto=https' });
  assert.equal(clientAddress(forwarded, peer("10.0.0.9"), { proxies }), "2001:db8::1");
  const ported = upgrade({ forwarded: "for=203.0.113.7:51234" });
  assert.equal(clientAddress(ported, peer("10.0.0.9"), { proxies }), "203.0.113.7");
  assert.equal(clientAddress(upgrade({}), peer("10.0.0.9"), { proxies }), "10.0.0.9");
});

Deno.test("a spoofed X-Forwarded-For does not dodge the per-address limit; a trusted proxy's does count", async () => {
  await using server = await startHub({
    security: { maxConnectionsPerIp: 1, trustedProxies: ["10.0.0.9"] },
  });
  const check = (from: string, xff: string) =>
    server.hub.admission.check(upgrade({ "x-forwarded-for": xff }), peer(from));
  // A client on its own keeps naming other addresses: it is still one address.
  const first = await check("1.1.1.1", "9.9.9.1") as Ticket;
  assert.equal(first.address, "1.1.1.1");
  const second = await check("1.1.1.1", "9.9.9.2");
  assert.ok(second instanceof Response && second.status === 429, "the header was ignored");
  // Two people behind the trusted proxy are two addresses; one of them twice is one.
  const ada = await check("10.0.0.9", "9.9.9.1") as Ticket;
  const bob = await check("10.0.0.9", "9.9.9.2") as Ticket;
  assert.deepEqual([ada.address, bob.address], ["9.9.9.1", "9.9.9.2"]);
  const adaAgain = await check("10.0.0.9", "9.9.9.1");
  assert.ok(adaAgain instanceof Response && adaAgain.status === 429);
  for (const ticket of [first, ada, bob]) ticket.release();
});
