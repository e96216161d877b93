/**
 * Private rooms in real Chromium, on an app that requires tokens: an invite
 * link (`/room/<name>#token=…`, as `deno task token --link` prints) opens
 * the room and shows the people in it, with the token gone from the address
 * bar and kept for a reload; the same room without the fragment, or with an
 * expired token, says in words that it is private and needs an invite link.
 * And in open mode: the identity proof kept in localStorage makes two tabs
 * one user.
 *
 * `deno task build && bash tests/netns.sh deno test -A tests/e2e/private_room_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { signToken } from "../../lib/server/auth.ts";
import { launchChromium, newUserPage, pageErrors, screenshot } from "../_helpers/browser.ts";
import { openPage, waitForHydration } from "../_helpers/pages.ts";
import { startApp } from "../_helpers/server.ts";

const SECRET = "invite-secret-of-32-bytes-or-more-00";
const ROOM = "secret-board-meeting";
/** The failed connects and joins of a refused tab are the expected kind of console noise. */
const EXPECTED = [/401/, /UNAUTHORIZED/, /refused/, /WebSocket/];

Deno.test("private rooms: an invite link opens the room; without one the page says it is private", async (t) => {
  await using app = await startApp({ env: { PARLEY_AUTH_SECRET: SECRET } });
  await using browser = await launchChromium();
  const invite = async (name: string, ttl = 600) =>
    `/room/${ROOM}#token=${await signToken(
      SECRET,
      { sub: crypto.randomUUID(), name, rooms: [ROOM] },
      ttl,
    )}`;
  /** Opens `path` as `name`; a refused tab's lobby is a card with no handlers to wait for. */
  const open = async (path: string, name: string, admitted = true): Promise<Page> => {
    const page = await newUserPage(browser, app.url);
    await page.context().addInitScript(
      `localStorage.setItem("parley.name", ${JSON.stringify(name)})`,
    );
    await openPage(page, path, { islands: admitted ? ["Lobby"] : [] });
    return page;
  };
  const privateMessage = async (page: Page, what: string) => {
    const card = page.getByRole("alert").filter({ hasText: "This room is private" });
    await card.waitFor({ timeout: 10_000 });
    const text = await card.innerText();
    assert(/you need an invite link/.test(text), `${what}: the card says ${text}`);
    assert(await page.locator(".spinner, [aria-busy=true]").count() === 0, `${what}: a spinner`);
  };

  await t.step(
    "two invite links open the room; each sees the other; the token leaves the URL",
    async () => {
      const ada = await open(await invite("Ada"), "Ada");
      await ada.getByRole("heading", { name: /Here now/ }).waitFor({ timeout: 10_000 });
      const bob = await open(await invite("Bob"), "Bob");
      for (const [page, other] of [[ada, "Bob"], [bob, "Ada"]] as const) {
        await page.getByText(other, { exact: true }).waitFor({ timeout: 10_000 });
        const url = new URL(page.url());
        assert(url.hash === "" && url.pathname === `/room/${ROOM}`, `address bar: ${page.url()}`);
      }
      // A reload keeps the session's token and is in again.
      await ada.reload();
      await waitForHydration(ada, "Lobby");
      await ada.getByText("Bob", { exact: true }).waitFor({ timeout: 10_000 });
      await screenshot(ada, "private-room-invited");
      pageErrors(ada).assertNone(EXPECTED);
      await bob.context().close();
      await ada.context().close();
    },
  );

  await t.step(
    "one shared link (a room pass, as deno task token --link makes) is two people",
    async () => {
      const link = `/room/${ROOM}#token=${await signToken(SECRET, { rooms: [ROOM] })}`;
      const cat = await open(link, "Cat");
      await cat.getByRole("heading", { name: /Here now/ }).waitFor({ timeout: 10_000 });
      const dan = await open(link, "Dan");
      await dan.getByText("Cat", { exact: true }).waitFor({ timeout: 10_000 });
      await cat.getByText("Dan", { exact: true }).waitFor({ timeout: 10_000 });
      const ids = await Promise.all(
        [cat, dan].map((page) =>
          page.evaluate(() => {
            // The kept proof's subject: the user_id the server issued this person.
            const proof = localStorage.getItem("parley.identity") ?? "..";
            const body = proof.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
            return JSON.parse(atob(body)).sub as string;
          })
        ),
      );
      assert(ids[0] && ids[1] && ids[0] !== ids[1], `two users, not one: ${ids}`);
      await cat.context().close();
      await dan.context().close();
    },
  );

  await t.step("the same room without the fragment says it needs an invite link", async () => {
    const page = await open(`/room/${ROOM}`, "Eve", false);
    await privateMessage(page, "no token");
    await screenshot(page, "private-room-refused");
    await page.context().close();
  });

  await t.step("an expired or foreign invite says the same", async () => {
    const expired = `/room/${ROOM}#token=${await signToken(
      SECRET,
      { sub: crypto.randomUUID(), rooms: [ROOM] },
      60,
      Date.now() - 120_000,
    )}`;
    const elsewhere = `/room/${ROOM}#token=${await signToken(
      SECRET,
      { sub: crypto.randomUUID(), rooms: ["another-room"] },
    )}`;
    for (const [path, what] of [[expired, "expired"], [elsewhere, "another room's"]]) {
      const page = await open(path, "Eve", false);
      await privateMessage(page, what);
      await page.context().close();
    }
  });
});

Deno.test("anonymous identity: two tabs of one browser are one user, another browser is another", async () => {
  await using app = await startApp();
  await using browser = await launchChromium();
  /** In the page: connect with the SDK, return the user_id the server issued, disconnect. */
  const whoAmI = async (page: Page) => {
    await page.goto("/api/health");
    return await page.evaluate(async (origin) => {
      const sdk = await import(origin + "/sdk.js");
      const client = new sdk.RealtimeClient({});
      await client.connectRealtime();
      const id = client.user.user_id;
      await client.closeRealtime();
      return { id, kept: localStorage.getItem("parley.identity") !== null };
    }, app.url);
  };
  const first = await newUserPage(browser, app.url);
  const tab = await first.context().newPage();
  const a = await whoAmI(first);
  const b = await whoAmI(tab);
  assert(a.kept, "the proof is kept in localStorage");
  assert(a.id === b.id, `two tabs, two users: ${a.id} ${b.id}`);
  const other = await newUserPage(browser, app.url);
  const c = await whoAmI(other);
  assert(c.id !== a.id, "another browser got the same identity");
  await first.context().close();
  await other.context().close();
});
