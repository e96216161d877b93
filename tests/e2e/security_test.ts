/**
 * The page policies and the origin check in real Chromium: islands hydrate
 * under the CSP while an injected inline script is blocked; the page may use
 * the camera; a page of a listed (or the app's own) origin connects, a page
 * of another origin is refused and cannot read the API.
 *
 * `deno task build && bash tests/netns.sh deno test -A tests/e2e/security_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import { launchChromium, newUserPage, pageErrors } from "../_helpers/browser.ts";
import { openPage } from "../_helpers/pages.ts";
import { startApp } from "../_helpers/server.ts";

/** In the page: connect the SDK (from /sdk.js of the app at `arg.app`) to `arg.ws`. */
const CONNECT = `
  const sdk = await import(arg.app + "/sdk.js");
  const client = new sdk.RealtimeClient({ url: arg.ws, timeouts: { connect: 5000 } });
  try {
    await client.connectRealtime();
    const id = client.user.user_id;
    await client.closeRealtime();
    return "connected " + id;
  } catch (e) {
    return e.code + ": " + e.message;
  }
`;

Deno.test("page policies and origins (Chromium)", async (t) => {
  await using app = await startApp({ env: { ALLOWED_ORIGINS: "https://app.example" } });
  await using browser = await launchChromium();
  const port = new URL(app.url).port;

  await t.step(
    "islands hydrate under the CSP; an injected inline script does not run",
    async () => {
      const page = await newUserPage(browser, app.url);
      const violations: string[] = [];
      page.on("console", (msg) => {
        if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text());
      });
      await openPage(page, "/", { islands: ["JoinRoomForm"] });
      assert(violations.length === 0, `CSP violations on load: ${violations.join("\n")}`);
      const ran = await page.evaluate(async () => {
        const seen = new Promise((r) => document.addEventListener("securitypolicyviolation", r));
        const script = document.createElement("script");
        script.textContent = "window.injected = true";
        document.body.append(script);
        await Promise.race([seen, new Promise((r) => setTimeout(r, 1000))]);
        return (globalThis as { injected?: boolean }).injected === true;
      });
      assert(!ran, "an inline script without the nonce ran");
      assert(violations.length > 0, "the blocked script was not reported as a CSP violation");
      const camera = await page.evaluate(async () => {
        const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
        stream.getTracks().forEach((track) => track.stop());
        return stream.getTracks().length;
      });
      assert(camera === 2, "camera and microphone were not allowed to the page itself");
      pageErrors(page).assertNone([/Content Security Policy/]);
      await page.context().close();
    },
  );

  await t.step("the app's own origin connects; another origin is refused", async () => {
    const ws = `ws://127.0.0.1:${port}/api/realtime`;
    const own = await newUserPage(browser, app.url);
    await own.goto("/api/health");
    const ok = await own.evaluate(
      (arg) => new Function("arg", `return (async () => { ${arg.body} })()`)(arg),
      { body: CONNECT, app: app.url, ws },
    );
    assert(String(ok).startsWith("connected "), `own origin: ${ok}`);

    // localhost:PORT is another origin than 127.0.0.1:PORT, and not listed.
    const other = await newUserPage(browser, `http://localhost:${port}`);
    await other.goto("/api/health");
    const refused = await other.evaluate(
      (arg) => new Function("arg", `return (async () => { ${arg.body} })()`)(arg),
      { body: CONNECT, app: `http://localhost:${port}`, ws },
    );
    console.log(`      other origin: ${refused}`);
    // The same page reaches its own host: the refusal above is the origin check.
    const sameHost = await other.evaluate(
      (arg) => new Function("arg", `return (async () => { ${arg.body} })()`)(arg),
      { body: CONNECT, app: `http://localhost:${port}`, ws: `ws://localhost:${port}/api/realtime` },
    );
    assert(String(sameHost).startsWith("connected "), `localhost to itself: ${sameHost}`);
    assert(/^NOT_CONNECTED: .*1006.*origin/.test(String(refused)), `other origin: ${refused}`);
    const read = await other.evaluate(async (url) => {
      try {
        await (await fetch(url)).json();
        return "read";
      } catch (e) {
        return String(e);
      }
    }, `${app.url}/api/rooms`);
    assert(read !== "read", "a page of another origin read the API");
    await own.context().close();
    await other.context().close();
  });
});
