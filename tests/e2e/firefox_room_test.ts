/**
 * The room UI across engines: a person in Firefox ESR (puppeteer-core over
 * WebDriver BiDi) and a person in Chromium (playwright-core) open the same
 * room link, give their names, see each other in the lobby, call, accept,
 * see each other's moving video, and hang up; then the other way round.
 *
 * Written against the accessible names of the room islands (Lobby,
 * CallDialog, MediaViews): "Your name", "Call <name>", "Accept", "Hang up".
 * Skipped while routes/room/[name].tsx does not render those islands.
 *
 * Run inside the private network namespace:
 * `deno task build && bash tests/netns.sh deno test -A tests/e2e/firefox_room_test.ts`
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { Page as FirefoxPage } from "puppeteer-core";
import {
  launchChromium,
  newUserPage,
  type PageErrors,
  pageErrors,
  screenshot,
} from "../_helpers/browser.ts";
import { openPage, waitForHydration } from "../_helpers/pages.ts";
import {
  firefoxPageErrors,
  firefoxPath,
  firefoxScreenshot,
  firefoxUserPage,
  launchFirefox,
} from "../_helpers/firefox.ts";
import { REPO_ROOT } from "../_helpers/process.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

/** Whether the room page renders the islands this test drives. */
function roomUiReady(): boolean {
  try {
    const route = Deno.readTextFileSync(`${REPO_ROOT}routes/room/[name].tsx`);
    return ["Lobby", "CallDialog", "MediaViews"].every((island) =>
      new RegExp(`<${island}\\b`).test(route) &&
      Deno.statSync(`${REPO_ROOT}islands/${island}.tsx`).isFile
    );
  } catch {
    return false;
  }
}

const uiReady = roomUiReady();

/** Records every RTCPeerConnection the page makes, so the test can read its stats. */
const RECORD_PEERS = `(() => {
  const Native = globalThis.RTCPeerConnection;
  globalThis.__pcs = [];
  globalThis.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); globalThis.__pcs.push(this); }
  };
})();`;

/** What a page reports about the remote video of its one call. */
interface RemoteVideo {
  /** Remote tiles on the page. */
  tiles: number;
  /** framesDecoded of the connected peer connections (getStats: Firefox's playback quality stays 0). */
  frames: number;
  width: number;
  time: number;
  /** A checksum of a 64×48 sample of the picture, to see it change. */
  picture: number;
}

/** Runs in the page: the remote video's state. */
async function remoteVideo(): Promise<RemoteVideo> {
  const pcs = (globalThis as unknown as { __pcs?: RTCPeerConnection[] }).__pcs ?? [];
  let frames = 0;
  for (const pc of pcs.filter((pc) => pc.connectionState === "connected")) {
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded ?? 0;
    });
  }
  const videos = [...document.querySelectorAll<HTMLVideoElement>(".tile[data-cid] video")];
  const video = videos[0];
  let picture = 0;
  if (video && video.videoWidth > 0) {
    const canvas = document.createElement("canvas");
    canvas.width = 64;
    canvas.height = 48;
    const g = canvas.getContext("2d")!;
    g.drawImage(video, 0, 0, 64, 48);
    const data = g.getImageData(0, 0, 64, 48).data;
    for (let i = 0; i < data.length; i++) picture = (picture * 31 + data[i]) >>> 0;
  }
  return {
    tiles: videos.length,
    frames,
    width: video?.videoWidth ?? 0,
    time: video?.currentTime ?? 0,
    picture,
  };
}

/** One person's page, whatever the engine. */
interface Person {
  engine: "Chromium" | "Firefox";
  name: string;
  /** Clicks the button with this accessible name once it is there and enabled. */
  click(button: string): Promise<void>;
  /** Waits until a button with this accessible name is there (or gone, with `gone`). */
  button(name: string, gone?: boolean): Promise<void>;
  remoteVideo(): Promise<RemoteVideo>;
  /** Whether the call section is on the page. */
  inCall(): Promise<boolean>;
  screenshot(name: string): Promise<string>;
  errors: PageErrors;
}

const TIMEOUT = 15_000;

function chromiumPerson(page: Page, name: string): Person {
  const button = (label: string) => page.getByRole("button", { name: label, exact: true });
  return {
    engine: "Chromium",
    name,
    click: (label) => button(label).click({ timeout: TIMEOUT }),
    button: (label, gone = false) =>
      button(label).first().waitFor({ state: gone ? "detached" : "visible", timeout: TIMEOUT }),
    remoteVideo: () => page.evaluate(remoteVideo),
    inCall: async () => (await page.locator("section.call").count()) > 0,
    screenshot: (file) => screenshot(page, file),
    errors: pageErrors(page),
  };
}

