/**
 * The first frame of a connection opened with `hello=1`: its credentials
 * (access token, identity proof, resume claim), which stay out of the URL.
 *
 * @module
 */
import { type HelloFrame, type Limits, parseClientFrame } from "../protocol/mod.ts";

/** How long a socket opened with `hello=1` may take to send its hello. */
export const HELLO_TIMEOUT_MS = 10_000;

/** The most bytes of a WebSocket close reason. */
const MAX_REASON_BYTES = 123;

/**
 * `text` cut to fit a WebSocket close reason (123 bytes of UTF-8).
 *
 * @example
 * ```ts
 * import { closeReason } from "./handshake.ts";
 * closeReason("x".repeat(200)).length; // 123
 * ```
 */
export function closeReason(text: string): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= MAX_REASON_BYTES) return text;
  let cut = text.slice(0, MAX_REASON_BYTES);
  while (new TextEncoder().encode(cut).length > MAX_REASON_BYTES) cut = cut.slice(0, -1);
  return cut;
}

/**
 * Waits for the hello of `socket`; resolves to it, or to an Error (its
 * message a close reason) when the first frame is something else, does not
 * come within {@linkcode HELLO_TIMEOUT_MS}, or the socket closes first.
 *
 * @example
 * ```ts ignore
 * const hello = await awaitHello(socket, limits);
 * if (hello instanceof Error) socket.close(CLOSE.noHello, hello.message);
 * ```
 */
export function awaitHello(
  socket: Pick<WebSocket, "onmessage" | "addEventListener" | "removeEventListener">,
  limits: Limits,
  timeoutMs = HELLO_TIMEOUT_MS,
): Promise<HelloFrame | Error> {
  return new Promise((resolve) => {
    const done = (result: HelloFrame | Error) => {
      clearTimeout(timer);
      socket.onmessage = null;
      socket.removeEventListener("close", onClose);
      resolve(result);
    };
    const onClose = () => done(new Error("Closed before the hello"));
    const timer = setTimeout(
      () => done(new Error(`No hello frame within ${timeoutMs} ms: send it first (hello=1)`)),
      timeoutMs,
    );
    socket.addEventListener("close", onClose);
    socket.onmessage = (event) => {
      let frame;
      try {
        frame = parseClientFrame(event.data, limits);
      } catch (error) {
        return done(new Error(closeReason(`Bad hello: ${(error as Error).message}`)));
      }
      done(
        frame.type === "hello"
          ? frame
          : new Error("The first frame must be the hello that hello=1 announced"),
      );
    };
  });
}
