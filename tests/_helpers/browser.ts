/**
 * Real Chromium for the end-to-end tests, driven by playwright-core.
 *
 * Chromium is Debian's `/usr/bin/chromium` (never a Playwright download),
 * launched with every flag shared/docs/TESTING.md lists. Browser tests must
 * run inside the private network namespace of `tests/netns.sh`, so call
 * traffic can only reach loopback and our own test hosts:
 * {@linkcode launchChromium} refuses to start elsewhere unless
 * `PARLEY_NETNS=skip` says the caller accepts running unisolated.
 *
 * @example
 * ```ts
 * import { launchChromium, newUserPage, pageErrors } from "./browser.ts";
 * import { startApp } from "./server.ts";
 *
 * await using app = await startApp();
 * await using browser = await launchChromium();
 * const page = await newUserPage(browser, app.url);
 * await page.goto("/");
 * pageErrors(page).assertNone();
 * ```
 *
 * @module
 */
import {
  type Browser,
  type BrowserContextOptions,
  chromium,
  type LaunchOptions,
  type Page,
} from "playwright-core";

/** Where Chromium lives; `PARLEY_CHROMIUM` overrides it. */
export const CHROMIUM_PATH: string = Deno.env.get("PARLEY_CHROMIUM") ??
  "/usr/bin/chromium";

/**
 * The flags every test browser gets (shared/docs/TESTING.md), plus a host
 * resolver rule that makes every name but `localhost` unresolvable, so the
 * browser cannot even look up an outside host.
 */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  "--allow-loopback-in-peer-connection",
  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]);

/** Folder of screenshots and other artifacts (git-ignored). */
export const ARTIFACTS_DIR: string = decodeURIComponent(
  new URL("../_artifacts", import.meta.url).pathname,
);

/** Options of {@linkcode launchChromium}. */
export interface LaunchChromiumOptions {
  /**
   * Extra Chromium flags, appended after {@linkcode CHROMIUM_ARGS}.
   * Chromium honours only the last `--disable-features=`: several given here
   * are merged into one, which replaces Playwright's own list.
   */
  args?: string[];
  /**
   * Whether Chromium offers loopback (127.0.0.1) ICE candidates. Calls with
   * Firefox turn this off: Firefox ignores loopback, and a pair Chromium
   * nominates there (after an ICE restart) never carries anything. Inside
   * the namespace the veth host gives both real host candidates.
   * @default true
   */
  loopbackCandidates?: boolean;
  /** Headless (default `true`; `PARLEY_HEADED=1` shows the window). */
  headless?: boolean;
  /** Launch timeout in ms (default 30 000). */
  timeout?: number;
  /** Any other playwright-core launch option. */
  launchOptions?: LaunchOptions;
}

/** Whether this process runs inside the namespace of `tests/netns.sh`. */
export function inPrivateNetns(): boolean {
  return Deno.env.get("PARLEY_NETNS") === "1";
}

/**
 * Throws unless this process runs inside the private network namespace of
 * `tests/netns.sh` or `PARLEY_NETNS=skip` says the caller accepts running
 * unisolated: no browser may send call traffic to the machine's networks.
 *
 * @example
 * ```ts ignore
 * requirePrivateNetns(); // before launching a browser
 * ```
 */
export function requirePrivateNetns(): void {
  const netns = Deno.env.get("PARLEY_NETNS");
  if (netns !== "1" && netns !== "skip") {
    throw new Error(
      "Browser tests run only inside the private network namespace: " +
        "`bash tests/netns.sh deno test -A …` (or set PARLEY_NETNS=skip to " +
        "accept running without isolation).",
    );
  }
}

/**
 * Launch Chromium. The result is playwright's `Browser`, which is
 * `AsyncDisposable`: `await using browser = await launchChromium()` closes it
 * (and every context and page) at the end of the scope.
 *
 * Throws outside the private network namespace unless `PARLEY_NETNS=skip`.
 */
export async function launchChromium(
  options: LaunchChromiumOptions = {},
): Promise<Browser & AsyncDisposable> {
  requirePrivateNetns();
  const base = options.loopbackCandidates === false
    ? CHROMIUM_ARGS.filter((arg) => arg !== "--allow-loopback-in-peer-connection")
    : CHROMIUM_ARGS;
  const args = mergeDisableFeatures([...base, ...(options.args ?? [])]);
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: options.headless ?? Deno.env.get("PARLEY_HEADED") !== "1",
    timeout: options.timeout ?? 30_000,
    ...options.launchOptions,
    args,
  });
}

