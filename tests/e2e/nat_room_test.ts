/**
 * The room page across two NATs (tests/_helpers/nat.ts): two people behind
 * symmetric NATs open one room link and call through TURN; with STUN only
 * the call ends, within the default bound, saying the networks could not
 * reach each other; and Firefox in one LAN calls Chromium in another.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { newUserPage, pageErrors, screenshot } from "../_helpers/browser.ts";
import { openPage } from "../_helpers/pages.ts";
import { type Lan, PUBLIC_IP, startNatBed } from "../_helpers/nat.ts";
import { type RunningApp, startApp } from "../_helpers/server.ts";
import { hasTurnserver, startTurn } from "../_helpers/turn.ts";
import { RECORD_PEERS, seesMovingVideo } from "./_rooms_probes.ts";

const TURN_SECRET = "nat-room-secret";
/** The caller must know within this long of the callee's accepting (the bound). */
const NO_PATH_BOUND_MS = 45_000;
/** The SDK logs its own `parley:` warnings; the favicon is not served. */
const EXPECTED = [/parley: /, /favicon/];

/** Someone in `browser` opens room `room` of `app`, gives `name`, and is in the lobby. */
async function enter(browser: Browser, app: RunningApp, room: string, name: string): Promise<Page> {
  const page = await newUserPage(browser, app.url, { viewport: { width: 960, height: 760 } });
  await page.context().addInitScript(RECORD_PEERS);
  await openPage(page, `/room/${room}`, { islands: ["Lobby"] });
  await page.getByLabel("Your name", { exact: true }).fill(name);
  await page.getByLabel("Your name", { exact: true }).press("Enter");
  await page.getByRole("heading", { name: /Here now/ }).waitFor({ timeout: 10_000 });
  return page;
}

const button = (page: Page, name: string) => page.getByRole("button", { name, exact: true });

/** Ada calls Bob, Bob accepts; resolves when Bob has accepted (ms timestamp). */
async function call(ada: Page, bob: Page): Promise<number> {
  await button(ada, "Call Bob").click({ timeout: 10_000 });
  await bob.getByRole("dialog").getByText("Ada").waitFor({ timeout: 10_000 });
  await button(bob, "Accept").click();
  return performance.now();
}

Deno.test({
  name: "the room page across two NATs: a call through TURN, and one that cannot connect",
  ignore: !(await hasTurnserver()),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using bed = await startNatBed(["symmetric", "symmetric"]);
    const [home, mobile] = bed.lans;
    await using turn = await startTurn({ ip: PUBLIC_IP, secret: TURN_SECRET });
    const stun = `stun:${PUBLIC_IP}:${turn.port}`;
    await using withTurn = await startApp({
      hostname: PUBLIC_IP,
      env: {
        STUN_URLS: stun,
        TURN_URLS: `turn:${PUBLIC_IP}:${turn.port}?transport=udp`,
        TURN_SECRET,
      },
    });
    await using stunOnly = await startApp({ hostname: PUBLIC_IP, env: { STUN_URLS: stun } });
    const ports = [withTurn.port, stunOnly.port];
    const browsers = await Promise.all([home, mobile].map((lan: Lan) => lan.launchChromium(ports)));
    await using _browsers = {
      [Symbol.asyncDispose]: () => Promise.all(browsers.map((b) => b.close())).then(() => {}),
    };

    await t.step(
      "two people open one link, call through TURN, see moving video, hang up",
      async () => {
        const ada = await enter(browsers[0], withTurn, "across-nats", "Ada");
        const bob = await enter(browsers[1], withTurn, "across-nats", "Bob");
        await call(ada, bob);
        await Promise.all([seesMovingVideo(ada, 1), seesMovingVideo(bob, 1)]);
        await screenshot(bob, "nat-room-call");
        await button(ada, "Hang up").click();
        for (const page of [ada, bob]) {
          await page.locator("section.call").waitFor({ state: "detached", timeout: 10_000 });
        }
        await button(bob, "Call Ada").waitFor({ timeout: 10_000 });
        for (const page of [ada, bob]) pageErrors(page).assertNone(EXPECTED);
        await Promise.all([ada, bob].map((p) => p.context().close()));
      },
    );

    await t.step(
      "with STUN only the call ends on both sides, saying why, within 45 s",
      async () => {
        const ada = await enter(browsers[0], stunOnly, "no-path", "Ada");
        const bob = await enter(browsers[1], stunOnly, "no-path", "Bob");
        const accepted = await call(ada, bob);
        await Promise.all(
          [ada, bob].map((page) =>
            page.getByRole("alert").getByText(/could not reach each other/).waitFor({
              timeout: NO_PATH_BOUND_MS,
            })
          ),
        );
        const ms = Math.round(performance.now() - accepted);
        assert(ms < NO_PATH_BOUND_MS, `${ms} ms`);
        for (const page of [ada, bob]) {
          const text = await page.getByRole("alert").innerText();
          assert.match(text, /TURN relay/);
          assert.match(text, /Calls across networks: STUN and TURN/);
          await page.locator("section.call").waitFor({ state: "detached", timeout: 5_000 });
        }
        await screenshot(ada, "nat-room-no-path");
        console.log(`      both told ${ms} ms after accepting`);
        await Promise.all([ada, bob].map((p) => p.context().close()));
      },
    );
  },
});
