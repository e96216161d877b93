/**
 * Real Firefox for the cross-engine tests: Debian's `firefox-esr`, driven by
 * puppeteer-core over WebDriver BiDi (shared/docs/TESTING.md, "Firefox").
 *
 * Like {@linkcode launchChromium}, {@linkcode launchFirefox} refuses to start
 * outside the private network namespace of `tests/netns.sh` (unless
 * `PARLEY_NETNS=skip`), and its profile switches off everything that phones
 * home (telemetry, updates, captive-portal and connectivity checks, Safe
 * Browsing, Normandy / studies, remote settings, DNS-over-HTTPS, OCSP,
 * prefetching), so the browser only ever talks to the app on 127.0.0.1.
 *
 * @example
 * ```ts ignore
 * import { firefoxUserPage, launchFirefox } from "./firefox.ts";
 * import { startApp } from "./server.ts";
 *
 * await using app = await startApp();
 * await using firefox = await launchFirefox();
 * const page = await firefoxUserPage(firefox, app.url);
 * await page.goto(`${app.url}/`);
 * ```
 *
 * @module
 */
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import {
  ARTIFACTS_DIR,
  type DriverPage,
  type PageErrors,
  pageErrors,
  requirePrivateNetns,
} from "./browser.ts";

/**
 * Where Firefox lives: `PARLEY_FIREFOX`, else `command -v firefox-esr`
 * (then `firefox`); undefined when there is none.
 */
export function firefoxPath(): string | undefined {
  const override = Deno.env.get("PARLEY_FIREFOX");
  if (override) return override;
  for (const name of ["firefox-esr", "firefox"]) {
    try {
      const out = new Deno.Command("sh", {
        args: ["-c", `command -v ${name}`],
        stdout: "piped",
        stderr: "null",
      }).outputSync();
      const path = new TextDecoder().decode(out.stdout).trim();
      if (out.success && path) return path;
    } catch { /* no sh: fall through */ }
  }
  return undefined;
}

/**
 * The preferences of every test profile, on top of puppeteer's own defaults
 * (which already blank the update, Normandy, Safe Browsing, remote-settings
 * and SNTP endpoints).
 */
export const FIREFOX_PREFS: Readonly<Record<string, string | number | boolean>> = Object
  .freeze({
    // --- WebRTC as the tests need it -------------------------------------
    // A fake camera and microphone, and no permission prompt.
    "media.navigator.streams.fake": true,
    "media.navigator.permission.disabled": true,
    "permissions.default.camera": 1,
    "permissions.default.microphone": 1,
    // Real host candidates (10.77.0.1 in the namespace), not mDNS names.
    "media.peerconnection.ice.obfuscate_host_addresses": false,
    // No built-in STUN server: only what the page configures.
    "media.peerconnection.default_iceservers": "[]",
    // Remote media may play without a gesture.
    "media.autoplay.default": 0,
    "media.autoplay.blocking_policy": 0,
    // No OpenH264 download: VP8 is the common codec.
    "media.gmp-gmpopenh264.autoupdate": false,
    "media.gmp-gmpopenh264.enabled": false,
    "media.gmp-widevinecdm.enabled": false,
    "media.gmp-manager.url": "",
    "media.gmp-manager.updateEnabled": false,

    // --- nothing phones home ---------------------------------------------
    // Telemetry and data reporting.
    "toolkit.telemetry.enabled": false,
    "toolkit.telemetry.unified": false,
    "toolkit.telemetry.archive.enabled": false,
    "toolkit.telemetry.server": "",
    "toolkit.telemetry.newProfilePing.enabled": false,
    "toolkit.telemetry.shutdownPingSender.enabled": false,
    "toolkit.telemetry.updatePing.enabled": false,
    "toolkit.telemetry.bhrPing.enabled": false,
    "toolkit.telemetry.firstShutdownPing.enabled": false,
    "toolkit.telemetry.coverage.opt-out": true,
    "toolkit.coverage.opt-out": true,
    "toolkit.coverage.endpoint.base": "",
    "datareporting.healthreport.uploadEnabled": false,
    "datareporting.policy.dataSubmissionEnabled": false,
    "browser.ping-centre.telemetry": false,
    "browser.newtabpage.activity-stream.feeds.telemetry": false,
    "browser.newtabpage.activity-stream.telemetry": false,
    "browser.crashReports.unsubmittedCheck.autoSubmit2": false,
    "breakpad.reportURL": "",
    // Updates of the app, add-ons, system add-ons and search engines.
    "app.update.enabled": false,
    "app.update.auto": false,
    "app.update.url": "",
    "extensions.update.enabled": false,
    "extensions.systemAddon.update.enabled": false,
    "extensions.systemAddon.update.url": "",
    "extensions.getAddons.cache.enabled": false,
    "extensions.blocklist.enabled": false,
    "browser.search.update": false,
    "browser.search.geoip.url": "",
    "browser.region.network.url": "",
    "browser.region.update.enabled": false,
    // Captive portal and connectivity checks.
    "network.captive-portal-service.enabled": false,
    "network.connectivity-service.enabled": false,
    "captivedetect.canonicalURL": "",
    // Safe Browsing.
    "browser.safebrowsing.malware.enabled": false,
    "browser.safebrowsing.phishing.enabled": false,
    "browser.safebrowsing.downloads.enabled": false,
    "browser.safebrowsing.downloads.remote.enabled": false,
    "browser.safebrowsing.blockedURIs.enabled": false,
    "browser.safebrowsing.provider.google.updateURL": "",
    "browser.safebrowsing.provider.google4.updateURL": "",
    "browser.safebrowsing.provider.mozilla.updateURL": "",
    // Normandy, Shield studies, experiments, remote settings.
    "app.normandy.enabled": false,
    "app.normandy.api_url": "",
    "app.shield.optoutstudies.enabled": false,
    "messaging-system.rsexperimentloader.enabled": false,
    "nimbus.rollouts.enabled": false,
    "services.settings.server": "data:,#remote-settings-dummy/v1",
    "security.remote_settings.crlite_filters.enabled": false,
    "security.remote_settings.intermediates.enabled": false,
    // DNS-over-HTTPS off, no OCSP, no prefetching or speculative connections.
    "network.trr.mode": 5,
    "doh-rollout.disable-heuristics": true,
    "security.OCSP.enabled": 0,
    "network.dns.disablePrefetch": true,
    "network.prefetch-next": false,
    "network.predictor.enabled": false,
    "network.http.speculative-parallel-limit": 0,
    "browser.urlbar.speculativeConnect.enabled": false,
    "browser.places.speculativeConnect.enabled": false,
    // New tab, pocket, sync, geolocation, push.
    "browser.newtabpage.enabled": false,
    "browser.newtabpage.activity-stream.feeds.system.topstories": false,
    "browser.newtabpage.activity-stream.feeds.section.topstories": false,
    "extensions.pocket.enabled": false,
    "identity.fxaccounts.enabled": false,
    "services.sync.engine.addons": false,
    "geo.enabled": false,
    "geo.provider.network.url": "",
    "dom.push.enabled": false,
    "dom.push.serverURL": "",
    "network.manage-offline-status": false,
  });

