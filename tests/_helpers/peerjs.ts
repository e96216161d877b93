/**
 * The real PeerJS client (npm `peerjs`, pinned in deno.json) in a page of
 * the app under test, for the tests of Parley's PeerJS face. The bundle is
 * read from Deno's npm cache (the type import below makes `deno test` fetch
 * it before the tests enter the network namespace) and injected into a page
 * loaded from the app's own origin, so its sockets are same-origin.
 *
 * @example
 * ```ts ignore
 * const page = await peerjsPage(browser, app.url);
 * const id = await h<string>(page, "return H.start(arg)", { id: "alice" });
 * ```
 *
 * @module
 */
import type { Browser, Page } from "playwright-core";
import type { PeerOptions } from "peerjs";
import { newUserPage } from "./browser.ts";
import { openPage } from "./pages.ts";

/** The pinned client version (deno.json's `peerjs` import). */
export const PEERJS_CLIENT_VERSION = "1.5.5";

let script: Promise<string> | undefined;

/** The text of `peerjs.min.js` from Deno's npm cache. */
export function peerjsClientScript(): Promise<string> {
  script ??= (async () => {
    const info = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const { npmCache } = JSON.parse(new TextDecoder().decode(info.stdout));
    return await Deno.readTextFile(
      `${npmCache}/registry.npmjs.org/peerjs/${PEERJS_CLIENT_VERSION}/dist/peerjs.min.js`,
    );
  })();
  return script;
}

/** Options a test page passes to `new Peer` beyond host, port and path. */
export type PagePeerOptions = Pick<PeerOptions, "key" | "token" | "pingInterval">;

/**
 * The in-page harness: `H.start({ id?, options? })` makes a Peer and
 * resolves with its id on `open` (or rejects with the error's type); it
 * records data, calls, closes and errors for the test to wait on.
 */
const HARNESS = `
const H = window.H = {
  peer: null, conns: [], received: [], closed: [], errors: [], calls: [], streams: [],
  callsClosed: [], disconnected: 0, local: null,
  start({ id, options = {} } = {}) {
    const peer = H.peer = new Peer(id, {
      host: location.hostname, port: Number(location.port), path: "/peerjs", secure: false,
      config: { iceServers: [] }, debug: 0, ...options,
    });
    peer.on("connection", (conn) => H.track(conn));
    peer.on("call", async (call) => {
      H.watchCall(call);
      call.answer(await H.media());
    });
    peer.on("disconnected", () => H.disconnected++);
    return new Promise((resolve, reject) => {
      peer.on("open", resolve);
      peer.on("error", (error) => {
        H.errors.push(error.type + ": " + error.message);
        reject(new Error(error.type + ": " + error.message));
      });
    });
  },
  track(conn) {
    H.conns.push(conn);
    conn.on("data", (data) => H.received.push(data));
    conn.on("close", () => H.closed.push(conn.peer));
    return conn;
  },
  connect(dst) {
    const conn = H.track(H.peer.connect(dst, { reliable: true }));
    return new Promise((resolve) => conn.on("open", () => resolve(conn.peer)));
  },
  send(text) {
    for (const conn of H.conns) if (conn.open) conn.send(text);
  },
  async media() {
    return H.local ??= await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  },
  watchCall(call) {
    H.calls.push(call);
    call.on("stream", (stream) => H.streams.push(stream));
    call.on("close", () => H.callsClosed.push(call.peer));
  },
  async call(dst) {
    H.watchCall(H.peer.call(dst, await H.media()));
  },
  async framesDecoded() {
    let frames = 0;
    for (const call of H.calls) {
      (await call.peerConnection.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded ?? 0;
      });
    }
    return frames;
  },
};
`;

/** A new user's page of the app with the PeerJS client and the harness loaded. */
export async function peerjsPage(browser: Browser, appUrl: string): Promise<Page> {
  const page = await newUserPage(browser, appUrl);
  // The browser asks for a favicon on the way; the app has none.
  await page.route("**/favicon.ico", (route) => route.fulfill({ status: 204 }));
  await openPage(page, `${appUrl}/api/health`, {
    blank: {
      title: "peerjs",
      scripts: [{ content: await peerjsClientScript() }, { content: HARNESS }],
    },
    globals: ["H", "Peer"],
  });
  return page;
}
