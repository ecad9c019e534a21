import { AuditStreamError, ClosedError, FilterError, LedgerMismatchError, PolicyViolationError, TimeoutError } from "./errors.js";
import type { AuditStreamConnection, ConnectOptions, WebSocketConstructor } from "./options.js";
import { httpError, withSlash } from "./publish.js";
import { StreamVerifier } from "./stream-verifier.js";
import type { ConnectionEstablished, Pong, Reconnecting, StreamFilter, StreamMessage } from "./types.js";

const OPEN = 1;

/** Connects to `/ws/audit` and keeps the subscription alive across disconnects (reconnect with backoff, resume by `since_seq`). */
export function connect(options: ConnectOptions): AuditStreamConnection {
  return new Connection(options);
}

type Waiter<T> = { resolve: (value: T) => void; reject: (error: Error) => void; timer: ReturnType<typeof setTimeout> };

class Connection implements AuditStreamConnection {
  #socket: WebSocket | null = null;
  #filters: StreamFilter | undefined;
  #lastSeq: number | null;
  #establishedLastSeq: number | null = null;
  #ledgerId: string | null;
  #attempt = 0;
  #closed = false;
  #fatal: AuditStreamError | null = null;
  #queue: StreamMessage[] = [];
  /** Whether messages are kept for `for await`: once iteration starts, or from the start when no callback takes them. */
  #iterating: boolean;
  #readers: Array<{ resolve: (result: IteratorResult<StreamMessage>) => void; reject: (error: Error) => void }> = [];
  #pongs: Waiter<Pong>[] = [];
  #filterWaiters: Waiter<StreamFilter>[] = [];
  #readyResolve!: (message: ConnectionEstablished) => void;
  #readyReject!: (error: Error) => void;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Verifying: checks each message in order (WebCrypto is asynchronous) before `#receive` delivers what it releases. */
  readonly #verifier: StreamVerifier | null;
  #verifying: Promise<void> = Promise.resolve();
  readonly ready: Promise<ConnectionEstablished>;

