import type { AppProps } from "$fresh/server.ts";
import { asset } from "$fresh/runtime.ts";

/** The HTML shell of every page; `<!DOCTYPE html>` is added by the renderer. */
export default function App({ Component }: AppProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Parley</title>
        <link rel="icon" type="image/svg+xml" href={asset("/favicon.svg")} />
        <link rel="stylesheet" href={asset("/styles.css")} />
      </head>
      <body>
        <Component />
      </body>
    </html>
  );
}
