/**
 * The in-page harness of the call tests: a page of the app that loads the
 * real SDK from `/sdk.js` and exposes `window.H` to drive one client.
 *
 * @module
 */
import type { Browser, Page } from "playwright-core";
import { newUserPage } from "../_helpers/browser.ts";
import { type AnyPage, inPageWith, openPage, untilInPage } from "../_helpers/pages.ts";

/** The module the harness page runs (it imports the SDK bundle as browsers do). */
export const HARNESS = `
import * as sdk from "/sdk.js";
const H = window.H = {
  sdk, client: null, cid: null, incoming: [], closed: [], closedCodes: [], closedEvents: [],
  events: [], messages: [], tracks: [], finals: 0, full: [],
  connector: null, conn: null, settled: false, throwing: false,
  reset() {
    Object.assign(H, { incoming: [], closed: [], closedCodes: [], closedEvents: [], events: [],
      messages: [], tracks: [], finals: 0, full: [], connector: null, conn: null, settled: false });
  },
  async connect(options = {}) {
    if (H.client) await H.client.closeRealtime();
    H.reset();
    H.client = new sdk.RealtimeClient(options);
    await H.client.connectRealtime((rt) => {
      if (rt.type === "rtc:incoming") H.incoming.push(rt);
      if (rt.type === "rtc:closed") {
        H.closed.push(rt.reason);
        H.closedCodes.push(rt.code ?? null);
        H.closedEvents.push(rt);
      }
      if (H.throwing) throw new Error("app bug in the realtime callback");
    });
    return H.cid = H.client.user.cid;
  },
  onRtc(e) {
    H.events.push({ type: e.type, label: e.label, state: e.state, candidate: e.candidate, sdpMid: e.sdpMid });
    H.full.push(e);
    // The last event of every call (however it ended).
    if (e.type === "connectionstatechange" && e.state === "closed") H.finals++;
    if (e.type === "message") H.messages.push(e.data);
    if (e.type === "track") H.tracks.push(e.track.kind);
    if (H.throwing) throw new Error("app bug in the RTC callback: " + e.type);
  },
  settle(connection) {
    return connection.then((conn) => { H.conn = conn; H.settled = true; return !!conn; });
  },
  async call(cid, params = {}) {
    H.connector = await H.client.connectRTC({ cid, ...params }, H.onRtc);
    H.settle(H.connector.connection);
  },
  async accept(params = {}) {
    const incoming = H.incoming.at(-1);
    return H.settle(incoming.connectRTC(params, H.onRtc));
  },
  connected() {
    return H.conn?.target.connectionState === "connected";
  },
  async inbound(kind) {
    const out = { framesDecoded: 0, packetsReceived: 0 };
    (await H.conn.target.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === kind) {
        out.framesDecoded += s.framesDecoded ?? 0;
        out.packetsReceived += s.packetsReceived ?? 0;
      }
    });
    return out;
  },
  /** The selected candidate pair's local and remote candidate types (e.g. "srflx"). */
  async pair() {
    const stats = new Map();
    (await H.conn.target.getStats()).forEach((s) => stats.set(s.id, s));
    const transport = [...stats.values()].find((s) => s.type === "transport" && s.selectedCandidatePairId);
    const pair = transport ? stats.get(transport.selectedCandidatePairId) : [...stats.values()].find((s) =>
      s.type === "candidate-pair" && s.nominated && s.state === "succeeded");
    if (!pair) return null;
    const local = stats.get(pair.localCandidateId), remote = stats.get(pair.remoteCandidateId);
    return { local: local?.candidateType, remote: remote?.candidateType,
      localProtocol: local?.relayProtocol ?? local?.protocol };
  },
  send(text, label = "default") {
    H.conn.channels[label].send(text);
  },
  openChannel(label = "default") {
    return H.conn?.channels[label]?.readyState === "open";
  },
};
window.dispatchEvent(new Event("harness-ready"));
`;

/** Loads the harness into `page` (of either engine), on the origin of `appUrl`. */
export async function openHarness(page: AnyPage, appUrl: string): Promise<void> {
  await openPage(page, `${appUrl}/api/health`, {
    blank: { title: "calls", scripts: [{ content: HARNESS, module: true }] },
    globals: ["H"],
  });
}

/** A new user's Chromium page with the harness loaded. */
export async function harnessPage(browser: Browser, appUrl: string): Promise<Page> {
  const page = await newUserPage(browser, appUrl);
  await openHarness(page, appUrl);
  return page;
}

/** Runs `body` (an async function body) in the page with `H` and `arg` in scope. */
export function h<T>(page: AnyPage, body: string, arg?: unknown): Promise<T> {
  return inPageWith(page, "H", body, arg);
}

/** Waits until `expression` (with `H` in scope) is truthy in the page. */
export function until(page: AnyPage, expression: string, timeout = 15_000): Promise<void> {
  return untilInPage(page, expression, { timeout });
}