/** Fold every `--disable-features=` into one flag, in place of the first. */
function mergeDisableFeatures(args: string[]): string[] {
  const prefix = "--disable-features=";
  const features = args.filter((a) => a.startsWith(prefix))
    .flatMap((a) => a.slice(prefix.length).split(",")).filter(Boolean);
  if (features.length === 0) return args;
  const rest = args.filter((a) => !a.startsWith(prefix));
  return [...rest, prefix + [...new Set(features)].join(",")];
}

/**
 * A new independent user: a fresh browser context (own cookies, storage,
 * session) with camera and microphone granted for `baseUrl` and `baseURL` set
 * to it, so `page.goto("/")` works. Console errors and uncaught page errors
 * are collected from the start: see {@linkcode pageErrors}.
 *
 * Close it with `await page.context().close()`, or let the browser's disposal
 * do it.
 */
export async function newUserPage(
  browser: Browser,
  baseUrl: string,
  contextOptions: BrowserContextOptions = {},
): Promise<Page> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    permissions: ["camera", "microphone"],
    ...contextOptions,
  });
  const page = await context.newPage();
  pageErrors(page);
  return page;
}

/** One problem a page reported. */
export interface PageProblem {
  /** `console` for `console.error` (and failed loads), `pageerror` for uncaught exceptions. */
  kind: "console" | "pageerror";
  /** The message text (an exception's stack when there is one). */
  text: string;
  /** Where it came from (`url:line:column`), when known. */
  location?: string;
}

/** The problems of one page, collected as they happen. */
export interface PageErrors {
  /** Everything collected so far, oldest first. */
  readonly list: PageProblem[];
  /** Forget what was collected so far. */
  clear(): void;
  /**
   * Throw, listing them, if any problem not matched by `ignore` happened.
   * Example: `assertNone([/favicon\.ico/])`.
   */
  assertNone(ignore?: RegExp[]): void;
}

const collectors = new WeakMap<Page | DriverPage, PageErrors>();

/** A console message as playwright and puppeteer both give it. */
interface ConsoleMessageLike {
  type(): string;
  text(): string;
  location(): { url?: string; lineNumber?: number; columnNumber?: number };
}

/** A page of either driver (playwright or puppeteer): both emit these events alike. */
export interface DriverPage {
  // deno-lint-ignore no-explicit-any
  on(event: "console" | "pageerror", listener: (arg: any) => void): unknown;
}

/**
 * The collector of console errors and page errors of `page`, attached on the
 * first call (pages made by {@linkcode newUserPage} have one from the start).
 */
export function pageErrors(page: Page | DriverPage): PageErrors {
  const existing = collectors.get(page);
  if (existing) return existing;
  const list: PageProblem[] = [];
  const source = page as DriverPage;
  source.on("console", (msg: ConsoleMessageLike) => {
    if (msg.type() !== "error") return;
    const loc = msg.location();
    list.push({
      kind: "console",
      text: msg.text(),
      location: loc.url ? `${loc.url}:${loc.lineNumber}:${loc.columnNumber}` : undefined,
    });
  });
  source.on("pageerror", (err: unknown) => {
    list.push({ kind: "pageerror", text: (err as Error)?.stack ?? String(err) });
  });
  const collector = errorCollector(list);
  collectors.set(page, collector);
  return collector;
}

/** A {@linkcode PageErrors} over `list`, which the caller fills (any browser driver). */
function errorCollector(list: PageProblem[]): PageErrors {
  return {
    list,
    clear: () => void list.splice(0),
    assertNone(ignore: RegExp[] = []) {
      const bad = list.filter((p) => !ignore.some((re) => re.test(p.text)));
      if (bad.length === 0) return;
      const lines = bad.map((p) =>
        `  [${p.kind}] ${p.text}${p.location ? ` (at ${p.location})` : ""}`
      );
      throw new Error(`The page reported ${bad.length} error(s):\n${lines.join("\n")}`);
    },
  };
}

/**
 * Save a full-page PNG of `page` as `tests/_artifacts/<name>.png` (".png" is
 * added when `name` has no extension) and return its path. Look at it: a
 * page that renders wrong is a failure.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  await Deno.mkdir(ARTIFACTS_DIR, { recursive: true });
  const file = /\.(png|jpe?g)$/i.test(name) ? name : `${name}.png`;
  const path = `${ARTIFACTS_DIR}/${file}`;
  await page.screenshot({ path, fullPage: true });
  return path;
}
