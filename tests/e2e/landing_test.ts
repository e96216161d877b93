/**
 * The landing page in real Chromium: it hydrates, a valid room name leads to
 * the room, an invalid one shows an inline error and goes nowhere.
 *
 * Run inside the private network namespace:
 * `bash tests/netns.sh deno test -A tests/e2e/landing_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchChromium, newUserPage, pageErrors, screenshot } from "../_helpers/browser.ts";
import { waitForHydration } from "../_helpers/pages.ts";
import { startApp } from "../_helpers/server.ts";

/** Open the landing page and wait until its form island is interactive. */
async function openLanding(page: Page): Promise<void> {
  const res = await page.goto("/");
  assert(res?.status() === 200, `GET / answered ${res?.status()}`);
  await waitForHydration(page, "JoinRoomForm");
}

/** Count the main frame's navigations from now on. */
function countNavigations(page: Page): () => number {
  let n = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) n++;
  });
  return () => n;
}

Deno.test("landing page (Chromium)", async (t) => {
  await using app = await startApp();
  await using browser = await launchChromium();

  await t.step("renders the form, hydrates, and reports no errors", async () => {
    const page = await newUserPage(browser, app.url);
    await openLanding(page);
    for (const label of ["Your name", "Room name"]) {
      await page.getByLabel(label, { exact: true }).waitFor({ state: "visible" });
    }
    await page.getByRole("button", { name: "Join room" }).waitFor({ state: "visible" });
    await screenshot(page, "landing");
    pageErrors(page).assertNone();
    await page.context().close();
  });

  await t.step("Enter in a valid room name opens /room/<name>", async () => {
    const page = await newUserPage(browser, app.url);
    await openLanding(page);
    const room = `e2e-landing-${crypto.randomUUID().slice(0, 8)}`;
    await page.getByLabel("Your name", { exact: true }).fill("Ada");
    const input = page.getByLabel("Room name", { exact: true });
    await input.fill(room);
    await input.press("Enter");
    await page.waitForURL((url) => url.pathname === `/room/${room}`, { timeout: 10_000 });
    await page.getByText(room).first().waitFor({ state: "visible", timeout: 10_000 });
    await screenshot(page, "landing-to-room");
    pageErrors(page).assertNone();
    await page.context().close();
  });

  await t.step("a room name with spaces opens its room (the URL encodes it)", async () => {
    const page = await newUserPage(browser, app.url);
    await openLanding(page);
    await page.getByLabel("Your name", { exact: true }).fill("Ada");
    const input = page.getByLabel("Room name", { exact: true });
    await input.fill("Another Group Name");
    await input.press("Enter");
    await page.waitForURL((url) => url.pathname === "/room/Another%20Group%20Name", {
      timeout: 10_000,
    });
    await page.getByRole("heading", { name: "Another Group Name" }).waitFor({ timeout: 10_000 });
    pageErrors(page).assertNone();
    await page.context().close();
  });

  for (const [what, bad] of [["only dots", ".."], ["65 characters", "a".repeat(65)]]) {
    await t.step(`an invalid room name (${what}) shows an inline error and stays`, async () => {
      const page = await newUserPage(browser, app.url);
      await openLanding(page);
      await page.getByLabel("Your name", { exact: true }).fill("Ada");
      const input = page.getByLabel("Room name", { exact: true });
      await input.fill(bad);
      const value = await input.inputValue();
      if (value !== bad) {
        // The field itself refuses the input (e.g. maxlength=64): also fine,
        // as long as what it kept is what the user can see.
        const max = await input.getAttribute("maxlength");
        assert(
          bad.length > 64 && max === "64" && value === bad.slice(0, 64),
          `the field changed ${JSON.stringify(bad)} into ${JSON.stringify(value)}`,
        );
        await page.context().close();
        return;
      }
      const navigations = countNavigations(page);
      await input.press("Enter");
      const alert = page.getByRole("alert");
      await alert.first().waitFor({ state: "visible", timeout: 5_000 });
      const text = (await alert.first().innerText()).trim();
      assert(text.length > 0, "the alert is empty");
      await page.waitForTimeout(500); // a late navigation would show up here
      assert(navigations() === 0, `navigated to ${page.url()}`);
      assert(new URL(page.url()).pathname === "/", `left the landing page: ${page.url()}`);
      if (what === "only dots") await screenshot(page, "landing-invalid");
      pageErrors(page).assertNone();
      await page.context().close();
    });
  }
});
