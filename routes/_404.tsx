import type { UnknownPageProps } from "$fresh/server.ts";

/** Shown for unknown paths and for `ctx.renderNotFound()`. */
export default function NotFound({ url }: UnknownPageProps) {
  return (
    <main class="page">
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{url.pathname}</code>. <a href="/">Back to Parley</a>
      </p>
    </main>
  );
}
