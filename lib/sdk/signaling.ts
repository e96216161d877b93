// Over 300 lines: one connection's whole life (connect, hello, acks, heartbeat, reconnect, token refresh).
/**
 * The SDK's socket: connects, waits for the welcome, matches requests to
 * their acks, answers pings, watches the server's heartbeat, and reconnects
 * with backoff after a loss. Every promise it hands out settles.
 *
 * @module
 */
import {
  type ClientRequest,
  CLOSE,
  HELLO_PARAM,
  type HelloFrame,
  parseServerFrame,
  postFrameText,
  PROTOCOL_VERSION,
  PROTOCOL_VERSIONS,
  type RequestResults,
  type ServerFrame,
  type Signal,
  type SignalRef,
  UNACKED_SIGNALS_SINCE,
  unpackNotices,
  type WelcomeFrame,
} from "../protocol/mod.ts";
import { DEFAULT_TIMEOUTS, type Timeouts } from "./defaults.ts";
import { TypedEmitter } from "./emitter.ts";
import { RealtimeError } from "./errors.ts";
import { ConnectionState } from "./events.ts";
import type { IdentityStore } from "./identity.ts";
import { backoffDelay, onPageHide, onWakeUp } from "./reconnect.ts";
import { PendingRequests } from "./requests.ts";

/** Options of {@linkcode Signaling}. */
export interface SignalingOptions {
  /** The endpoint, e.g. `wss://example.com/api/realtime`. */
  url: string;
  /** Where the anonymous identity's proof is kept. */
  identity: IdentityStore;
  /** Display name. */
  name?: string;
  /** Access token, sent in the first frame (the `hello`), never in the URL. */
  token?: string;
  /**
   * Gets a fresh access token: called before each reconnect and shortly
   * before the current token expires (the new one replaces it on the live
   * connection, so calls stay up).
   */
  getToken?: () => string | Promise<string>;
  /** Overrides of {@linkcode DEFAULT_TIMEOUTS}. */
  timeouts?: Partial<Timeouts>;
  /** The WebSocket constructor. @default globalThis.WebSocket */
  WebSocket?: typeof WebSocket;
}

/** What {@linkcode Signaling} emits. */
export type SignalingCallbacks = {
  /** The state changed. */
  state: (state: ConnectionState, previous: ConnectionState) => void;
  /** The server welcomed us (first time, or after a reconnect). */
  welcome: (welcome: WelcomeFrame, reconnected: boolean) => void;
  /** A frame that answers no request (deliveries, server notices). */
  frame: (frame: ServerFrame) => void;
  /** An unacked signal (see {@linkcode Signaling.relay}) could not be relayed. */
  signalerror: (signal: SignalRef, error: RealtimeError) => void;
  /** The connection was lost; reconnect attempt `attempt` is scheduled. */
  reconnect: (attempt: number, reason: string) => void;
  /** The socket reported an error (a browser's says nothing more). */
  socketerror: (detail: string) => void;
  /** An open connection closed without our asking (`reconnect` follows unless it is final). */
  lost: (code: number, reason: string) => void;
  /** Reconnecting stopped for good: retrying cannot help. */
  gaveup: (error: RealtimeError) => void;
  /** close() is about to say goodbye: the last moment to send on this connection. */
  closing: () => void;
};

/** A request as the caller writes it: the id is the SDK's to assign. */
export type RequestBody = ClientRequest extends infer R
  ? R extends ClientRequest ? Omit<R, "id"> : never
  : never;

/**
 * One logical connection to a Parley server, across reconnects.
 *
 * @example
 * ```ts ignore
 * const signaling = new Signaling({ url, userId: crypto.randomUUID() });
 * const welcome = await signaling.connect();
 * await signaling.request({ type: "join", group: "lobby" }, "join the group");
 * ```
 */
export class Signaling extends TypedEmitter<SignalingCallbacks> {
  readonly timeouts: Timeouts;
  #state = ConnectionState.Disconnected;
  #socket: WebSocket | null = null;
  #welcome: WelcomeFrame | null = null;
  #connecting: Promise<WelcomeFrame> | null = null;
  #pending = new PendingRequests();
  /** Frames received on this connection, across resumes (pings and welcomes not counted). */
  #received = 0;
  #lastFrame = 0;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #refresh: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #token: string | undefined;

  constructor(readonly options: SignalingOptions) {
    super();
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.#token = options.token;
  }

  /** The access token in use (the latest `getToken()` gave), if any. */
  get token(): string | undefined {
    return this.#token;
  }

