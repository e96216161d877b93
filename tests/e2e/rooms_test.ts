/**
 * The rooms people use, in real Chromium (fake camera and microphone): the
 * landing page's live room list, the lobby, one-to-one calls with the call
 * dialog, in-call chat and a 5 MB file, audio-only when the camera is
 * denied, and a four-person group call. One app and one browser for all.
 *
 * Run inside the private network namespace:
 * `deno task build && bash tests/netns.sh deno test -A tests/e2e/rooms_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { BrowserContextOptions, Page } from "playwright-core";
import {
  ARTIFACTS_DIR,
  launchChromium,
  newUserPage,
  pageErrors,
  screenshot,
} from "../_helpers/browser.ts";
import { openPage } from "../_helpers/pages.ts";
import { REPO_ROOT } from "../_helpers/process.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";
import {
  audioPacketsIn,
  DENY_CAMERA,
  RECORD_PEERS,
  seesMovingVideo,
  sha256,
} from "./_rooms_probes.ts";

/** SDK warnings that may show up while calls end under way. */
const EXPECTED = [/parley: /, /favicon/];

Deno.test("rooms: lobby, calls, chat, files, group call (Chromium)", async (t) => {
  const started = performance.now();
  await using app = await startApp();
  await using browser = await launchChromium();
  // The app has its own fresh KV: a fixed, readable name is safe (and reads well in screenshots).
  const room = "brave-otter-42";
  const pages: Page[] = [];

  /** A first-time visitor opens the room link, gives a name, and is in the lobby. */
  const enter = async (name: string, options: BrowserContextOptions = {}, init: string[] = []) => {
    const page = await newUserPage(browser, app.url, {
      viewport: { width: 960, height: 760 },
      ...options,
    });
    for (const script of [RECORD_PEERS, ...init]) await page.context().addInitScript(script);
    await openPage(page, `/room/${room}`, { islands: ["Lobby"] });
    const field = page.getByLabel("Your name", { exact: true });
    await field.waitFor();
    assert(
      await field.evaluate((el) => el === document.activeElement),
      "the name field has no focus",
    );
    await field.fill(name);
    await field.press("Enter");
    await page.getByRole("heading", { name: /Here now/ }).waitFor({ timeout: 10_000 });
    pages.push(page);
    return page;
  };
  const button = (page: Page, name: string) => page.getByRole("button", { name, exact: true });
  const inLobby = async (page: Page, other: string) => {
    await page.locator("section.call").waitFor({ state: "detached", timeout: 10_000 });
    await button(page, `Call ${other}`).waitFor({ timeout: 10_000 });
  };

  const landing = await newUserPage(browser, app.url, { viewport: { width: 800, height: 900 } });
  await openPage(landing, "/", { islands: ["JoinRoomForm"] });
  // The list has no listeners to wait for: its first answer replaces the placeholder.
  await landing.getByText("Looking for rooms").waitFor({ state: "detached", timeout: 10_000 });

  let ada!: Page, bob!: Page;
  await t.step(
    "two visitors meet in the lobby; names update live; the landing lists the room",
    async () => {
      ada = await enter("Ada");
      // Bob is on a phone.
      bob = await enter("Bob", { viewport: { width: 390, height: 844 }, isMobile: true });
      await button(ada, "Call Bob").waitFor();
      await button(bob, "Call Ada").waitFor();
      const own = bob.getByLabel("Your name", { exact: true });
      await own.fill("Bobby");
      await own.press("Enter");
      await button(ada, "Call Bobby").waitFor({ timeout: 5_000 });
      await landing.getByRole("link", { name: room }).waitFor({ timeout: 10_000 });
      const row = landing.locator("li", { has: landing.getByRole("link", { name: room }) });
      await row.getByText("2 people").waitFor({ timeout: 10_000 });
      await screenshot(landing, "rooms-landing");
      await screenshot(ada, "rooms-lobby");
      await screenshot(bob, "rooms-lobby-phone");
    },
  );

  await t.step("a call: ring, accept, moving video both ways, chat and a 5 MB file", async () => {
    await button(ada, "Call Bobby").click();
    await ada.getByRole("dialog").getByText("Waiting for Bobby to answer").waitFor();
    const dialog = bob.getByRole("dialog");
    await dialog.getByText("Ada").waitFor({ timeout: 10_000 });
    const accept = button(bob, "Accept");
    assert(await accept.evaluate((el) => el === document.activeElement), "focus is not on Accept");
    await screenshot(bob, "rooms-incoming-call");
    await bob.keyboard.press("Enter"); // the keyboard answers: focus is on Accept
    await Promise.all([seesMovingVideo(ada, 1), seesMovingVideo(bob, 1)]);
    await ada.locator(".tile[data-cid]").getByText("Connected").waitFor();

    const chat = ada.getByLabel("Message to the call", { exact: true });
    await chat.fill("can you see me?");
    await chat.press("Enter");
    await bob.locator(".chat-lines").getByText("can you see me?").waitFor({ timeout: 5_000 });

    const bytes = new Uint8Array(5 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i += 65_536) {
      crypto.getRandomValues(bytes.subarray(i, i + 65_536));
    }
    const expected = await sha256(bytes);
    const sendStart = performance.now();
    // Bob's page notes every progress value it shows while the file arrives.
    await bob.evaluate(() => {
      const seen: number[] = (globalThis as unknown as { __progress: number[] }).__progress = [];
      const timer = setInterval(() => {
        const bar = document.querySelector<HTMLProgressElement>(".transfer progress");
        if (bar) seen.push(bar.value / bar.max);
        if (bar && bar.value === bar.max) clearInterval(timer);
      }, 10);
    });
    await ada.getByLabel("Send a file").setInputFiles({
      name: "report.bin",
      mimeType: "application/octet-stream",
      buffer: Buffer.from(bytes.buffer),
    });
    await bob.locator("[data-transfer=verified]").waitFor({ timeout: 30_000 });
    await ada.locator("[data-transfer=sent]").waitFor({ timeout: 5_000 });
    const seen = await bob.evaluate(() =>
      (globalThis as unknown as { __progress: number[] }).__progress
    );
    assert(seen.at(-1) === 1, `the progress bar ended at ${seen.at(-1)}`);
    const partial = seen.filter((v) => v > 0 && v < 1).length;
    console.log(
      `    5 MB: ${
        Math.round(performance.now() - sendStart)
      } ms, ${partial} partial progress samples`,
    );
    const [download] = await Promise.all([
      bob.waitForEvent("download"),
      bob.getByRole("link", { name: "Save report.bin" }).click(),
    ]);
    const received = await Deno.readFile((await download.path())!);
    assert(received.length === bytes.length, `received ${received.length} bytes`);
    assert(await sha256(received) === expected, "the received file differs from the one sent");

    await button(ada, "Show quality").click();
    const quality = ada.getByRole("definition").filter({ hasText: /kbit\/s/ });
    await waitFor(async () => /^\d+ kbit\/s$/.test(await quality.innerText()), {
      timeout: 5_000,
      message: "a bitrate in the quality panel",
    });
    await ada.setViewportSize({ width: 720, height: 540 });
    await ada.evaluate(() => scrollTo(0, 0));
    await ada.screenshot({ path: `${ARTIFACTS_DIR}/rooms-call.png` });
    // The README's picture is committed: refreshed on request only.
    if (Deno.env.get("PARLEY_UPDATE_SCREENSHOT") === "1") {
      await ada.screenshot({ path: `${REPO_ROOT}static/screenshot-call.png` });
    }
    await button(ada, "Hide quality").click();
    await screenshot(bob, "rooms-call-phone");
    await ada.setViewportSize({ width: 960, height: 760 });
  });

  await t.step("Hang up returns both to the lobby; a declined call says so", async () => {
    await button(ada, "Hang up").click();
    await Promise.all([inLobby(ada, "Bobby"), inLobby(bob, "Ada")]);
    await bob.getByText("Ada hung up.").waitFor({ timeout: 5_000 });

    await button(bob, "Call Ada").click();
    await button(ada, "Reject").click();
    await bob.getByRole("dialog").getByText("Ada declined the call.").waitFor({ timeout: 5_000 });
    await bob.keyboard.press("Escape");
    await bob.getByRole("dialog").waitFor({ state: "hidden" });
    await inLobby(bob, "Ada");
  });

  await t.step("camera denied: a clear message, and the call connects audio-only", async () => {
    const cy = await enter("Cy", {}, [DENY_CAMERA]);
    await button(cy, "Call Ada").click();
    await cy.getByText("Your camera is blocked").waitFor({ timeout: 10_000 });
    await button(ada, "Accept").click();
    const tile = ada.locator(".tile[data-cid]");
    await tile.getByText("Connected").waitFor({ timeout: 15_000 });
    await tile.getByText("Audio only").waitFor();
    await waitFor(async () => await audioPacketsIn(ada) > 10, {
      timeout: 10_000,
      message: "audio from Cy",
    });
    await screenshot(cy, "rooms-camera-denied");
    pageErrors(cy).assertNone(EXPECTED);
    // Cy closes the tab in the middle of the call.
    pages.splice(pages.indexOf(cy), 1);
    await cy.context().close();
    await inLobby(ada, "Bobby");
    await ada.getByText(/Cy (hung up|left the room)/).waitFor({ timeout: 5_000 });
    await ada.getByRole("button", { name: "Call Cy" }).waitFor({
      state: "detached",
      timeout: 10_000,
    });
  });

  await t.step("group call of four: three moving videos each; both chats reach all", async () => {
    const dee = await enter("Dee");
    const eve = await enter("Eve");
    const four = [ada, bob, dee, eve];
    const joined = performance.now();
    for (const page of four) await button(page, "Join group call").click();
    await Promise.all(four.map((page) => seesMovingVideo(page, 3, 30_000)));
    console.log(`    mesh of 4 decoding everywhere: ${Math.round(performance.now() - joined)} ms`);

    const message = dee.getByLabel("Message", { exact: true });
    await message.fill("hello everyone");
    await message.press("Enter");
    const inCall = eve.getByLabel("Message to the call", { exact: true });
    await inCall.fill("over the data channels");
    await inCall.press("Enter");
    await Promise.all(four.flatMap((page) => [
      page.getByRole("list", { name: "Room chat" }).getByText("hello everyone")
        .waitFor({ timeout: 5_000 }),
      page.getByRole("list", { name: "Call chat" }).getByText("over the data channels")
        .waitFor({ timeout: 5_000 }),
    ]));
    await screenshot(ada, "rooms-group-call");
    for (const page of four) await button(page, "Hang up").click();
    await Promise.all(
      four.map((page) => page.locator("section.call").waitFor({ state: "detached" })),
    );
  });

  for (const page of [landing, ...pages]) pageErrors(page).assertNone(EXPECTED);

  await t.step("the server goes away: the room reconnects, the landing says so", async () => {
    await app.stop();
    await ada.getByRole("status").getByText("Connection lost. Reconnecting").waitFor({
      timeout: 10_000,
    });
    await button(ada, "Call Bobby").waitFor({ state: "attached" });
    assert(await button(ada, "Call Bobby").isDisabled(), "calls can be placed while offline");
    await screenshot(ada, "rooms-reconnecting");
    await landing.getByText("Can't reach the Parley server").waitFor({ timeout: 10_000 });
  });

  console.log(
    `    artifacts in ${ARTIFACTS_DIR}; total ${Math.round(performance.now() - started)} ms`,
  );
});
