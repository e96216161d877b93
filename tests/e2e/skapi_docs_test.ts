// Over 300 lines: one step per documented example, each driving its page as a person would.
/**
 * Skapi's documented examples, served from an origin of their own and
 * importing Parley's `/sdk.js` cross-origin, run in real Chromium with only
 * the client's creation changed: both WebRTC examples, the chat page with
 * its forms, the groups page (names with spaces), and MDN-style handling of
 * a denied camera.
 *
 * Run inside the private network namespace:
 * `bash tests/netns.sh deno test -A tests/e2e/skapi_docs_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { launchChromium, newUserPage, pageErrors, screenshot } from "../_helpers/browser.ts";
import { REPO_ROOT } from "../_helpers/process.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

/**
 * Serves tests/e2e/fixtures/ on 127.0.0.1 at a port of its own (so another
 * origin than the app's), filling in where the Parley server is.
 */
function serveFixtures(appUrl: string, wsUrl: string) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const name = new URL(req.url).pathname.slice(1);
    if (!/^[a-z_]+\.(html|js)$/.test(name)) return new Response("not found", { status: 404 });
    try {
      const text = await Deno.readTextFile(`${REPO_ROOT}tests/e2e/fixtures/${name}`);
      return new Response(
        text.replaceAll("{{PARLEY_WS}}", wsUrl).replaceAll("{{PARLEY}}", appUrl),
        {
          headers: {
            "content-type": name.endsWith(".js") ? "text/javascript" : "text/html; charset=utf-8",
          },
        },
      );
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Page problems these examples cause on purpose (none but a missing favicon). */
const EXPECTED = [/favicon|status of 404/];

Deno.test("Skapi's documented examples run on Parley from their own origin (Chromium)", async (t) => {
  await using app = await startApp();
  await using fixtures = serveFixtures(app.url, app.wsUrl);
  await using browser = await launchChromium();
  assert(new URL(fixtures.url).origin !== new URL(app.url).origin, "the same origin");
  const opened: Page[] = [];
  const open = async (file: string, on: Browser = browser, permissions = true) => {
    const page = permissions
      ? await newUserPage(on, fixtures.url)
      : await (await on.newContext({ baseURL: fixtures.url })).newPage();
    pageErrors(page);
    page.on("pageerror", (error) => {
      // The docs call play() on every `track` event (audio, then video, into
      // one stream): Chromium rejects the first play() as the second load
      // interrupts it — the examples' own quirk, under Skapi's SDK too. Its
      // stack is empty, so the collector keeps it as "": take it back out.
      if (error.name === "AbortError" && /play\(\) request was interrupted/.test(error.message)) {
        const list = pageErrors(page).list;
        const at = list.findLastIndex((p) => p.kind === "pageerror");
        if (at >= 0) list.splice(at, 1);
      } else console.log(`      [${file}] page error: ${error.name}: ${error.message}`);
    });
    // Alerts the examples raise are answered (and kept) like a user would.
    const alerts: string[] = [];
    page.on("dialog", (dialog) => {
      alerts.push(dialog.message());
      void dialog.dismiss();
    });
    (page as Page & { alerts: string[] }).alerts = alerts;
    await page.goto(`/${file}`);
    opened.push(page);
    return page as Page & { alerts: string[] };
  };
  const closeAll = async () => {
    const pages = opened.splice(0);
    try {
      for (const page of pages) pageErrors(page).assertNone(EXPECTED);
    } finally {
      for (const page of pages) await page.context().close();
    }
  };
  /** A step whose pages are closed however it ends (a failed step must not leave members behind). */
  const step = (name: string, fn: () => Promise<void>) =>
    t.step(name, async () => {
      try {
        await fn();
      } finally {
        await closeAll();
      }
    });
  const connected = (page: Page) =>
    page.waitForFunction(() =>
      (globalThis as unknown as { skapi?: { user: unknown } }).skapi?.user
    );

  await step(
    "webRTC.md: the second page is called, accepts, both see video; hang-up hides it",
    async () => {
      const first = await open("skapi_webrtc.html");
      await connected(first);
      await waitFor(
        () =>
          first.evaluate(() =>
            (globalThis as unknown as { skapi: { group: string } }).skapi.group === "RTCCall"
          ),
        { message: "first page joined" },
      );
      const second = await open("skapi_webrtc.html");
      await second.getByRole("button", { name: "Accept" }).click({ timeout: 15_000 });
      for (const page of [first, second]) {
        await page.waitForFunction(
          () => {
            const remote = document.getElementById("remoteVideo") as HTMLVideoElement;
            const local = document.getElementById("localVideo") as HTMLVideoElement;
            return !remote.hidden && remote.videoWidth > 0 && local.srcObject !== null;
          },
          undefined,
          { timeout: 15_000 },
        );
      }
      await screenshot(second, "skapi-docs-webrtc-callee");
      // The docs' callback hides the remote video on the call's last event, on both sides.
      await first.evaluate(() =>
        (globalThis as unknown as { rtcConnection: { hangup(): void } }).rtcConnection.hangup()
      );
      for (const page of [first, second]) {
        await page.waitForFunction(
          () => document.getElementById("remoteVideo")!.hidden,
          undefined,
          {
            timeout: 5_000,
          },
        );
      }
      await closeAll();
    },
  );

  await step(
    "rtc-example.md: list, call, accept, data message, disconnect; a reject closes the caller's dialog",
    async () => {
      const a = await open("skapi_video_call.html");
      await connected(a);
      const b = await open("skapi_video_call.html");
      await connected(b);
      // Each lists the other (B from getRealtimeUsers, A from B's USER_JOINED notice).
      for (const page of [a, b]) {
        await page.locator("#RealtimeParticipants button", { hasText: "Call" }).first().waitFor({
          timeout: 10_000,
        });
      }
      await b.locator("#RealtimeParticipants button", { hasText: "Call" }).first().click();
      await b.locator("#el_dl_calling[open]").waitFor({ timeout: 5_000 });
      await a.locator("#el_dl_incoming").getByRole("button", { name: "Accept" }).click({
        timeout: 10_000,
      });
      for (const page of [a, b]) {
        await page.waitForFunction(
          () => {
            const section = document.getElementById("el_video_call")!;
            const remote = document.getElementById("remote") as HTMLVideoElement;
            return !section.hidden && remote.videoWidth > 0;
          },
          undefined,
          { timeout: 15_000 },
        );
        assert(
          !(await page.locator("#el_dl_calling[open], #el_dl_incoming[open]").count()),
          "a dialog stayed open",
        );
      }
      await a.waitForFunction(() =>
        document.getElementById("local")!.getAttribute("id") &&
        (document.getElementById("local") as HTMLVideoElement).srcObject
      );
      const url = b.url();
      await b.locator("#el_input_rtcMessage").fill("hello over the data channel");
      await b.locator("#el_input_rtcMessage").press("Enter");
      await a.waitForFunction(
        () =>
          document.getElementById("el_pre_rtcLog")!.innerText.includes(
            "hello over the data channel",
          ),
        undefined,
        { timeout: 10_000 },
      );
      assert(b.url() === url, `the RTC message form navigated to ${b.url()}`);
      await screenshot(a, "skapi-docs-video-call");
      await a.getByRole("button", { name: "Disconnect" }).click();
      for (const page of [a, b]) {
        await page.waitForFunction(
          () =>
            document.getElementById("el_video_call")!.hidden &&
            !document.getElementById("el_dl_calllist")!.hidden,
          undefined,
          { timeout: 5_000 },
        );
      }
      // A second call, rejected: the caller's "Calling" dialog closes on connectionstatechange: closed.
      await b.locator("#RealtimeParticipants button", { hasText: "Call" }).first().click();
      await b.locator("#el_dl_calling[open]").waitFor({ timeout: 5_000 });
      await a.locator("#el_dl_incoming").getByRole("button", { name: "Reject" }).click({
        timeout: 10_000,
      });
      await b.locator("#el_dl_calling").waitFor({ state: "hidden", timeout: 5_000 });
      assert(
        !(await b.locator("#el_dl_calling[open]").count()),
        "the caller's dialog stayed open after a reject",
      );
      // Parley settles the rejected call's connection (null), which the example's .catch reports.
      await waitFor(() => b.alerts.length > 0, { message: "the caller's alert" });
      assert(/null/.test(b.alerts[0]), `alert: ${b.alerts[0]}`);
      await closeAll();
    },
  );

  await step(
    "chat-example.md: create/join by form and hash, chat and private forms that stay on the page",
    async () => {
      const a = await open("skapi_chat.html");
      await connected(a);
      await a.locator("#RealtimeGroups").getByText("No groups found.").waitFor({ timeout: 10_000 });
      await a.locator("#el_inp_group").fill("HelloWorld");
      await a.getByRole("button", { name: "Create" }).click();
      await a.waitForURL((url) => url.hash === "#HelloWorld", { timeout: 5_000 });
      await a.locator("#chatbox").waitFor({ state: "visible" });
      await waitFor(
        () =>
          a.evaluate(() =>
            (globalThis as unknown as { skapi: { group: string } }).skapi.group === "HelloWorld"
          ),
        { message: "A joined" },
      );
      const b = await open("skapi_chat.html");
      await connected(b);
      await b.locator("#RealtimeGroups").getByText("HelloWorld").waitFor({ timeout: 10_000 });
      await b.locator("#el_inp_group").fill("HelloWorld");
      await b.getByRole("button", { name: "Create" }).click();
      await b.waitForURL((url) => url.hash === "#HelloWorld", { timeout: 5_000 });
      await waitFor(() => b.alerts.includes("Group already exists."), {
        message: "B's search found it",
      });
      await waitFor(
        () =>
          b.evaluate(() =>
            (globalThis as unknown as { skapi: { group: string } }).skapi.group === "HelloWorld"
          ),
        { message: "B joined" },
      );
      // Chat by form: both see it; the page stays (no reload: a marker survives).
      await a.evaluate(() => (globalThis as unknown as { stayed: boolean }).stayed = true);
      await a.locator("input[name=chatmsg]").fill("hi from A");
      await a.locator("input[name=chatmsg]").press("Enter");
      for (const page of [a, b]) {
        await page.locator("#chatMessages").getByText("hi from A").waitFor({ timeout: 5_000 });
      }
      assert(
        await a.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed === true),
        "the chat form reloaded the page",
      );
      assert(
        await a.locator("input[name=chatmsg]").inputValue() === "",
        "the form was not reset after the post",
      );
      // A private message by form, to the user whose name A clicks.
      const bId = await b.evaluate(() =>
        (globalThis as unknown as { skapi: { user: { user_id: string } } }).skapi.user.user_id
      );
      await a.locator(`[id="${bId}"]`).click({ timeout: 5_000 });
      await a.locator("#privateMsgSender input[name=msg]").fill("psst");
      await a.locator("#privateMsgSender input[name=msg]").press("Enter");
      await b.locator("#privateMsgDialog[open]").getByText("psst").waitFor({ timeout: 5_000 });
      await a.locator("#privateMsgSender").waitFor({ state: "hidden" });
      await screenshot(b, "skapi-docs-chat");
      // A third visitor's group list: Skapi's default search lists every live group.
      const c = await open("skapi_chat.html");
      await c.locator("#RealtimeGroups a", { hasText: "HelloWorld" }).waitFor({ timeout: 10_000 });
      assert((await c.locator("#RealtimeGroups tr").first().innerText()).includes("2"), "2 users");
      await closeAll();
    },
  );

  await step(
    "group.md: join, post by form, change to a name with spaces, search, users, leave",
    async () => {
      const g = await open("skapi_groups.html");
      const other = await open("skapi_groups.html");
      const logs: string[] = [];
      g.on("console", (message) => logs.push(message.text()));
      await Promise.all([connected(g), connected(other)]);
      const run = (page: Page, snippet: string) =>
        page.evaluate((name) => {
          const code = document.querySelector(`script[data-snippet="${name}"]`)!.textContent!;
          new Function(code)();
        }, snippet);
      const logged = (pattern: RegExp) =>
        waitFor(() => logs.find((line) => pattern.test(line)), { message: `console ${pattern}` });
      await run(g, "join");
      await logged(/^Joined realtime message group: "HelloWorld"\.$/);
      await run(other, "join");
      await g.locator("input[name=msg]").fill("by form");
      await g.locator("input[name=msg]").press("Enter");
      await logged(/^\{"type":"success","message":"Message sent\."\}$/);
      await logged(/"type":"message","message":\{"msg":"by form"\}/);
      await run(g, "post");
      await logged(/"message":\{"msg":"Hello World!"\}/);
      await run(g, "change");
      await logged(/^Joined realtime message group: "Another Group Name"\.$/);
      await run(g, "list");
      const all = JSON.parse(await logged(/^\[\{"group"/) as string);
      assert(
        JSON.stringify(all) === JSON.stringify([
          { group: "Another Group Name", number_of_users: 1 },
          { group: "HelloWorld", number_of_users: 1 },
        ]),
        `groups ${JSON.stringify(all)}`,
      );
      logs.length = 0;
      await run(g, "search");
      const found = JSON.parse(await logged(/^\[/) as string);
      assert(
        JSON.stringify(found) === '[{"group":"HelloWorld","number_of_users":1}]',
        `search ${JSON.stringify(found)}`,
      );
      logs.length = 0;
      await run(g, "users");
      const users = JSON.parse(await logged(/^\[/) as string);
      const me = await g.evaluate(() =>
        (globalThis as unknown as { skapi: { user: { cid: string } } }).skapi.user.cid
      );
      assert(users.length === 1 && users[0].cid === me, `users ${JSON.stringify(users)}`);
      await run(g, "leave");
      await logged(/^Left realtime message group\.$/);
      assert(g.url().endsWith("/skapi_groups.html"), `the form navigated: ${g.url()}`);
      await closeAll();
    },
  );

  await step(
    "MDN's getUserMedia error handling: a denied camera is NotAllowedError, as thrown",
    async () => {
      await using denying = await launchChromium({ args: ["--use-fake-ui-for-media-stream=deny"] });
      const denied = await open("mdn_getusermedia.html", denying, false);
      const allowed = await open("mdn_getusermedia.html");
      const ready = (page: Page) =>
        page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready);
      await Promise.all([ready(denied), ready(allowed)]);
      const cid = (page: Page) =>
        page.evaluate(() =>
          (globalThis as unknown as { skapi: { user: { cid: string } } }).skapi.user.cid
        );
      // The caller's camera is denied: connectRTC rejects with the browser's own error.
      await denied.evaluate(
        (to) => (globalThis as unknown as { invite(cid: string): Promise<void> }).invite(to),
        await cid(allowed),
      );
      assert(
        await denied.locator("#error-name").innerText() === "NotAllowedError true",
        await denied.locator("#error-name").innerText(),
      );
      assert(
        /^Error opening your camera and\/or microphone: /.test(
          await denied.locator("#status").innerText(),
        ),
        "the default branch",
      );
      assert(await denied.locator("#call").innerText() === "closed", "closeVideoCall ran");
      assert(
        await allowed.locator("#status").innerText() === "idle",
        "a call rang though the caller had no media",
      );
      // The callee's camera is denied: accepting rejects with it too, and the caller's call ends.
      await allowed.evaluate(
        (to) => (globalThis as unknown as { invite(cid: string): Promise<void> }).invite(to),
        await cid(denied),
      );
      await denied.locator("#call", { hasText: "closed" }).waitFor({ timeout: 10_000 });
      assert(
        await denied.locator("#error-name").innerText() === "NotAllowedError true",
        "the callee's error",
      );
      const ended = await allowed.evaluate(async () =>
        await (globalThis as unknown as { call: { connection: Promise<unknown> } }).call.connection
      );
      assert(ended === null, "the caller's connection settles null when the callee cannot accept");
      await closeAll();
    },
  );
});
