/**
 * Opening a page and waiting until it is ready, the same way in Chromium
 * (playwright-core) and Firefox (puppeteer-core): everything here talks to
 * the page through `goto`, `setContent`, `addScriptTag` and
 * `evaluate(expression)`, which both drivers share, and waits with the one
 * {@linkcode waitFor}.
 *
 * @example
 * ```ts ignore
 * import { openPage } from "./pages.ts";
 * // A room page of the app, once its lobby island is interactive:
 * await openPage(page, `${app.url}/room/team`, { islands: ["Lobby"] });
 * // A blank page of the app's origin with a script that defines `H`:
 * await openPage(page, `${app.url}/api/health`, {
 *   blank: { title: "calls", scripts: [{ content: HARNESS, module: true }] },
 *   globals: ["H"],
 * });
 * ```
 *
 * @module
 */
import { waitFor } from "./wait.ts";

/** What these helpers need of a page; a playwright and a puppeteer `Page` both are one. */
export interface AnyPage {
  goto(url: string): Promise<{ status(): number } | null>;
  setContent(html: string): Promise<unknown>;
  addScriptTag(options: { content: string; type?: string }): Promise<unknown>;
  evaluate(expression: string): Promise<unknown>;
}

/** A script {@linkcode openPage} adds to a blank page. */
export interface PageScript {
  /** Its source. */
  content: string;
  /** Load it as a module (`<script type="module">`). @default false */
  module?: boolean;
}

/** Options of {@linkcode openPage}. */
export interface OpenPageOptions {
  /**
   * Replace the loaded document with an empty one titled `title` and add
   * `scripts` to it, in order. The page keeps the origin of `url`, so it may
   * use the app's APIs and sockets: Chromium lets a document with no network
   * address (`about:blank`) open no sockets to 127.0.0.1. Pick a `url`
   * without a Content-Security-Policy (e.g. `/api/health`) for inline scripts.
   */
  blank?: { title: string; scripts: PageScript[] };
  /** Wait until every instance of these islands is hydrated (see {@linkcode waitForHydration}). */
  islands?: string[];
  /** Wait until these names are defined on `globalThis`. */
  globals?: string[];
  /** How long each wait may take, in ms. @default 10000 */
  timeout?: number;
}

/**
 * Opens `url` in `page` (relative URLs need a driver's base URL: playwright
 * pages of `newUserPage` have one), optionally as a blank page with scripts,
 * and waits until the named islands are hydrated and the named globals
 * exist. Resolves with the status of the response to `url`.
 *
 * @example
 * ```ts ignore
 * const status = await openPage(page, "/", { islands: ["JoinRoomForm"] });
 * ```
 */
export async function openPage(
  page: AnyPage,
  url: string,
  options: OpenPageOptions = {},
): Promise<number | undefined> {
  const timeout = options.timeout ?? 10_000;
  const response = await page.goto(url);
  if (options.blank) {
    const title = options.blank.title.replace(/[<&]/g, "");
    await page.setContent(`<!doctype html><title>${title}</title><body></body>`);
    for (const script of options.blank.scripts) {
      await page.addScriptTag({
        content: script.content,
        ...(script.module ? { type: "module" } : {}),
      });
    }
  }
  for (const island of options.islands ?? []) await waitForHydration(page, island, timeout);
  if (options.globals?.length) {
    const names = JSON.stringify(options.globals);
    await untilInPage(page, `${names}.every((name) => name in globalThis)`, {
      timeout,
      message: `${options.globals.join(", ")} defined in ${url}`,
    });
  }
  return response?.status();
}

/**
 * Waits until `expression` (evaluated in the page's global scope) is truthy,
 * polling every 50 ms; an expression that throws counts as not yet. Rejects
 * after `timeout` ms (default 15 000), naming `message` (default the
 * expression).
 *
 * @example
 * ```ts ignore
 * await untilInPage(page, "H.connected()", { timeout: 20_000 });
 * ```
 */
export async function untilInPage(
  page: AnyPage,
  expression: string,
  options: { timeout?: number; message?: string } = {},
): Promise<void> {
  await waitFor(() => page.evaluate(`Boolean(${expression})`), {
    timeout: options.timeout ?? 15_000,
    message: options.message ?? `${expression} in the page`,
  });
}

/**
 * Runs `body` (the body of an async function) in the page, with the page's
 * global `name` in scope under that name and `arg` (JSON) as `arg`; resolves
 * with what it returns.
 *
 * @example
 * ```ts ignore
 * const cid = await inPageWith<string>(page, "H", "return H.connect(arg)", { name: "Ada" });
 * ```
 */
export function inPageWith<T>(
  page: AnyPage,
  name: string,
  body: string,
  arg?: unknown,
): Promise<T> {
  const json = arg === undefined ? "undefined" : JSON.stringify(arg);
  return page.evaluate(
    `(async (${name}, arg) => { ${body}\n})(globalThis[${JSON.stringify(name)}], ${json})`,
  ) as Promise<T>;
}

/**
 * Waits until the island `islandId` (its file name: `JoinRoomForm`, or
 * `room_Chat` for islands/room/Chat.tsx) is hydrated on `page`: some element
 * between each of its `<!--frsh-ID:n-->` markers carries Preact's
 * event-listener map. Resolves with how many of its instances are hydrated;
 * rejects after `timeout` ms (default 10 000), also when the island is not on
 * the page.
 *
 * @example
 * ```ts ignore
 * await waitForHydration(page, "Lobby");
 * ```
 */
export async function waitForHydration(
  page: AnyPage,
  islandId: string,
  timeout = 10_000,
): Promise<number> {
  const count = await waitFor(
    () => page.evaluate(`(${hydratedInstances})(${JSON.stringify(islandId)})`),
    { timeout, message: `the island ${islandId} hydrated` },
  );
  return count as number;
}

/** Runs in the page: how many instances of island `id` are hydrated, or false while any is not. */
function hydratedInstances(id: string): number | false {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_COMMENT);
  let found = 0;
  let hydrated = 0;
  for (let c = walker.nextNode() as Comment | null; c; c = walker.nextNode() as Comment | null) {
    if (!c.data.startsWith(`frsh-${id}:`)) continue;
    found++;
    const end = `/${c.data}`;
    for (let n = c.nextSibling; n && !(n instanceof Comment && n.data === end); n = n.nextSibling) {
      if (!(n instanceof Element)) continue;
      // Preact keeps an element's listeners in `_listeners`, mangled to `l`.
      const els = [n, ...n.querySelectorAll("*")] as unknown as Record<string, unknown>[];
      if (els.some((el) => typeof (el.l ?? el._listeners) === "object")) {
        hydrated++;
        break;
      }
    }
  }
  return found > 0 && hydrated === found ? hydrated : false;
}