  constructor(private readonly options: ConnectOptions) {
    this.#verifier = options.verify ? new StreamVerifier(options.verify, (path) => this.#getJson(path)) : null;
    this.#filters = this.#withProofs(options.filters);
    this.#iterating = !options.onMessage && !options.onEvent;
    this.#lastSeq = options.sinceSeq ?? null;
    this.#ledgerId = options.ledgerId ?? null;
    this.ready = new Promise((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    this.ready.catch(() => undefined);
    this.#open();
  }

  get lastSeq(): number | null {
    return this.#lastSeq;
  }

  get ledgerId(): string | null {
    return this.#ledgerId;
  }

  updateFilters(filters: StreamFilter, timeoutMs = 10_000): Promise<StreamFilter> {
    filters = this.#withProofs(filters)!;
    this.#filters = filters;
    if (!this.#closed && this.#socket?.readyState !== OPEN) {
      // Between connections: the next connection asks for these filters in its query.
      return Promise.resolve(filters);
    }

    const result = this.#wait(this.#filterWaiters, timeoutMs, "audit.filters.updated");
    this.#send({ type: "update_filters", filters });
    return result;
  }

  ping(timeoutMs = 10_000): Promise<Pong> {
    if (!this.#closed && this.#socket?.readyState !== OPEN) {
      return Promise.reject(new TimeoutError("not connected (reconnecting)"));
    }

    const result = this.#wait(this.#pongs, timeoutMs, "audit.connection.pong");
    this.#send({ type: "ping" });
    return result;
  }

  close(): void {
    if (this.#closed) {
      return;
    }

    this.#closed = true;
    if (this.#timer) {
      clearTimeout(this.#timer);
    }

    this.#socket?.close(1000, "client closing");
    this.#finish(null);
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamMessage> {
    this.#iterating = true;
    return {
      next: () => {
        const message = this.#queue.shift();
        if (message) {
          return Promise.resolve({ value: message, done: false });
        }

        if (this.#fatal) {
          return Promise.reject(this.#fatal);
        }

        if (this.#closed) {
          return Promise.resolve({ value: undefined, done: true });
        }

        return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }));
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  #open(): void {
    const WebSocketImpl = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketImpl) {
      this.#fail(new AuditStreamError("No WebSocket implementation: on Node 20 run with --experimental-websocket, or pass options.WebSocket."));
      return;
    }

    const url = this.#address("ws/audit");
    let opened = false;
    const token = this.#token();
    const socket = token && this.options.tokenIn === "subprotocol"
      ? new WebSocketImpl(url.toString(), [`bearer.${token}`])
      : new WebSocketImpl(url.toString());
    this.#socket = socket;
    socket.onopen = () => {
      opened = true;
    };
    socket.onmessage = (frame: MessageEvent) => {
      if (typeof frame.data === "string") {
        const message = JSON.parse(frame.data) as StreamMessage;
        if (this.#verifier) {
          this.#verify(this.#verifier, message);
        } else {
          this.#receive(message);
        }
      }
    };
    // Some implementations (Node 20's) report a refused handshake with an error and no close event: handle whichever comes first, once.
    const ended = (code: number, reason: string) => {
      if (this.#socket !== socket) {
        return;
      }

      this.#socket = null;
      this.#rejectWaiters(new TimeoutError("the connection closed before the answer"));
      if (this.#closed) {
        return;
      }

      if (code === 1008) {
        this.#fail(new PolicyViolationError(`The server closed the stream for a policy violation: ${reason}`));
        return;
      }

      if (opened) {
        this.#reconnect(`closed ${code}${reason ? ` ${reason}` : ""}`);
      } else {
        // A browser hides the HTTP status of a refused upgrade: ask the SSE endpoint, which runs the same checks.
        void this.#diagnose().then((error) => (error ? this.#fail(error) : this.#reconnect("connect failed")));
      }
    };
    socket.onclose = (close: CloseEvent) => ended(close.code, close.reason);
    socket.onerror = () => {
      if (!opened) {
        ended(1006, "");
      }
    };
  }

  #receive(message: StreamMessage): void {
    switch (message.type) {
      case "audit.connection.established":
        this.#attempt = 0;
        this.#establishedLastSeq ??= message.last_seq;
        this.#ledgerId ??= message.ledger_id ?? null;
        this.#readyResolve(message);
        this.options.onOpen?.(message);
        break;
      case "audit.event.published":
        if (this.#lastSeq !== null && message.seq <= this.#lastSeq) {
          return;
        }

        this.#lastSeq = message.seq;
        this.options.onEvent?.(message);
        break;
      case "audit.stream.gap":
        this.#lastSeq = Math.max(this.#lastSeq ?? 0, message.to_seq);
        break;
      case "audit.security.alert":
      case "audit.compliance.alert":
      case "audit.system.alert":
        this.options.onAlert?.(message);
        break;
      case "audit.connection.pong":
        this.#pongs.shift()?.resolve(message);
        break;
      case "audit.filters.updated":
        this.#filterWaiters.shift()?.resolve(message.filters);
        break;
      case "audit.error":
        if (message.code === "ledger_mismatch") {
          // Resuming here would mix two ledgers' seqs: deliver the error, then stop for good.
          this.#deliver(message);
          this.#socket?.close(1000, "another ledger");
          this.#fail(new LedgerMismatchError(message.message));
          return;
        }

        break;
    }

    this.#deliver(message);
  }

  #verify(verifier: StreamVerifier, message: StreamMessage): void {
    this.#verifying = this.#verifying
      .then(async () => {
        if (this.#closed) {
          return;
        }

        for (const ready of await verifier.handle(message, this.#lastSeq)) {
          if (!this.#closed) {
            this.#receive(ready);
          }
        }
      })
      .catch((error: unknown) => {
        if (!this.#closed) {
          this.#socket?.close(1000, "stream verification failed");
          this.#fail(error instanceof AuditStreamError ? error : new AuditStreamError(`stream verification could not run: ${(error as Error).message}`));
        }
      });
  }

  /** Verifying: the filters with `proofs: true`, so every connection and `update_filters` asks for proofs. */
  #withProofs(filters: StreamFilter | undefined): StreamFilter | undefined {
    return this.#verifier ? { ...filters, proofs: true } : filters;
  }

  /** A GET with the token as a bearer header (verifying: consistency proofs); rejects with the typed HTTP error. */
  async #getJson(path: string): Promise<unknown> {
    const doFetch = this.options.fetch ?? globalThis.fetch;
    const headers: Record<string, string> = { accept: "application/json" };
    const token = this.#token();
    if (token) {
      headers.authorization = `Bearer ${token}`;
    }

    const response = await doFetch(new URL(path, withSlash(this.options.url.replace(/^ws(s?):/, "http$1:"))), { headers });
    const body = await response.text();
    if (!response.ok) {
      throw httpError(response.status, body);
    }

    return JSON.parse(body) as unknown;
  }