function firefoxPerson(page: FirefoxPage, name: string): Person {
  const aria = (label: string) => `::-p-aria([name="${label}"][role="button"])`;
  return {
    engine: "Firefox",
    name,
    click: (label) => page.locator(aria(label)).setTimeout(TIMEOUT).click(),
    button: async (label, gone = false) => {
      if (gone) {
        await waitFor(async () => (await page.$$(aria(label))).length === 0, {
          timeout: TIMEOUT,
          message: `Firefox: no "${label}" button`,
        });
      } else {
        await page.locator(aria(label)).setTimeout(TIMEOUT).wait();
      }
    },
    remoteVideo: () => page.evaluate(remoteVideo),
    inCall: async () => (await page.$("section.call")) !== null,
    screenshot: (file) => firefoxScreenshot(page, file),
    errors: firefoxPageErrors(page),
  };
}

/** Waits until `person` sees moving video from the other: frames decoded, playback and picture advancing. */
async function seesMovingVideo(person: Person): Promise<RemoteVideo> {
  const first = await waitFor(async () => {
    const v = await person.remoteVideo();
    return v.tiles === 1 && v.frames > 0 && v.width > 0 && v;
  }, { timeout: 20_000, interval: 200, message: `${person.engine} shows remote video` });
  return await waitFor(async () => {
    const v = await person.remoteVideo();
    return v.frames > first.frames && v.time > first.time && v.picture !== first.picture && v;
  }, { timeout: 10_000, interval: 200, message: `${person.engine}'s remote video moves` });
}

/** Browser messages that are expected while calls end. */
const EXPECTED = [/parley: /, /favicon/];

Deno.test({
  name: "rooms across engines: a Firefox and a Chromium person call each other",
  ignore: !uiReady || firefoxPath() === undefined,
  async fn(t) {
    const t0 = performance.now();
    await using app = await startApp();
    const [chromium, firefox] = await Promise.all([
      launchChromium({ loopbackCandidates: false }),
      launchFirefox(),
    ]);
    console.log(
      `    app + browsers ready in ${
        Math.round(performance.now() - t0)
      } ms (Firefox ${firefox.launchMs} ms)`,
    );
    await using _c = chromium;
    await using _f = firefox;
    const room = `xengine-${crypto.randomUUID().slice(0, 6)}`;

    let ada!: Person, grace!: Person;
    await t.step("both open the room link, give their names, and see each other", async () => {
      const cpage = await newUserPage(chromium, app.url, { viewport: { width: 960, height: 760 } });
      await cpage.context().addInitScript(RECORD_PEERS);
      const fpage = await firefoxUserPage(firefox, app.url);
      await fpage.setViewport({ width: 960, height: 760 });
      await fpage.evaluateOnNewDocument(RECORD_PEERS);

      await openPage(cpage, `/room/${room}`, { islands: ["Lobby"] });
      const field = cpage.getByLabel("Your name", { exact: true });
      await field.fill("Ada");
      await field.press("Enter");

      const response = await fpage.goto(`${app.url}/room/${room}`);
      assert(
        response?.status() === 200,
        `Firefox: GET /room/${room} answered ${response?.status()}`,
      );
      await waitForHydration(fpage, "Lobby", TIMEOUT);
      await fpage.locator('::-p-aria([name="Your name"][role="textbox"])').setTimeout(TIMEOUT).fill(
        "Grace",
      );
      await fpage.keyboard.press("Enter");

      ada = chromiumPerson(cpage, "Ada");
      grace = firefoxPerson(fpage, "Grace");
      await Promise.all([ada.button("Call Grace"), grace.button("Call Ada")]);
      await Promise.all([
        ada.screenshot("xengine-lobby-chromium"),
        grace.screenshot("xengine-lobby-firefox"),
      ]);
    });

    for (const [caller, callee] of [["Firefox", "Chromium"], ["Chromium", "Firefox"]]) {
      await t.step(
        `${caller} calls, ${callee} accepts: moving video both ways, hang up`,
        async () => {
          const [from, to] = caller === "Firefox" ? [grace, ada] : [ada, grace];
          const start = performance.now();
          await from.click(`Call ${to.name}`);
          const rang = performance.now();
          await to.click("Accept");
          const accepted = performance.now();
          const [a, b] = await Promise.all([seesMovingVideo(from), seesMovingVideo(to)]);
          console.log(
            `    ${from.engine} → ${to.engine}: call clicked ${
              Math.round(rang - start)
            } ms, accepted ${Math.round(accepted - start)} ms, moving video both ways ${
              Math.round(performance.now() - start)
            } ms (${from.engine} ${a.width} px wide, ${a.frames} frames; ${to.engine} ${b.width} px, ${b.frames} frames)`,
          );
          const tag = `${from.engine}-to-${to.engine}`.toLowerCase();
          await Promise.all([
            from.screenshot(`xengine-call-${tag}-caller`),
            to.screenshot(`xengine-call-${tag}-callee`),
          ]);
          // The callee hangs up; both are back in the lobby, ready to call again.
          await to.click("Hang up");
          await Promise.all([from.button("Hang up", true), to.button("Hang up", true)]);
          await Promise.all([from.button(`Call ${to.name}`), to.button(`Call ${from.name}`)]);
          assert(!(await from.inCall()) && !(await to.inCall()), "a call section stayed");
        },
      );
    }

    await t.step("no page errors", () => {
      ada.errors.assertNone(EXPECTED);
      grace.errors.assertNone(EXPECTED);
    });
  },
});
