/**
 * TURN on a real network path: coturn on loopback with the TURN REST secret,
 * the app handing out short-lived credentials from `/api/ice` (behind access
 * tokens), and two Chromium pages that may only use relay candidates.
 *
 * `deno task build && bash tests/netns.sh deno test -A tests/e2e/turn_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import { launchChromium, pageErrors } from "../_helpers/browser.ts";
import { startApp } from "../_helpers/server.ts";
import { hasTurnserver, startTurn } from "../_helpers/turn.ts";
import { signToken } from "../../lib/server/auth.ts";
import { turnCredential } from "../../lib/server/ice.ts";
import { h, harnessPage, until } from "./_calls_harness.ts";

const SECRET = "turn-e2e-auth-secret";

/**
 * Gathers candidates in the page with `config` on a bare peer connection;
 * resolves to the candidate types and the ICE errors seen.
 */
const GATHER = `
  const pc = new RTCPeerConnection(arg);
  const types = [], errors = [];
  pc.onicecandidateerror = (e) => errors.push(e.errorCode + " " + e.errorText);
  pc.createDataChannel("probe");
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    const done = () => pc.iceGatheringState === "complete" && resolve();
    pc.onicegatheringstatechange = done;
    pc.onicecandidate = (e) => { if (e.candidate) types.push(e.candidate.type); else resolve(); };
    setTimeout(resolve, 8000);
    done();
  });
  pc.close();
  return { types, errors };
`;

/** The type of the selected candidate pair's local candidate. */
const SELECTED = `
  const stats = await H.conn.target.getStats();
  let pair;
  stats.forEach((s) => { if (s.type === "transport" && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId); });
  if (!pair) stats.forEach((s) => { if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s; });
  return pair ? [stats.get(pair.localCandidateId).candidateType, stats.get(pair.remoteCandidateId).candidateType] : null;
`;

Deno.test({
  name: "TURN: relay-only calls through coturn with /api/ice credentials (Chromium)",
  ignore: !(await hasTurnserver()),
  async fn(t) {
    await using turn = await startTurn({ secret: "coturn-shared-secret" });
    const turnUrl = `turn:127.0.0.1:${turn.port}?transport=udp`;
    await using app = await startApp({
      env: {
        PARLEY_AUTH_SECRET: SECRET,
        TURN_URLS: turnUrl,
        TURN_SECRET: turn.secret,
        TURN_TTL: "600",
      },
    });
    await using browser = await launchChromium();
    const a = await harnessPage(browser, app.url);
    const b = await harnessPage(browser, app.url);
    const errorsA = pageErrors(a);
    const errorsB = pageErrors(b);
    const [subA, subB] = [crypto.randomUUID(), crypto.randomUUID()];
    const tokenA = await signToken(SECRET, { sub: subA, name: "A", rooms: ["*"] });
    const tokenB = await signToken(SECRET, { sub: subB, name: "B", rooms: ["*"] });
    /** /api/ice as the page fetches it, with its token, forced to relay. */
    const relayConfig = (page: typeof a, token: string) =>
      h<RTCConfiguration>(
        page,
        `const r = await fetch("/api/ice", { headers: { authorization: "Bearer " + arg } });
         if (!r.ok) throw new Error("/api/ice " + r.status);
         return { ...(await r.json()), iceTransportPolicy: "relay" };`,
        token,
      );

    /** Both pages connect with their tokens and join one room: calls reach people in granted rooms. */
    const connectInRoom = async () => {
      await h(a, "return H.connect(arg)", { token: tokenA });
      const cb = await h<string>(b, "return H.connect(arg)", { token: tokenB });
      for (const page of [a, b]) {
        await h(page, "await H.client.joinRealtime({ group: 'turn-room' })");
      }
      return cb;
    };

    await t.step(
      "the page's credentials get relay candidates; tampered or expired get none",
      async () => {
        const good = await relayConfig(a, tokenA);
        const server = good.iceServers![0];
        assert(String(server.username).endsWith(`:${subA}`), `username ${server.username}`);
        const gathered = await h<{ types: string[] }>(a, GATHER, good);
        console.log(`      good credential: ${gathered.types.join(", ")}`);
        assert(gathered.types.includes("relay"), "no relay candidate with good credentials");

        const tampered = structuredClone(good);
        const credential = String(tampered.iceServers![0].credential);
        tampered.iceServers![0].credential = (credential[0] === "A" ? "B" : "A") +
          credential.slice(1);
        const bad = await h<{ types: string[]; errors: string[] }>(a, GATHER, tampered);
        console.log(
          `      tampered: ${bad.types.length} candidates; errors ${bad.errors.join("; ")}`,
        );
        assert(!bad.types.includes("relay"), "a tampered credential got a relay");

        const username = `${Math.floor(Date.now() / 1000) - 60}:${subA}`;
        const expired = {
          iceServers: [{
            urls: turnUrl,
            username,
            credential: await turnCredential(turn.secret, username),
          }],
          iceTransportPolicy: "relay",
        };
        const old = await h<{ types: string[]; errors: string[] }>(a, GATHER, expired);
        console.log(
          `      expired: ${old.types.length} candidates; errors ${old.errors.join("; ")}`,
        );
        assert(!old.types.includes("relay"), "an expired credential got a relay");
      },
    );

    await t.step("two pages connect and exchange data through coturn (relay only)", async () => {
      const [iceA, iceB] = [await relayConfig(a, tokenA), await relayConfig(b, tokenB)];
      const cb = await connectInRoom();
      const t0 = performance.now();
      await h(a, "await H.call(arg.cid, { ice: arg.ice })", { cid: cb, ice: iceA });
      await until(b, "H.incoming.length === 1");
      await h(b, "await H.accept({ ice: arg })", iceB);
      await Promise.all([until(a, "H.connected()", 20_000), until(b, "H.connected()", 20_000)]);
      console.log(`      connected through TURN in ${Math.round(performance.now() - t0)} ms`);
      await Promise.all([until(a, "H.openChannel()"), until(b, "H.openChannel()")]);
      await h(a, "H.send('via relay from A')");
      await h(b, "H.send('via relay from B')");
      await until(b, "H.messages.includes('via relay from A')");
      await until(a, "H.messages.includes('via relay from B')");
      const selected = await h<string[] | null>(a, SELECTED);
      console.log(`      selected pair (local, remote): ${selected}`);
      assert(selected?.[0] === "relay", `the call did not go through the relay: ${selected}`);
      await h(a, "await H.conn.hangup()");
      await until(b, "H.closed.length === 1");
    });

    await t.step("the SDK's default ICE fetch sends the token", async () => {
      const cb = await connectInRoom();
      await h(a, "await H.call(arg)", cb);
      await until(b, "H.incoming.length === 1");
      await h(b, "await H.accept()");
      await Promise.all([until(a, "H.connected()"), until(b, "H.connected()")]);
      const usernames = await h<string[]>(
        a,
        "return H.conn.target.getConfiguration().iceServers.map((s) => s.username)",
      );
      assert(
        usernames.some((u) => u?.endsWith(`:${subA}`)),
        `the default /api/ice answer was not used: ${usernames}`,
      );
      await h(a, "await H.conn.hangup()");
    });

    // The harness page sits on /api/health, which has no favicon: a 404 there is expected.
    errorsA.assertNone([/favicon|status of 404/]);
    errorsB.assertNone([/favicon|status of 404/]);
  },
});