  #deliver(message: StreamMessage): void {
    this.options.onMessage?.(message);
    const reader = this.#readers.shift();
    if (reader) {
      reader.resolve({ value: message, done: false });
    } else if (this.#iterating) {
      this.#queue.push(message);
    }
  }

  #reconnect(reason: string): void {
    const min = this.options.minDelayMs ?? 200;
    const max = this.options.maxDelayMs ?? 30_000;
    const ceiling = Math.min(max, min * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    const delay = Math.max(min / 2, Math.random() * ceiling);
    const notice: Reconnecting = { type: "client.reconnecting", reason, delay_ms: Math.round(delay), attempt: this.#attempt, resume_after_seq: this.#resumeFrom() };
    this.options.onReconnect?.(notice);
    this.#deliver(notice);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#closed) {
        this.#open();
      }
    }, delay);
  }

  /** Why a refused connection was refused, if retrying cannot help (401, 403, 400); null for anything else. */
  async #diagnose(): Promise<AuditStreamError | null> {
    const doFetch = this.options.fetch ?? globalThis.fetch;
    if (!doFetch) {
      return null;
    }

    const controller = new AbortController();
    try {
      const url = this.#address("api/v1/stream");
      url.protocol = url.protocol === "wss:" ? "https:" : url.protocol === "ws:" ? "http:" : url.protocol;
      const headers: Record<string, string> = { accept: "text/event-stream" };
      const token = this.#token();
      if (token && this.options.tokenIn === "subprotocol") {
        headers.authorization = `Bearer ${token}`;
      }

      const response = await doFetch(url, { signal: controller.signal, headers });
      if (response.ok) {
        return null;
      }

      const error = httpError(response.status, await response.text());
      return response.status === 400 ? new FilterError(400, error.message, error.errors, error.problem) : response.status === 401 || response.status === 403 ? error : null;
    } catch {
      return null;
    } finally {
      controller.abort();
    }
  }

  #token(): string | undefined {
    const token = this.options.token;
    return typeof token === "function" ? token() : token;
  }

  #address(path: string): URL {
    const base = new URL(path, withSlash(this.options.url));
    const ws = new URL(base);
    ws.protocol = base.protocol === "https:" ? "wss:" : base.protocol === "http:" ? "ws:" : base.protocol;
    const token = this.#token();
    if (token && this.options.tokenIn !== "subprotocol") {
      ws.searchParams.set("token", token);
    }

    const since = this.#resumeFrom();
    if (since !== null) {
      ws.searchParams.set("since_seq", String(since));
      if (this.#ledgerId !== null) {
        ws.searchParams.set("ledger_id", this.#ledgerId);
      }
    }

    if (this.#filters) {
      ws.searchParams.set("filters", JSON.stringify(this.#filters));
    }

    return ws;
  }

  #resumeFrom(): number | null {
    // A time range starting in the past replays from its start; resuming from last_seq would skip that replay.
    const range = this.#filters?.time_range;
    const replaysByTime = !!range && (range.start !== undefined || range.relative !== undefined);
    return this.#lastSeq ?? (replaysByTime ? null : this.#establishedLastSeq);
  }

  #send(message: unknown): void {
    if (this.#socket?.readyState === OPEN) {
      this.#socket.send(JSON.stringify(message));
    }
  }

  #wait<T>(waiters: Waiter<T>[], timeoutMs: number, what: string): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new ClosedError("the connection is closed"));
    }

    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve: (value) => {
          clearTimeout(waiter.timer);
          resolve(value);
        },
        reject,
        timer: setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) {
            waiters.splice(index, 1);
          }

          reject(new TimeoutError(`no ${what} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      waiters.push(waiter);
    });
  }

  #rejectWaiters(error: Error): void {
    for (const waiter of [...this.#pongs, ...this.#filterWaiters]) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }

    this.#pongs = [];
    this.#filterWaiters = [];
  }

  #fail(error: AuditStreamError): void {
    this.#fatal = error;
    this.#closed = true;
    this.options.onError?.(error);
    this.#readyReject(error);
    this.#finish(error);
  }

  #finish(error: AuditStreamError | null): void {
    this.#rejectWaiters(error ?? new ClosedError("the connection is closed"));
    for (const reader of this.#readers.splice(0)) {
      if (error) {
        reader.reject(error);
      } else {
        reader.resolve({ value: undefined, done: true });
      }
    }
  }
}
