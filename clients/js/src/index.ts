export { connect } from "./stream.js";
export type { AuditStreamConnection, ConnectOptions, WebSocketConstructor } from "./stream.js";
export { publish } from "./publish.js";
export type { PublishOptions } from "./publish.js";
export { AuditStreamError, AuthError, ClosedError, FilterError, HttpError, LedgerMismatchError, PolicyViolationError, TimeoutError } from "./errors.js";
export type { ProblemError } from "./errors.js";
export type * from "./types.js";