  /** Browser hooks, live while a connection is wanted. */
  #unhook: Array<() => void> = [];

  #hook(): void {
    if (this.#unhook.length > 0) return;
    this.#unhook = [
      // The network or the tab is back: no point waiting out the backoff.
      onWakeUp(() => {
        if (this.#state === ConnectionState.Reconnecting && !this.#socket) this.#retryNow();
      }),
      // Leaving the page: say goodbye so the others see it at once.
      onPageHide(() => this.close()),
    ];
  }

  /** The connection's state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The welcome of the current connection, once connected. */
  get welcome(): WelcomeFrame | null {
    return this.#welcome;
  }

  /** The open socket, or null. */
  get socket(): WebSocket | null {
    return this.#socket;
  }

  #setState(state: ConnectionState): boolean {
    const previous = this.#state;
    if (previous === state) return false;
    this.#state = state;
    this.emit("state", state, previous);
    return true;
  }

  /** Connects, or returns the connection in flight or already open. */
  connect(): Promise<WelcomeFrame> {
    if (this.#state === ConnectionState.Connected && this.#welcome) {
      return Promise.resolve(this.#welcome);
    }
    if (this.#connecting) return this.#connecting;
    this.#setState(ConnectionState.Connecting);
    this.#hook();
    this.#connecting = this.#open().then((welcome) => {
      this.#connecting = null;
      return welcome;
    }, (error) => {
      this.#connecting = null;
      this.#setState(ConnectionState.Disconnected);
      throw error;
    });
    return this.#connecting;
  }

  #url(): string {
    const url = new URL(this.options.url);
    url.searchParams.set("v", String(PROTOCOL_VERSION));
    if (this.options.name) url.searchParams.set("name", this.options.name);
    // Secrets (token, proof, resume) follow in the first frame, out of logs and history.
    url.searchParams.set(HELLO_PARAM, "1");
    return url.href;
  }

  #hello(): HelloFrame {
    const proof = this.options.identity.load();
    return {
      type: "hello",
      ...(this.#token ? { token: this.#token } : {}),
      ...(proof ? { proof } : {}),
      // After a drop, ask for the same connection back (cid, group, buffered frames).
      ...(this.#state === ConnectionState.Reconnecting && this.#welcome
        ? {
          resume: {
            cid: this.#welcome.cid,
            session: this.#welcome.session,
            received: this.#received,
          },
        }
        : {}),
    };
  }

  /** A new token from `getToken()` (first connect without a token, and every reconnect). */
  async #freshToken(): Promise<void> {
    const { getToken } = this.options;
    if (!getToken || (this.#token && this.#state === ConnectionState.Connecting)) return;
    try {
      this.#token = await getToken();
    } catch (error) {
      throw new RealtimeError("UNAUTHORIZED", `Cannot connect as getToken() failed: ${error}`, {
        cause: error,
      });
    }
  }

  /** Shortly before the token expires, replaces it on the live connection. */
  #scheduleRefresh(expires: number | undefined): void {
    clearTimeout(this.#refresh);
    if (expires === undefined || !this.options.getToken) return;
    const left = expires - Date.now();
    // A fifth of what is left, between 1 s and a minute ahead.
    const lead = Math.min(60_000, Math.max(1_000, left / 5));
    this.#refresh = setTimeout(async () => {
      try {
        this.#token = await this.options.getToken!();
        const { expires: next } = await this.request(
          { type: "auth", token: this.#token },
          "refresh the access token",
        );
        this.#scheduleRefresh(next);
      } catch (error) {
        // The server closes at the expiry; the reconnect asks getToken() again.
        console.error(`parley: cannot refresh the access token: ${(error as Error).message}`);
      }
    }, Math.max(0, Math.min(left - lead, 2 ** 31 - 1)));
  }

  /** Opens one socket; settles on the welcome, a close, or the connect timeout. */
  async #open(): Promise<WelcomeFrame> {
    await this.#freshToken();
    return await this.#openSocket();
  }

  #openSocket(): Promise<WelcomeFrame> {
    return new Promise((resolve, reject) => {
      const Socket = this.options.WebSocket ?? globalThis.WebSocket;
      let socket: WebSocket;
      try {
        socket = new Socket(this.#url());
      } catch (error) {
        return reject(
          new RealtimeError("INVALID_PARAMETER", `Cannot open ${this.options.url}: ${error}`),
        );
      }
      this.#socket = socket;
      socket.onopen = () => socket.send(JSON.stringify(this.#hello()));
      let welcomed = false;
      // Deno's WebSocket names the HTTP status of a refused upgrade in its
      // error event; a browser's tells nothing (close code 1006).
      let failure = "";
      socket.onerror = (event) => {
        failure = (event as ErrorEvent).message ?? "";
        if (this.#socket === socket) this.emit("socketerror", failure);
      };
      const timer = setTimeout(() => {
        socket.close();
        fail(RealtimeError.timeout("connect", this.timeouts.connect));
      }, this.timeouts.connect);
      const fail = (error: RealtimeError) => {
        clearTimeout(timer);
        if (this.#socket === socket) this.#socket = null;
        reject(error);
      };
      socket.onmessage = (event) => {
        if (this.#socket !== socket) return;
        let frame: ServerFrame;
        try {
          frame = parseServerFrame(String(event.data));
        } catch (error) {
          return console.error("parley: ignoring a frame that is not Parley's", error);
        }
        if (frame.type === "welcome" && !welcomed && !PROTOCOL_VERSIONS.includes(frame.v)) {
          // A server that does not check our `v` still announces its own (v1
          // is read too: it only lacks the `notices` frame).
          socket.close(CLOSE.normal, "Unsupported protocol version");
          const side = frame.v > PROTOCOL_VERSION ? "old" : "new";
          return fail(RealtimeError.unsupportedVersion(
            `the server speaks protocol v${frame.v}, so the SDK is too ${side} for it`,
          ));
        }
        if (frame.type === "welcome" && !welcomed) {
          welcomed = true;
          clearTimeout(timer);
          this.#onWelcome(frame);
          resolve(frame);
        } else this.#onFrame(frame);
      };
      socket.onclose = (event) => {
        // Before the welcome, every close settles the attempt, even one that
        // close() abandoned, so connect() never hangs.
        if (!welcomed) {
          return fail(RealtimeError.refused(event, failure, Boolean(this.options.token)));
        }
        if (this.#socket !== socket) return;
        this.#socket = null;
        this.#lost(event.code, event.reason);
      };
    });
  }

  #onWelcome(welcome: WelcomeFrame): void {
    const reconnected = this.#welcome !== null;
    // A fresh connection counts from zero; a resumed one goes on counting.
    if (!welcome.resumed) this.#received = 0;
    if (welcome.proof) this.options.identity.save(welcome.proof);
    this.#scheduleRefresh(welcome.expires);
    this.#welcome = welcome;
    this.#attempt = 0;
    this.#lastFrame = Date.now();
    clearInterval(this.#watchdog);
    // A server that stops pinging is gone even if the socket looks open. Its
    // close would wait for a close frame that a silent path never carries:
    // let the socket go and reconnect now.
    this.#watchdog = setInterval(() => {
      const silent = this.#socket;
      if (!silent || Date.now() - this.#lastFrame <= 2 * welcome.heartbeat + 5_000) return;
      this.#socket = null;
      silent.close();
      this.#lost(CLOSE.heartbeatTimeout, "No frame from the server for two heartbeats");
    }, Math.min(welcome.heartbeat, 5_000));
    this.#setState(ConnectionState.Connected);
    this.emit("welcome", welcome, reconnected);
  }

  #onFrame(frame: ServerFrame): void {
    this.#lastFrame = Date.now();
    if (frame.type === "ping") {
      this.#send({ type: "pong", received: this.#received });
      return;
    }
    this.#received++;
    if ((frame.type === "ack" || frame.type === "error") && this.#pending.settle(frame)) return;
    if (frame.type === "error" && frame.signal && frame.id === undefined) {
      this.emit("signalerror", frame.signal, RealtimeError.fromWire(frame));
      return;
    }
    // One frame on the wire (and in `received`); each notice on its own for the app.
    if (frame.type === "notices") {
      for (const notice of unpackNotices(frame)) this.emit("frame", notice);
      return;
    }
    this.emit("frame", frame);
  }

  #send(frame: object): boolean {
    return this.#sendText(JSON.stringify(frame));
  }

  #sendText(text: string): boolean {
    if (this.#socket?.readyState !== 1) return false;
    this.#socket.send(text);
    return true;
  }

  /**
   * Sends a request and resolves to its ack's result; rejects with the
   * server's typed error, `NOT_CONNECTED`, `TIMEOUT` or `CANCELLED`.
   */
  request<B extends RequestBody>(body: B, what: string): Promise<RequestResults[B["type"]]> {
    return this.#request(what, (id) => JSON.stringify({ ...body, id }));
  }

  /**
   * Posts `message`, already checked and written as JSON text (see
   * `payloadText`), to `recipient` (a user_id or a group; none: the joined
   * group), as `postFrameText` writes it.
   */
  post(
    message: string | undefined,
    recipient: string | undefined,
    what: string,
  ): Promise<RequestResults["post"]> {
    return this.#request(what, (id) => postFrameText(message, recipient, id));
  }

  /** Sends the frame `frameOf(id)` gives, once connected: without an async hop when it is (every post). */
  #request<R>(what: string, frameOf: (id: number) => string): Promise<R> {
    // As in Skapi, a request made while the socket is still opening waits for it.
    if (this.#state === ConnectionState.Connecting && this.#connecting) {
      return this.#connecting.catch(() => {}).then(() => this.#requestNow(what, frameOf));
    }
    return this.#requestNow(what, frameOf);
  }

  #requestNow<R>(what: string, frameOf: (id: number) => string): Promise<R> {
    if (this.#state !== ConnectionState.Connected) {
      return Promise.reject(RealtimeError.notConnected(what));
    }
    const id = this.#pending.nextId();
    return this.#pending.track(id, what, this.timeouts.request, () => this.#sendText(frameOf(id)));
  }

  /**
   * Relays a call signal to `to` without waiting for an ack: it resolves
   * once sent, and a failure comes later as `signalerror` (protocol v3).
   * To an older server it is an acked request that rejects with the
   * server's error. Rejects with `NOT_CONNECTED` without an open socket.
   */
  async relay(to: string, signal: Signal, what: string): Promise<void> {
    if ((this.#welcome?.v ?? 0) < UNACKED_SIGNALS_SINCE) {
      await this.request({ type: "signal", to, signal }, what);
      return;
    }
    if (this.#state !== ConnectionState.Connected || !this.#send({ type: "signal", to, signal })) {
      throw RealtimeError.notConnected(what);
    }
  }

  /** The socket dropped without our asking: retry with backoff, forever. */
  #lost(code: number, reason: string): void {
    clearInterval(this.#watchdog);
    clearTimeout(this.#refresh);
    this.#pending.cancelAll();
    // An expired token comes back only through getToken().
    const final = code === CLOSE.unsupportedVersion ||
      (code === CLOSE.unauthorized && !this.options.getToken);
    if (this.#state === ConnectionState.Disconnected) return;
    this.emit("lost", code, reason);
    if (final) {
      this.#setState(ConnectionState.Disconnected);
      this.emit(
        "gaveup",
        code === CLOSE.unsupportedVersion
          ? RealtimeError.unsupportedVersion(`the server said: ${reason}`)
          : new RealtimeError("UNAUTHORIZED", `Cannot reconnect as the server said: ${reason}`),
      );
      return;
    }
    this.#setState(ConnectionState.Reconnecting);
    this.#scheduleRetry(reason || `closed with ${code}`);
  }

  #scheduleRetry(reason: string): void {
    const attempt = ++this.#attempt;
    const { reconnectBase, reconnectMax } = this.timeouts;
    this.emit("reconnect", attempt, reason);
    this.#retry = setTimeout(
      () => this.#retryNow(),
      backoffDelay(attempt, reconnectBase, reconnectMax),
    );
  }

  /** One reconnect attempt; on failure the next is scheduled. */
  #retryNow(): void {
    clearTimeout(this.#retry);
    if (this.#state !== ConnectionState.Reconnecting || this.#socket) return;
    this.#open().catch((error: RealtimeError) => {
      if (this.#state !== ConnectionState.Reconnecting) return;
      // A refused token or protocol stays refused: retrying cannot help.
      if (error.code === "UNAUTHORIZED" || error.code === "UNSUPPORTED_VERSION") {
        this.#setState(ConnectionState.Disconnected);
        this.emit("gaveup", error);
        return;
      }
      this.#scheduleRetry(error.message);
    });
  }

  /** Closes on purpose: says goodbye, cancels pending requests. Idempotent. */
  close(): void {
    if (this.#state === ConnectionState.Connected) this.emit("closing");
    for (const unhook of this.#unhook.splice(0)) unhook();
    clearTimeout(this.#retry);
    clearTimeout(this.#refresh);
    clearInterval(this.#watchdog);
    const socket = this.#socket;
    this.#socket = null;
    this.#welcome = null;
    this.#setState(ConnectionState.Disconnected);
    this.#pending.cancelAll();
    if (socket) {
      if (socket.readyState === 1) socket.send(JSON.stringify({ type: "bye" }));
      socket.close(CLOSE.normal, "Goodbye");
    }
  }
}