/** Options of {@linkcode launchFirefox}. */
export interface LaunchFirefoxOptions {
  /** Extra preferences, on top of {@linkcode FIREFOX_PREFS}. */
  prefs?: Record<string, string | number | boolean>;
  /** Headless (default `true`; `PARLEY_HEADED=1` shows the window). */
  headless?: boolean;
  /** Launch timeout in ms (default 30 000). */
  timeout?: number;
}

/** A launched Firefox: puppeteer's `Browser`, disposable, with its launch time. */
export type FirefoxBrowser = Browser & AsyncDisposable & {
  /** How long the launch took, in ms. */
  readonly launchMs: number;
};

/**
 * Launches Firefox ESR headless over WebDriver BiDi with
 * {@linkcode FIREFOX_PREFS}. `await using firefox = await launchFirefox()`
 * closes it (and every page) at the end of the scope; should `close()` hang,
 * the browser process is killed by its own pid.
 *
 * Throws outside the private network namespace unless `PARLEY_NETNS=skip`,
 * and when no Firefox is installed (`apt-get install -y firefox-esr`).
 */
export async function launchFirefox(options: LaunchFirefoxOptions = {}): Promise<FirefoxBrowser> {
  requirePrivateNetns();
  const executablePath = firefoxPath();
  if (!executablePath) {
    throw new Error("Firefox is not installed: `apt-get install -y firefox-esr`.");
  }
  const start = performance.now();
  const browser = await puppeteer.launch({
    browser: "firefox",
    executablePath,
    headless: options.headless ?? Deno.env.get("PARLEY_HEADED") !== "1",
    timeout: options.timeout ?? 30_000,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...options.prefs },
    // The test runner handles its own signals; the browser is closed by disposal.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    env: { ...Deno.env.toObject(), MOZ_CRASHREPORTER_DISABLE: "1" },
  });
  const launchMs = Math.round(performance.now() - start);
  const close = async () => {
    const pid = browser.process()?.pid;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<"hung">((r) => (timer = setTimeout(() => r("hung"), 10_000)));
    const done = await Promise.race([browser.close().then(() => "closed" as const), hung])
      .catch(() => "hung" as const);
    clearTimeout(timer);
    if (done === "hung" && pid) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
  };
  return Object.assign(browser, { launchMs, [Symbol.asyncDispose]: close }) as FirefoxBrowser;
}

/**
 * A new independent Firefox user: a fresh browser context (own cookies and
 * storage) with one page, whose console errors and uncaught exceptions are
 * collected (see {@linkcode firefoxPageErrors}). Navigate with full URLs
 * (`${baseUrl}/room/x`): puppeteer has no base URL.
 */
export async function firefoxUserPage(browser: Browser, _baseUrl?: string): Promise<Page> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  firefoxPageErrors(page);
  return page;
}

/** The collector of console errors and page errors of a puppeteer `page`. */
export function firefoxPageErrors(page: Page): PageErrors {
  return pageErrors(page as unknown as DriverPage);
}

/** Saves a PNG of a puppeteer `page` as `tests/_artifacts/<name>.png`; returns its path. */
export async function firefoxScreenshot(page: Page, name: string): Promise<string> {
  await Deno.mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = `${ARTIFACTS_DIR}/${/\.png$/i.test(name) ? name : `${name}.png`}`;
  const data = await page.screenshot({ type: "png", fullPage: true });
  await Deno.writeFile(path, data);
  return path;
}
