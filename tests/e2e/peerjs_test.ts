/**
 * The real PeerJS client (npm `peerjs` 1.5.5, unmodified) against Parley's
 * `/peerjs`, in Chromium: ids, data connections, video calls and closes,
 * on one isolate and across two with BroadcastChannel off; and the refusals
 * and timeouts PeerJS apps rely on (`unavailable-id`, `invalid-key`,
 * `peer-unavailable`, the alive timeout).
 *
 * Run inside the private network namespace:
 * `bash tests/netns.sh deno test -A tests/e2e/peerjs_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchChromium, pageErrors } from "../_helpers/browser.ts";
import { kvEntries } from "../_helpers/cluster.ts";
import { peerjsPage } from "../_helpers/peerjs.ts";
import { type RunningApp, startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";
import { h, until } from "./_calls_harness.ts";
import { type PeerClaim, PEERJS_KEYS } from "../../lib/server/peerjs/mod.ts";

/** Short timeouts so the EXPIRE and alive-timeout steps take seconds; clients beat faster. */
const ENV = { PARLEY_PEERJS_EXPIRE_TIMEOUT_MS: "1000", PARLEY_PEERJS_ALIVE_TIMEOUT_MS: "4000" };
const BEAT = { pingInterval: 500 };
/** What PeerJS logs on its own when a peer or the server goes away. */
const EXPECTED = [
  /Could not connect to peer/,
  /is taken/,
  /is invalid/,
  /Lost connection/,
  /Aborting/,
];

const start = (page: Page, id?: string, options: Record<string, unknown> = BEAT) =>
  h<string>(page, "return H.start(arg)", { id, options });

/** Video frames decoded on `page` keep coming: at least `more` new ones. */
async function videoMoves(page: Page, more = 10): Promise<void> {
  const first = await h<number>(page, "return H.framesDecoded()");
  await waitFor(async () => (await h<number>(page, "return H.framesDecoded()")) >= first + more, {
    timeout: 15_000,
    message: "more video frames decoded",
  });
}

/** Data both ways, a video call both ways, and a close seen on the other side. */
async function exchange(t: Deno.TestContext, a: Page, b: Page, idA: string, idB: string) {
  await t.step("a data connection opens; messages go both ways", async () => {
    assert((await h(a, "return H.connect(arg)", idB)) === idB, "A's connection is to B");
    await until(b, `H.conns.some((c) => c.peer === ${JSON.stringify(idA)} && c.open)`);
    await h(a, "H.send('ping from A')");
    await h(b, "H.send('pong from B')");
    await until(b, "H.received.includes('ping from A')");
    await until(a, "H.received.includes('pong from B')");
  });
  await t.step("a video call shows moving video both ways", async () => {
    await h(a, "await H.call(arg)", idB);
    await Promise.all([until(a, "H.streams.length === 1"), until(b, "H.streams.length === 1")]);
    await Promise.all([videoMoves(a), videoMoves(b)]);
  });
  await t.step("closing one side fires close on the other", async () => {
    await h(a, "for (const c of H.conns) c.close()");
    await until(b, `H.closed.includes(${JSON.stringify(idA)})`);
    await h(a, "for (const c of H.calls) c.close()");
    await until(b, `H.callsClosed.includes(${JSON.stringify(idA)})`);
  });
}

/** Where each id's claim says its peer is. */
async function isolatesOf(app: RunningApp): Promise<Map<string, string>> {
  const entries = await kvEntries(app.kvPath, PEERJS_KEYS.claims("peerjs"));
  return new Map(entries.map((e) => [String(e.key.at(-1)), (e.value as PeerClaim).isolate]));
}

Deno.test("PeerJS client 1.5.5 on Parley, one isolate (Chromium)", async (t) => {
  await using app = await startApp({ env: ENV });
  await using browser = await launchChromium();
  const a = await peerjsPage(browser, app.url);
  const b = await peerjsPage(browser, app.url);
  let idA = "";
  await t.step("new Peer() gets a server-issued id; new Peer('alice') keeps its own", async () => {
    [idA] = await Promise.all([start(a), start(b, "alice")]);
    assert(/^[0-9a-f-]{36}$/.test(idA), `server-issued id: ${idA}`);
  });
  await exchange(t, a, b, idA, "alice");

  await t.step("a taken id: unavailable-id", async () => {
    const c = await peerjsPage(browser, app.url);
    const error = await start(c, "alice").catch((e: Error) => e.message);
    assert(/unavailable-id: ID "alice" is taken/.test(error), `got ${error}`);
    await c.context().close();
  });
  await t.step("an unknown key: invalid-key", async () => {
    const c = await peerjsPage(browser, app.url);
    const error = await start(c, "bob", { ...BEAT, key: "not-this-one" }).catch((e: Error) =>
      e.message
    );
    assert(/invalid-key: API KEY "not-this-one" is invalid/.test(error), `got ${error}`);
    await c.context().close();
  });
  await t.step("a peer that never comes: EXPIRE, reported as peer-unavailable", async () => {
    const began = performance.now();
    await h(a, "H.errors.length = 0; H.track(H.peer.connect('nobody'))");
    await until(a, "H.errors.some((e) => e.startsWith('peer-unavailable'))", 10_000);
    const took = performance.now() - began;
    assert(took >= 900, `EXPIRE waited the expire timeout (1 s), not ${Math.round(took)} ms`);
  });
  await t.step("a peer that goes silent is dropped after the alive timeout", async () => {
    const c = await peerjsPage(browser, app.url);
    await start(c, "quiet", { pingInterval: 3_600_000 });
    await until(c, "H.disconnected === 1", 10_000);
    // Its id is free again: the server let it go, not only the socket.
    const d = await peerjsPage(browser, app.url);
    assert((await start(d, "quiet")) === "quiet", "the id of the dropped peer can be claimed");
    await c.context().close();
    await d.context().close();
  });
  for (const page of [a, b]) pageErrors(page).assertNone(EXPECTED);
});

Deno.test("PeerJS client 1.5.5 across two isolates, BroadcastChannel off (Chromium)", async (t) => {
  await using app = await startApp({
    cluster: true,
    env: { ...ENV, DENO_JOBS: "2", PARLEY_BROADCAST: "off" },
  });
  await using browser = await launchChromium();
  const a = await peerjsPage(browser, app.url);
  const b = await peerjsPage(browser, app.url);
  const idA = await start(a);
  let idB = "";
  await t.step("the two peers land on different isolates", async () => {
    // The kernel spreads sockets over the isolates: reconnect B until it sits elsewhere.
    for (let attempt = 0; attempt < 30 && !idB; attempt++) {
      const id = await start(b, `bob${attempt}`);
      const where = await waitFor(async () => {
        const map = await isolatesOf(app);
        return map.has(idA) && map.has(id) && map;
      }, { message: "both claims in KV" });
      if (where.get(idA) !== where.get(id)) idB = id;
      else await h(b, "H.peer.destroy()");
    }
    assert(idB, "B reached another isolate than A in 30 connects");
  });
  await exchange(t, a, b, idA, idB);
  await t.step("a taken id across isolates: unavailable-id", async () => {
    // Each page's socket lands on either isolate: six tries all but surely reach the other one
    // (tests/cluster/peerjs_test.ts proves the cross-isolate refusal for certain).
    for (let attempt = 0; attempt < 6; attempt++) {
      const c = await peerjsPage(browser, app.url);
      const error = await start(c, idB).catch((e: Error) => e.message);
      assert(/unavailable-id: /.test(error), `got ${error}`);
      await c.context().close();
    }
  });
  for (const page of [a, b]) pageErrors(page).assertNone(EXPECTED);
});
