/**
 * Assembles a page's HTML: the page inside `_app`, `<Head>` children in the
 * head, and — only when the page used an island — the island props and the
 * module script that hydrates them.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
import { type ComponentChildren, type ComponentType, Fragment, h } from "preact";
import { renderToString } from "preact-render-to-string";
import { HEAD_CONTEXT } from "./runtime.ts";
import { collectIslands, type IslandUse } from "./islands.ts";
import { JS_PREFIX, NONCE_STATE_KEY, STATE_SCRIPT_ID } from "./constants.ts";
import type { AppProps, PageProps } from "./types.ts";

/**
 * What the renderer needs to know about the client build.
 *
 * @example Usage
 * ```ts
 * import type { ClientBuild } from "$fresh/render.ts";
 * const build: ClientBuild = { buildId: "abc", runtime: "lib/fresh/islands.js", islands: {} };
 * ```
 */
export interface ClientBuild {
  buildId: string;
  /** Output path of the runtime (`revive`) entry, relative to the build. */
  runtime: string;
  /** Island id → output path relative to the build. */
  islands: Record<string, string>;
}

/**
 * Options of {@linkcode renderPage}.
 *
 * @example Usage
 * ```ts
 * import type { RenderPageOptions } from "$fresh/render.ts";
 * const pick = (o: RenderPageOptions) => o.page;
 * ```
 */
export interface RenderPageOptions {
  page: ComponentType<any>;
  props: PageProps & Record<string, unknown>;
  /** The `_app` component. @default a minimal html/head/body shell */
  app?: ComponentType<AppProps>;
  build?: ClientBuild;
}

function DefaultApp({ Component }: AppProps) {
  return h("html", null, [
    h("head", null, h("meta", { charset: "utf-8" })),
    h("body", null, h(Component, null)),
  ]);
}

/** JSON that is safe inside `<script>`: no `</script>`, no `<!--`. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** A nonce may only hold base64 characters: anything else is dropped, not escaped. */
function nonceAttribute(nonce: unknown): string {
  return typeof nonce === "string" && /^[A-Za-z0-9+/_=-]+$/.test(nonce) ? ` nonce="${nonce}"` : "";
}

function islandScripts(islands: IslandUse[], build: ClientBuild, nonce: unknown): string {
  const base = `${JS_PREFIX}/${build.buildId}/`;
  const ids = [...new Set(islands.map((i) => i.id))];
  const imports = ids.map((id, i) => {
    const file = build.islands[id];
    if (!file) {
      throw new Error(
        `Cannot hydrate island "${id}" as the client build does not contain it: run \`deno task build\``,
      );
    }
    return `import $${i} from ${JSON.stringify(base + file)};`;
  });
  const registry = ids.map((id, i) => `${JSON.stringify(id)}:$${i}`).join(",");
  const state = islands.map((i) => i.props);
  return `<script id="${STATE_SCRIPT_ID}" type="application/json">${
    scriptJson(state)
  }</script><script type="module"${nonceAttribute(nonce)}>import{revive}from${
    JSON.stringify(base + build.runtime)
  };${imports.join("")}revive({${registry}},JSON.parse(document.getElementById(${
    JSON.stringify(STATE_SCRIPT_ID)
  }).textContent),${JSON.stringify(build.buildId)});</script>`;
}

function insertBefore(html: string, tag: string, insert: string): string {
  const at = html.lastIndexOf(tag);
  return at === -1 ? html + insert : html.slice(0, at) + insert + html.slice(at);
}

/**
 * Renders a page to a complete HTML document (with `<!DOCTYPE html>`, which
 * JSX cannot express). `<Head>` children go before `</head>`, and a `<title>`
 * among them replaces the app's. Adds no script when the page used no island;
 * the boot script carries `props.state.cspNonce` as its nonce when set.
 *
 * @throws {Error} when the page used an island missing from `build`
 * @example Usage
 * ```tsx
 * import { renderPage } from "$fresh/render.ts";
 * const html = renderPage({
 *   page: () => <p>hi</p>,
 *   props: { url: new URL("http://x/"), route: "/", params: {}, state: {}, data: undefined },
 * });
 * ```
 */
export function renderPage(options: RenderPageOptions): string {
  const { page, props, app = DefaultApp, build } = options;
  const head: ComponentChildren[] = [];
  const Component = () => h(page, props);
  const { result: body, islands } = collectIslands(() =>
    renderToString(
      h(HEAD_CONTEXT.Provider, { value: head }, h(app, { ...props, Component })),
    )
  );
  let html = body;
  if (head.length > 0) {
    const extra = renderToString(h(Fragment, null, head));
    // Browsers show the first <title>: a page's own title replaces the app's.
    if (extra.includes("<title")) html = html.replace(/<title>[^<]*<\/title>/, "");
    html = insertBefore(html, "</head>", extra);
  }
  if (islands.length > 0) {
    if (!build) {
      throw new Error(
        "Cannot render islands as no client build is loaded: run `deno task build`",
      );
    }
    const nonce = props.state?.[NONCE_STATE_KEY];
    html = insertBefore(html, "</body>", islandScripts(islands, build, nonce));
  }
  return "<!DOCTYPE html>" + html;
}
